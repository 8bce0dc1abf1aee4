/**
 * The scheduler's book of units: each wanted unit's status, what it still waits for, and the
 * run's tallies. Every status change goes through {@link Book.transition}, which refuses a move
 * the lifecycle does not have (a bug, thrown) and tells its listeners (the plan recorder, the
 * stall watch):
 *
 *   waiting --deps settled--> checkable --check--> fresh | queued | blocked | not-ready | elsewhere
 *   queued --slot--> running --> done | failed | retrying --backoff--> queued
 *   (plan) queued | elsewhere --> would-run
 *
 * `fresh`, `done` and `would-run` are settled (downstream may go on); `failed` and `blocked`
 * block everything downstream.
 */
import type { ResolvedTask } from '../../config/resolved.ts';
import type { Unit, UnitGraph } from '../../graph/unit.ts';
import type { UnitPlan } from '../../graph/plan.ts';
import type { Clock } from '../ports.ts';
import type { BlockedReason, RunEvent, StaleReason, UnitFailure } from '../events.ts';
import { Statuses, type PendingTable } from './statuses.ts';

/** Where a unit is in its lifecycle (see the module comment). */
export type Status =
  | 'waiting'
  | 'checkable'
  | 'checking'
  | 'not-ready'
  | 'queued'
  | 'running'
  | 'retrying'
  | 'elsewhere'
  | 'fresh'
  | 'done'
  | 'would-run'
  | 'failed'
  | 'blocked';

/** What a listener learns with a move, besides the new status. */
export interface MoveNote {
  /** (to queued) Why it runs, when it was just found stale. */
  readonly stale?: StaleReason;
  /** (to blocked, elsewhere) Why it does not run. */
  readonly blocked?: BlockedReason;
  /** (to failed) How it failed. */
  readonly error?: UnitFailure;
}

/** Told of every move, after the status changed. */
export type MoveListener = (id: string, unit: Unit | undefined, to: Status, note: MoveNote) => void;

/** A problem with one unit, for the run's result. */
export interface UnitProblem {
  readonly unit: string;
  readonly task: string;
}

/** The moves the lifecycle has; `new` is a unit without a status (never seen, or forgotten). */
const MOVES: Readonly<Record<Status | 'new', readonly Status[]>> = {
  new: ['waiting'],
  waiting: ['waiting', 'checkable', 'blocked'],
  checkable: ['checking', 'not-ready', 'fresh', 'queued', 'elsewhere', 'blocked', 'failed'],
  checking: ['checkable', 'not-ready', 'fresh', 'queued', 'elsewhere', 'blocked', 'failed'],
  'not-ready': ['checkable', 'blocked'],
  queued: ['running', 'elsewhere', 'checkable', 'would-run'],
  running: ['done', 'failed', 'retrying', 'queued'],
  retrying: ['queued'],
  elsewhere: ['checkable', 'would-run'],
  fresh: [],
  done: [],
  'would-run': [],
  failed: [],
  blocked: [],
};

/** Settled: downstream may go on. */
const SETTLED: ReadonlySet<Status> = new Set(['fresh', 'done', 'would-run']);
const BAD: ReadonlySet<Status> = new Set(['failed', 'blocked']);
const NO_DEPS: ReadonlySet<string> = new Set();
/** Shared by the moves that say nothing more (most of them: three per unit of a no-op build). */
const NO_NOTE: MoveNote = Object.freeze({});

/** Whether a unit in status `st` has settled (its downstream may go on). */
export function isSettled(st: Status | undefined): boolean {
  return st !== undefined && SETTLED.has(st);
}

/** What the book needs besides its units: --no-deps, the clock, and where `unit:blocked` goes. */
export interface BookOptions {
  /** With --no-deps a unit waits only for deps inside the selection. */
  readonly noDeps: boolean;
  readonly clock: Clock;
  readonly emit: (event: RunEvent) => void;
}

