/**
 * Planning during a run, pure: the next expansion (when a dynamic producer settled) merged with
 * what the run already knows, when that expansion is due, the per-task unit counts of
 * `run:start`/`plan:update`, and the services as `run:start` describes them.
 */
import type { ResolvedConfig, ResolvedTask } from '../../config/resolved.ts';
import { planUnits, type PlanUnitsOptions, type UnitPlan } from '../../graph/plan.ts';
import type { TaskGraph } from '../../graph/tasks.ts';
import type { Unit, UnitGraph } from '../../graph/unit.ts';
import type { Clock, TimerHandle, Timers } from '../ports.ts';
import { isSettled, type Status } from './book.ts';

/** What a replan needs besides the plan pipeline's inputs: the plan so far and each status. */
export interface ReplanOptions extends Omit<PlanUnitsOptions, 'isSettled'> {
  readonly previous: UnitPlan;
  readonly statusOf: (id: string) => Status | undefined;
  /** A unit of the previous plan that must go even though the run waits on it (made from an orphan). */
  readonly disowned?: (unit: Unit) => boolean;
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
    if (
      old &&
      !old.placeholder &&
      st !== undefined &&
      !isSettled(st) &&
      !droppedByRerun(previous, id, statusOf) &&
      !options.disowned?.(old)
    ) {
      // A unit whose inputs vanished (a dynamic producer made no matching file) is kept, so
      // its check reports what it waits for instead of it disappearing silently.
      kept.push(old);
    } else if (st !== 'running') {
      forget.push(id);
    }
  }
  if (kept.length === 0) return { plan: { graph, wanted }, forget };
  return { plan: { graph: withKept(graph, kept, previous.graph), wanted: new Set([...wanted, ...kept.map((u) => u.id)]) }, forget };
}

/**
 * `graph` with the `kept` units and their edges to units still in it: a kept unit still waits for
 * a producer that is running (a dynamic producer that cleared its files before it reran), rather
 * than being checked at once and blocked on a file that producer is about to make again.
 */
