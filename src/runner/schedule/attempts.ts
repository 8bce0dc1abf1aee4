/**
 * What follows an attempt: success settles the unit, a failure is retried after a backoff (or
 * fails the unit), a push-back requeues it and pauses its services. Function attempts that
 * ignored their abort signal are tracked until their late writes are swept.
 */
import type { ResolvedTask } from '../../config/resolved.ts';
import type { Unit } from '../../graph/unit.ts';
import { abandonAttempt, AbandonedAttempts, type AbandonedAttempt } from '../abandoned.ts';
import type { RunEvent, UnitFailure } from '../events.ts';
import type { TimerHandle } from '../ports.ts';
import { clockExpiry } from '../expiry.ts';
import type { UnitRunOutcome } from '../execute/attempt.ts';
import { attemptInfo, inputsByName, unitInfo } from '../execute/unit-view.ts';
import type { Admission } from './admission.ts';
import { fullJitter } from './backoff.ts';
import type { Pending, RunContext } from './context.ts';

/** A successful attempt as the loop saw it. */
interface Success {
  readonly inputsChanged: boolean;
  readonly written: readonly string[];
  readonly rewrote: readonly string[];
  readonly host?: string | undefined;
}

/** The rest of a failure report besides the failure itself. */
export interface FailureDetail {
  readonly attempt: number;
  readonly outputTail: string;
  readonly removed: readonly string[];
  readonly durationMs?: number;
  readonly command?: string | undefined;
  readonly host?: string | undefined;
}

/** The ends of a run's attempts, its backoff timers and its abandoned function attempts. */
/** What a `unit:retry` event says beyond the unit and its attempt. */
type RetryDetail = Pick<Extract<RunEvent, { type: 'unit:retry' }>, 'delayMs' | 'kind' | 'error' | 'services'>;

export class Attempts {
  private readonly ctx: RunContext;
  private readonly admission: Admission;
  private readonly retryTimers = new Map<string, { timer: TimerHandle; until: number }>();
  /** Function attempts that ignored their abort signal and may still write. */
  private readonly abandoned: AbandonedAttempts;
  /** Resolves as the run ends: failed function units are swept for late writes then. */
  private readonly runEnded: Promise<void>;
  /** Ends the run for the sweep of failed function attempts. */
  readonly endRun: () => void;
  /** Push-backs seen in this run. */
  pushBacks = 0;

  constructor(ctx: RunContext, admission: Admission) {
    this.ctx = ctx;
    this.admission = admission;
    this.abandoned = new AbandonedAttempts(ctx.o.ports.timers);
    let end = (): void => undefined;
    this.runEnded = new Promise<void>((resolve) => (end = resolve));
    this.endRun = end;
  }

  /** Units waiting out a backoff. */
  get backingOff(): number {
    return this.retryTimers.size;
  }

  /** When a unit in backoff goes back to the queue. */
  retryAt(id: string): number | undefined {
    return this.retryTimers.get(id)?.until;
  }

  /** The run stops: no backoff ends any more. */
  cancelRetries(): void {
    for (const { timer } of this.retryTimers.values()) this.ctx.o.ports.timers.clear(timer);
    this.retryTimers.clear();
  }

  /** Acts on how an attempt ended: success, push-back, retry or failure. */
  ended(
    unit: Unit,
    task: ResolvedTask,
    pending: Pending,
    outcome: UnitRunOutcome,
    detail: { readonly durationMs: number; readonly command: string | undefined },
  ): void {
    const { state } = this.ctx;
    const { durationMs, command } = detail;
    if (outcome.kind === 'push-back') {
      this.pushBack(unit, task, pending, outcome, this.ctx.now() - durationMs);
    } else if (outcome.kind === 'done') {
      this.succeed(unit, task, pending, outcome, durationMs);
    } else if (outcome.abandoned) {
      this.abandon(unit, outcome.abandoned, !state.stopping && pending.attempt <= task.retries);
      const failure: UnitFailure =
        state.stalled && outcome.failure.reason === 'aborted' ? { reason: 'stalled', message: state.stalled } : outcome.failure;
      this.fail(unit, failure, { attempt: pending.attempt, outputTail: outcome.outputTail, removed: outcome.removed, durationMs, command });
    } else if (retryable(outcome.failure) && !state.stopping && pending.attempt <= task.retries) {
      this.retry(unit, task, pending, outcome.failure);
    } else {
      const failure: UnitFailure =
        state.stalled && outcome.failure.reason === 'aborted' ? { reason: 'stalled', message: state.stalled } : outcome.failure;
      if (task.run.kind === 'function') this.sweepAtEnd(unit, task, pending.attempt);
      const host = outcome.host;
      this.fail(unit, failure, {
        attempt: pending.attempt,
        outputTail: outcome.outputTail,
        removed: outcome.removed,
        durationMs,
        command,
        host,
      });
    }
  }

