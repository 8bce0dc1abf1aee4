/**
 * The build scheduler: the loop that checks units whose deps settled, starts the stale ones as
 * slots free up, and settles them when they finish. Its parts live in ./schedule/: the book of
 * unit states (the lifecycle is drawn there), replanning, what follows a check (verdicts.ts) and
 * an attempt (attempts.ts), admission, backoff, hooks, diagnosis, the ledger of what the run
 * wrote, and the dry-run plan. Freshness checks take no service slot. When a unit with a dynamic
 * (glob) output settles, the graph is expanded again so consumers of the files it made appear
 * (once they could start sooner for it: ExpansionGate).
 *
 * Time and chance come from the injected ports (`SchedulerOptions.ports`), so the loop runs on a
 * virtual clock in tests.
 */
import { checkSelection, type OutputConflictFailure, type TargetFailure } from '../graph/select.ts';
import type { Unit } from '../graph/unit.ts';
import { ElsewhereWaits } from './inflight-wait.ts';
import { clearRecordedOutputs } from './output-record.ts';
import type { TimerHandle } from './ports.ts';
import { RunQueue } from './queue.ts';
import type { Stall } from './stall-watch.ts';
import { defaultCheck, type CheckFailure } from './unit-check.ts';
import { runUnitThen } from './execute/attempt.ts';
import type { UnitFailure } from './events.ts';
import type { LogStream } from './execute/executor.ts';
import { attemptInfo } from './execute/unit-view.ts';
import { Admission } from './schedule/admission.ts';
import { Attempts } from './schedule/attempts.ts';
import { Book } from './schedule/book.ts';
import { CustomChecks } from './schedule/custom-checks.ts';
import type { BuildResult, RunContext, RunState, SchedulerOptions } from './schedule/context.ts';
import { blockStuck, diagnose, StallAlarm, type DiagnoseSources } from './schedule/diagnose.ts';
import { holdOpen, listenAbort } from './schedule/lifetime.ts';
import { Hooks } from './schedule/hooks.ts';
import { Ledger } from './schedule/ledger.ts';
import { runOutcome } from './schedule/outcome.ts';
import { PlanRecorder } from './schedule/plan-recorder.ts';
import { ExpansionGate, mayFeedUnits, serviceInfo, taskCounts } from './schedule/replan.ts';
import { replanFromFiles } from './schedule/orphan-inputs.ts';
import { unmadeMissingInput } from './schedule/plan-inputs.ts';
import { announceStart } from './schedule/start-event.ts';
import { Verdicts } from './schedule/verdicts.ts';

export type { BuildResult, SchedulerOptions } from './schedule/context.ts';

/** Why a run stops early: a signal (SIGINT, an embedder's abort), or a fatal stall. */
type StopReason = { readonly kind: 'interrupted'; readonly signal: string } | { readonly kind: 'stalled'; readonly message: string };

