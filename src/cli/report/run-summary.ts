/**
 * `runcue report`: a run record as text for a terminal (the totals, the slowest units, the
 * failures with their output tail, what was blocked, each service against its limits), and the
 * one-line-per-run list of `runcue report --list`.
 */
import type { RunRecord, UnitRecord } from '../../runner/records/record.ts';
import { summarizeRun, type ServiceUtilisation } from '../../runner/records/summary.ts';
import { describeFailure, describeStale, formatDuration, SYMBOLS, type Palette } from './format.ts';
import { formatPerWindow } from './service-progress.ts';
import { safeLine } from './terminal-text.ts';

/** Units shown under "Slowest units". */
const SLOWEST = 10;
/** Lines of a failed unit's output shown under its failure. */
const TAIL_LINES = 15;

/** How the text is painted. */
export interface SummaryStyle {
  readonly palette: Palette;
  readonly color: boolean;
}

/** The whole report of `record`. */
export function renderRunReport(record: RunRecord, style: SummaryStyle): string[] {
  const summary = summarizeRun(record, { slowest: SLOWEST });
  const { palette } = style;
  const lines = [...renderHeader(record, style), ''];
  if (summary.slowest.length > 0) {
    lines.push(palette.bold('Slowest units'));
    const width = Math.max(...summary.slowest.map((u) => formatDuration(u.durationMs).length));
    for (const u of summary.slowest) lines.push(`  ${formatDuration(u.durationMs).padStart(width)}  ${slowestLine(u, style)}`);
    lines.push('');
  }
  if (summary.failures.length > 0) {
    lines.push(palette.bold('Failures'));
    for (const u of summary.failures) lines.push(...failureLines(u, style));
    if (record.tailsOmitted !== undefined) lines.push(palette.dim(`  (${String(record.tailsOmitted)} more failures kept no output)`));
    lines.push('');
  }
  if (summary.blocked.length > 0) {
    lines.push(palette.bold('Blocked'));
    for (const u of summary.blocked) lines.push(`  ${palette.yellow(SYMBOLS.blocked)} ${show(u.unit)}: ${show(u.blocked ?? '')}`);
    lines.push('');
  }
  if (summary.services.length > 0) {
    lines.push(palette.bold('Services'));
    const width = Math.max(...summary.services.map((s) => s.name.length));
    for (const s of summary.services) lines.push(`  ${s.name.padEnd(width)}  ${serviceLine(s)}`);
    lines.push('');
  }
  return lines.slice(0, -1);
}

function renderHeader(record: RunRecord, style: SummaryStyle): string[] {
  const { palette } = style;
  const what = `${record.command}${record.targets.length > 0 ? ` ${record.targets.map((t) => show(t)).join(' ')}` : ''}`;
  const cycle = record.cycle !== undefined ? `, cycle ${String(record.cycle)} (${record.trigger ?? '?'})` : '';
  const status = statusText(record, palette);
  const c = record.counts;
  const extra = [
    c.interrupted ? `${String(c.interrupted)} interrupted` : '',
    c.notStarted ? `${String(c.notStarted)} not started` : '',
    c.pushBacks ? `${String(c.pushBacks)} push-back${c.pushBacks === 1 ? '' : 's'}` : '',
  ].filter((s) => s !== '');
  return [
    `${palette.bold(`run ${record.id}`)}  ${what}${cycle}  ${status}`,
    `started ${formatLocalTime(record.startedAt)}, took ${formatDuration(record.durationMs)}`,
    `${String(c.built)} built, ${String(c.fresh)} fresh, ${String(c.failed)} failed, ${String(c.blocked)} blocked${extra.map((s) => `, ${s}`).join('')}`,
  ];
}

function statusText(record: RunRecord, palette: Palette): string {
  switch (record.status) {
    case 'ok':
      return palette.green(`ok (exit ${String(record.exitCode)})`);
    case 'failed':
      return palette.red(`failed (exit ${String(record.exitCode)})`);
    case 'interrupted':
      return palette.yellow(`interrupted by ${record.interrupted ?? 'a signal'} (exit ${String(record.exitCode)})`);
    default:
      return palette.yellow('incomplete (runcue stopped before the run ended)');
  }
}

function slowestLine(u: UnitRecord, style: SummaryStyle): string {
  const symbol =
    u.outcome === 'built'
      ? style.palette.green(SYMBOLS.done)
      : u.outcome === 'failed'
        ? style.palette.red(SYMBOLS.fail)
        : style.palette.yellow(SYMBOLS.interrupted);
  const why = u.reason ? style.palette.dim(` (${show(staleText(u))})`) : '';
  return `${symbol} ${show(u.unit)}${why}${attemptsText(u)}`;
}

