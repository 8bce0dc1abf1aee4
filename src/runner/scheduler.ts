/**
 * The build scheduler. Each unit moves through an explicit lifecycle:
 *
 *   waiting --deps settled--> checkable --check--> fresh | queued | blocked | not-ready
 *   queued --slot--> running --> done | failed | retrying --backoff--> queued
 *
 * `fresh` and `done` are settled (downstream may go on); `failed` and `blocked` block everything
 * downstream. Freshness checks take no service slot. When a unit with a dynamic (glob) output
 * settles, the graph is expanded again so consumers of the files it made appear.
 */
import type { ResolvedConfig, ResolvedTask } from '../config/resolved.ts';
import type { UnitInfo } from '../config/types.ts';
import { expandGraph, type FileSource } from '../graph/expand.ts';
import { checkSelection, selectUnits, type OutputConflictFailure, type Selection, type TargetFailure } from '../graph/select.ts';
import type { TaskGraph } from '../graph/tasks.ts';
import type { Unit, UnitGraph } from '../graph/unit.ts';
import type { BlockedReason, BlockedUnit, PlanEntry, RunCounts, RunEvent, StaleReason, UnitFailure } from './events.ts';
import { snapshot, type FileStat } from './files.ts';
import type { Limiter } from './limiter.ts';
import { StallWatch } from './stall-watch.ts';
import { inputSignature, type CheckOutcome, type ClockSkew } from './staleness.ts';
import { customCheck, defaultCheck, type CheckFailure } from './unit-check.ts';
import { runUnit } from './execute/attempt.ts';
import type { ExecutorFor, LogStream } from './execute/executor.ts';
import { attemptInfo, inputsByName, unitInfo, viewFor, type UnitView } from './execute/unit-view.ts';
import { RunQueue } from './queue.ts';
import { unreachable } from '../result.ts';
import { missingInputMessage } from './missing-input.ts';
import { clearRecordedOutputs, recordOutputs } from './output-record.ts';
import { orphanCheck } from './orphans.ts';
import { affectedUnits } from '../graph/affected.ts';
import { pausableServices } from './push-back.ts';
import type { InflightRecord, InflightRecords } from './inflight.ts';
import { ElsewhereWaits, interruptedOutcome, runningElsewhere } from './inflight-wait.ts';
import { describeThrown } from '../describe-thrown.ts';
import { abandonAttempt, abandonedAttemptRuns, AbandonedAttempts, type AbandonedAttempt } from './abandoned.ts';
import { settlesWithin } from './bounded-wait.ts';
import { runInScope, type EscapeKind } from './function-scope.ts';
import { rewriteAfterRun, rewriteWarning, unchangedSinceRewrite, type InputRewrite } from './self-rewrite.ts';

type Status = 'waiting' | 'checkable' | 'checking' | 'not-ready' | 'queued' | 'running' | 'retrying' | 'elsewhere' | 'fresh' | 'done' | 'failed' | 'blocked';

export interface SchedulerOptions {
  readonly config: ResolvedConfig;
  readonly tasks: TaskGraph;
  readonly neededTasks: ReadonlySet<string>;
  readonly selection: Selection;
  readonly files: FileSource & { invalidate(): void };
  readonly limiter: Limiter;
  readonly force: boolean;
  readonly keepGoing: boolean;
  readonly noDeps: boolean;
  readonly verbose: boolean;
  readonly killGraceMs: number;
  readonly now: () => number;
  readonly emit: (event: RunEvent) => void;
  readonly signal: AbortSignal | undefined;
  /** Plan only: stale units are recorded as "would run" and treated as done; nothing runs. */
  readonly dryRun?: boolean;
  /** (watch) Units that failed earlier, with the input signature they failed on. */
  readonly failedEarlier?: ReadonlyMap<string, string>;
  /** (watch) Paths changed since the last cycle: only units touching them (and around them) are checked. */
  readonly affected?: ReadonlySet<string>;
  /** Records of units in flight: claimed before a unit runs, consulted after its check. */
  readonly inflight?: InflightRecords;
  /** (watch) Units whose last run rewrote their own inputs: not rerun while the inputs stay as it left them. */
  readonly rewroteEarlier?: ReadonlyMap<string, InputRewrite>;
  /** Who carries out each task's attempts: the scheduler knows nothing of processes. */
  readonly executorFor: ExecutorFor;
}

export interface UnitProblem {
  readonly unit: string;
  readonly task: string;
}

export interface BuildResult {
  readonly ok: boolean;
  readonly counts: RunCounts;
  readonly durationMs: number;
  readonly failures: readonly (UnitProblem & { readonly error: UnitFailure })[];
  readonly blocked: readonly (UnitProblem & { readonly reason: BlockedReason })[];
  /** The abort reason when the run was stopped (`SIGINT`, `SIGTERM`, ...). */
  readonly interrupted?: string;
  /** With dryRun: every wanted unit in the order build would take it. */
  readonly plan: readonly PlanEntry[];
  /** Units that failed in this run (or earlier, unchanged), with their input signatures. */
  readonly failedInputs: ReadonlyMap<string, string>;
  /** Output files this run wrote, with their mtimes (so a watcher can ignore its own writes). */
  readonly written: ReadonlyMap<string, number>;
  /** Files of dynamic sets removed before their producer reran (a watcher ignores these too). */
  readonly cleared: readonly string[];
  /** The earliest time a fresh unit's `maxAge` runs out, if any has one. */
  readonly nextExpiry: number | undefined;
  /** Units of this run whose run changed their own inputs (see self-rewrite.ts). */
  readonly rewrote: ReadonlyMap<string, InputRewrite>;
}

interface Pending {
  readonly reason: StaleReason;
  readonly inputs: ReadonlyMap<string, FileStat>;
  attempt: number;
  pushBacks: number;
  /** Its outputs when it was found stale: another runcue process may build it before it starts. */
  readonly outputs: string;
  /** What every attempt runs, decided when it was found stale. */
  readonly view: UnitView;
}


/** How long the end of a run waits for hooks still running (a Slack post, say). */
const HOOKS_BOUND_MS = 60_000;
const SETTLED: ReadonlySet<Status> = new Set(['fresh', 'done']);
const NO_DEPS: ReadonlySet<string> = new Set();
const BAD: ReadonlySet<Status> = new Set(['failed', 'blocked']);

