/**
 * The function executor: one attempt of a function task. The function gets an AbortSignal
 * (timeout, stop, or an error escaping from a timer it started); one that ignores it is given
 * `killGraceMs` to settle, and is then abandoned: the attempt fails, and its promise is handed
 * back so that nothing retries the unit beside it and a late write can be swept (see
 * abandoned.ts). The timeout and the grace period run on real timers: they bound user code that
 * runs on real time, not the scheduler's virtual time.
 */
import { describeThrown } from '../../describe-thrown.ts';
import type { UnitFailure } from '../events.ts';
import { runInScope, type EscapeKind } from '../function-scope.ts';
import { asRateLimited } from '../push-back.ts';
import type { AttemptRequest, Executor, ExecutorOutcome } from './executor.ts';
import { OutputTail } from './output-tail.ts';
import { attemptInfo } from './unit-view.ts';
import { userStack } from './user-stack.ts';
import { timerMs } from '../ports.ts';
import type { ProcessGroups } from '../process-groups.ts';
import { stopFunctionCommands } from './escaped.ts';

/** What every function attempt of a run shares. */
export interface FunctionContext {
  /** How long a function that ignores its abort signal has before it is abandoned. */
  readonly killGraceMs: number;
  /** Aborted by a second Ctrl-C: a function still running after its stop is abandoned at once. */
  readonly stopNow?: AbortSignal;
  /** Watches attempts with a timeout for a function that never yields the thread (see StuckWatch). */
  readonly stuckWatch?: StuckWatch;
  /** The run's process groups: their marker finds the commands a stopped function started itself. */
  readonly groups?: ProcessGroups;
}

/**
 * A timeout can only stop a function that yields: one that loops without awaiting holds the
 * thread the timers run on. Something outside this thread (cli/stuck-watch.ts) is told each
 * attempt's deadline; `arm` returns the call that says the attempt is over.
 */
export interface StuckWatch {
  /** `what` holds the thread: `function`, `ready() check`, `stale() check`. */
  arm(unit: string, what: string, timeoutMs: number, deadline: number): () => void;
}

/** An executor that calls function tasks' functions in this process. */
export function functionExecutor(context: FunctionContext): Executor {
  return { run: (request) => runFunction(request, context) };
}

/** Why the attempt was stopped before its function settled. */
type StopCause =
  { readonly kind: 'stopped' } | { readonly kind: 'timeout'; readonly ms: number } | { readonly kind: 'escaped'; readonly message: string };

type Settled = { readonly ok: true } | { readonly ok: false; readonly error: unknown };

