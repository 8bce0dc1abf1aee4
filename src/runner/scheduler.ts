/**
 * The build scheduler: the loop that checks units whose deps settled, starts the stale ones as
 * slots free up, and settles them when they finish. Its parts live in ./schedule/: the book of
 * unit states (the lifecycle is drawn there), replanning, admission, backoff, hooks, diagnosis
 * and the dry-run plan. Freshness checks take no service slot. When a unit with a dynamic (glob)
 * output settles, the graph is expanded again so consumers of the files it made appear.
 *
 * Time and chance come from the injected {@link RunnerPorts}, so the loop runs on a virtual clock
 * in tests.
 */
import type { ResolvedConfig, ResolvedTask } from '../config/resolved.ts';
import type { FileSource } from '../graph/expand.ts';
import type { TargetPlan } from '../graph/plan.ts';
import { checkSelection, type OutputConflictFailure, type TargetFailure } from '../graph/select.ts';
import type { Unit } from '../graph/unit.ts';
import type { BlockedReason, PlanEntry, RunCounts, RunEvent, StaleReason, UnitFailure } from './events.ts';
import { snapshot, type FileStat } from './files.ts';
import type { FingerprintParts } from './fingerprint.ts';
import type { Limiter } from './limiter.ts';
import { StallWatch } from './stall-watch.ts';
import { inputSignature, type CheckOutcome, type ClockSkew } from './staleness.ts';
import { CheckError, customCheck, defaultCheck } from './unit-check.ts';
import { inputsByName, resolveCommand, runUnit } from './unit-run.ts';
import { RunQueue } from './queue.ts';
import { missingInputMessage } from './missing-input.ts';
import { clearRecordedOutputs } from './output-record.ts';
import { orphanCheck } from './orphans.ts';
import type { InflightRecord, InflightRecords } from './inflight.ts';
import { ElsewhereWaits, interruptedOutcome, runningElsewhere } from './inflight-wait.ts';
import type { ProcessGroups } from './process-groups.ts';
import { describeThrown } from '../describe-thrown.ts';
import { abandonAttempt, abandonedAttemptRuns, AbandonedAttempts, type AbandonedAttempt } from './abandoned.ts';
import { rewriteWarning, unchangedSinceRewrite, type InputRewrite } from './self-rewrite.ts';
import type { RunnerPorts, TimerHandle } from './ports.ts';
import { Admission } from './schedule/admission.ts';
import { fullJitter } from './schedule/backoff.ts';
import { Book, type UnitProblem } from './schedule/book.ts';
import { diagnose, stallLines, StallTimer, watchMoves } from './schedule/diagnose.ts';
import { Hooks } from './schedule/hooks.ts';
import { Ledger } from './schedule/ledger.ts';
import { PlanRecorder } from './schedule/plan-recorder.ts';
import { replan, serviceInfo, taskCounts } from './schedule/replan.ts';

export type { UnitProblem } from './schedule/book.ts';

/** Everything one run of the scheduler works with. */
export interface SchedulerOptions extends TargetPlan {
  readonly config: ResolvedConfig;
  readonly files: FileSource & { invalidate(): void };
  readonly limiter: Limiter;
  readonly force: boolean;
  readonly keepGoing: boolean;
  readonly noDeps: boolean;
  readonly verbose: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly killGraceMs: number;
  /** Clock, timers and randomness (the system's in a real run). */
  readonly ports: RunnerPorts;
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
  /** The run's process groups, stopped by a watchdog if runcue dies. */
  readonly groups?: ProcessGroups;
  /** (watch) Units whose last run rewrote their own inputs: not rerun while the inputs stay as it left them. */
  readonly rewroteEarlier?: ReadonlyMap<string, InputRewrite>;
}

/** How a run ended, for the caller. */
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
}

/** Why a run stops early: a signal (SIGINT, an embedder's abort), or a fatal stall. */
type StopReason = { readonly kind: 'interrupted'; readonly signal: string } | { readonly kind: 'stalled'; readonly message: string };