export class Scheduler {
  private graph: UnitGraph = { units: new Map(), deps: new Map(), dependents: new Map() };
  private wanted = new Set<string>();
  private readonly status = new Map<string, Status>();
  private readonly remaining = new Map<string, number>();
  private readonly checkable: string[] = [];
  /** Parked on `after` or a custom `ready`: re-checked whenever something settles. */
  private readonly notReady = new Set<string>();
  /** Per task, its first unit that failed or was blocked: units that run `after` it are blocked. */
  private readonly badByTask = new Map<string, string>();
  /** Per task, wanted units not settled yet (placeholders included): gates `after`. */
  private unsettledByTask = new Map<string, number>();
  private readonly pending = new Map<string, Pending>();
  private readonly queue = new RunQueue();
  private readonly running = new Map<string, AbortController>();
  /** Units another runcue process is running: polled until it is done with them. */
  private readonly elsewhere = new ElsewhereWaits();
  private readonly retryTimers = new Map<string, { timer: NodeJS.Timeout; until: number }>();
  /** Services paused by a push-back, until when. */
  private readonly pausedUntil = new Map<string, number>();
  /** Consecutive push-backs per service, for exponential backoff when no Retry-After is given. */
  private readonly pushBackStreak = new Map<string, number>();
  /** Why each lane's head was last refused a slot (for diagnostics). */
  private readonly laneRefusal = new Map<string, BlockedReason>();
  private readonly blockedReasons = new Map<string, BlockedReason>();
  /** When each unit started waiting (for pendingTimeout). */
  private readonly stalls: StallWatch;
  private stallTimer: NodeJS.Timeout | undefined;
  private stalled: string | undefined;
  private readonly plan: PlanEntry[] = [];
  private readonly wouldRun = new Set<string>();
  private readonly failedInputs = new Map<string, string>();
  private readonly written = new Map<string, number>();
  private readonly rewrote = new Map<string, InputRewrite>();
  private readonly cleared: string[] = [];
  private unrecordedWarned = false;
  private nextExpiry: number | undefined;
  private readonly hooks: Promise<void>[] = [];
  /** Outputs of units that no longer exist: never read by a glob input (orphans.ts). */
  private isOrphan: (file: string) => boolean = () => false;
  private readonly failures: (UnitProblem & { error: UnitFailure })[] = [];
  private readonly blocked: (UnitProblem & { reason: BlockedReason })[] = [];
  private readonly counts = { built: 0, fresh: 0, failed: 0, blocked: 0 };
  /** Units a signal stopped while they ran (not counted as failed), and push-backs seen. */
  private readonly tally = { interrupted: 0, pushBacks: 0 };
  private asyncChecks = 0;
  /** Units whose custom check is in flight: which check, since when (for stall diagnostics). */
  private readonly checking = new Map<string, { check: 'ready' | 'stale'; since: number }>();
  /** Ends custom checks still in flight when the run stops (they may never settle). */
  private readonly stopChecks = new AbortController();
  /** Function attempts that ignored their abort signal and may still write. */
  private readonly abandoned = new AbandonedAttempts();
  /** Resolves as the run ends: failed function units are swept for late writes then. */
  private endRun: () => void = () => undefined;
  private readonly runEnded = new Promise<void>((resolve) => (this.endRun = resolve));
  /** Pending user promises hold no handle: without this, Node would exit 13 mid-run. */
  private keepAlive: NodeJS.Timeout | undefined;
  private reported = false;
  private dirty = false;
  private stopping = false;
  private interrupted: string | undefined;
  private pumping = false;
  private pumpAgain = false;
  private wakeTimer: NodeJS.Timeout | undefined;
  private finished = false;
  private prepared = false;
  private readonly startTime: number;
  private resolveDone: (r: BuildResult) => void = () => undefined;
  private detachSignal: () => void = () => undefined;

  private readonly o: SchedulerOptions;

  constructor(options: SchedulerOptions) {
    this.o = options;
    this.startTime = options.now();
    this.stalls = new StallWatch(options.config, this.startTime);
  }

  /**
   * Plans the units (the first expansion) and says what makes the run impossible before it
   * starts: two tasks claiming one output, or a target that no unit makes.
   */
  prepare(): OutputConflictFailure | TargetFailure | undefined {
    this.expand();
    this.prepared = true;
    return checkSelection(this.graph, this.o.selection);
  }

  run(): Promise<BuildResult> {
    const done = new Promise<BuildResult>((resolve) => (this.resolveDone = resolve));
    if (!this.prepared) this.expand();
    this.o.emit({ type: 'run:start', time: this.o.now(), tasks: this.taskCounts(), services: this.serviceInfo(), uses: Object.fromEntries([...this.o.neededTasks].map((t) => [t, this.o.config.tasks.get(t)?.uses ?? ['cpu']])) });
    if (this.o.signal) {
      const signal = this.o.signal;
      if (signal.aborted) this.abort(String(signal.reason));
      else {
        const onAbort = (): void => this.abort(String(signal.reason));
        signal.addEventListener('abort', onAbort, { once: true });
        // A long-lived signal (watch, embedders) must not keep every finished run alive.
        this.detachSignal = () => signal.removeEventListener('abort', onAbort);
      }
    }
    this.watchStalls();
    this.keepAlive = setInterval(() => undefined, 1 << 30);
    this.pump();
    return done;
  }

  private abort(reason: string): void {
    if (this.reported) return;
    this.interrupted ??= reason;
    // Also ends the wait for hooks once every unit has finished.
    this.stopChecks.abort(reason);
    if (this.finished) return;
    this.stopping = true;
    for (const controller of this.running.values()) controller.abort(reason);
    this.elsewhere.cancelAll();
    for (const { timer } of this.retryTimers.values()) clearTimeout(timer);
    this.retryTimers.clear();
    this.pump();
  }

  // ---- graph ----------------------------------------------------------------------------

