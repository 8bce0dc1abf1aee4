/**
 * The critical path of a rehearsal: from the attempt that ended last, back through the
 * dependency that ended last before that attempt started, to a unit with none (a unit rebuilt
 * after an edit is followed from its last attempt). Each step is
 * charged the time from its predecessor's end (or the run's start) to its own end, waits for a
 * slot or the rate included; the task charged most is the one that bounds the makespan.
 */
import type { UnitGraph } from '../../graph/unit.ts';
import type { RunRecord, Span, UnitRecord } from '../records/record.ts';

/** One unit on the critical path. */
export interface PathStep {
  readonly unit: string;
  readonly task: string;
  /** Virtual ms since the run started. */
  readonly start: number;
  readonly end: number;
  /** From the previous step's end (or 0) to this one's end. */
  readonly chargedMs: number;
}

/** The path, first unit first, and the task charged the most time on it. */
export interface CriticalPath {
  readonly steps: readonly PathStep[];
  readonly boundingTask: string | undefined;
}

/** A unit's last attempt, in virtual ms since the run started, and where its first one sorts. */
interface Last {
  readonly unit: string;
  readonly task: string;
  readonly start: number;
  readonly end: number;
}

/** Whether `a`'s first attempt starts before `b`'s (ends first on a tie): the order of attempts in time. */
function firstBefore(a: UnitRecord, b: UnitRecord): boolean {
  const sa = a.spans[0] as Span;
  const sb = b.spans[0] as Span;
  return sa[0] < sb[0] || (sa[0] === sb[0] && sa[1] < sb[1]);
}

/** `u`'s last attempt, in virtual ms since the run started; undefined when it never ran. */
function lastOf(u: UnitRecord, startedAt: number): Last | undefined {
  const span = u.spans[u.spans.length - 1];
  return span ? { unit: u.unit, task: u.task, start: span[0] - startedAt, end: span[1] - startedAt } : undefined;
}

/**
 * The attempt that ended last (on a tie, the unit whose first attempt came first in time, then
 * the first in the record).
 */
function lastAttempt(record: RunRecord): Last | undefined {
  let last: Last | undefined;
  let lastRecord: UnitRecord | undefined;
  const units = record.units;
  for (let i = 0; i < units.length; i++) {
    const u = units[i] as UnitRecord;
    const span = u.spans[u.spans.length - 1];
    if (!span) continue;
    const end = span[1] - record.startedAt;
    if (!last || !lastRecord || end > last.end || (end === last.end && firstBefore(u, lastRecord))) {
      last = lastOf(u, record.startedAt);
      lastRecord = u;
    }
  }
  return last;
}

/** Each unit's last attempt. */
function lastAttempts(record: RunRecord): Map<string, Last> {
  const byUnit = new Map<string, Last>();
  for (const u of record.units) {
    const at = lastOf(u, record.startedAt);
    if (at) byUnit.set(u.unit, at);
  }
  return byUnit;
}

export function criticalPath(record: RunRecord, graph: UnitGraph): CriticalPath {
  const last = lastAttempt(record);
  // Made only when the path goes on past its last unit (a unit with deps): a table of 10,000s.
  let byUnit: Map<string, Last> | undefined;
  const chain: Last[] = [];
  const seen = new Set<string>();
  for (let at = last; at && !seen.has(at.unit);) {
    seen.add(at.unit);
    chain.unshift(at);
    const started = at.start;
    let before: Last | undefined;
    for (const dep of graph.deps.get(at.unit) ?? []) {
      byUnit ??= lastAttempts(record);
      const d = byUnit.get(dep);
      if (d && d.end <= started && (!before || d.end > before.end)) before = d;
    }
    at = before;
  }
  const steps = chain.map((s, i) => ({
    unit: s.unit,
    task: s.task,
    start: s.start,
    end: s.end,
    chargedMs: s.end - (i === 0 ? 0 : (chain[i - 1] as Last).end),
  }));
  const charged = new Map<string, number>();
  for (const s of steps) charged.set(s.task, (charged.get(s.task) ?? 0) + s.chargedMs);
  let boundingTask: string | undefined;
  for (const [task, ms] of charged) if (boundingTask === undefined || ms > (charged.get(boundingTask) ?? 0)) boundingTask = task;
  return { steps, boundingTask };
}