export class Scheduler {
  private readonly o: SchedulerOptions;
  private readonly book: Book;
  private readonly admission: Admission;
  private readonly hooks: Hooks;
  private readonly ledger: Ledger;
  /** Only in a dry run. */
  private readonly recorder: PlanRecorder | undefined;
  private readonly pending = new Map<string, Pending>();
  private readonly queue = new RunQueue();
  private readonly running = new Map<string, AbortController>();
  /** Units another runcue process is running: polled until it is done with them. */
  private readonly elsewhere: ElsewhereWaits;
  private readonly retryTimers = new Map<string, { timer: TimerHandle; until: number }>();
  private readonly stalls: StallWatch;
  private readonly stallTimer: StallTimer;
  /** Fingerprints computed at check time (hash freshness), recorded when the unit succeeds. */
  private readonly fingerprints = new Map<string, FingerprintParts>();
  /** Outputs of units that no longer exist: never read by a glob input (orphans.ts). */
  private isOrphan: (file: string) => boolean = () => false;
  private pushBacks = 0;
  private asyncChecks = 0;
  /** Units whose custom check is in flight: which check, since when (for stall diagnostics). */
  private readonly checking = new Map<string, { check: 'ready' | 'stale'; since: number }>();
  /** Ends custom checks still in flight when the run stops (they may never settle). */
  private readonly stopChecks = new AbortController();
  /** Function attempts that ignored their abort signal and may still write. */
  private readonly abandoned: AbandonedAttempts;
  /** Resolves as the run ends: failed function units are swept for late writes then. */
  private endRun: () => void = () => undefined;
  private readonly runEnded = new Promise<void>((resolve) => (this.endRun = resolve));
  /** Pending user promises hold no handle: without this, Node would exit 13 mid-run. */
  private keepAlive: TimerHandle | undefined;
  private reported = false;
  private dirty = false;
  private stopping = false;
  private interrupted: string | undefined;
  private stalled: string | undefined;
  private pumping = false;
  private pumpAgain = false;
  private wakeTimer: TimerHandle | undefined;
  private finished = false;
  private prepared = false;
  private readonly startTime: number;
  private resolveDone: (r: BuildResult) => void = () => undefined;
  private detachSignal: () => void = () => undefined;

  constructor(options: SchedulerOptions) {
    this.o = options;
    const { clock, timers, random } = options.ports;
    this.startTime = clock.now();
    this.book = new Book({ noDeps: options.noDeps, clock, emit: options.emit });
    this.admission = new Admission({ config: options.config, limiter: options.limiter, clock, random });
    this.hooks = new Hooks({ config: options.config, clock, timers, emit: options.emit, reported: () => this.reported });
    this.ledger = new Ledger(options.config.root);
    this.recorder = options.dryRun ? new PlanRecorder(this.book) : undefined;
    this.elsewhere = new ElsewhereWaits(timers);
    this.abandoned = new AbandonedAttempts(timers);
    this.stalls = new StallWatch(options.config, this.startTime);
    watchMoves(this.book, this.stalls, clock);
    this.stallTimer = new StallTimer(timers, () => this.checkStall());
  }

  private now(): number {
    return this.o.ports.clock.now();
  }

  /**
   * Plans the units (the first expansion) and says what makes the run impossible before it
   * starts: two tasks claiming one output, or a target that no unit makes.
   */
  prepare(): OutputConflictFailure | TargetFailure | undefined {
    this.expand();
    this.prepared = true;
    return checkSelection(this.book.graph, this.o.selection);
  }

