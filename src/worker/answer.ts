/**
 * How the Node helper turns one stdin line into one answer: parse the task, call the handler,
 * and make whatever it returned or threw into a protocol line that cannot fail to serialize.
 */
import { describeThrown } from '../describe-thrown.ts';
import { answerLine, type WorkerPayload } from '../runner/workers/protocol.ts';

/**
 * Thrown by a handler for a failure worth another attempt (a timeout, a 503): the answer says
 * `retry: true` and runcue retries the unit within its task's `retries`. Any other thrown value
 * fails the unit at once. An error with a `retry: true` property counts as retryable too.
 */
export class RetryableError extends Error {
  readonly retry = true;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RetryableError';
  }
}

/** A handler: one payload in, a JSON-serializable result out (or a throw). */
export type WorkerHandler<Ctx> = (payload: WorkerPayload, ctx: Ctx) => unknown;

/** One answer line, and the diagnostic (a stack) for stderr when the handler failed. */
export interface Answered {
  readonly line: string;
  readonly diagnostic?: string;
}

type Request =
  | { readonly ok: true; readonly taskId: string; readonly payload: WorkerPayload }
  | { readonly ok: false; readonly taskId: string; readonly error: string };

/** Reads one stdin line; a line runcue would never send is answered as an error, not thrown on. */
function parseRequest(line: string): Request {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, taskId: 'unknown', error: `not a JSON task line: ${line.slice(0, 200)}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, taskId: 'unknown', error: `a task line must be a JSON object, got: ${line.slice(0, 200)}` };
  }
  const record = value as Record<string, unknown>;
  const taskId = typeof record['task_id'] === 'string' ? record['task_id'] : 'unknown';
  const payload = record['payload'];
  if (typeof payload !== 'object' || payload === null) return { ok: false, taskId, error: 'the task line has no "payload" object' };
  return { ok: true, taskId, payload: payload as WorkerPayload };
}

function isRetryable(error: unknown): boolean {
  if (error instanceof RetryableError) return true;
  try {
    return typeof error === 'object' && error !== null && (error as { retry?: unknown }).retry === true;
  } catch {
    return false;
  }
}

function failure(taskId: string, error: unknown): Answered {
  const line = answerLine({ task_id: taskId, result: null, error: describeThrown(error), retry: isRetryable(error) });
  const stack = error instanceof Error && typeof error.stack === 'string' ? error.stack : undefined;
  return stack === undefined ? { line } : { line, diagnostic: stack };
}

/** Handles one stdin line: the answer to write, never a throw. */
export async function answerTask<Ctx>(line: string, handle: WorkerHandler<Ctx>, ctx: Ctx): Promise<Answered> {
  const request = parseRequest(line);
  if (!request.ok) return { line: answerLine({ task_id: request.taskId, result: null, error: request.error, retry: false }) };
  let result: unknown;
  try {
    result = await handle(request.payload, ctx);
  } catch (error) {
    return failure(request.taskId, error);
  }
  try {
    return { line: answerLine({ task_id: request.taskId, result: result ?? null, error: null, retry: false }) };
  } catch (error) {
    // A BigInt or a cycle in the result: the unit fails with why, the worker goes on.
    return failure(request.taskId, new Error(`the handler's result is not JSON: ${describeThrown(error)}`));
  }
}