/** The units of one run and where each one is (see the module comment). */
export class Book {
  private current: UnitPlan = { graph: { units: new Map(), deps: new Map(), dependents: new Map() }, wanted: new Set() };
  private readonly status = new Statuses();
  private readonly remaining = new Map<string, number>();
  /** Units whose check is due, in the order they became due. */
  private readonly due: string[] = [];
  /** Parked on `after` or a custom `ready`: re-checked whenever something settles. */
  private readonly parked = new Set<string>();
  /** Per task, its first unit that failed or was blocked: units that run `after` it are blocked. */
  private readonly badByTask = new Map<string, string>();
  /** Per task, wanted units not settled yet (placeholders included): gates `after`. */
  private unsettledByTask = new Map<string, number>();
  private readonly blockedReasons = new Map<string, BlockedReason>();
  private readonly listeners: MoveListener[] = [];
  private readonly o: BookOptions;
  readonly counts = { built: 0, fresh: 0, failed: 0, blocked: 0 };
  /** Each stale unit's pending record (in its status slot: see statuses.ts). */
  readonly pending: PendingTable = this.status;
  /** Units a signal stopped while they ran (not counted as failed). */
  interrupted = 0;
  readonly failures: (UnitProblem & { error: UnitFailure })[] = [];
  readonly blocked: (UnitProblem & { reason: BlockedReason })[] = [];

  constructor(options: BookOptions) {
    this.o = options;
  }

  /** The units of the latest expansion and the wanted ones. */
  get plan(): UnitPlan {
    return this.current;
  }

  get graph(): UnitGraph {
    return this.current.graph;
  }

  get wanted(): ReadonlySet<string> {
    return this.current.wanted;
  }

  unit(id: string): Unit | undefined {
    return this.current.graph.units.get(id);
  }

  /** The unit's status; undefined when it has none (not wanted yet, or forgotten). */
  statusOf(id: string): Status | undefined {
    return this.status.status(id);
  }

  /** Listens to every move from now on. */
  onMove(listener: MoveListener): void {
    this.listeners.push(listener);
  }

  /** Moves `id` to `to`; an impossible move is a bug in the scheduler and throws. */
  transition(id: string, to: Status, note: MoveNote = NO_NOTE): void {
    const slot = this.status.slot(id);
    const from = slot?.status;
    if (!MOVES[from ?? 'new'].includes(to)) throw new Error(`internal error: unit ${id} cannot go from ${from ?? 'no status'} to ${to}`);
    if (slot) slot.status = to;
    else this.status.add(id, to);
    if (this.listeners.length === 0) return;
    const unit = this.unit(id);
    // An index loop: five moves per unit that runs (for-of makes an iterator, and a result per
    // step until the optimiser steps in).
    const { listeners } = this;
    for (let i = 0; i < listeners.length; i++) (listeners[i] as MoveListener)(id, unit, to, note);
  }

  /**
   * Takes a new expansion: `forget` lost their status (no longer wanted), the tallies per task
   * are counted again, and units without a status start waiting.
   */
  replace(plan: UnitPlan, forget: Iterable<string>): void {
    for (const id of forget) this.status.forget(id);
    this.current = plan;
    this.unsettledByTask = new Map();
    // One pass, forEach, not for-of: run once over 10,000s of units, mostly before the
    // optimiser steps in, for-of allocates an iterator result per step. The tallies per task are
    // complete before any unit is checked (checkDue, later).
    plan.wanted.forEach((id) => {
      const unit = plan.graph.units.get(id);
      const st = this.status.status(id);
      if (unit && !isSettled(st)) this.unsettledByTask.set(unit.task, (this.unsettledByTask.get(unit.task) ?? 0) + 1);
      // A new unit that waits for nothing, with no listener to tell (most units of a first
      // expansion): checkable at once, one table insert, not a move to waiting and another.
      const free = st === undefined && unit && !unit.placeholder && this.listeners.length === 0 && !this.remaining.has(id);
      if (free && (this.graph.deps.get(id)?.size ?? 0) === 0) {
        this.status.add(id, 'checkable');
        this.due.push(id);
      } else if (st === undefined || st === 'waiting') this.updateRemaining(id, unit);
    });
  }