  /** `durationMs`: as the loop timed the attempt (passed apart: no copy of the outcome per success). */
  private succeed(unit: Unit, task: ResolvedTask, pending: Pending, run: Success, durationMs: number): void {
    const { ctx } = this;
    this.admission.succeeded(task.uses);
    ctx.o.inflight?.release(unit.id);
    ctx.book.transition(unit.id, 'done');
    ctx.book.counts.built++;
    const expiry = clockExpiry(task, ctx.now(), ctx.now() - durationMs);
    if (expiry !== undefined) ctx.ledger.expiresAt(expiry);
    const unrecorded = ctx.ledger.succeeded(unit, { written: run.written, rewrote: run.rewrote, inputs: pending.inputs });
    if (unrecorded) ctx.o.emit({ type: 'unit:log', time: ctx.now(), task: unit.task, unit: unit.id, stream: 'warning', text: unrecorded });
    const done = {
      type: 'unit:done',
      time: ctx.now(),
      task: unit.task,
      unit: unit.id,
      durationMs,
      inputsChanged: run.inputsChanged,
    } as const;
    ctx.o.emit(run.host === undefined ? done : { ...done, host: run.host });
    if (ctx.hooks.has('complete'))
      ctx.hooks.unit('complete', unit, () => attemptInfo(pending.view, pending.attempt), {
        durationMs,
        attempt: pending.attempt,
      });
    // Done for good in this run: its view and stats need not live until the run ends.
    ctx.pending.delete(unit.id);
    ctx.settle(unit);
  }

  private retry(unit: Unit, task: ResolvedTask, pending: Pending, error: UnitFailure): void {
    const { ctx } = this;
    const delayMs = fullJitter(ctx.o.ports.random, task.backoffMs, pending.attempt - 1);
    this.announceRetry(unit, pending, { delayMs, kind: 'retry', error });
    pending.attempt++;
    this.requeueAfter(unit, task, delayMs);
  }

  /** The `unit:retry` event of `unit`'s current attempt: a retry after a failure, or a push-back. */
  private announceRetry(unit: Unit, pending: Pending, retry: RetryDetail): void {
    this.ctx.o.emit({ type: 'unit:retry', time: this.ctx.now(), task: unit.task, unit: unit.id, attempt: pending.attempt, ...retry });
  }

  /** Waits `delayMs` (status `retrying`), then queues the unit for a slot again. */
  private requeueAfter(unit: Unit, task: ResolvedTask, delayMs: number): void {
    const { ctx } = this;
    ctx.book.transition(unit.id, 'retrying');
    const timer = ctx.o.ports.timers.set(() => {
      this.retryTimers.delete(unit.id);
      ctx.book.transition(unit.id, 'queued');
      ctx.queue.push(unit.id, task.uses, task.priority);
      ctx.pump();
    }, delayMs);
    this.retryTimers.set(unit.id, { timer, until: ctx.now() + delayMs });
  }

  /** The service said "too many requests": requeue the unit (not a retry) and pause the service. */
  private pushBack(
    unit: Unit,
    task: ResolvedTask,
    pending: Pending,
    asked: { readonly retryAfterMs: number | undefined; readonly unreadable?: string },
    startedAt: number,
  ): void {
    const { ctx } = this;
    const { retryAfterMs, unreadable } = asked;
    pending.pushBacks++;
    this.pushBacks++;
    if (pending.pushBacks > task.maxPushBacks) {
      const message = `its service pushed back ${pending.pushBacks} times (limit ${task.maxPushBacks}); the task's maxPushBacks sets the limit`;
      this.fail(
        unit,
        { reason: 'push-back-limit', pushBacks: pending.pushBacks, message },
        { attempt: pending.attempt, outputTail: '', removed: [] },
      );
      return;
    }
    const times = pending.pushBacks === 1 ? 'once' : `${pending.pushBacks} times`;
    const error: UnitFailure = {
      reason: 'pushed-back',
      pushBacks: pending.pushBacks,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      ...(unreadable !== undefined ? { unreadableRetryAfter: unreadable } : {}),
      message:
        unreadable === undefined
          ? `its service pushed back (${times})`
          : `its service pushed back (${times}); its Retry-After "${unreadable}" is no number of seconds, HTTP date or duration, so runcue backs off`,
    };
    const { delayMs, services } = this.admission.pushBack(task, retryAfterMs, startedAt);
    this.announceRetry(unit, pending, { delayMs, kind: 'push-back', error, services: [...services] });
    if (services.length === 0) {
      // Only the default cpu service: delay this unit alone rather than every local task.
      this.requeueAfter(unit, task, delayMs);
      return;
    }
    ctx.book.transition(unit.id, 'queued');
    ctx.queue.push(unit.id, task.uses, task.priority);
  }