/** One build run: plan with {@link Scheduler.prepare}, then {@link Scheduler.run} once. */
export class Scheduler {
  private readonly o: SchedulerOptions;
  private readonly book: Book;
  private readonly admission: Admission;
  private readonly hooks: Hooks;
  private readonly ledger: Ledger;
  private readonly verdicts: Verdicts;
  private readonly attempts: Attempts;
  /** Only in a dry run. */
  private readonly recorder: PlanRecorder | undefined;
  private readonly state: RunState = { stopping: false, dirty: false, interrupted: undefined, stalled: undefined, reported: false };
  private readonly queue = new RunQueue();
  private readonly expansions: ExpansionGate;
  /** Each running unit's controller; a shared signal's (sim: `stopAll`) units are only counted. */
  private readonly running = new Map<string, AbortController>();
  private sharedRunning = 0;
  private readonly stopAll = new AbortController();
  /** Units another runcue process is running: polled until it is done with them. */
  private readonly elsewhere: ElsewhereWaits;
  private readonly stalls: StallAlarm;
  private readonly diagnosis: DiagnoseSources;
  /** Outputs of units that no longer exist: never read by a glob input (orphans.ts). */
  private isOrphan: (file: string) => boolean = () => false;
  private readonly checks: CustomChecks;
  /** Ends what keeps the process alive during the run. */
  private letGo: () => void = () => undefined;
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
    this.hooks = new Hooks({ config: options.config, clock, timers, emit: options.emit, reported: () => this.state.reported });
    this.ledger = new Ledger(options.fs, options.outputRecords ?? 'all', options.keepWritten ?? true);
    this.recorder = options.dryRun ? new PlanRecorder(this.book) : undefined;
    this.elsewhere = new ElsewhereWaits(timers);
    this.checks = new CustomChecks(clock, timers, options.stuckWatch);
    const busy = (): boolean => this.running.size + this.sharedRunning > 0 || this.checks.count > 0;
    this.expansions = new ExpansionGate({ ...options, queue: this.queue, clock, timers, busy, wake: () => this.pump() });
    const { book, ledger, hooks, queue, state } = this;
    const { pending } = book;
    const loop = {
      now: () => this.now(),
      pump: () => this.pump(),
      settle: (unit: Unit) => this.settle(unit),
      warn: (id: string, text: string) => this.warn(id, text),
    };
    const ctx: RunContext = { o: options, book, ledger, hooks, queue, pending, state, ...loop };
    this.verdicts = new Verdicts(ctx, this.elsewhere);
    this.attempts = new Attempts(ctx, this.admission);
    const quiet = (): boolean => this.finished || this.state.stopping;
    this.stalls = new StallAlarm({ limits: options.config, book, clock, timers, quiet, onStall: (stall) => this.onStall(stall) });
    this.diagnosis = {
      book,
      config: options.config,
      clock,
      refusal: (services) => this.admission.refusal(services),
      elsewhere: (id) => this.elsewhere.reasonOf(id),
      retryAt: (id) => this.attempts.retryAt(id),
      checking: (id) => this.checks.of(id),
    };
  }

  // Functions handed out on every pump and attempt, made once.
  private readonly now = (): number => this.o.ports.clock.now();
  private readonly going = (): boolean => !this.state.stopping;
  private readonly checkOne = (id: string): void => this.check(id);
  private readonly onWake = (): void => {
    this.wakeTimer = undefined;
    this.pump();
  };
  private readonly admissionLoop = {
    divert: (id: string): boolean => this.verdicts.divert(id),
    start: (id: string, services: readonly string[], now: number): void => this.start(id, services, now),
  };

  /**
   * Plans the units (the first expansion) and says what makes the run impossible before it
   * starts: two tasks claiming one output, or a target that no unit makes.
   */
  prepare(): OutputConflictFailure | TargetFailure | undefined {
    this.expand();
    this.prepared = true;
    return checkSelection(this.book.graph, this.o.selection, this.o.noDeps);
  }

  /** Runs to the end; never rejects (failures are in the result). */
  run(): Promise<BuildResult> {
    const done = new Promise<BuildResult>((resolve) => (this.resolveDone = resolve));
    if (!this.prepared) this.expand();
    const uses = Object.fromEntries([...this.o.neededTasks].map((t) => [t, this.o.config.tasks.get(t)?.uses ?? ['cpu']]));
    this.o.emit({ type: 'run:start', time: this.now(), version: 3, tasks: this.taskCounts(), services: serviceInfo(this.o.config), uses });
    this.detachSignal = listenAbort(this.o.signal, (signal) => this.stop({ kind: 'interrupted', signal }));
    this.stalls.start();
    this.letGo = holdOpen(this.o.ports.timers);
    this.pump();
    return done;
  }

  /**
   * Stops the run: running units are aborted, waits and backoffs end, nothing new starts. A
   * signal also ends the wait for hooks once every unit has finished.
   */
  private stop(reason: StopReason): void {
    if (this.state.reported) return;
    const why = reason.kind === 'interrupted' ? reason.signal : 'stalled';
    if (reason.kind === 'interrupted') this.state.interrupted ??= reason.signal;
    else this.state.stalled = reason.message;
    this.checks.stop(why);
    if (this.finished) return;
    this.state.stopping = true;
    for (const controller of this.running.values()) controller.abort(why);
    if (this.sharedRunning > 0) this.stopAll.abort(why);
    this.elsewhere.cancelAll();
    this.attempts.cancelRetries();
    this.pump();
  }

  // ---- graph ----------------------------------------------------------------------------

  private expand(): void {
    const { next, isOrphan } = replanFromFiles({ ...this.o, previous: this.book.plan, statusOf: (id) => this.book.statusOf(id) });
    this.isOrphan = isOrphan;
    this.book.replace(next.plan, next.forget);
    this.state.dirty = false;
    if (this.expansions.expanded(next.plan.wanted.size)) this.book.wakeParked();
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
        if (this.state.dirty && !this.state.stopping && this.expansions.due()) {
          const before = JSON.stringify(this.taskCounts());
          this.expand();
          const counts = this.taskCounts();
          if (JSON.stringify(counts) !== before) this.o.emit({ type: 'plan:update', time: this.now(), tasks: counts });
        }
        this.book.checkDue(this.going, this.checkOne);
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
        this.book.block(id, {
          kind: 'upstream_failed',
          upstream: failedBefore,
          message: `${failedBefore} (of a task it runs after) did not finish`,
        });
        return;
      }
      this.book.park(id);
      return;
    }
    // (plan) An upstream unit that would run makes this one stale, whatever its files say.
    const upstream = this.book.upstreamWouldRun(id);
    if (upstream !== undefined) {
      const missing = unmadeMissingInput(unit, this.book.deps(id), (d) => this.book.unit(d), this.o.fs, this.isOrphan);
      const reason = { kind: 'upstream', upstream } as const;
      this.verdicts.onChecked(unit, missing ? { kind: 'missing-input', input: missing } : { kind: 'stale', reason, inputs: new Map() });
      return;
    }
    const force = this.o.force && this.o.selection.matches(unit);
    const ctx = { fs: this.o.fs, now: this.now(), maxAgeMs: task.maxAgeMs, schedule: task.schedule, force, isOrphan: this.isOrphan };
    if (!task.ready && !task.stale) {
      const { outcome, view } = defaultCheck(unit, task, ctx);
      this.verdicts.afterCheck(unit, outcome, view);
      return;
    }
    this.book.transition(id, 'checking');
    this.checks.run(unit, task, ctx, (result, durationMs) => {
      if (result.kind === 'not-ready') this.book.park(id);
      else if (result.kind === 'check-failed') this.onCheckFailed(unit, result, durationMs);
      else this.verdicts.afterCheck(unit, result.outcome, result.view);
      this.pump();
    });
  }

  private onCheckFailed(unit: Unit, failure: CheckFailure, durationMs: number): void {
    const { check } = failure;
    // Stopped by a signal: the unit was never checked, so it did not start.
    if (failure.why === 'stopped' && this.state.stalled === undefined) return this.book.transition(unit.id, 'checkable');
    const stalled = `${this.state.stalled ?? ''}; its ${check}() check had not settled`;
    const error: UnitFailure =
      failure.why === 'stopped' ? { reason: 'stalled', message: stalled } : { reason: 'check-error', check, message: failure.message };
    this.attempts.fail(unit, error, { attempt: 1, outputTail: '', removed: [], durationMs });
  }

  private startQueued(): void {
    if (this.state.stopping) return;
    const { wakeAt } = this.admission.admit(this.queue, this.admissionLoop);
    if (wakeAt !== undefined) this.wakeAt(wakeAt);
  }

  private wakeAt(time: number): void {
    this.o.ports.timers.clear(this.wakeTimer);
    this.wakeTimer = this.o.ports.timers.set(this.onWake, Math.max(0, time - this.now()));
  }

  private start(id: string, services: readonly string[], startedAt: number): void {
    const unit = this.book.unit(id);
    const task = unit ? this.o.config.tasks.get(unit.task) : undefined;
    const pending = this.book.pending.get(id);
    if (!unit || !task || !pending) return;
    const claim = this.o.inflight?.claim(unit);
    if (claim && !claim.ok) {
      this.o.limiter.release(services);
      this.verdicts.awaitElsewhere(unit, claim);
      return;
    }
    this.book.transition(id, 'running');
    const executor = this.o.executorFor(task);
    const shared = executor.sharedSignal === true;
    const controller = shared ? this.stopAll : new AbortController();
    if (shared) this.sharedRunning++;
    else this.running.set(id, controller);
    const { view, attempt } = pending;
    const command = view.run.kind === 'function' ? undefined : view.run.text;
    const facts = { task: unit.task, unit: id, attempt, reason: pending.reason, command };
    const announced = announceStart(this.o.emit, facts, startedAt, executor.queued === true, () => {
      if (this.hooks.has('start')) this.hooks.unit('start', unit, () => attemptInfo(view, attempt), { attempt });
    });
    const log = this.o.verbose
      ? (stream: LogStream, text: string) => this.o.emit({ type: 'unit:log', time: this.now(), task: unit.task, unit: id, stream, text })
      : undefined;
    // Before its snapshot in runUnit: a dynamic set starts empty of what this unit made last time.
    const cleared = clearRecordedOutputs(this.o.fs, unit);
    for (let i = 0; i < cleared.length; i++) this.ledger.cleared.push(cleared[i] as string);
    const { fs, config } = this.o;
    const base = { view, attempt, signal: controller.signal, root: config.root, fs, now: this.now, isOrphan: this.isOrphan };
    const request =
      log || announced.onStart ? { ...base, ...(log ? { log } : {}), ...(announced.onStart ? { onStart: announced.onStart } : {}) } : base;
    runUnitThen(request, executor, (outcome) => {
      if (shared) this.sharedRunning--;
      else this.running.delete(id);
      this.o.limiter.release(services);
      // A queued unit's start is on Redis's clock, which may be a little ahead of this one's.
      this.attempts.ended(unit, task, pending, outcome, { durationMs: Math.max(0, this.now() - announced.startedAt()), command });
      this.pump();
    });
  }

  /** A fresh, built or would-run unit settles; a dynamic producer that made files means a replan. */
  private settle(unit: Unit): void {
    if (this.book.statusOf(unit.id) !== 'would-run' && unit.outputs.some((o) => o.isGlob)) {
      if (mayFeedUnits(this.o.config, this.o.tasks, unit.task)) {
        this.state.dirty = true;
        if (!this.expansions.producerSettled(unit.task)) return;
      } else this.o.files.invalidate();
    }
    this.book.settle(unit);
  }

  /** A warning about a unit; none after run:done (an abandoned attempt may settle any time). */
  private warn(id: string, text: string): void {
    if (this.state.reported) return;
    this.o.emit({ type: 'unit:log', time: this.now(), task: this.book.unit(id)?.task ?? '', unit: id, stream: 'warning', text });
  }

  // ---- stalls and the end -----------------------------------------------------------------

  private onStall(stall: Stall): void {
    const blocked = diagnose(this.diagnosis);
    this.o.emit({ type: 'run:stall', time: this.now(), fatal: stall.fatal, message: stall.message, blocked });
    this.hooks.stall(blocked, (id) => this.book.unit(id));
    if (stall.fatal) this.stop({ kind: 'stalled', message: stall.message });
  }

  private maybeFinish(): void {
    if (
      this.finished ||
      this.running.size + this.sharedRunning > 0 ||
      this.checks.count > 0 ||
      this.attempts.backingOff > 0 ||
      this.elsewhere.size > 0
    )
      return;
    if (this.book.dueCount > 0 && !this.state.stopping) return;
    if (!this.state.stopping && this.queue.size > 0) return;
    if (this.state.dirty && !this.state.stopping) {
      this.pump();
      return;
    }
    // Blocking units parked on ready() wakes those parked on `after` them: check those first.
    if (!this.state.stopping && blockStuck(this.diagnosis, { planning: this.recorder !== undefined })) return this.pump();
    if (this.recorder) this.recorder.finish(diagnose(this.diagnosis).filter((b) => this.book.statusOf(b.unit) !== 'blocked'));
    this.finished = true;
    // Units stopped between attempts (a retry's backoff, a push-back) still hold their records.
    this.attempts.releaseRecords();
    this.attempts.endRun();
    this.o.ports.timers.clear(this.wakeTimer);
    this.expansions.stop();
    this.stalls.stop();
    void this.report();
  }

  /** Waits for hooks and abandoned attempts (bounded), then emits `run:done` and resolves the run. */
  private async report(): Promise<void> {
    // No hooks, nothing to wait for (and no warning about them when the run was stopped).
    const hooksSettled = await this.hooks.settled(this.checks.signal);
    if (!hooksSettled) this.warn('(run)', 'on.* hooks had not settled as the run ended: not waited for');
    // A stopped run ends at once (the CLI exits, and the function with it): only sweep.
    await this.attempts.drain(this.state.interrupted !== undefined || this.state.stalled !== undefined ? 0 : this.o.killGraceMs);
    await this.o.beforeDone?.();
    // A stopped run counts what it leaves undone, also the units of producers whose expansion waited.
    if (this.state.stopping && this.state.dirty) this.expand();
    this.state.reported = true;
    this.detachSignal();
    this.letGo();
    const { book, ledger, state, recorder } = this;
    const { event, result } = runOutcome({
      book,
      ledger,
      state,
      recorder,
      pushBacks: this.attempts.pushBacks,
      durationMs: this.now() - this.startTime,
      time: this.now(),
    });
    this.o.emit(event);
    this.resolveDone(result);
  }
}