  /** Runs to the end; never rejects (failures are in the result). */
  run(): Promise<BuildResult> {
    const done = new Promise<BuildResult>((resolve) => (this.resolveDone = resolve));
    if (!this.prepared) this.expand();
    const uses = Object.fromEntries([...this.o.neededTasks].map((t) => [t, this.o.config.tasks.get(t)?.uses ?? ['cpu']]));
    this.o.emit({ type: 'run:start', time: this.now(), tasks: this.taskCounts(), services: serviceInfo(this.o.config), uses });
    if (this.o.signal) {
      const signal = this.o.signal;
      if (signal.aborted) this.stop({ kind: 'interrupted', signal: String(signal.reason) });
      else {
        const onAbort = (): void => this.stop({ kind: 'interrupted', signal: String(signal.reason) });
        signal.addEventListener('abort', onAbort, { once: true });
        // A long-lived signal (watch, embedders) must not keep every finished run alive.
        this.detachSignal = () => signal.removeEventListener('abort', onAbort);
      }
    }
    this.stallTimer.start(this.stalls.tickMs);
    this.holdProcess();
    this.pump();
    return done;
  }

  /** Keeps the process alive until the run ends (re-armed: one timer cannot wait forever). */
  private holdProcess(): void {
    this.keepAlive = this.o.ports.timers.set(() => this.holdProcess(), 1 << 30);
  }

  /**
   * Stops the run: running units are aborted, waits and backoffs end, nothing new starts. A
   * signal also ends the wait for hooks once every unit has finished.
   */
  private stop(reason: StopReason): void {
    if (this.reported) return;
    const why = reason.kind === 'interrupted' ? reason.signal : 'stalled';
    if (reason.kind === 'interrupted') this.interrupted ??= reason.signal;
    else this.stalled = reason.message;
    this.stopChecks.abort(why);
    if (this.finished) return;
    this.stopping = true;
    for (const controller of this.running.values()) controller.abort(why);
    this.elsewhere.cancelAll();
    for (const { timer } of this.retryTimers.values()) this.o.ports.timers.clear(timer);
    this.retryTimers.clear();
    this.pump();
  }

  // ---- graph ----------------------------------------------------------------------------

  private expand(): void {
    this.o.files.invalidate();
    const next = replan({ ...this.o, previous: this.book.plan, statusOf: (id) => this.book.statusOf(id) });
    this.isOrphan = orphanCheck(this.o.config, next.plan.graph, this.o.neededTasks);
    this.book.replace(next.plan, next.forget);
    this.dirty = false;
  }

