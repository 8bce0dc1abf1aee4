/**
 * `runcue sim` as text: the `-v` event log (`TIME  EVENT  TASK  UNIT  DETAILS`, simulated
 * seconds since the start) and the summary table. Every time is virtual, so the same seed
 * prints the same text.
 */
import type { SimEvent } from '../../runner/sim/simulate.ts';
import type { ServiceUse, SimSummary } from '../../runner/sim/summary.ts';
import { describeBlocked, describeFailure, describeStale, formatDuration } from './format.ts';
import { formatPerWindow } from './service-progress.ts';

/** Virtual ms as seconds with milliseconds: `12.400s`. */
function simTime(ms: number): string {
  return `${(ms / 1000).toFixed(3)}s`;
}

const COLUMNS = [10, 8, 14, 28] as const;

function row(cells: readonly string[]): string {
  return cells
    .map((c, i) => (i < COLUMNS.length ? c.padEnd(COLUMNS[i] as number) : c))
    .join('  ')
    .trimEnd();
}

/** `1 unit`, `12 units`: the units of every task. */
function units(tasks: Readonly<Record<string, number>>): string {
  const n = Object.values(tasks).reduce((a, b) => a + b, 0);
  return `${n} unit${n === 1 ? '' : 's'}`;
}

/** The header of the `-v` log. */
export function logHeader(): string {
  return row(['TIME', 'EVENT', 'TASK', 'UNIT', 'DETAILS']);
}

/** One `-v` line for an event, or none for events the log leaves out. */
export function logLine(event: SimEvent, origin: number): string | undefined {
  const at = simTime(event.time - origin);
  switch (event.type) {
    case 'unit:start':
      return row([at, 'start', event.task, event.unit, `attempt ${event.attempt}: ${describeStale(event.reason)}`]);
    case 'unit:done':
      return row([
        at,
        'done',
        event.task,
        event.unit,
        `took ${simTime(event.durationMs)}${event.inputsChanged ? ', an input changed meanwhile' : ''}`,
      ]);
    case 'unit:fail':
      return row([at, 'fail', event.task, event.unit, `attempt ${event.attempt}: ${event.error.message || describeFailure(event.error)}`]);
    case 'unit:retry':
      return row([at, 'retry', event.task, event.unit, `${event.error.message}; again in ${simTime(event.delayMs)}`]);
    case 'unit:skip':
      return row([at, 'fresh', event.task, event.unit, '']);
    case 'unit:blocked':
      return row([at, 'blocked', event.task, event.unit, describeBlocked(event.reason)]);
    case 'run:stall':
      // What was waiting and why, as build's stall diagnostic lists it.
      return [
        row([at, 'stall', '', '', event.message]),
        ...event.blocked.map((b) => row([at, 'waiting', b.task, b.unit, `${b.reason.kind}: ${b.reason.message}`])),
      ].join('\n');
    case 'sim:edit':
      return row([
        at,
        'edit',
        '',
        '',
        `rewrote ${event.files.length} input(s): ${event.files.slice(0, 3).join(', ')}${event.files.length > 3 ? ', ...' : ''}`,
      ]);
    case 'run:start':
      return row([at, 'run', '', '', `${units(event.tasks)} planned`]);
    case 'plan:update':
      return row([at, 'plan', '', '', `now ${units(event.tasks)} (dynamic outputs found)`]);
    case 'run:done':
      return row([at, 'end', '', '', event.ok ? 'ok' : 'failed']);
    default:
      return undefined;
  }
}

function limits(s: ServiceUse): string {
  const parts = [
    s.concurrent === null ? 'no cap' : `${s.concurrent} at once`,
    ...s.rates.map((r) => `${r.limit} ${formatPerWindow(r.windowMs)}`),
  ];
  return parts.join(', ');
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

function serviceTable(services: readonly ServiceUse[]): string[] {
  const header = ['service', 'limits', 'starts', 'busy', 'utilisation', 'peak', 'most starts in a window'];
  const rows = services.map((s) => [
    s.service,
    limits(s),
    String(s.starts),
    formatDuration(s.busyMs),
    s.utilisation === null ? '-' : `${(s.utilisation * 100).toFixed(1)}%`,
    String(s.peakConcurrent),
    s.rates.map((r) => `${r.maxStarts}/${r.limit} ${formatPerWindow(r.windowMs)}`).join(', ') || '-',
  ]);
  return table([header, ...rows]).map((l) => `  ${l}`);
}

const PATH_SHOWN = 6;

function pathLines(summary: SimSummary): string[] {
  const steps = summary.criticalPath;
  if (steps.length === 0) return [];
  const shown = steps.length <= PATH_SHOWN ? steps : [...steps.slice(0, PATH_SHOWN / 2), undefined, ...steps.slice(-PATH_SHOWN / 2)];
  const lines = shown.map((s) =>
    s ? `  ${s.unit}  ${simTime(s.start)} -> ${simTime(s.end)}  (+${simTime(s.chargedMs)})` : `  ... ${steps.length - PATH_SHOWN} more`,
  );
  return [`critical path (${steps.length} unit${steps.length === 1 ? '' : 's'}; +time since the step before, waits included):`, ...lines];
}

/** The summary as text: what a user reads after a rehearsal. */
export function renderSummary(summary: SimSummary, title: string): string {
  const u = summary.units;
  const lines = [
    title,
    `makespan   ${simTime(summary.makespanMs)} simulated (${formatDuration(summary.makespanMs)})`,
    `units      ${u.run} run (${u.attempts} attempt${u.attempts === 1 ? '' : 's'}), ${u.built} built, ${u.failed} failed, ${u.retried} retried, ${u.blocked} blocked, ${u.fresh} fresh` +
      (u.rebuilt > 0 ? `, ${u.rebuilt} rebuilt after an edit` : '') +
      (u.notStarted > 0 ? `, ${u.notStarted} not started` : ''),
  ];
  if (summary.services.length > 0) lines.push('services', ...serviceTable(summary.services));
  lines.push(...pathLines(summary));
  if (summary.boundingTask !== null) lines.push(`bounded by task ${summary.boundingTask} (most time on the critical path)`);
  if (summary.blocked.length > 0) {
    lines.push(`blocked (${summary.blocked.length}):`);
    for (const b of summary.blocked.slice(0, 20)) {
      const why = describeBlocked(b.reason);
      lines.push(why.startsWith(b.unit) ? `  ${why}` : `  ${b.unit}: ${why}`);
    }
    if (summary.blocked.length > 20) lines.push(`  ... ${summary.blocked.length - 20} more`);
  }
  if (summary.failures.length > 0) {
    lines.push(`failed (${summary.failures.length}):`);
    for (const f of summary.failures.slice(0, 5)) lines.push(`  ${f.unit}: ${f.message}`);
    if (summary.failures.length > 5) lines.push(`  ... ${summary.failures.length - 5} more`);
  }
  return `${lines.join('\n')}\n`;
}
