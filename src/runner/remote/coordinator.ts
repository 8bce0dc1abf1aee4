/**
 * The coordinator's executor (`runcue build --queue`): an attempt becomes a BullMQ job in the
 * queue of the unit's services, and its outcome is the job's result. Completion is heard from
 * BullMQ's events and also polled, since events can be missed (a reconnect, a restart).
 */
import type { Job, Queue, QueueEvents } from 'bullmq';
import type { ResolvedConfig, ResolvedTask } from '../../config/resolved.ts';
import type { UnitRunOutcome, UnitRunRequest } from '../execute/attempt.ts';
import type { Executor, ExecutorFor, ExecutorOutcome } from '../execute/executor.ts';
import { jobData, jobId, type JobResult, type JobStart } from './job.ts';
import { limitsOf, queueNameOf, QUEUE_PREFIX, type QueueLimits } from './names.ts';
import { connectionOf, type RedisTarget } from './redis.ts';

/** How long a finished job's result stays in Redis (a restarted coordinator may ask for it). */
const KEEP_DONE_S = 24 * 3600;

/**
 * BullMQ's rate limit on every queue: never reached (the start gate holds the rates, see
 * start-gate.ts), yet a limit, since BullMQ honours a pause (a push-back) only on a limited queue.
 */
const UNBOUNDED_RATE = 1_000_000_000;

/** One queue as the coordinator holds it. */
interface OpenQueue {
  readonly queue: Queue;
  readonly events: QueueEvents;
  /** Attempts waiting for their job to end, by job id. */
  readonly waiters: Map<string, (end: JobEnd) => void>;
  /** Attempts waiting for their job to start, by job id (its progress says when and where). */
  readonly starters: Map<string, (start: JobStart) => void>;
}

/** What the coordinator needs to add jobs. */
export interface RemoteOptions {
  readonly target: RedisTarget;
  readonly config: ResolvedConfig;
  readonly configHash: string;
  /** How often an attempt asks Redis for its job's state, events aside (default 1 s). */
  readonly pollMs?: number;
  /** A connection problem BullMQ retries by itself (Redis restarting): said once per message. */
  readonly onWarning?: (text: string) => void;
}

/** The queues of one coordinator's run, opened as units need them. */
export class RemoteQueues {
  private readonly o: RemoteOptions;
  private readonly open = new Map<string, Promise<OpenQueue>>();
  private readonly said = new Set<string>();
  /** A job that finished after this is this run's own work (a restarted coordinator's). */
  private readonly since = Date.now();

  constructor(options: RemoteOptions) {
    this.o = options;
  }

  /** Every task's units go through the queue of its services. */
  readonly executorFor: ExecutorFor = (task) => this.executor(task);

  private executor(task: ResolvedTask): Executor {
    const runWhole = (request: UnitRunRequest): Promise<UnitRunOutcome> => this.run(task, request);
    return {
      runWhole,
      run: async (request) => executorOutcome(await runWhole({ ...request, root: this.o.config.root })),
      queued: true,
    };
  }