  private taskCounts(): Record<string, number> {
    return taskCounts(this.book.plan, this.o.tasks, this.o.neededTasks);
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
          if (JSON.stringify(counts) !== before) this.o.emit({ type: 'plan:update', time: this.now(), tasks: counts });
        }
        this.book.checkDue(() => !this.stopping, (id) => this.check(id));
        this.startQueued();
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
    this.maybeFinish();
  }

  private check(id: string): void {
    const unit = this.book.unit(id);
    const task = unit ? this.o.config.tasks.get(unit.task) : undefined;
    if (!unit || !task) return;
    if (!this.book.afterSettled(task)) {
      const failedBefore = this.book.badBefore(task);
      if (failedBefore !== undefined) {
        this.book.block(id, { kind: 'upstream_failed', upstream: failedBefore, message: `${failedBefore} (of a task it runs after) did not finish` });
        return;
      }
      this.book.park(id);
      return;
    }
    // (plan) An upstream unit that would run makes this one stale, whatever its files say.
    const upstream = [...this.book.deps(id)].find((d) => this.book.statusOf(d) === 'would-run');
    if (upstream !== undefined) {
      this.onChecked(unit, { kind: 'stale', reason: { kind: 'upstream', upstream }, inputs: new Map() });
      return;
    }
    const force = this.o.force && this.o.selection.matches(unit);
    const ctx = { root: this.o.config.root, now: this.now(), maxAgeMs: task.maxAgeMs, force, isOrphan: this.isOrphan };
    if (!task.ready && !task.stale) {
      const { outcome, fingerprint } = defaultCheck(unit, task, ctx);
      if (fingerprint) this.fingerprints.set(id, fingerprint);
      this.afterCheck(unit, outcome);
      return;
    }
    this.book.transition(id, 'checking');
    this.asyncChecks++;
    const limits = { signal: this.stopChecks.signal, onCheck: (check: 'ready' | 'stale') => this.checking.set(id, { check, since: this.now() }) };
    void customCheck(unit, task, ctx, (parts) => this.fingerprints.set(id, parts), limits).then(
      (outcome) => {
        this.asyncChecks--;
        this.checking.delete(id);
        if (outcome === 'not-ready') this.book.park(id);
        else this.afterCheck(unit, outcome);
        this.pump();
      },
      (error: unknown) => {
        this.asyncChecks--;
        const since = this.checking.get(id)?.since ?? ctx.now;
        this.checking.delete(id);
        this.onCheckFailed(unit, error, this.now() - since);
        this.pump();
      },
    );
  }

  /**
   * The in-flight record has the last word, read after the outputs were: a unit another process
   * runs waits for it (its outputs may be half-written), one whose earlier run died is stale.
   */
  private afterCheck(unit: Unit, outcome: CheckOutcome): void {
    // An abandoned attempt of this process still holds the record: onChecked blocks the unit.
    const mineAbandoned = abandonedAttemptRuns(this.o.config.root, unit.id);
    const state = outcome.kind === 'missing-input' || mineAbandoned ? undefined : this.o.inflight?.inspect(unit.id);
    if (state?.kind === 'elsewhere') this.awaitElsewhere(unit, state);
    else this.onChecked(unit, state?.kind === 'interrupted' ? interruptedOutcome(outcome, state.record) : outcome);
  }

  private awaitElsewhere(unit: Unit, held: { readonly record: InflightRecord; readonly stopping?: boolean }): void {
    const reason = runningElsewhere(held.record, held.stopping);
    this.book.transition(unit.id, 'elsewhere', { blocked: reason });
    if (this.recorder) {
      this.wouldRun(unit);
      return;
    }
    this.o.emit({ type: 'unit:log', time: this.now(), task: unit.task, unit: unit.id, stream: 'warning', text: reason.message });
    const stillHeld = (): boolean => this.o.inflight?.inspect(unit.id).kind === 'elsewhere';
    this.elsewhere.wait(unit.id, reason, stillHeld, () => {
      this.book.makeCheckable(unit.id);
      this.pump();
    });
  }

  /** (plan) Settles a unit that a real build would run (or wait for) without running it. */
  private wouldRun(unit: Unit): void {
    this.book.transition(unit.id, 'would-run');
    this.book.settle(unit);
  }

  /**
   * Before its first start: did its outputs change since it was found stale? Then another runcue
   * process built it meanwhile (and released it): check it again rather than run it twice.
   */
  private builtElsewhere(unit: Unit): boolean {
    const pending = this.pending.get(unit.id);
    if (!pending || pending.attempt > 1 || pending.pushBacks > 0 || outputsSignature(this.o.config.root, unit) === pending.outputs) return false;
    this.book.makeCheckable(unit.id);
    this.pump();
    return true;
  }

  private onCheckFailed(unit: Unit, error: unknown, durationMs: number): void {
    const check = error instanceof CheckError ? error.check : 'stale';
    if (error instanceof CheckError && error.kind === 'stopped') {
      // Stopped by a signal: the unit was never checked, so it did not start.
      if (this.stalled === undefined) this.book.transition(unit.id, 'checkable');
      else this.fail(unit, { reason: 'stalled', message: `${this.stalled}; its ${check}() check had not settled` }, 1, '', [], durationMs);
      return;
    }
    this.fail(unit, { reason: 'check-error', check, message: error instanceof CheckError ? error.message : describeThrown(error) }, 1, '', [], durationMs);
  }

  private onChecked(unit: Unit, outcome: CheckOutcome): void {
    if (outcome.kind !== 'missing-input' && outcome.skew) this.warnSkew(unit, outcome.skew);
    switch (outcome.kind) {
      case 'missing-input': {
        const producer = [...(this.book.graph.deps.get(unit.id) ?? [])].find((d) =>
          this.book.unit(d)?.outputs.some((o) => o.path === outcome.input.path || o.isGlob),
        );
        const message = producer
          ? `${unit.id} waits for ${outcome.input.path}: ${producer} did not produce it`
          : missingInputMessage(this.o.config, unit, outcome.input.path);
        this.book.block(unit.id, { kind: 'not_ready', input: outcome.input.path, ...(producer ? { producer } : {}), message });
        return;
      }
      case 'fresh':
        if (outcome.expiresAt !== undefined) this.ledger.expiresAt(outcome.expiresAt);
        this.book.transition(unit.id, 'fresh');
        this.book.counts.fresh++;
        this.o.emit({ type: 'unit:skip', time: this.now(), task: unit.task, unit: unit.id });
        this.hooks.unit('skip', unit, outcome.inputs, {});
        this.settle(unit);
        return;
      case 'stale':
        this.onStale(unit, outcome.reason, outcome.inputs);
        return;
    }
  }

  private onStale(unit: Unit, reason: StaleReason, inputs: ReadonlyMap<string, FileStat>): void {
    const rewrite = unchangedSinceRewrite(this.o.rewroteEarlier, unit.id, inputs);
    if (rewrite) {
      this.o.emit({ type: 'unit:log', time: this.now(), task: unit.task, unit: unit.id, stream: 'warning', text: rewriteWarning(rewrite) });
      this.onChecked(unit, { kind: 'fresh', inputs });
      return;
    }
    const task = this.o.config.tasks.get(unit.task);
    const earlier = this.o.failedEarlier?.get(unit.id);
    if (abandonedAttemptRuns(this.o.config.root, unit.id)) {
      this.book.block(unit.id, { kind: 'failed_earlier', message: `${unit.id} failed earlier and its function still runs (it ignored its abort signal)` });
      return;
    }
    if (earlier !== undefined && earlier === inputSignature(inputs)) {
      this.ledger.failedOn(unit.id, earlier);
      this.book.block(unit.id, { kind: 'failed_earlier', message: `${unit.id} failed earlier; waits for one of its inputs to change` });
      return;
    }
    this.book.transition(unit.id, 'queued', { stale: reason });
    if (this.recorder) {
      this.wouldRun(unit);
      return;
    }
    this.pending.set(unit.id, { reason, inputs, attempt: 1, pushBacks: 0, outputs: outputsSignature(this.o.config.root, unit) });
    this.queue.push(unit.id, task?.uses ?? ['cpu'], task?.priority ?? 0);
  }

  /** Make's "Clock skew detected": the verdict stands, but mtimes cannot be trusted. */
  private warnSkew(unit: Unit, skew: ClockSkew): void {
    const text = `clock skew detected: ${skew.file} has modification time ${(skew.aheadMs / 1000).toFixed(1)} s in the future; freshness by mtime may be wrong (touch the file, or use freshness: 'hash')`;
    this.o.emit({ type: 'unit:log', time: this.now(), task: unit.task, unit: unit.id, stream: 'warning', text });
  }

  private startQueued(): void {
    if (this.stopping) return;
    const { wakeAt } = this.admission.admit(this.queue, {
      divert: (id) => {
        const held = this.o.inflight?.inspect(id);
        const heldUnit = this.book.unit(id);
        if (held?.kind === 'elsewhere' && heldUnit) {
          // Started elsewhere since it was checked: wait for it without spending a rate slot.
          this.awaitElsewhere(heldUnit, held);
          return true;
        }
        return heldUnit !== undefined && this.builtElsewhere(heldUnit);
      },
      start: (id, services, now) => this.start(id, services, now),
    });
    if (wakeAt !== undefined) this.wakeAt(wakeAt);
  }

  private wakeAt(time: number): void {
    const { timers } = this.o.ports;
    timers.clear(this.wakeTimer);
    this.wakeTimer = timers.set(() => {
      this.wakeTimer = undefined;
      this.pump();
    }, Math.max(0, time - this.now()));
  }

  private start(id: string, services: readonly string[], startedAt: number): void {
    const unit = this.book.unit(id);
    const task = unit ? this.o.config.tasks.get(unit.task) : undefined;
    const pending = this.pending.get(id);
    if (!unit || !task || !pending) return;
    const claim = this.o.inflight?.claim(unit);
    if (claim && !claim.ok) {
      this.o.limiter.release(services);
      this.awaitElsewhere(unit, claim);
      return;
    }
    this.book.transition(id, 'running');
    const controller = new AbortController();
    this.running.set(id, controller);
    const named = inputsByName(unit, pending.inputs);
    const command = resolveCommand(task, unit, named)?.text;
    this.o.emit({ type: 'unit:start', time: startedAt, task: unit.task, unit: id, attempt: pending.attempt, reason: pending.reason, ...(command ? { command } : {}) });
    this.hooks.unit('start', unit, pending.inputs, { attempt: pending.attempt });
    const fingerprint = this.fingerprints.get(id);
    const onLog = this.o.verbose
      ? (stream: 'stdout' | 'stderr' | 'log', text: string) => this.o.emit({ type: 'unit:log', time: this.now(), task: unit.task, unit: id, stream, text })
      : undefined;
    // Before its snapshot in runUnit: a dynamic set starts empty of what this unit made last time.
    for (const file of clearRecordedOutputs(this.o.config.root, unit)) this.ledger.cleared.push(file);
    void runUnit({
      unit,
      task,
      root: this.o.config.root,
      attempt: pending.attempt,
      inputs: pending.inputs,
      env: this.o.env,
      signal: controller.signal,
      killGraceMs: this.o.killGraceMs,
      ...(this.o.groups ? { groups: this.o.groups } : {}),
      isOrphan: this.isOrphan,
      ...(onLog ? { onLog } : {}),
      ...(fingerprint ? { fingerprint } : {}),
    }).then((outcome) => {
      this.running.delete(id);
      this.o.limiter.release(services);
      const durationMs = this.now() - startedAt;
      if (outcome.ok === 'push-back') {
        this.pushBack(unit, task, pending, outcome.retryAfterMs);
      } else if (outcome.ok) {
        this.succeed(unit, task, pending, { ...outcome, durationMs });
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

  private succeed(unit: Unit, task: ResolvedTask, pending: Pending, run: { durationMs: number; inputsChanged: boolean; written: readonly string[]; rewrote: readonly string[] }): void {
    this.admission.succeeded(task.uses);
    this.o.inflight?.release(unit.id);
    this.book.transition(unit.id, 'done');
    this.book.counts.built++;
    if (task.maxAgeMs !== undefined) this.ledger.expiresAt(this.now() + task.maxAgeMs);
    const unrecorded = this.ledger.succeeded(unit, { written: run.written, rewrote: run.rewrote, inputs: pending.inputs });
    if (unrecorded) this.o.emit({ type: 'unit:log', time: this.now(), task: unit.task, unit: unit.id, stream: 'warning', text: unrecorded });
    this.o.emit({ type: 'unit:done', time: this.now(), task: unit.task, unit: unit.id, durationMs: run.durationMs, inputsChanged: run.inputsChanged });
    this.hooks.unit('complete', unit, pending.inputs, { durationMs: run.durationMs, attempt: pending.attempt });
    this.settle(unit);
  }

  /** A fresh, built or would-run unit settles; a dynamic producer that made files means a replan. */
  private settle(unit: Unit): void {
    if (this.book.statusOf(unit.id) !== 'would-run' && unit.outputs.some((o) => o.isGlob)) this.dirty = true;
    this.book.settle(unit);
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
    this.o.emit({ type: 'unit:log', time: this.now(), task: this.book.unit(id)?.task ?? '', unit: id, stream: 'warning', text });
  }

  private retry(unit: Unit, task: ResolvedTask, pending: Pending, error: UnitFailure): void {
    const delayMs = fullJitter(this.o.ports.random, task.backoffMs, pending.attempt - 1);
    this.o.emit({ type: 'unit:retry', time: this.now(), task: unit.task, unit: unit.id, attempt: pending.attempt, delayMs, kind: 'retry', error });
    pending.attempt++;
    this.requeueAfter(unit, task, delayMs);
  }

  /** Waits `delayMs` (status `retrying`), then queues the unit for a slot again. */
  private requeueAfter(unit: Unit, task: ResolvedTask, delayMs: number): void {
    this.book.transition(unit.id, 'retrying');
    const timer = this.o.ports.timers.set(() => {
      this.retryTimers.delete(unit.id);
      this.book.transition(unit.id, 'queued');
      this.queue.push(unit.id, task.uses, task.priority);
      this.pump();
    }, delayMs);
    this.retryTimers.set(unit.id, { timer, until: this.now() + delayMs });
  }

  /** The service said "too many requests": requeue the unit (not a retry) and pause the service. */
  private pushBack(unit: Unit, task: ResolvedTask, pending: Pending, retryAfterMs: number | undefined): void {
    pending.pushBacks++;
    this.pushBacks++;
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
    const { delayMs, services } = this.admission.pushBack(task, retryAfterMs);
    this.o.emit({ type: 'unit:retry', time: this.now(), task: unit.task, unit: unit.id, attempt: pending.attempt, delayMs, kind: 'push-back', error, services: [...services] });
    if (services.length === 0) {
      // Only the default cpu service: delay this unit alone rather than every local task.
      this.requeueAfter(unit, task, delayMs);
      return;
    }
    this.book.transition(unit.id, 'queued');
    this.queue.push(unit.id, task.uses, task.priority);
  }

  private fail(unit: Unit, error: UnitFailure, attempt: number, outputTail: string, removed: readonly string[], durationMs = 0, command?: string): void {
    // An abandoned attempt may still write: its record stays until it settles and is swept.
    if (!this.abandoned.holds(unit.id)) this.o.inflight?.release(unit.id);
    // Stopped by a signal: not the unit's fault, and its downstream is "not started", not blocked.
    const interrupted = error.reason === 'aborted' && this.interrupted !== undefined;
    this.book.fail(unit, error, interrupted);
    const pending = this.pending.get(unit.id);
    if (pending) this.ledger.failedOn(unit.id, pending.inputs);
    this.o.emit({ type: 'unit:fail', time: this.now(), task: unit.task, unit: unit.id, durationMs, attempt, error, outputTail, removed, ...(command ? { command } : {}) });
    const info: { durationMs: number; attempt: number; error: string; exitCode?: number } = { durationMs, attempt, error: error.message };
    if (error.reason === 'exit-non-zero') info.exitCode = error.exitCode;
    this.hooks.unit('failure', unit, new Map(), info);
    if (!this.o.keepGoing && error.reason !== 'aborted') this.stopping = true;
    this.book.afterFailure(unit.id, interrupted);
  }

  // ---- stalls and the end -----------------------------------------------------------------

  private checkStall(): void {
    if (this.finished || this.stopping) return;
    const stall = this.stalls.check(this.now());
    if (!stall) return;
    const blocked = this.diagnose();
    this.o.emit({ type: 'run:stall', time: this.now(), fatal: stall.fatal, message: stall.message, blocked });
    this.hooks.stall(stallLines(blocked));
    if (stall.fatal) this.stop({ kind: 'stalled', message: stall.message });
  }

  /** Every wanted unit that is not running or finished, and why. */
  diagnose(): ReturnType<typeof diagnose> {
    return diagnose({
      book: this.book,
      config: this.o.config,
      clock: this.o.ports.clock,
      refusal: (services) => this.admission.refusal(services),
      elsewhere: (id) => this.elsewhere.reasonOf(id),
      retryAt: (id) => this.retryTimers.get(id)?.until,
      checking: (id) => this.checking.get(id),
    });
  }

  private maybeFinish(): void {
    if (this.finished || this.running.size > 0 || this.asyncChecks > 0 || this.retryTimers.size > 0 || this.elsewhere.size > 0) return;
    if (this.book.dueCount > 0 && !this.stopping) return;
    if (!this.stopping && this.queue.size > 0) return;
    if (this.dirty && !this.stopping) {
      this.pump();
      return;
    }
    if (!this.stopping) this.blockWhatCannotProgress();
    if (this.recorder) this.recorder.finish(this.diagnose().filter((b) => this.book.statusOf(b.unit) !== 'blocked'));
    this.finished = true;
    // Units stopped between attempts (a retry's backoff, a push-back) still hold their records.
    this.o.inflight?.releaseAll(this.abandoned.units());
    this.endRun();
    this.o.ports.timers.clear(this.wakeTimer);
    this.stallTimer.stop();
    void this.report();
  }

  /** Nothing can progress: whatever still waits is blocked (a `ready` that stays false, say). */
  private blockWhatCannotProgress(): void {
    for (const id of this.book.stillParked()) {
      const task = this.o.config.tasks.get(this.book.unit(id)?.task ?? '');
      const message = task?.ready ? `${id} is not ready: ready() returned false` : `${id} waits for ${task?.after.join(', ') ?? ''} (after)`;
      this.book.block(id, { kind: 'not_ready', input: '', message });
    }
    // Anything still waiting now waits for something that cannot happen (say, a cycle that
    // only unit-level edges reveal): report it rather than end silently. A plan leaves units
    // behind one that would run waiting: they are what it reports as "waiting".
    if (!this.recorder && this.book.finishedCount < this.book.wanted.size) {
      for (const b of this.diagnose()) {
        if (this.book.statusOf(b.unit) === 'waiting') this.book.block(b.unit, b.reason);
      }
    }
  }

  /** Waits for hooks and abandoned attempts (bounded), then emits `run:done` and resolves the run. */
  private async report(): Promise<void> {
    // No hooks, nothing to wait for (and no warning about them when the run was stopped).
    const hooksSettled = await this.hooks.settled(this.stopChecks.signal);
    if (!hooksSettled) this.warn('(run)', 'on.* hooks had not settled as the run ended: not waited for');
    // A stopped run ends at once (the CLI exits, and the function with it): only sweep.
    await this.abandoned.drain(this.interrupted !== undefined || this.stalled !== undefined ? 0 : this.o.killGraceMs, (a, removed) => this.lateWrite(a, removed));
    this.reported = true;
    this.detachSignal();
    this.o.ports.timers.clear(this.keepAlive);
    const durationMs = this.now() - this.startTime;
    const { book, ledger } = this;
    const ok = book.failures.length === 0 && book.blocked.length === 0 && this.interrupted === undefined && this.stalled === undefined;
    const notStarted = book.notStarted();
    const counts = { ...book.counts, ...(book.interrupted > 0 ? { interrupted: book.interrupted } : {}) };
    this.o.emit({
      type: 'run:done',
      time: this.now(),
      ok,
      durationMs,
      counts,
      ...(this.interrupted ? { interrupted: this.interrupted } : {}),
      ...(notStarted > 0 ? { notStarted } : {}),
      ...(this.pushBacks > 0 ? { pushBacks: this.pushBacks } : {}),
    });
    this.resolveDone({
      ok,
      counts,
      durationMs,
      failures: book.failures,
      blocked: book.blocked,
      plan: this.recorder?.entries ?? [],
      failedInputs: ledger.failedInputs,
      written: ledger.written,
      cleared: ledger.cleared,
      nextExpiry: ledger.nextExpiry,
      rewrote: ledger.rewrote,
      ...(this.interrupted ? { interrupted: this.interrupted } : {}),
    });
  }
}

function outputsSignature(root: string, unit: Unit): string {
  return inputSignature(snapshot(root, unit.outputs));
}
