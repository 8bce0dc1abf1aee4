/**
 * The critical path of a rehearsal: from the attempt that ended last, back through the
 * dependency that ended last before that attempt started (a unit it reads from, or any unit of
 * a task it runs `after`), to a unit with none (a unit rebuilt
 * after an edit is followed from its last attempt). Each step is
 * charged the time from its predecessor's end (or the run's start) to its own end, waits for a
 * slot or the rate included; the task charged most is the one that bounds the makespan.
 */
import type { UnitGraph } from '../../graph/unit.ts';
import type { Attempts } from './attempt-log.ts';

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

/** A unit's last attempt, in virtual ms since the run started. */
interface Last {
  readonly unit: string;
  readonly task: string;
  readonly start: number;
  readonly end: number;
}

/** Whether unit `a`'s first attempt starts before `b`'s (ends first on a tie): the order of attempts in time. */
function firstBefore(log: Attempts, a: number, b: number): boolean {
  const sa = log.start(a, 0);
  const sb = log.start(b, 0);
  return sa < sb || (sa === sb && log.end(a, 0) < log.end(b, 0));
}

/** Unit `i`'s last attempt, in virtual ms since the run started; undefined when it never ran. */
function lastOf(log: Attempts, i: number): Last | undefined {
  const n = log.spans(i);
  if (n === 0) return undefined;
  return { unit: log.unit(i), task: log.task(i), start: log.start(i, n - 1) - log.startedAt, end: log.end(i, n - 1) - log.startedAt };
}

/**
 * The attempt that ended last (on a tie, the unit whose first attempt came first in time, then
 * the first in the record).
 */
function lastAttempt(log: Attempts): Last | undefined {
  let last: Last | undefined;
  let lastUnit = -1;
  for (let i = 0; i < log.size; i++) {
    const n = log.spans(i);
    if (n === 0) continue;
    const end = log.end(i, n - 1) - log.startedAt;
    if (!last || end > last.end || (end === last.end && firstBefore(log, i, lastUnit))) {
      last = lastOf(log, i);
      lastUnit = i;
    }
  }
  return last;
}

/** The units of each task in `log`, by number: the units an `after` dependency waits for. */
function unitsByTask(log: Attempts): Map<string, number[]> {
  const byTask = new Map<string, number[]>();
  for (let i = 0; i < log.size; i++) {
    const task = log.task(i);
    const list = byTask.get(task);
    if (list) list.push(i);
    else byTask.set(task, [i]);
  }
  return byTask;
}

interface PathContext {
  readonly log: Attempts;
  readonly graph: UnitGraph;
  /** Task -> the tasks it runs `after`. */
  readonly after: ReadonlyMap<string, readonly string[]>;
  /** Made on the first `after` step. */
  byTask?: Map<string, number[]>;
}

/** The numbers of the units `at` waited for: its data dependencies, and every unit of the tasks its task runs after. */
function* dependencies(at: Last, ctx: PathContext): Generator<number> {
  for (const dep of ctx.graph.deps.get(at.unit) ?? []) {
    const i = ctx.log.indexOf(dep);
    if (i !== undefined) yield i;
  }
  const tasks = ctx.after.get(at.task) ?? [];
  if (tasks.length === 0) return;
  const byTask = (ctx.byTask ??= unitsByTask(ctx.log));
  for (const task of tasks) yield* byTask.get(task) ?? [];
}

/** `after`: each task's `after` list (units of those tasks are dependencies too). */
export function criticalPath(log: Attempts, graph: UnitGraph, after: ReadonlyMap<string, readonly string[]> = new Map()): CriticalPath {
  const last = lastAttempt(log);
  const chain: Last[] = [];
  const seen = new Set<string>();
  const ctx: PathContext = { log, graph, after };
  for (let at = last; at && !seen.has(at.unit);) {
    seen.add(at.unit);
    chain.unshift(at);
    const started = at.start;
    let before: Last | undefined;
    for (const i of dependencies(at, ctx)) {
      const d = lastOf(log, i);
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