  /** Recounts a waiting unit's unsettled deps; blocks it if one failed. */
  private updateRemaining(id: string, unit: Unit | undefined): void {
    const count = this.unsettledDeps(id);
    if (count === undefined) return;
    this.transition(id, 'waiting');
    if (count > 0) {
      this.remaining.set(id, count);
      return;
    }
    // Nothing to wait for (most units): checkable at once, no count kept. (A placeholder stays
    // waiting; settle() then reads a missing count as 1 and makes it checkable, which it ignores.)
    if (this.remaining.size > 0) this.remaining.delete(id);
    this.makeCheckable(id, unit);
  }

  /** How many of `id`'s deps have not settled; undefined when one failed (`id` is blocked then). */
  private unsettledDeps(id: string): number | undefined {
    // Most units wait for nothing: no iterator for them.
    if ((this.graph.deps.get(id)?.size ?? 0) === 0) return 0;
    let count = 0;
    for (const d of this.deps(id)) {
      const st = this.status.status(d) ?? 'waiting';
      if (BAD.has(st)) {
        this.transition(id, 'waiting');
        this.block(id, { kind: 'upstream_failed', upstream: d, message: `upstream ${d} ${st === 'failed' ? 'failed' : 'is blocked'}` });
        return undefined;
      }
      if (!SETTLED.has(st)) count++;
    }
    return count;
  }

  /** A unit's data deps; with --no-deps only those inside the selection. */
  deps(id: string): Iterable<string> {
    const all = this.graph.deps.get(id) ?? NO_DEPS;
    if (!this.o.noDeps) return all;
    return [...all].filter((d) => this.wanted.has(d));
  }

  /** (plan) A dep of `id` that would run, if any (no array per checked unit: a no-op checks 100,000s). */
  upstreamWouldRun(id: string): string | undefined {
    if ((this.graph.deps.get(id)?.size ?? 0) === 0) return undefined;
    for (const d of this.deps(id)) if (this.status.status(d) === 'would-run') return d;
    return undefined;
  }

  /** Its check is due (placeholders are never checked: the next expansion replaces them). `unit`: when the caller has it. */
  makeCheckable(id: string, unit = this.unit(id)): void {
    if (!unit || unit.placeholder) return;
    this.transition(id, 'checkable');
    this.due.push(id);
  }

  /** Calls `check` for each due unit while `go()` holds, including units that become due meanwhile. */
  checkDue(go: () => boolean, check: (id: string) => void): void {
    // An index, not shift(): a no-op build checks 10,000s of units in this loop.
    let next = 0;
    while (next < this.due.length && go()) {
      const id = this.due[next++] ?? '';
      if (this.status.status(id) === 'checkable') check(id);
    }
    this.due.splice(0, next);
  }

  /** How many units wait for their check. */
  get dueCount(): number {
    return this.due.length;
  }

  /** Waits for `after` tasks or its `ready()` check: checked again when something settles. */
  park(id: string): void {
    this.transition(id, 'not-ready');
    this.parked.add(id);
  }

  /** Units parked on `after` or a custom `ready` may go on (or be blocked) now that something changed. */
  wakeParked(): void {
    // Called as each unit settles: nothing to iterate (or allocate) when nothing is parked.
    if (this.parked.size === 0) return;
    for (const id of this.parked) if (this.status.status(id) === 'not-ready') this.makeCheckable(id);
    this.parked.clear();
  }

  /** Units still parked. */
  stillParked(): string[] {
    return [...this.parked].filter((id) => this.status.status(id) === 'not-ready');
  }

  /** Whether every task `task` runs after has settled. */
  afterSettled(task: ResolvedTask): boolean {
    return task.after.every((name) => (this.unsettledByTask.get(name) ?? 0) === 0);
  }