/** Runs one attempt of a function task. */
export async function runFunction(req: AttemptRequest, context: FunctionContext): Promise<ExecutorOutcome> {
  const { view } = req;
  if (view.run.kind !== 'function') throw new Error(`internal error: ${view.unit.id} is not a function task`);
  const fn = view.run.fn;
  const tail = new OutputTail();
  const controller = new AbortController();
  let cause: StopCause | undefined;
  let stoppedAt = 0;
  let over = false;
  const stop = (why: StopCause, reason: unknown): void => {
    if (cause !== undefined || over) return;
    cause = why;
    stoppedAt = Date.now();
    controller.abort(reason);
  };
  const onAbort = (): void => stop({ kind: 'stopped' }, req.signal.reason);
  if (req.signal.aborted) onAbort();
  else req.signal.addEventListener('abort', onAbort, { once: true });
  const timeoutMs = view.timeoutMs;
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => stop({ kind: 'timeout', ms: timeoutMs }, new Error('timeout')), timerMs(timeoutMs));
  // Past its timeout and the grace an abandoned function gets, a function still holding the thread never yields.
  const disarm =
    timeoutMs === undefined
      ? undefined
      : context.stuckWatch?.arm(view.unit.id, 'function', timeoutMs, Date.now() + timeoutMs + context.killGraceMs);
  const log = (message: string): void => {
    tail.push(`${message}\n`);
    req.log?.('log', message);
  };
  const escaped = (error: unknown, kind: EscapeKind): boolean => {
    if (over) return false;
    const message = `${kind}: ${describeThrown(error)}`;
    // A second escape, or one after a timeout, is not the failure's message: keep it in the tail.
    if (cause !== undefined) tail.push(`${message}\n`);
    if (error instanceof Error && error.stack) tail.push(`${userStack(error.stack)}\n`);
    stop({ kind: 'escaped', message }, error);
    return true;
  };
  const info = attemptInfo(view, req.attempt);
  // An async wrapper turns a synchronous throw into a rejection like any other.
  const work: Promise<Settled> = runInScope({ unit: view.unit.id, fail: escaped }, async () =>
    fn(info, { signal: controller.signal, log }),
  ).then(
    () => ({ ok: true }),
    (error: unknown) => ({ ok: false, error }),
  );
  let graceTimer: NodeJS.Timeout | undefined;
  // A function that ignores its signal must not hold the run forever after a timeout or stop.
  const graceOver = new Promise<'abandoned'>((resolve) => {
    const startGrace = (): void => {
      if (context.stopNow?.aborted) resolve('abandoned');
      else graceTimer = setTimeout(() => resolve('abandoned'), timerMs(context.killGraceMs));
    };
    if (controller.signal.aborted) startGrace();
    else controller.signal.addEventListener('abort', startGrace, { once: true });
    // The grace period ends now, as it does for command trees (SIGKILL).
    context.stopNow?.addEventListener('abort', () => controller.signal.aborted && resolve('abandoned'), { once: true });
  });
  const end = await Promise.race([work, graceOver]);
  over = true;
  disarm?.();
  if (timer) clearTimeout(timer);
  if (graceTimer) clearTimeout(graceTimer);
  req.signal.removeEventListener('abort', onAbort);
  if (cause === undefined) return settledAttempt(end === 'abandoned' ? { ok: true } : end, tail);
  if (cause.kind === 'stopped') await stopCommandsOf(context, stoppedAt);
  const failure = stopFailure(cause);
  if (end !== 'abandoned') return { kind: 'failed', failure, outputTail: tail.text() };
  return { kind: 'failed', failure, outputTail: tail.text(), abandoned: work.then(() => undefined) };
}

/**
 * The run is stopped: what the function started with node:child_process (it carries the run's
 * marker) may outlive it, or leave a background job, that would write an output back after it
 * was removed. Stopped as command trees are: SIGTERM, SIGKILL after the grace period.
 */
async function stopCommandsOf(context: FunctionContext, stoppedAt: number): Promise<void> {
  const marker = context.groups?.environment;
  if (marker === undefined) return;
  const deadline = context.stopNow?.aborted ? Date.now() : stoppedAt + context.killGraceMs;
  await stopFunctionCommands(`RUNCUE_RUN=${marker.RUNCUE_RUN}`, stoppedAt, deadline);
}

function settledAttempt(end: Settled, tail: OutputTail): ExecutorOutcome {
  if (end.ok) return { kind: 'done', outputTail: tail.text() };
  const pushBack = asRateLimited(end.error);
  if (pushBack) return { kind: 'push-back', ...pushBack };
  if (end.error instanceof Error && end.error.stack) tail.push(`${userStack(end.error.stack)}\n`);
  return { kind: 'failed', failure: { reason: 'function-error', message: describeThrown(end.error) }, outputTail: tail.text() };
}

function stopFailure(cause: StopCause): UnitFailure {
  switch (cause.kind) {
    case 'timeout':
      return { reason: 'timeout', timeoutMs: cause.ms, message: `timed out after ${cause.ms} ms` };
    case 'stopped':
      return { reason: 'aborted', message: 'stopped' };
    case 'escaped':
      return { reason: 'function-error', message: cause.message };
  }
}
