/**
 * The persistent-worker executor: an attempt is one task sent to a worker of the unit's task
 * pool, and its answer. A worker that ends holding the unit fails it and is replaced; a timeout
 * or a stop kills the worker's tree before the attempt ends, so nothing writes after its
 * outputs are removed. Timeouts run on real timers: they bound a real process.
 */
import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkerSpec } from '../../config/resolved.ts';
import type { UnitFailure } from '../events.ts';
import type { AttemptRequest, Executor, ExecutorOutcome } from '../execute/executor.ts';
import { OutputTail } from '../execute/output-tail.ts';
import { attemptInfo } from '../execute/unit-view.ts';
import type { WorkerPool, PooledWorker } from './pool.ts';
import type { WorkerAnswer } from './protocol.ts';
import { describeEnd, type WorkerEnd } from './worker-process.ts';
import { timerMs } from '../ports.ts';

/** How a task sent to a worker ended. */
type Reply =
  | { readonly kind: 'answer'; readonly answer: WorkerAnswer }
  /** `heard`: it printed something for the task, so it read it. */
  | { readonly kind: 'ended'; readonly end: WorkerEnd; readonly heard: boolean }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'aborted' };

/** Clean exits after an answer, holding an unread unit, before the unit counts them as a crash. */
const MAX_HANDOFFS = 3;

/** An executor that runs a worker task's units on its pool. */
export function workerExecutor(pool: WorkerPool, root: string): Executor {
  return { run: (request) => runOnPool(pool, root, request) };
}

async function runOnPool(pool: WorkerPool, root: string, request: AttemptRequest): Promise<ExecutorOutcome> {
  const tail = new OutputTail();
  const failed = (failure: UnitFailure): ExecutorOutcome => ({ kind: 'failed', failure, outputTail: tail.text() });
  for (let handoffs = 0; ; handoffs++) {
    const acquired = await pool.acquire(request.signal, request.view.unit.id);
    if (!acquired.ok) {
      // What the worker said before it failed to start: the first unit to see the failure shows it.
      if (acquired.stderr !== undefined) tail.push(acquired.stderr);
      return failed(acquired.failure);
    }
    const { worker } = acquired;
    const reply = await ask(worker, request, tail);
    switch (reply.kind) {
      case 'answer':
        return answered(pool, worker, reply.answer, { root, request, failed });
      case 'ended': {
        // runqy's run_once: it answered one task and exited, never reading this one.
        if (reply.end.code === 0 && worker.process.answered > 0 && !reply.heard && handoffs < MAX_HANDOFFS) {
          await pool.letGo(worker);
          continue;
        }
        const message = `its worker (#${worker.number}) ${describeEnd(reply.end)} while running it`;
        await pool.discard(worker, 'crashed', message);
        return failed({ reason: 'worker-crashed', message });
      }
      case 'timeout': {
        const timeoutMs = request.view.timeoutMs ?? 0;
        await pool.discard(worker, 'killed', `its unit timed out after ${timeoutMs} ms`);
        return failed({ reason: 'timeout', timeoutMs, message: `timed out after ${timeoutMs} ms` });
      }
      case 'aborted':
        await pool.discard(worker, 'killed');
        return failed({ reason: 'aborted', message: 'stopped' });
    }
  }
}

/** Sends the unit to the worker and waits for its answer, its end, the timeout or a stop. */
function ask(worker: PooledWorker, request: AttemptRequest, tail: OutputTail): Promise<Reply> {
  const { view, signal, log } = request;
  return new Promise((resolve) => {
    let heard = false;
    const finish = (reply: Reply): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      worker.process.release();
      resolve(reply);
    };
    const timer = view.timeoutMs === undefined ? undefined : setTimeout(() => finish({ kind: 'timeout' }), timerMs(view.timeoutMs));
    const onAbort = (): void => finish({ kind: 'aborted' });
    if (signal.aborted) {
      finish({ kind: 'aborted' });
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    worker.process.send(
      { task_id: view.unit.id, payload: attemptInfo(view, request.attempt) },
      {
        answer: (answer) => finish({ kind: 'answer', answer }),
        log: (stream, line) => {
          heard = true;
          tail.push(`${line}\n`);
          log?.(stream, `${line}\n`);
        },
        ended: (end) => finish({ kind: 'ended', end, heard }),
      },
    );
  });
}

interface AnswerContext {
  readonly root: string;
  readonly request: AttemptRequest;
  readonly failed: (failure: UnitFailure) => ExecutorOutcome;
}

/** The unit's outcome from the worker's answer. */
async function answered(pool: WorkerPool, worker: PooledWorker, answer: WorkerAnswer, ctx: AnswerContext): Promise<ExecutorOutcome> {
  const { view } = ctx.request;
  if (answer.task_id !== view.unit.id) {
    const message = `protocol error: its worker (#${worker.number}) answered task ${JSON.stringify(answer.task_id)} while running ${JSON.stringify(view.unit.id)}`;
    await pool.discard(worker, 'protocol-error', message);
    return ctx.failed({ reason: 'worker-crashed', message });
  }
  pool.release(worker);
  if (answer.error !== null) return ctx.failed({ reason: 'worker-error', retry: answer.retry, message: answer.error });
  const failure = writeResult(ctx.root, pool.task.spec, view.unit.outputs[0]?.path, answer.result);
  return failure ? ctx.failed(failure) : { kind: 'done' };
}

/** `writeResult`: the answer's result, written to the single output atomically (temp file, rename). */
function writeResult(root: string, spec: WorkerSpec, output: string | undefined, result: unknown): UnitFailure | undefined {
  if (spec.writeResult === undefined || output === undefined) return undefined;
  const text =
    spec.writeResult === 'json'
      ? `${JSON.stringify(result ?? null, null, 2)}\n`
      : typeof result === 'string'
        ? result
        : JSON.stringify(result ?? null);
  const file = join(root, output);
  const temp = `${file}.runcue-${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(temp, text);
    renameSync(temp, file);
    return undefined;
  } catch (error) {
    rmSync(temp, { force: true });
    return {
      reason: 'file-error',
      path: output,
      message: `could not write the worker's result: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}