  /** Closes every queue's connections. */
  async close(): Promise<void> {
    const opened = await Promise.allSettled(this.open.values());
    this.open.clear();
    await Promise.allSettled(opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value.events.close(), o.value.queue.close()] : [])));
  }

  private async run(task: ResolvedTask, request: UnitRunRequest): Promise<UnitRunOutcome> {
    try {
      const q = await this.queueOf(task);
      const id = jobId(request.view, request.attempt);
      const onStart = once(request.onStart);
      q.starters.set(id, onStart);
      const ended = new Promise<UnitRunOutcome>((resolve) =>
        q.waiters.set(id, (end) => {
          // A start heard of only with the end (its progress event missed, a polled end).
          if (end.started) onStart(end.started);
          resolve(end.outcome);
        }),
      );
      const joined = await this.add(q.queue, task, request, id);
      return await this.until(q, id, ended, request.signal, joined ? 0 : undefined);
    } catch (error) {
      return queueFailure(`Redis: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * Adds the job, unless the same job (same unit, inputs, command and attempt) is waiting or
   * running, or finished during this run: then this attempt joins it (true).
   */
  private async add(queue: Queue, task: ResolvedTask, request: UnitRunRequest, id: string): Promise<boolean> {
    if (await joinable(queue, id, this.since)) return true;
    await queue.add(task.name, jobData(request.view, request.attempt, this.o.configHash), {
      jobId: id,
      attempts: 1,
      removeOnComplete: { age: KEEP_DONE_S },
      removeOnFail: { age: KEEP_DONE_S },
    });
    return false;
  }

  /** Resolves when the job ends (event or poll), or at once when the run stops (a waiting job is removed). */
  private async until(
    q: OpenQueue,
    id: string,
    ended: Promise<UnitRunOutcome>,
    signal: AbortSignal,
    firstPollMs: number | undefined,
  ): Promise<UnitRunOutcome> {
    const pollMs = this.o.pollMs ?? 1000;
    let timer: NodeJS.Timeout | undefined;
    const poll = async (): Promise<void> => {
      const end = await polledEnd(q.queue, id).catch(() => undefined);
      if (end) q.waiters.get(id)?.(end);
      else timer = setTimeout(() => void poll(), pollMs);
    };
    timer = setTimeout(() => void poll(), firstPollMs ?? pollMs);
    const aborted = new Promise<UnitRunOutcome>((resolve) => {
      const onAbort = (): void => {
        void removeIfWaiting(q.queue, id).finally(() => resolve(queueAborted()));
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([ended, aborted]);
    } finally {
      clearTimeout(timer);
      q.waiters.delete(id);
      q.starters.delete(id);
    }
  }

  private readonly warn = (error: Error): void => {
    if (this.said.has(error.message)) return;
    this.said.add(error.message);
    this.o.onWarning?.(`queue: ${error.message} (BullMQ retries)`);
  };

  private queueOf(task: ResolvedTask): Promise<OpenQueue> {
    const name = queueNameOf(task, this.o.config);
    let opened = this.open.get(name);
    if (!opened) {
      opened = this.openQueue(name, limitsOf(task, this.o.config));
      this.open.set(name, opened);
    }
    return opened;
  }

  private async openQueue(name: string, limits: QueueLimits): Promise<OpenQueue> {
    const { Queue, QueueEvents } = await import('bullmq');
    const connection = connectionOf(this.o.target);
    const queue = new Queue(name, { connection, prefix: QUEUE_PREFIX });
    queue.on('error', this.warn);
    await applyLimits(queue, limits);
    const events = new QueueEvents(name, { connection, prefix: QUEUE_PREFIX });
    events.on('error', this.warn);
    const waiters = new Map<string, (end: JobEnd) => void>();
    const starters = new Map<string, (start: JobStart) => void>();
    events.on('progress', ({ jobId: id, data }) => {
      const start = startOf(data);
      if (start) starters.get(id)?.(start);
    });
    events.on('completed', ({ jobId: id, returnvalue }) => waiters.get(id)?.(endOf(returnvalue)));
    events.on('failed', ({ jobId: id, failedReason }) => waiters.get(id)?.({ outcome: queueFailure(failedReason) }));
    await events.waitUntilReady();
    return { queue, events, waiters, starters };
  }
}

/** What {@link joinable} reads of a queue. */
export type JobLookup = Pick<Queue, 'getJobState' | 'getJob'>;

/**
 * Whether job `id` is one to join rather than add: waiting, running, or finished at or after
 * `since` (during this run). One that finished before, in an earlier run, is removed: its unit
 * was found stale again since (an output deleted, say), so it runs again.
 */
export async function joinable(queue: JobLookup, id: string, since: number): Promise<boolean> {
  // Most jobs are new: one read says so, as cheaply as before adding it.
  if (!(await queue.getJob(id))) return false;
  const state = await queue.getJobState(id);
  if (state === 'unknown') return false;
  if (state !== 'completed' && state !== 'failed') return true;
  // The job again, read after its state: the first read may be of the job before it finished,
  // without a finishedOn, as if it finished before this run; a restarted coordinator would then
  // remove and add again a job its predecessor left running, and its unit would run twice.
  const job = (await queue.getJob(id)) as Job | undefined;
  if (!job) return false;
  if ((job.finishedOn ?? 0) >= since) return true;
  await job.remove();
  return false;
}

/** Sets (or clears) the queue's global concurrency in Redis, and its rate limit that never binds. */
async function applyLimits(queue: Queue, limits: QueueLimits): Promise<void> {
  if (limits.concurrency === undefined) await queue.removeGlobalConcurrency();
  else await queue.setGlobalConcurrency(limits.concurrency);
  await queue.setGlobalRateLimit(UNBOUNDED_RATE, 1000);
}

/** The end of a job found by asking Redis; undefined while it waits or runs. */
async function polledEnd(queue: Queue, id: string): Promise<JobEnd | undefined> {
  const state = await queue.getJobState(id);
  if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return undefined;
  // Read after its state: a job read first may have finished since, its result unread.
  const job = (await queue.getJob(id)) as Job | undefined;
  if (!job) return { outcome: queueFailure(`its job ${id} is gone from Redis (removed by hand, or Redis was flushed)`) };
  return state === 'completed' ? endOf(job.returnvalue) : { outcome: queueFailure(job.failedReason) };
}

async function removeIfWaiting(queue: Queue, id: string): Promise<void> {
  try {
    const job = (await queue.getJob(id)) as Job | undefined;
    const state = await job?.getState();
    if (job && (state === 'waiting' || state === 'delayed' || state === 'prioritized')) await job.remove();
  } catch {
    // The run is stopping: a job left behind is only work a worker will do once.
  }
}

/** How a job ended: the attempt's outcome, and when and where it started (when it did). */
interface JobEnd {
  readonly outcome: UnitRunOutcome;
  readonly started?: JobStart;
}

/** The end of a job from its result (JSON from the worker). */
function endOf(value: unknown): JobEnd {
  const result = (typeof value === 'string' ? JSON.parse(value) : value) as JobResult | null;
  const started = startOf(result?.started);
  const at = started ? { started } : {};
  if (result?.kind === 'done') {
    const { inputsChanged, rewrote, written, host } = result;
    return { outcome: { kind: 'done', inputsChanged, rewrote, written, host }, ...at };
  }
  if (result?.kind === 'failed') {
    const { failure, outputTail, removed, host } = result;
    return { outcome: { kind: 'failed', failure, outputTail, removed, host }, ...at };
  }
  return { outcome: queueFailure(`its job ended with an unexpected result ${JSON.stringify(value)}`) };
}

/** A job's start, from its progress or its result; undefined for anything else. */
function startOf(data: unknown): JobStart | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const { time, host } = data as Partial<JobStart>;
  return typeof time === 'number' && typeof host === 'string' ? { time, host } : undefined;
}

/** `fn`, called at most once. */
function once<T>(fn: ((value: T) => void) | undefined): (value: T) => void {
  let called = false;
  return (value) => {
    if (called) return;
    called = true;
    fn?.(value);
  };
}

/** A whole attempt's outcome as an executor's (for callers that use `run`). */
function executorOutcome(outcome: UnitRunOutcome): ExecutorOutcome {
  if (outcome.kind === 'failed') return { kind: 'failed', failure: outcome.failure, outputTail: outcome.outputTail };
  return outcome.kind === 'done' ? { kind: 'done' } : { kind: 'push-back', retryAfterMs: outcome.retryAfterMs };
}

function queueFailure(message: string): UnitRunOutcome {
  return { kind: 'failed', failure: { reason: 'queue-error', message }, outputTail: '', removed: [] };
}

function queueAborted(): UnitRunOutcome {
  return { kind: 'failed', failure: { reason: 'aborted', message: 'the run was stopped' }, outputTail: '', removed: [] };
}