  /** Fails `unit`: reported, its hook called, its downstream blocked (unless a signal stopped it). */
  fail(unit: Unit, error: UnitFailure, detail: FailureDetail): void {
    const { ctx } = this;
    // An abandoned attempt may still write: its record stays until it settles and is swept.
    if (!this.abandoned.holds(unit.id)) ctx.o.inflight?.release(unit.id);
    // Stopped by a signal: not the unit's fault, and its downstream is "not started", not blocked.
    const interrupted = error.reason === 'aborted' && ctx.state.interrupted !== undefined;
    ctx.book.fail(unit, error, interrupted);
    const pending = ctx.pending.get(unit.id);
    if (pending) ctx.ledger.failedOn(unit.id, pending.inputs);
    const { attempt, outputTail, removed, durationMs = 0, command, host } = detail;
    ctx.o.emit({
      type: 'unit:fail',
      time: ctx.now(),
      task: unit.task,
      unit: unit.id,
      durationMs,
      attempt,
      error,
      outputTail,
      removed,
      ...(command ? { command } : {}),
      ...(host === undefined ? {} : { host }),
    });
    const info: { durationMs: number; attempt: number; error: string; exitCode?: number } = { durationMs, attempt, error: error.message };
    if ((error.reason === 'exit-non-zero' || error.reason === 'input-removed') && error.exitCode !== undefined)
      info.exitCode = error.exitCode;
    ctx.hooks.unit('failure', unit, () => unitInfo(unit, inputsByName(unit, new Map()), attempt), info);
    if (!ctx.o.keepGoing && error.reason !== 'aborted') ctx.state.stopping = true;
    ctx.book.afterFailure(unit.id, interrupted);
  }

  /** Its function ignored the abort: no retry beside it, and its late writes are swept. */
  private abandon(unit: Unit, attempt: AbandonedAttempt, couldRetry: boolean): void {
    const retry = couldRetry ? 'it is not retried while it may still run, and ' : '';
    this.ctx.warn(
      unit.id,
      `attempt ${attempt.attempt} ignored its abort signal and is abandoned: ${retry}what it writes from now on is removed`,
    );
    this.track(unit, attempt);
  }

  /**
   * A function that failed may have left a timer or a promise that writes later: what it writes
   * before the run ends is removed then (its in-flight record stays until that sweep).
   */
  private sweepAtEnd(unit: Unit, task: ResolvedTask, attempt: number): void {
    this.track(unit, abandonAttempt({ fs: this.ctx.o.fs, unit, attempt, settled: this.runEnded, keepOutputs: task.keepFailedOutputs }));
  }

  private track(unit: Unit, attempt: AbandonedAttempt): void {
    this.abandoned.add(
      attempt,
      (a, removed) => this.lateWrite(a, removed),
      () => this.ctx.o.inflight?.release(unit.id),
    );
  }

  private lateWrite(attempt: AbandonedAttempt, removed: readonly string[]): void {
    this.ctx.warn(attempt.unit, `removed what attempt ${attempt.attempt} wrote after it failed: ${removed.join(', ')}`);
  }

  /** As the run ends: units stopped between attempts still hold their records; release them. */
  releaseRecords(): void {
    this.ctx.o.inflight?.releaseAll(this.abandoned.units());
  }

  /** Waits up to `boundMs` for abandoned attempts, then sweeps what they wrote. */
  async drain(boundMs: number): Promise<void> {
    await this.abandoned.drain(boundMs, (a, removed) => this.lateWrite(a, removed));
  }
}

/**
 * Whether another attempt could end otherwise: not after a stop, a file runcue itself could not
 * write, a worker pool that cannot serve, a handler that said not to retry, or an input that is
 * gone (a build or watch sees it missing next).
 */
function retryable(failure: UnitFailure): boolean {
  switch (failure.reason) {
    case 'aborted':
    case 'file-error':
    case 'worker-failed':
    case 'queue-error':
    case 'input-removed':
      return false;
    case 'worker-error':
      return failure.retry;
    default:
      return true;
  }
}
