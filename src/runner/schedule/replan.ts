/**
 * Planning during a run, pure: the next expansion (when a dynamic producer settled) merged with
 * what the run already knows, the per-task unit counts of `run:start`/`plan:update`, and the
 * services as `run:start` describes them.
 */
import type { ResolvedConfig } from '../../config/resolved.ts';
import { planUnits, type PlanUnitsOptions, type UnitPlan } from '../../graph/plan.ts';
import type { TaskGraph } from '../../graph/tasks.ts';
import type { Unit } from '../../graph/unit.ts';
import { isSettled, type Status } from './book.ts';

/** What a replan needs besides the plan pipeline's inputs: the plan so far and each status. */
export interface ReplanOptions extends Omit<PlanUnitsOptions, 'isSettled'> {
  readonly previous: UnitPlan;
  readonly statusOf: (id: string) => Status | undefined;
}

/** The new plan, and the units whose status goes (no longer wanted, not running). */
export interface Replan {
  readonly plan: UnitPlan;
  readonly forget: readonly string[];
}

/** Expands again and keeps the units the run still waits on. */
export function replan(options: ReplanOptions): Replan {
  const { previous, statusOf } = options;
  // A unit that only would run (plan) made no files: its consumers stay placeholders.
  const { graph, wanted } = planUnits({ ...options, isSettled: (id) => statusOf(id) === 'fresh' || statusOf(id) === 'done' });
  const kept: Unit[] = [];
  const forget: string[] = [];
  for (const id of previous.wanted) {
    if (wanted.has(id)) continue;
    const old = previous.graph.units.get(id);
    const st = statusOf(id);
    if (old && !old.placeholder && st !== undefined && !isSettled(st) && !droppedByRerun(previous, id, statusOf)) {
      // A unit whose inputs vanished (a dynamic producer made no matching file) is kept, so
      // its check reports what it waits for instead of it disappearing silently.
      kept.push(old);
      wanted.add(id);
    } else if (st !== 'running') {
      forget.push(id);
    }
  }
  const units = kept.length === 0 ? graph.units : new Map([...graph.units, ...kept.map((u) => [u.id, u] as const)]);
  return { plan: { graph: { ...graph, units }, wanted }, forget };
}

/**
 * A dynamic producer this unit came from reran in this run and did not make its input again:
 * the unit no longer exists (its outputs are orphans), it is not waiting for anything.
 */
function droppedByRerun(previous: UnitPlan, id: string, statusOf: (id: string) => Status | undefined): boolean {
  for (const d of previous.graph.deps.get(id) ?? []) {
    const st = statusOf(d);
    if ((st === 'done' || st === 'would-run') && previous.graph.units.get(d)?.outputs.some((o) => o.isGlob)) return true;
  }
  return false;
}

const feeding = new WeakMap<TaskGraph, Map<string, boolean>>();

/**
 * Whether files a unit of `task` makes may make or change other units, so that a replan must
 * follow when it settles: some task consumes from it, or some task has a function input, whose
 * files no task-level edge foresees. Without, a replan after each unit with a glob output made
 * a build of N such units quadratic (2,000: 77 s, nearly all of it replanning).
 */
export function mayFeedUnits(config: ResolvedConfig, tasks: TaskGraph, task: string): boolean {
  let known = feeding.get(tasks);
  if (!known) feeding.set(tasks, (known = new Map<string, boolean>()));
  let feeds = known.get(task);
  if (feeds === undefined) {
    const consumed = [...tasks.upstream.values()].some((producers) => producers.includes(task));
    feeds = consumed || [...config.tasks.values()].some((t) => t.inputs.some((i) => i.kind !== 'pattern'));
    known.set(task, feeds);
  }
  return feeds;
}

/** Wanted units per needed task (placeholders not counted), in task order. */
export function taskCounts(plan: UnitPlan, tasks: TaskGraph, neededTasks: ReadonlySet<string>): Record<string, number> {
  // Asked at the start and around every expansion: counted once per plan (100,000s of units).
  const cached = countsOfPlan.get(plan);
  if (cached?.needed === neededTasks) return { ...cached.counts };
  const counts: Record<string, number> = {};
  for (const name of tasks.order) if (neededTasks.has(name)) counts[name] = 0;
  plan.wanted.forEach((id) => {
    const unit = plan.graph.units.get(id);
    if (unit && !unit.placeholder) counts[unit.task] = (counts[unit.task] ?? 0) + 1;
  });
  countsOfPlan.set(plan, { needed: neededTasks, counts });
  return { ...counts };
}

const countsOfPlan = new WeakMap<UnitPlan, { readonly needed: ReadonlySet<string>; readonly counts: Record<string, number> }>();

/** Each service's limits as data (`run:start`), so renderers never re-parse `'60/min'`. */
export function serviceInfo(
  config: ResolvedConfig,
): Record<string, { concurrent: number | null; rates: { count: number; windowMs: number }[] }> {
  const out: Record<string, { concurrent: number | null; rates: { count: number; windowMs: number }[] }> = {};
  for (const [name, s] of config.services) {
    out[name] = { concurrent: s.concurrent ?? null, rates: s.rates.map((r) => ({ count: r.count, windowMs: r.windowMs })) };
  }
  return out;
}