  private expand(): void {
    this.o.files.invalidate();
    const graph = expandGraph({
      config: this.o.config,
      tasks: this.o.tasks,
      files: this.o.files,
      isSettled: (id) => SETTLED.has(this.status.get(id) ?? 'waiting') && !this.wouldRun.has(id),
      only: this.o.neededTasks,
    });
    const selected = selectUnits(graph, this.o.selection, { noDeps: this.o.noDeps, after: this.o.tasks.after });
    const wanted = this.o.affected ? affectedUnits(graph, selected, this.o.affected) : selected;
    const kept: Unit[] = [];
    for (const id of this.wanted) {
      if (wanted.has(id)) continue;
      const old = this.graph.units.get(id);
      const st = this.status.get(id);
      if (old && !old.placeholder && st !== undefined && !SETTLED.has(st) && !this.droppedByRerun(id)) {
        // A unit whose inputs vanished (a dynamic producer made no matching file) is kept, so
        // its check reports what it waits for instead of it disappearing silently.
        kept.push(old);
        wanted.add(id);
      } else if (st !== 'running') {
        this.status.delete(id);
      }
    }
    const units = kept.length === 0 ? graph.units : new Map([...graph.units, ...kept.map((u) => [u.id, u] as const)]);
    this.graph = { ...graph, units };
    this.isOrphan = orphanCheck(this.o.config, this.graph, this.o.neededTasks);
    this.wanted = wanted;
    this.unsettledByTask = new Map();
    for (const id of wanted) {
      const unit = graph.units.get(id);
      if (unit && !SETTLED.has(this.status.get(id) ?? 'waiting')) this.unsettledByTask.set(unit.task, (this.unsettledByTask.get(unit.task) ?? 0) + 1);
    }
    for (const id of wanted) {
      const st = this.status.get(id);
      if (st === undefined || st === 'waiting') this.updateRemaining(id);
    }
    this.dirty = false;
  }

  /**
   * A dynamic producer this unit came from reran in this run and did not make its input again:
   * the unit no longer exists (its outputs are orphans), it is not waiting for anything.
   */
  private droppedByRerun(id: string): boolean {
    for (const d of this.graph.deps.get(id) ?? []) {
      if (this.status.get(d) === 'done' && this.graph.units.get(d)?.outputs.some((o) => o.isGlob)) return true;
    }
    return false;
  }

  /** Recounts a waiting unit's unsettled deps; blocks it if one failed. */
  private updateRemaining(id: string): void {
    let count = 0;
    for (const d of this.deps(id)) {
      const st = this.status.get(d) ?? 'waiting';
      if (BAD.has(st)) {
        this.status.set(id, 'waiting');
        this.block(id, { kind: 'upstream_failed', upstream: d, message: `upstream ${d} ${st === 'failed' ? 'failed' : 'is blocked'}` });
        return;
      }
      if (!SETTLED.has(st)) count++;
    }
    this.status.set(id, 'waiting');
    this.stalls.waiting(id, this.o.now());
    this.remaining.set(id, count);
    if (count === 0) this.makeCheckable(id);
  }

  /** A unit's data deps; with --no-deps only those inside the selection. */
  private deps(id: string): Iterable<string> {
    const all = this.graph.deps.get(id) ?? NO_DEPS;
    if (!this.o.noDeps) return all;
    return [...all].filter((d) => this.wanted.has(d));
  }

  private makeCheckable(id: string): void {
    const unit = this.graph.units.get(id);
    if (!unit || unit.placeholder) return;
    this.status.set(id, 'checkable');
    this.checkable.push(id);
  }

