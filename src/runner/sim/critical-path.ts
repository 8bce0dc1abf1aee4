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

/**
 * Each unit's last attempt, and the one that ended last (on a tie, the unit whose first attempt
 * came first in time, then the first in the record).
 */
function lastAttempts(record: RunRecord): { readonly byUnit: Map<string, Last>; readonly last: Last | undefined } {
  const byUnit = new Map<string, Last>();
  let last: Last | undefined;
  let lastRecord: UnitRecord | undefined;
  const units = record.units;
  for (let i = 0; i < units.length; i++) {
    const u = units[i] as UnitRecord;
    const span = u.spans[u.spans.length - 1];
    if (!span) continue;
    const at = { unit: u.unit, task: u.task, start: span[0] - record.startedAt, end: span[1] - record.startedAt };
    byUnit.set(u.unit, at);
    if (!last || !lastRecord || at.end > last.end || (at.end === last.end && firstBefore(u, lastRecord))) {
      last = at;
      lastRecord = u;
    }
  }
  return { byUnit, last };
}

export function criticalPath(record: RunRecord, graph: UnitGraph): CriticalPath {
  const { byUnit, last } = lastAttempts(record);
  const chain: Last[] = [];
  const seen = new Set<string>();
  for (let at = last; at && !seen.has(at.unit);) {
    seen.add(at.unit);
    chain.unshift(at);
    const started = at.start;
    let before: Last | undefined;
    for (const dep of graph.deps.get(at.unit) ?? []) {
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