function failureLines(u: UnitRecord, style: SummaryStyle): string[] {
  const { palette } = style;
  const interrupted = u.outcome === 'interrupted';
  const head = interrupted
    ? `  ${palette.yellow(SYMBOLS.interrupted)} ${show(u.unit)} interrupted after ${formatDuration(u.durationMs)}`
    : `  ${palette.red(SYMBOLS.fail)} ${show(u.unit)} ${show(failureText(u))}${afterText(u)}${attemptsText(u)}`;
  const lines = [head];
  if (interrupted) return lines;
  if (u.command !== undefined)
    lines.push(`    ${palette.dim('$')} ${show(u.command.length > 200 ? `${u.command.slice(0, 200)} ...` : u.command)}`);
  const tail = (u.outputTail ?? '').split('\n').filter((line, i, all) => !(i === all.length - 1 && line === ''));
  for (const line of tail.slice(-TAIL_LINES)) lines.push(`      ${safeLine(line, style.color)}`);
  return lines;
}

/** A timeout already says how long it ran. */
function afterText(u: UnitRecord): string {
  return u.failure?.reason === 'timeout' ? '' : ` after ${formatDuration(u.durationMs)}`;
}

function attemptsText(u: UnitRecord): string {
  const parts = [
    u.attempts > 1 ? `${String(u.attempts)} attempts` : '',
    u.pushBacks > 0 ? `${String(u.pushBacks)} push-back${u.pushBacks === 1 ? '' : 's'}` : '',
  ];
  const shown = parts.filter((p) => p !== '');
  return shown.length > 0 ? ` [${shown.join(', ')}]` : '';
}

function serviceLine(s: ServiceUtilisation): string {
  const running = `peak ${String(s.peakConcurrent)}${s.concurrent !== null ? `/${String(s.concurrent)}` : ''} running`;
  const rates = s.rates.map((r) => {
    const avg = formatRate(s.perMinute * (r.windowMs / 60_000));
    return `limit ${String(r.count)} ${formatPerWindow(r.windowMs)}: avg ${avg}, busiest ${String(r.peak)} (${String(Math.round(r.share * 100))}%)`;
  });
  const pushBacks = s.pushBacks > 0 ? [`${String(s.pushBacks)} push-back${s.pushBacks === 1 ? '' : 's'}`] : [];
  return [running, `${String(s.starts)} start${s.starts === 1 ? '' : 's'}`, ...rates, ...pushBacks].join(' · ');
}

/** `12`, `3.4`, `0.05`: enough digits to read a rate. */
function formatRate(n: number): string {
  return n >= 10 ? String(Math.round(n)) : n >= 0.1 ? n.toFixed(1) : n.toFixed(2);
}

/** Why it ran, or the kind when the record holds a reason this version does not know. */
function staleText(u: UnitRecord): string {
  if (!u.reason) return '';
  try {
    return describeStale(u.reason);
  } catch {
    return JSON.stringify(u.reason);
  }
}

function failureText(u: UnitRecord): string {
  if (!u.failure) return 'failed';
  try {
    return describeFailure(u.failure);
  } catch {
    return JSON.stringify(u.failure);
  }
}

/** Unit ids and messages come from file names and tools: never let them drive the terminal. */
function show(text: string): string {
  return safeLine(text.replaceAll('\n', ' '), false);
}

/** `2026-12-05 13:02:11` in local time. */
function formatLocalTime(time: number): string {
  const d = new Date(time);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${String(d.getFullYear())}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** One line per kept run, newest first, numbered as `runcue report N` takes them. */
export function renderRunList(records: readonly RunRecord[], style: SummaryStyle): string[] {
  return records.map((r, i) => {
    const c = r.counts;
    const counts = `${String(c.built)} built, ${String(c.fresh)} fresh, ${String(c.failed)} failed, ${String(c.blocked)} blocked`;
    const status =
      r.status === 'ok' ? style.palette.green('ok') : r.status === 'failed' ? style.palette.red('failed') : style.palette.yellow(r.status);
    const what = `${r.command}${r.cycle !== undefined ? ` #${String(r.cycle)}` : ''}`;
    return `${String(i + 1).padStart(3)}  ${r.id}  ${formatLocalTime(r.startedAt)}  ${what.padEnd(9)} ${status}  ${counts} in ${formatDuration(r.durationMs)}`;
  });
}