function withKept(graph: UnitGraph, kept: readonly Unit[], previous: UnitGraph): UnitGraph {
  const units = new Map([...graph.units, ...kept.map((u) => [u.id, u] as const)]);
  const deps = new Map(graph.deps);
  const dependents = new Map(graph.dependents);
  for (const unit of kept) {
    const from = [...(previous.deps.get(unit.id) ?? [])].filter((d) => units.has(d));
    if (from.length === 0) continue;
    deps.set(unit.id, new Set(from));
    for (const d of from) dependents.set(d, new Set([...(dependents.get(d) ?? []), unit.id]));
  }
  return { ...graph, units, deps, dependents };
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

const consumersByGraph = new WeakMap<TaskGraph, Map<string, readonly string[]>>();

/**
 * The tasks whose units files made by a unit of `task` may make or change: those that consume
 * from it in the task graph, and every task with a function input, whose files no task-level
 * edge foresees.
 */
function consumersOf(config: ResolvedConfig, tasks: TaskGraph, task: string): readonly string[] {
  let known = consumersByGraph.get(tasks);
  if (!known) consumersByGraph.set(tasks, (known = new Map<string, readonly string[]>()));
  let consumers = known.get(task);
  if (consumers === undefined) {
    consumers = tasks.order.filter(
      (name) =>
        (tasks.upstream.get(name) ?? []).includes(task) || (config.tasks.get(name)?.inputs.some((i) => i.kind !== 'pattern') ?? false),
    );
    known.set(task, consumers);
  }
  return consumers;
}

/**
 * Whether a replan must follow when a unit of `task` settles with a glob output: some task may
 * read its files. Without, a replan after each unit with a glob output made a build of N such
 * units quadratic (2,000: 77 s, nearly all of it replanning).
 */
export function mayFeedUnits(config: ResolvedConfig, tasks: TaskGraph, task: string): boolean {
  return consumersOf(config, tasks, task).length > 0;
}

/** What {@link ExpansionGate} reads of the run queue. */
export interface QueuedAhead {
  readonly size: number;
  /** Whether a unit queued for exactly these services, at this priority or higher, waits. */
  holdsAhead(services: readonly string[], priority: number): boolean;
}

/** Clock time that must pass between two expansions, per unit planned, while units run. */
const GAP_PER_UNIT_MS = 0.25;

/** What {@link ExpansionGate} needs of the run besides the plan's inputs. */
export interface GateOptions extends Pick<ReplanOptions, 'config' | 'tasks' | 'neededTasks'> {
  readonly queue: QueuedAhead;
  readonly clock: Clock;
  readonly timers: Timers;
  /** Whether a unit runs (or is being checked): an idle run expands at once. */
  readonly busy: () => boolean;
  /** Called when a held expansion comes due by time alone. */
  readonly wake: () => void;
}

/**
 * When the expansion that a dynamic producer's files call for runs. Each expansion walks and
 * matches the whole build, so one after every producer made a build of N producers quadratic
 * (1,000 split -> extract pairs on one service: 56 s of CPU -> 4.5 s). It waits
 * - while, for every needed task that consumes from a producer that settled, a unit queued for
 *   that task's services at its priority or higher waits: the new units would only queue behind
 *   it (lanes are first come, first served within a priority), so they start no later;
 * - otherwise, while units run (an idle run expands at once), until 0.25 ms of clock time per
 *   planned unit has passed since the last expansion (10,000 units: 2.5 s), so that expanding
 *   takes a small share of the run however fast the consumers are (1,000 pairs whose extracts
 *   use a service of their own: 913 expansions, 63 s of CPU -> 15, 5.4 s); a virtual clock
 *   keeps a simulation deterministic.
 * Until then the producers' dependents stay waiting, since the graph they were counted in is out
 * of date; the expansion counts them again.
 */
export class ExpansionGate {
  private readonly o: GateOptions;
  /** Tasks of the producers that settled since the last expansion. */
  private readonly settled = new Set<string>();
  private held = false;
  private last: number;
  private gapMs = 0;
  private timer: TimerHandle | undefined;

  constructor(options: GateOptions) {
    this.o = options;
    this.last = options.clock.now();
  }

  /**
   * A unit of `task` with a glob output that may feed units settled: whether its dependents may
   * be counted down now (false: they wait for the expansion).
   */
  producerSettled(task: string): boolean {
    this.settled.add(task);
    // Once one producer's dependents wait, later ones wait too: the expansion then makes them due
    // in plan order, so the last producer's pages do not start before those of the first.
    if (!this.held && this.due()) return true;
    this.held = true;
    return false;
  }

  /** Whether the expansion may wait no longer (when it waits for time, a timer calls `wake`). */
  due(): boolean {
    if (this.settled.size === 0) return true;
    if (this.o.queue.size > 0 && !this.sooner()) return false;
    if (!this.o.busy()) return true;
    const at = this.last + this.gapMs;
    const now = this.o.clock.now();
    if (now >= at) return true;
    if (this.timer === undefined) {
      this.timer = this.o.timers.set(() => {
        this.timer = undefined;
        this.o.wake();
      }, at - now);
    }
    return false;
  }

  /** Whether some needed consumer of a settled producer could start a unit sooner than what is queued. */
  private sooner(): boolean {
    const { config, tasks, neededTasks, queue } = this.o;
    for (const producer of this.settled) {
      for (const name of consumersOf(config, tasks, producer)) {
        const task = config.tasks.get(name);
        if (task && neededTasks.has(name) && (mayNeedNoSlot(task) || !queue.holdsAhead(task.uses, task.priority))) return true;
      }
    }
    return false;
  }

  /**
   * The expansion of `units` planned units ran: whether dependents were held (units parked on
   * `after` must look again).
   */
  expanded(units: number): boolean {
    const held = this.held;
    this.settled.clear();
    this.held = false;
    this.last = this.o.clock.now();
    this.gapMs = units * GAP_PER_UNIT_MS;
    this.stop();
    return held;
  }

  /** The run ends: no timer left behind. */
  stop(): void {
    this.o.timers.clear(this.timer);
    this.timer = undefined;
  }
}

/**
 * Whether a task's new units may be fresh although their producer just wrote their inputs (same
 * content under `freshness: 'hash'`, or a custom `stale`): they would take no slot, and what they
 * feed may start on other services meanwhile, so they are no reason to wait.
 */
function mayNeedNoSlot(task: ResolvedTask): boolean {
  return task.freshness === 'hash' || task.stale !== undefined;
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