  /** The first unit that failed or was blocked in a task `task` runs after. */
  badBefore(task: ResolvedTask): string | undefined {
    return task.after.map((name) => this.badByTask.get(name)).find((u) => u !== undefined);
  }

  /** A fresh or done unit (already moved there) settles: its waiting dependents count one dep less. */
  settle(unit: Unit): void {
    const dependents = this.graph.dependents.get(unit.id);
    if (dependents) this.countDown(dependents);
    this.unsettledByTask.set(unit.task, (this.unsettledByTask.get(unit.task) ?? 1) - 1);
    this.wakeParked();
  }

  /** Waiting `dependents` of a unit that settled count one dep less; those left with none are due. */
  private countDown(dependents: ReadonlySet<string>): void {
    for (const d of dependents) {
      if (this.status.status(d) !== 'waiting' || !this.wanted.has(d)) continue;
      const left = (this.remaining.get(d) ?? 1) - 1;
      this.remaining.set(d, left);
      if (left === 0) this.makeCheckable(d);
    }
  }

  /** Blocks `id` (and everything downstream of it) for `reason`. */
  block(id: string, reason: BlockedReason): void {
    const unit = this.unit(id);
    this.blockedReasons.set(id, reason);
    if (unit && !unit.placeholder && !this.badByTask.has(unit.task)) this.badByTask.set(unit.task, id);
    this.transition(id, 'blocked', { blocked: reason });
    if (unit && !unit.placeholder) {
      this.counts.blocked++;
      this.blocked.push({ unit: id, task: unit.task, reason });
      this.o.emit({ type: 'unit:blocked', time: this.o.clock.now(), task: unit.task, unit: id, reason });
    }
    this.blockDownstream(id);
    // Units parked on `after` this task are blocked now, not only once something else settles.
    this.wakeParked();
  }

  /** Why `id` was blocked. */
  blockedReason(id: string): BlockedReason | undefined {
    return this.blockedReasons.get(id);
  }

  /** Records a failure; `interrupted`: a signal stopped it (counted apart, not as failed). */
  fail(unit: Unit, error: UnitFailure, interrupted: boolean): void {
    this.transition(unit.id, 'failed', { error });
    if (!this.badByTask.has(unit.task)) this.badByTask.set(unit.task, unit.id);
    if (interrupted) this.interrupted++;
    else this.counts.failed++;
    this.failures.push({ unit: unit.id, task: unit.task, error });
  }

  /** After a failure was reported: blocks its downstream (unless interrupted) and wakes parked units. */
  afterFailure(id: string, interrupted: boolean): void {
    if (!interrupted) this.blockDownstream(id);
    this.wakeParked();
  }

  private blockDownstream(id: string): void {
    for (const d of this.graph.dependents.get(id) ?? []) {
      if (!this.wanted.has(d)) continue;
      const st = this.status.status(d);
      if (st === 'waiting' || st === 'checkable' || st === 'not-ready') {
        this.block(d, {
          kind: 'upstream_failed',
          upstream: id,
          message: `upstream ${id} ${this.status.status(id) === 'failed' ? 'failed' : 'is blocked'}`,
        });
      }
    }
  }

  /** Units settled or finished so far (built, fresh, failed, blocked). */
  get finishedCount(): number {
    const c = this.counts;
    return c.built + c.fresh + c.failed + c.blocked;
  }

  /** Wanted units that neither ran nor settled (the run stopped before them). */
  notStarted(): number {
    let n = 0;
    this.wanted.forEach((id) => {
      const st = this.status.status(id) ?? 'waiting';
      // The unit is looked up only for a status that counts (none, mostly, as a run ends).
      if (st === 'fresh' || st === 'done' || st === 'would-run' || st === 'failed' || st === 'blocked' || st === 'running') return;
      if (!this.unit(id)?.placeholder) n++;
    });
    return n;
  }
}
