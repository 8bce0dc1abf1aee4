/**
 * The critical path of a rehearsal: from the attempt that ended last, back through the
 * dependency that ended last before that attempt started, to a unit with none (a unit rebuilt
 * after an edit is followed from its last attempt). Each step is
 * charged the time from its predecessor's end (or the run's start) to its own end, waits for a
 * slot or the rate included; the task charged most is the one that bounds the makespan.
 */
import type { UnitGraph } from '../../graph/unit.ts';
import type { Span } from './spans.ts';

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

export function criticalPath(spans: readonly Span[], graph: UnitGraph): CriticalPath {
  const lastEnd = new Map<string, Span>();
  for (const s of spans) {
    const prev = lastEnd.get(s.unit);
    if (!prev || s.end >= prev.end) lastEnd.set(s.unit, s);
  }
  let last: Span | undefined;
  for (const s of lastEnd.values()) if (!last || s.end > last.end) last = s;
  const chain: Span[] = [];
  const seen = new Set<string>();
  for (let at = last; at && !seen.has(at.unit);) {
    seen.add(at.unit);
    chain.unshift(at);
    const started = at.start;
    let before: Span | undefined;
    for (const dep of graph.deps.get(at.unit) ?? []) {
      const d = lastEnd.get(dep);
      if (d && d.end <= started && (!before || d.end > before.end)) before = d;
    }
    at = before;
  }
  const steps = chain.map((s, i) => ({
    unit: s.unit,
    task: s.task,
    start: s.start,
    end: s.end,
    chargedMs: s.end - (i === 0 ? 0 : (chain[i - 1] as Span).end),
  }));
  const charged = new Map<string, number>();
  for (const s of steps) charged.set(s.task, (charged.get(s.task) ?? 0) + s.chargedMs);
  let boundingTask: string | undefined;
  for (const [task, ms] of charged) if (boundingTask === undefined || ms > (charged.get(boundingTask) ?? 0)) boundingTask = task;
  return { steps, boundingTask };
}