  private taskCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const name of this.o.tasks.order) if (this.o.neededTasks.has(name)) counts[name] = 0;
    for (const id of this.wanted) {
      const unit = this.graph.units.get(id);
      if (unit && !unit.placeholder) counts[unit.task] = (counts[unit.task] ?? 0) + 1;
    }
    return counts;
  }

  /** Each service's limits as data (`run:start`), so renderers never re-parse `'60/min'`. */
  private serviceInfo(): Record<string, { concurrent: number | null; rates: { count: number; windowMs: number }[] }> {
    const out: Record<string, { concurrent: number | null; rates: { count: number; windowMs: number }[] }> = {};
    for (const [name, s] of this.o.config.services) {
      out[name] = { concurrent: s.concurrent ?? null, rates: s.rates.map((r) => ({ count: r.count, windowMs: r.windowMs })) };
    }
    return out;
  }

  // ---- the loop -------------------------------------------------------------------------

  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        if (this.dirty && !this.stopping) {
          const before = JSON.stringify(this.taskCounts());
          this.expand();
          const counts = this.taskCounts();
          if (JSON.stringify(counts) !== before) this.o.emit({ type: 'plan:update', time: this.o.now(), tasks: counts });
        }
        // An index, not shift(): a no-op build checks 10,000s of units in this loop.
        let next = 0;
        while (next < this.checkable.length && !this.stopping) {
          const id = this.checkable[next++] ?? '';
          if (this.status.get(id) === 'checkable') this.check(id);
        }
        this.checkable.splice(0, next);
        this.startQueued();
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
    this.maybeFinish();
  }

  private check(id: string): void {
    const unit = this.graph.units.get(id);
    const task = unit ? this.o.config.tasks.get(unit.task) : undefined;
    if (!unit || !task) return;
    if (!this.afterSettled(task)) {
      const failedBefore = task.after.map((name) => this.badByTask.get(name)).find((u) => u !== undefined);
      if (failedBefore !== undefined) {
        this.block(id, { kind: 'upstream_failed', upstream: failedBefore, message: `${failedBefore} (of a task it runs after) did not finish` });
        return;
      }
      this.park(id);
      return;
    }
    if (this.o.dryRun) {
      const upstream = [...this.deps(id)].find((d) => this.wouldRun.has(d));
      if (upstream !== undefined) {
        this.onChecked(unit, { kind: 'stale', reason: { kind: 'upstream', upstream }, inputs: new Map() });
        return;
      }
    }
    const force = this.o.force && this.o.selection.matches(unit);
    const ctx = { root: this.o.config.root, now: this.o.now(), maxAgeMs: task.maxAgeMs, force, isOrphan: this.isOrphan };
    if (!task.ready && !task.stale) {
      const { outcome, view } = defaultCheck(unit, task, ctx);
      this.afterCheck(unit, outcome, view);
      return;
    }
    this.status.set(id, 'checking');
    this.asyncChecks++;
    const limits = { signal: this.stopChecks.signal, onCheck: (check: 'ready' | 'stale') => this.checking.set(id, { check, since: this.o.now() }) };
    // A throw here is a bug in runcue, not in the check: the unit fails all the same.
    const bug = (error: unknown): CheckFailure => ({ kind: 'check-failed', check: 'stale', why: 'threw', message: describeThrown(error) });
    void customCheck(unit, task, ctx, limits)
      .catch(bug)
      .then((result) => {
        this.asyncChecks--;
        const since = this.checking.get(id)?.since ?? ctx.now;
        this.checking.delete(id);
        switch (result.kind) {
          case 'not-ready':
            this.park(id);
            break;
          case 'check-failed':
            this.onCheckFailed(unit, result, this.o.now() - since);
            break;
          case 'checked':
            this.afterCheck(unit, result.outcome, result.view);
            break;
        }
        this.pump();
      });
  }

  /**
   * The in-flight record has the last word, read after the outputs were: a unit another process
   * runs waits for it (its outputs may be half-written), one whose earlier run died is stale.
   * `view`: the unit's view when the check built one (see onChecked).
   */
  private afterCheck(unit: Unit, outcome: CheckOutcome, view?: UnitView): void {
    // An abandoned attempt of this process still holds the record: onChecked blocks the unit.
    const mineAbandoned = abandonedAttemptRuns(this.o.config.root, unit.id);
    const state = outcome.kind === 'missing-input' || mineAbandoned ? undefined : this.o.inflight?.inspect(unit.id);
    if (state?.kind === 'elsewhere') this.awaitElsewhere(unit, state);
    else this.onChecked(unit, state?.kind === 'interrupted' ? interruptedOutcome(outcome, state.record) : outcome, view);
  }

  private awaitElsewhere(unit: Unit, held: { readonly record: InflightRecord; readonly stopping?: boolean }): void {
    const reason = runningElsewhere(held.record, held.stopping);
    if (this.o.dryRun) {
      this.plan.push({ unit: unit.id, task: unit.task, verdict: 'waiting', reason });
      this.wouldRun.add(unit.id);
      this.status.set(unit.id, 'done');
      this.settle(unit);
      return;
    }
    this.status.set(unit.id, 'elsewhere');
    this.o.emit({ type: 'unit:log', time: this.o.now(), task: unit.task, unit: unit.id, stream: 'warning', text: reason.message });
    const stillHeld = (): boolean => this.o.inflight?.inspect(unit.id).kind === 'elsewhere';
    this.elsewhere.wait(unit.id, reason, stillHeld, () => {
      this.makeCheckable(unit.id);
      this.pump();
    });
  }

  /**
   * Before its first start: did its outputs change since it was found stale? Then another runcue
   * process built it meanwhile (and released it): check it again rather than run it twice.
   */
  private builtElsewhere(unit: Unit): boolean {
    const pending = this.pending.get(unit.id);
    if (!pending || pending.attempt > 1 || pending.pushBacks > 0 || outputsSignature(this.o.config.root, unit) === pending.outputs) return false;
    this.makeCheckable(unit.id);
    this.pump();
    return true;
  }

  private onCheckFailed(unit: Unit, failure: CheckFailure, durationMs: number): void {
    const { check } = failure;
    if (failure.why === 'stopped') {
      // Stopped by a signal: the unit was never checked, so it did not start.
      if (this.stalled === undefined) this.status.set(unit.id, 'checkable');
      else this.fail(unit, { reason: 'stalled', message: `${this.stalled}; its ${check}() check had not settled` }, 1, '', [], durationMs);
      return;
    }
    this.fail(unit, { reason: 'check-error', check, message: failure.message }, 1, '', [], durationMs);
  }

  private park(id: string): void {
    this.status.set(id, 'not-ready');
    this.notReady.add(id);
  }

  private afterSettled(task: ResolvedTask): boolean {
    return task.after.every((name) => (this.unsettledByTask.get(name) ?? 0) === 0);
  }

  /** `checked`: the view the check built (hash freshness fingerprints it), reused when the unit is stale. */
  private onChecked(unit: Unit, outcome: CheckOutcome, checked?: UnitView): void {
    if (outcome.kind !== 'missing-input' && outcome.skew) this.warnSkew(unit, outcome.skew);
    switch (outcome.kind) {
      case 'missing-input': {
        const producer = [...(this.graph.deps.get(unit.id) ?? [])].find((d) =>
          this.graph.units.get(d)?.outputs.some((o) => o.path === outcome.input.path || o.isGlob),
        );
        const message = producer
          ? `${unit.id} waits for ${outcome.input.path}: ${producer} did not produce it`
          : missingInputMessage(this.o.config, unit, outcome.input.path);
        this.block(unit.id, { kind: 'not_ready', input: outcome.input.path, ...(producer ? { producer } : {}), message });
        return;
      }
      case 'fresh':
        if (outcome.expiresAt !== undefined) this.nextExpiry = Math.min(this.nextExpiry ?? Infinity, outcome.expiresAt);
        if (this.o.dryRun) this.plan.push({ unit: unit.id, task: unit.task, verdict: 'fresh' });
        this.status.set(unit.id, 'fresh');
        this.counts.fresh++;
        this.o.emit({ type: 'unit:skip', time: this.o.now(), task: unit.task, unit: unit.id });
        this.callHook('skip', unit, () => unitInfo(unit, inputsByName(unit, outcome.inputs), 1), {});
        this.settle(unit);
        return;
      case 'stale': {
        const rewrite = unchangedSinceRewrite(this.o.rewroteEarlier, unit.id, outcome.inputs);
        if (rewrite) {
          this.o.emit({ type: 'unit:log', time: this.o.now(), task: unit.task, unit: unit.id, stream: 'warning', text: rewriteWarning(rewrite) });
          this.onChecked(unit, { kind: 'fresh', inputs: outcome.inputs });
          return;
        }
        const task = this.o.config.tasks.get(unit.task);
        const earlier = this.o.failedEarlier?.get(unit.id);
        if (abandonedAttemptRuns(this.o.config.root, unit.id)) {
          this.block(unit.id, { kind: 'failed_earlier', message: `${unit.id} failed earlier and its function still runs (it ignored its abort signal)` });
          return;
        }
        if (earlier !== undefined && earlier === inputSignature(outcome.inputs)) {
          this.failedInputs.set(unit.id, earlier);
          this.block(unit.id, { kind: 'failed_earlier', message: `${unit.id} failed earlier; waits for one of its inputs to change` });
          return;
        }
        if (this.o.dryRun) {
          this.plan.push({ unit: unit.id, task: unit.task, verdict: 'run', reason: outcome.reason });
          this.wouldRun.add(unit.id);
          this.status.set(unit.id, 'done');
          this.settle(unit);
          return;
        }
        if (!task) return;
        this.status.set(unit.id, 'queued');
        const view = viewFor(unit, task, outcome.inputs, checked);
        this.pending.set(unit.id, { reason: outcome.reason, inputs: outcome.inputs, attempt: 1, pushBacks: 0, outputs: outputsSignature(this.o.config.root, unit), view });
        this.queue.push(unit.id, task.uses, task.priority);
        return;
      }
    }
  }

  /** Make's "Clock skew detected": the verdict stands, but mtimes cannot be trusted. */
  private warnSkew(unit: Unit, skew: ClockSkew): void {
    const text = `clock skew detected: ${skew.file} has modification time ${(skew.aheadMs / 1000).toFixed(1)} s in the future; freshness by mtime may be wrong (touch the file, or use freshness: 'hash')`;
    this.o.emit({ type: 'unit:log', time: this.o.now(), task: unit.task, unit: unit.id, stream: 'warning', text });
  }

  private startQueued(): void {
    if (this.stopping) return;
    let wakeAt: number | undefined;
    this.queue.drain((id, services) => {
      // One clock reading per unit, shared by the limiter and unit:start: starting a burst of
      // units takes real time, and a stale reading would let the window admit too many.
      const now = this.o.now();
      const held = this.o.inflight?.inspect(id);
      const heldUnit = this.graph.units.get(id);
      if (held?.kind === 'elsewhere' && heldUnit) {
        // Started elsewhere since it was checked: wait for it without spending a rate slot.
        this.awaitElsewhere(heldUnit, held);
        return true;
      }
      if (heldUnit && this.builtElsewhere(heldUnit)) return true;
      const lane = services.join('\u0000');
      for (const s of services) {
        const paused = this.pausedUntil.get(s) ?? 0;
        if (paused > now) {
          wakeAt = Math.min(wakeAt ?? Infinity, paused);
          this.laneRefusal.set(lane, { kind: 'rate_limited', service: s, until: paused, message: `${s} pushed back; paused until ${new Date(paused).toISOString()}` });
          return false;
        }
      }
      const admission = this.o.limiter.tryAcquire(services, now);
      if (admission.ok) {
        this.laneRefusal.delete(lane);
        this.start(id, services, now);
        return true;
      }
      if (admission.kind === 'rate_limited') {
        wakeAt = Math.min(wakeAt ?? Infinity, admission.until);
        this.laneRefusal.set(lane, { kind: 'rate_limited', service: admission.service, until: admission.until, message: `${admission.service} rate limit reached; next start at ${new Date(admission.until).toISOString()}` });
      } else {
        this.laneRefusal.set(lane, { kind: 'service_full', service: admission.service, message: `${admission.service} is full (${this.o.limiter.running(admission.service)} running)` });
      }
      return false;
    });
    if (wakeAt !== undefined) this.wakeAt(wakeAt);
  }

  private wakeAt(time: number): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      this.pump();
    }, Math.max(0, time - this.o.now()));
  }

  private start(id: string, services: readonly string[], startedAt: number): void {
    const unit = this.graph.units.get(id);
    const task = unit ? this.o.config.tasks.get(unit.task) : undefined;
    const pending = this.pending.get(id);
    if (!unit || !task || !pending) return;
    const claim = this.o.inflight?.claim(unit);
    if (claim && !claim.ok) {
      this.o.limiter.release(services);
      this.awaitElsewhere(unit, claim);
      return;
    }
    this.status.set(id, 'running');
    this.stalls.running(id);
    const controller = new AbortController();
    this.running.set(id, controller);
    const { view, attempt } = pending;
    const command = view.run.kind === 'command' ? view.run.text : undefined;
    this.o.emit({ type: 'unit:start', time: startedAt, task: unit.task, unit: id, attempt, reason: pending.reason, ...(command ? { command } : {}) });
    this.callHook('start', unit, () => attemptInfo(view, attempt), { attempt });
    const log = this.o.verbose
      ? (stream: LogStream, text: string) => this.o.emit({ type: 'unit:log', time: this.o.now(), task: unit.task, unit: id, stream, text })
      : undefined;
    // Before its snapshot in runUnit: a dynamic set starts empty of what this unit made last time.
    for (const file of clearRecordedOutputs(this.o.config.root, unit)) this.cleared.push(file);
    const request = { view, attempt, signal: controller.signal, root: this.o.config.root, isOrphan: this.isOrphan, ...(log ? { log } : {}) };
    void runUnit(request, this.o.executorFor(task)).then((outcome) => {
      this.running.delete(id);
      this.o.limiter.release(services);
      const durationMs = this.o.now() - startedAt;
      if (outcome.kind === 'push-back') {
        this.pushBack(unit, task, pending, outcome.retryAfterMs);
      } else if (outcome.kind === 'done') {
        for (const s of task.uses) this.pushBackStreak.delete(s);
        this.o.inflight?.release(id);
        this.status.set(id, 'done');
        this.counts.built++;
        if (task.maxAgeMs !== undefined) this.nextExpiry = Math.min(this.nextExpiry ?? Infinity, this.o.now() + task.maxAgeMs);
        for (const [file, st] of snapshot(this.o.config.root, unit.outputs)) this.written.set(file, st.mtimeMs);
        const rewrite = rewriteAfterRun(this.o.config.root, unit, outcome.rewrote);
        if (rewrite) this.rewrote.set(id, rewrite);
        const unrecorded = recordOutputs(this.o.config.root, unit, outcome.written, pending.inputs);
        // Once a run: a .runcue/ that cannot be written fails every unit's record the same way.
        if (unrecorded && !this.unrecordedWarned) {
          this.unrecordedWarned = true;
          this.o.emit({ type: 'unit:log', time: this.o.now(), task: unit.task, unit: id, stream: 'warning', text: unrecorded });
        }
        this.o.emit({ type: 'unit:done', time: this.o.now(), task: unit.task, unit: id, durationMs, inputsChanged: outcome.inputsChanged });
        this.callHook('complete', unit, () => attemptInfo(view, attempt), { durationMs, attempt });
        this.settle(unit);
      } else if (outcome.abandoned) {
        this.abandon(unit, outcome.abandoned, !this.stopping && pending.attempt <= task.retries);
        const failure: UnitFailure = this.stalled && outcome.failure.reason === 'aborted' ? { reason: 'stalled', message: this.stalled } : outcome.failure;
        this.fail(unit, failure, pending.attempt, outcome.outputTail, outcome.removed, durationMs, command);
      } else if (outcome.failure.reason !== 'aborted' && outcome.failure.reason !== 'file-error' && !this.stopping && pending.attempt <= task.retries) {
        this.retry(unit, task, pending, outcome.failure);
      } else {
        const failure: UnitFailure = this.stalled && outcome.failure.reason === 'aborted' ? { reason: 'stalled', message: this.stalled } : outcome.failure;
        if (task.run.kind === 'function') this.sweepAtEnd(unit, task, pending.attempt);
        this.fail(unit, failure, pending.attempt, outcome.outputTail, outcome.removed, durationMs, command);
      }
      this.pump();
    });
  }

  /** Its function ignored the abort: no retry beside it, and its late writes are swept. */
  private abandon(unit: Unit, attempt: AbandonedAttempt, couldRetry: boolean): void {
    const retry = couldRetry ? 'it is not retried while it may still run, and ' : '';
    this.warn(unit.id, `attempt ${attempt.attempt} ignored its abort signal for ${this.o.killGraceMs} ms: ${retry}what it writes from now on is removed`);
    this.abandoned.add(
      attempt,
      (a, removed) => this.lateWrite(a, removed),
      () => this.o.inflight?.release(unit.id),
    );
  }

  /**
   * A function that failed may have left a timer or a promise that writes later: what it writes
   * before the run ends is removed then (its in-flight record stays until that sweep).
   */
  private sweepAtEnd(unit: Unit, task: ResolvedTask, attempt: number): void {
    const swept = abandonAttempt({ root: this.o.config.root, unit, attempt, settled: this.runEnded, keepOutputs: task.keepFailedOutputs });
    this.abandoned.add(
      swept,
      (a, removed) => this.lateWrite(a, removed),
      () => this.o.inflight?.release(unit.id),
    );
  }

  private lateWrite(attempt: AbandonedAttempt, removed: readonly string[]): void {
    this.warn(attempt.unit, `removed what attempt ${attempt.attempt} wrote after it failed: ${removed.join(', ')}`);
  }

  /** A warning about a unit; none after run:done (an abandoned attempt may settle any time). */
  private warn(id: string, text: string): void {
    if (this.reported) return;
    this.o.emit({ type: 'unit:log', time: this.o.now(), task: this.graph.units.get(id)?.task ?? '', unit: id, stream: 'warning', text });
  }

  private retry(unit: Unit, task: ResolvedTask, pending: Pending, error: UnitFailure): void {
    // Exponential backoff with full jitter, so simultaneous failures do not retry in lockstep.
    const delayMs = Math.round(Math.random() * task.backoffMs * 2 ** (pending.attempt - 1));
    this.o.emit({ type: 'unit:retry', time: this.o.now(), task: unit.task, unit: unit.id, attempt: pending.attempt, delayMs, kind: 'retry', error });
    pending.attempt++;
    this.requeueAfter(unit, task, delayMs);
  }

  /** Waits `delayMs` (status `retrying`), then queues the unit for a slot again. */
  private requeueAfter(unit: Unit, task: ResolvedTask, delayMs: number): void {
    this.status.set(unit.id, 'retrying');
    const timer = setTimeout(() => {
      this.retryTimers.delete(unit.id);
      this.status.set(unit.id, 'queued');
      this.queue.push(unit.id, task.uses, task.priority);
      this.pump();
    }, delayMs);
    this.retryTimers.set(unit.id, { timer, until: this.o.now() + delayMs });
  }

  /**
   * The service said "too many requests": requeue the unit (not a retry) and pause the service
   * for the longest pause asked so far (simultaneous 429s do not stack), or back off
   * exponentially with full jitter when no Retry-After was given.
   */
  private pushBack(unit: Unit, task: ResolvedTask, pending: Pending, retryAfterMs: number | undefined): void {
    pending.pushBacks++;
    this.tally.pushBacks++;
    if (pending.pushBacks > task.maxPushBacks) {
      const message = `its service pushed back ${pending.pushBacks} times (limit ${task.maxPushBacks}); the task's maxPushBacks sets the limit`;
      this.fail(unit, { reason: 'push-back-limit', pushBacks: pending.pushBacks, message }, pending.attempt, '', []);
      return;
    }
    const times = pending.pushBacks === 1 ? 'once' : `${pending.pushBacks} times`;
    const error: UnitFailure = {
      reason: 'pushed-back',
      pushBacks: pending.pushBacks,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      message: `its service pushed back (${times})`,
    };
    const services = pausableServices(task, this.o.config);
    const streak = Math.max(0, ...services.map((s) => (this.pushBackStreak.get(s) ?? 0) + 1));
    for (const s of services) this.pushBackStreak.set(s, streak);
    const delayMs = retryAfterMs ?? Math.round(Math.random() * task.backoffMs * 2 ** Math.max(0, streak - 1));
    const until = this.o.now() + delayMs;
    for (const s of services) this.pausedUntil.set(s, Math.max(this.pausedUntil.get(s) ?? 0, until));
    this.o.emit({ type: 'unit:retry', time: this.o.now(), task: unit.task, unit: unit.id, attempt: pending.attempt, delayMs, kind: 'push-back', error, services });
    if (services.length === 0) {
      // Only the default cpu service: delay this unit alone rather than every local task.
      this.requeueAfter(unit, task, delayMs);
      return;
    }
    this.status.set(unit.id, 'queued');
    this.queue.push(unit.id, task.uses, task.priority);
  }

  private fail(unit: Unit, error: UnitFailure, attempt: number, outputTail: string, removed: readonly string[], durationMs = 0, command?: string): void {
    // An abandoned attempt may still write: its record stays until it settles and is swept.
    if (!this.abandoned.holds(unit.id)) this.o.inflight?.release(unit.id);
    this.status.set(unit.id, 'failed');
    if (!this.badByTask.has(unit.task)) this.badByTask.set(unit.task, unit.id);
    this.stalls.progress(unit.id, this.o.now());
    // Stopped by a signal: not the unit's fault, and its downstream is "not started", not blocked.
    const interrupted = error.reason === 'aborted' && this.interrupted !== undefined;
    if (interrupted) this.tally.interrupted++;
    else this.counts.failed++;
    this.failures.push({ unit: unit.id, task: unit.task, error });
    if (this.o.dryRun) this.plan.push({ unit: unit.id, task: unit.task, verdict: 'fails', error });
    const pending = this.pending.get(unit.id);
    if (pending) this.failedInputs.set(unit.id, inputSignature(pending.inputs));
    this.o.emit({ type: 'unit:fail', time: this.o.now(), task: unit.task, unit: unit.id, durationMs, attempt, error, outputTail, removed, ...(command ? { command } : {}) });
    const info: { durationMs: number; attempt: number; error: string; exitCode?: number } = { durationMs, attempt, error: error.message };
    if (error.reason === 'exit-non-zero') info.exitCode = error.exitCode;
    this.callHook('failure', unit, () => unitInfo(unit, inputsByName(unit, new Map()), attempt), info);
    if (!this.o.keepGoing && error.reason !== 'aborted') this.stopping = true;
    if (!interrupted) this.blockDownstream(unit.id);
    this.wakeParked();
  }

  private block(id: string, reason: BlockedReason): void {
    const unit = this.graph.units.get(id);
    this.status.set(id, 'blocked');
    if (unit && !unit.placeholder && !this.badByTask.has(unit.task)) this.badByTask.set(unit.task, id);
    this.blockedReasons.set(id, reason);
    if (this.o.dryRun && unit && !unit.placeholder) this.plan.push({ unit: id, task: unit.task, verdict: 'blocked', reason });
    this.stalls.progress(id, this.o.now());
    if (unit && !unit.placeholder) {
      this.counts.blocked++;
      this.blocked.push({ unit: id, task: unit.task, reason });
      this.o.emit({ type: 'unit:blocked', time: this.o.now(), task: unit.task, unit: id, reason });
    }
    this.blockDownstream(id);
  }

  private blockDownstream(id: string): void {
    for (const d of this.graph.dependents.get(id) ?? []) {
      if (!this.wanted.has(d)) continue;
      const st = this.status.get(d);
      if (st === 'waiting' || st === 'checkable' || st === 'not-ready') {
        this.block(d, { kind: 'upstream_failed', upstream: id, message: `upstream ${id} ${this.status.get(id) === 'failed' ? 'failed' : 'is blocked'}` });
      }
    }
  }

  private settle(unit: Unit): void {
    this.stalls.progress(unit.id, this.o.now());
    // A unit that only would run (plan) made no files: its consumers stay placeholders.
    if (!this.wouldRun.has(unit.id) && unit.outputs.some((o) => o.isGlob)) this.dirty = true;
    for (const d of this.graph.dependents.get(unit.id) ?? []) {
      if (this.status.get(d) !== 'waiting' || !this.wanted.has(d)) continue;
      const left = (this.remaining.get(d) ?? 1) - 1;
      this.remaining.set(d, left);
      if (left === 0) this.makeCheckable(d);
    }
    this.unsettledByTask.set(unit.task, (this.unsettledByTask.get(unit.task) ?? 1) - 1);
    this.wakeParked();
  }

  /** Units parked on `after` or a custom `ready` may go on (or be blocked) now that something changed. */
  private wakeParked(): void {
    for (const id of this.notReady) if (this.status.get(id) === 'not-ready') this.makeCheckable(id);
    this.notReady.clear();
  }

  /** `describe`: what the hook is told about the unit, asked only when there is a hook. */
  private callHook(name: 'start' | 'complete' | 'failure' | 'skip', unit: Unit, describe: () => UnitInfo, info: Record<string, unknown>): void {
    const hook = this.o.config.hooks[name];
    if (!hook) return;
    const unitView = describe();
    const report = (text: string): void => this.o.emit({ type: 'unit:log', time: this.o.now(), task: unit.task, unit: unit.id, stream: 'hook', text });
    // An error escaping from a timer the hook started is the hook's failure too: reported only.
    const scope = {
      unit: unit.id,
      fail: (error: unknown, kind: EscapeKind): boolean => {
        if (this.reported) return false;
        report(`on.${name} hook raised an ${kind}: ${describeThrown(error)}`);
        return true;
      },
    };
    this.hooks.push(
      runInScope(scope, async () => {
        try {
          await hook(unitView, info);
        } catch (error) {
          report(`on.${name} hook failed: ${describeThrown(error)}`);
        }
      }),
    );
  }

  /** Wanted units that neither ran nor settled (the run stopped before them). */
  private notStarted(): number {
    let n = 0;
    for (const id of this.wanted) {
      if (this.graph.units.get(id)?.placeholder) continue;
      const st = this.status.get(id) ?? 'waiting';
      if (st !== 'fresh' && st !== 'done' && st !== 'failed' && st !== 'blocked' && st !== 'running') n++;
    }
    return n;
  }

  // ---- stalls and diagnostics --------------------------------------------------------------

  private watchStalls(): void {
    const tick = this.stalls.tickMs;
    if (tick === undefined) return;
    this.stallTimer = setInterval(() => {
      if (this.finished || this.stopping) return;
      const stall = this.stalls.check(this.o.now());
      if (stall) this.stall(stall.fatal, stall.message);
    }, tick);
    this.stallTimer.unref();
  }

  private stall(fatal: boolean, message: string): void {
    const blocked = this.diagnose();
    this.o.emit({ type: 'run:stall', time: this.o.now(), fatal, message, blocked });
    const hook = this.o.config.hooks.stallWarning;
    if (hook) {
      const lines = blocked.map((b) => `${b.unit}: ${b.reason.kind}: ${b.reason.message}`);
      const report = (error: unknown): void => {
        const text = `on.stallWarning hook failed: ${describeThrown(error)}`;
        this.o.emit({ type: 'unit:log', time: this.o.now(), task: '', unit: '(run)', stream: 'hook', text });
      };
      this.hooks.push(Promise.resolve().then(() => hook(lines)).catch(report));
    }
    if (!fatal) return;
    this.stalled = message;
    this.stopping = true;
    this.stopChecks.abort('stalled');
    for (const controller of this.running.values()) controller.abort('stalled');
    for (const { timer } of this.retryTimers.values()) clearTimeout(timer);
    this.retryTimers.clear();
    this.pump();
  }

  /** Every wanted unit that is not running or finished, and why. */
  diagnose(): BlockedUnit[] {
    const out: BlockedUnit[] = [];
    for (const id of this.wanted) {
      const unit = this.graph.units.get(id);
      if (!unit || unit.placeholder) continue;
      const reason = this.reasonFor(unit);
      if (reason) out.push({ task: unit.task, unit: id, reason });
    }
    return out;
  }

  private reasonFor(unit: Unit): BlockedReason | undefined {
    const id = unit.id;
    const st = this.status.get(id) ?? 'waiting';
    switch (st) {
      case 'blocked':
        return this.blockedReasons.get(id);
      case 'waiting': {
        for (const d of this.deps(id)) {
          const ds = this.status.get(d) ?? 'waiting';
          if (SETTLED.has(ds)) continue;
          const producer = this.graph.units.get(d);
          const input = unit.inputs.find((i) => producer?.outputs.some((o) => o.path === i.path || o.isGlob || i.isGlob))?.path ?? '';
          const what = producer?.placeholder ? `the units ${d} will discover` : `${d} (${ds})`;
          return { kind: 'not_ready', input, producer: d, message: `waits for ${input || 'its inputs'} from ${what}` };
        }
        return undefined;
      }
      case 'not-ready':
        return { kind: 'not_ready', input: '', message: 'waits for `after` tasks or its ready() check' };
      case 'queued': {
        const task = this.o.config.tasks.get(unit.task);
        const lane = (task?.uses ?? ['cpu']).join('\u0000');
        return this.laneRefusal.get(lane) ?? { kind: 'service_full', service: task?.uses[0] ?? 'cpu', message: 'waits for a slot behind other queued units' };
      }
      case 'elsewhere':
        return this.elsewhere.reasonOf(id);
      case 'retrying': {
        const until = this.retryTimers.get(id)?.until ?? this.o.now();
        return { kind: 'waiting_retry', until, message: `retries at ${new Date(until).toISOString()}` };
      }
      case 'checking': {
        const pending = this.checking.get(id);
        if (!pending) return undefined;
        const message = `waits for its ${pending.check}() check, pending for ${this.o.now() - pending.since} ms`;
        return { kind: 'not_ready', input: '', message };
      }
      case 'checkable':
      case 'running':
      case 'fresh':
      case 'done':
      case 'failed':
        return undefined;
      default:
        return unreachable(st);
    }
  }

  private maybeFinish(): void {
    if (this.finished || this.running.size > 0 || this.asyncChecks > 0 || this.retryTimers.size > 0 || this.elsewhere.size > 0) return;
    if (this.checkable.length > 0 && !this.stopping) return;
    if (!this.stopping && this.queue.size > 0) return;
    if (this.dirty && !this.stopping) {
      this.pump();
      return;
    }
    if (!this.stopping) {
      // Nothing can progress: whatever still waits is blocked (SPEC §2 "ready").
      for (const id of this.notReady) {
        if (this.status.get(id) !== 'not-ready') continue;
        const task = this.o.config.tasks.get(this.graph.units.get(id)?.task ?? '');
        const message = task?.ready ? `${id} is not ready: ready() returned false` : `${id} waits for ${task?.after.join(', ') ?? ''} (after)`;
        this.block(id, { kind: 'not_ready', input: '', message });
      }
      // Anything still waiting now waits for something that cannot happen (say, a cycle that
      // only unit-level edges reveal): report it rather than end silently.
      const settled = this.counts.built + this.counts.fresh + this.counts.failed + this.counts.blocked;
      if (!this.o.dryRun && settled < this.wanted.size) {
        for (const b of this.diagnose()) {
          if (this.status.get(b.unit) === 'waiting') this.block(b.unit, b.reason);
        }
      }
    }
    if (this.o.dryRun) {
      for (const b of this.diagnose()) {
        if (this.status.get(b.unit) !== 'blocked') this.plan.push({ unit: b.unit, task: b.task, verdict: 'waiting', reason: b.reason });
      }
    }
    this.finished = true;
    // Units stopped between attempts (a retry's backoff, a push-back) still hold their records.
    this.o.inflight?.releaseAll(this.abandoned.units());
    this.endRun();
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    if (this.stallTimer) clearInterval(this.stallTimer);
    // No hooks, nothing to wait for (and no warning about them when the run was stopped).
    const hooksSettled = this.hooks.length === 0 ? Promise.resolve(true) : settlesWithin(Promise.all(this.hooks), HOOKS_BOUND_MS, this.stopChecks.signal);
    void hooksSettled
      .then((settled) => {
        if (!settled) this.warn('(run)', 'on.* hooks had not settled as the run ended: not waited for');
      })
      // A stopped run ends at once (the CLI exits, and the function with it): only sweep.
      .then(() => this.abandoned.drain(this.interrupted !== undefined || this.stalled !== undefined ? 0 : this.o.killGraceMs, (a, removed) => this.lateWrite(a, removed)))
      .then(() => {
        this.reported = true;
        this.detachSignal();
        clearInterval(this.keepAlive);
        const durationMs = this.o.now() - this.startTime;
        const ok = this.failures.length === 0 && this.blocked.length === 0 && this.interrupted === undefined && this.stalled === undefined;
        const notStarted = this.notStarted();
        const counts = { ...this.counts, ...(this.tally.interrupted > 0 ? { interrupted: this.tally.interrupted } : {}) };
        this.o.emit({
          type: 'run:done',
          time: this.o.now(),
          ok,
          durationMs,
          counts,
          ...(this.interrupted ? { interrupted: this.interrupted } : {}),
          ...(notStarted > 0 ? { notStarted } : {}),
          ...(this.tally.pushBacks > 0 ? { pushBacks: this.tally.pushBacks } : {}),
        });
        this.resolveDone({
          ok,
          counts,
          durationMs,
          failures: this.failures,
          blocked: this.blocked,
          plan: this.plan,
          failedInputs: this.failedInputs,
          written: this.written,
          cleared: this.cleared,
          nextExpiry: this.nextExpiry,
          rewrote: this.rewrote,
          ...(this.interrupted ? { interrupted: this.interrupted } : {}),
        });
      });
  }
}

function outputsSignature(root: string, unit: Unit): string {
  return inputSignature(snapshot(root, unit.outputs));
}
