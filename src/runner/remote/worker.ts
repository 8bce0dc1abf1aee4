/**
 * `runcue worker --queue`: takes jobs from every queue of its config and runs each with the
 * executors of a local build and the common part around an attempt (runUnit: output
 * directories, partial outputs removed, outputs checked, fingerprint recorded), here, where the
 * outputs are written. A failure is the job's result (the coordinator decides on retries); a
 * push-back pauses the queue for every worker; a stopped worker puts its jobs back.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job, Queue, Worker } from 'bullmq';
import type { ResolvedConfig, ResolvedTask } from '../../config/resolved.ts';
import type { RunEvent } from '../events.ts';
import { runUnit, type UnitRunOutcome } from '../execute/attempt.ts';
import type { ExecutorFor } from '../execute/executor.ts';
import { ServiceSlots, type HeldSlots } from './slots.ts';
import { configHash, viewOfJob, type JobData, type JobResult, type JobStart } from './job.ts';
import { queuesOf, QUEUE_PREFIX } from './names.ts';
import { connectionOf, type RedisTarget } from './redis.ts';
import { gateRatesOf, StartGate } from './start-gate.ts';

/** A push-back without a retry-after pauses the queue this long. */
const DEFAULT_PUSH_BACK_MS = 1000;

/** Why a worker runs a unit: its coordinator found it stale and sent it (the reason is the coordinator's to tell). */
const JOB_REASON = { kind: 'forced' } as const;

/** What a worker prints: the unit events of the jobs it runs (a start's time: when the gate admitted it, Redis's clock). */
export type QueueWorkerEvent = Extract<RunEvent, { type: 'unit:start' | 'unit:done' | 'unit:fail' | 'unit:log' }>;

/** How a queue worker runs. */
export interface QueueWorkerOptions {
  readonly target: RedisTarget;
  readonly config: ResolvedConfig;
  /** The name of this worker's machine: `scope: 'host'` services are held per host name. */
  readonly host: string;
  /** Jobs run at once by this worker, per queue. */
  readonly concurrency: number;
  /** The executors of a local build (processes, functions, worker pools). */
  readonly executorFor: ExecutorFor;
  /** Stops taking jobs; running ones are stopped and put back for another worker. */
  readonly signal: AbortSignal;
  readonly onEvent: (event: QueueWorkerEvent) => void;
  /** How long a job's lock lasts unrenewed: a killed worker's job is redelivered after about this (default 10 s). */
  readonly lockMs?: number;
  /** Called once every queue's worker is connected and taking jobs. */
  readonly onReady?: () => void;
}

/** Runs jobs until `signal` aborts; resolves when every queue's worker has closed. */
export async function runQueueWorker(o: QueueWorkerOptions): Promise<void> {
  const { Queue, Worker } = await import('bullmq');
  const { Redis } = await import('ioredis');
  const hash = configHash(o.config);
  const { host } = o;
  const connection = connectionOf(o.target);
  const lockMs = o.lockMs ?? 10_000;
  const running = new Set<AbortController>();
  const redis = new Redis(connection);
  const gate = new StartGate(redis);
  const slots = new ServiceSlots({ redis, config: o.config, host, leaseMs: lockMs });
  const workers: Worker[] = [];
  const queues: Queue[] = [];
  for (const name of queuesOf(o.config).keys()) {
    const queue = new Queue(name, { connection, prefix: QUEUE_PREFIX });
    queues.push(queue);
    const processor = (job: Job<JobData>, token?: string): Promise<JobResult> =>
      processJob({ o, job, token, queue, hash, host, running, slots, gate });
    workers.push(
      new Worker<JobData, JobResult>(name, processor, {
        connection,
        prefix: QUEUE_PREFIX,
        concurrency: o.concurrency,
        lockDuration: lockMs,
        stalledInterval: Math.max(1000, Math.floor(lockMs / 2)),
        // A job whose worker died is redelivered, twice; the third time it fails.
        maxStalledCount: 2,
      }),
    );
  }
  // BullMQ reconnects by itself (a Redis restart, a network blip): said, once per message, not fatal.
  const said = new Set<string>();
  const warn = (error: Error): void => {
    if (said.has(error.message)) return;
    said.add(error.message);
    o.onEvent({ type: 'unit:log', time: Date.now(), task: '', unit: '(worker)', stream: 'warning', text: `queue: ${error.message}` });
  };
  for (const w of workers) w.on('error', warn);
  for (const q of queues) q.on('error', warn);
  redis.on('error', warn);
  // Said only once it is so: a worker that says it takes jobs while BullMQ still connects lets a
  // build (or a test) start before it, and it then gets no share of the first jobs.
  void Promise.all(workers.map((w) => w.waitUntilReady())).then(
    () => o.onReady?.(),
    () => undefined,
  );
  await new Promise<void>((resolve) => {
    if (o.signal.aborted) resolve();
    else o.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  for (const controller of running) controller.abort();
  await Promise.allSettled(workers.map((w) => w.close()));
  await Promise.allSettled(queues.map((q) => q.close()));
  slots.close();
  redis.disconnect();
}

interface JobContext {
  readonly o: QueueWorkerOptions;
  readonly job: Job<JobData>;
  readonly token: string | undefined;
  readonly queue: Queue;
  readonly hash: string;
  readonly host: string;
  readonly running: Set<AbortController>;
  readonly slots: ServiceSlots;
  readonly gate: StartGate;
}

async function processJob(c: JobContext): Promise<JobResult> {
  const { o, job } = c;
  const data = job.data;
  const base = { task: data.unit.task, unit: data.unit.id };
  const view = viewOfJob(data, o.config, c.hash);
  if (!view.ok) {
    o.onEvent({ type: 'unit:log', time: Date.now(), ...base, stream: 'warning', text: `refused: ${view.error}` });
    return { kind: 'failed', host: c.host, failure: { reason: 'queue-error', message: view.error }, outputTail: '', removed: [] };
  }
  const task = o.config.tasks.get(data.unit.task);
  if (!task) throw new Error(`internal error: no task ${data.unit.task}`);
  const command = view.value.run.kind === 'function' ? undefined : view.value.run.text;
  const admitted = await admit(c, task);
  if (admitted === undefined) return putBack(c);
  const { held, time } = admitted;
  const started: JobStart = { time, host: c.host };
  // For the coordinator's unit:start (a lost progress event is made up for by the result's `started`).
  job.updateProgress(started).catch(() => undefined);
  o.onEvent({
    type: 'unit:start',
    time,
    ...base,
    attempt: data.attempt,
    reason: JOB_REASON,
    host: c.host,
    ...(command ? { command } : {}),
  });
  const controller = new AbortController();
  c.running.add(controller);
  let outcome: UnitRunOutcome;
  // When the unit ended: read before its slots are released, so that its end is never later than
  // the start of the unit that takes its slot next (the events' spans of a `concurrent: 1`
  // service then never overlap; read after, they did by a few ms).
  let endedAt: number;
  try {
    outcome = await runUnit(
      { view: view.value, attempt: data.attempt, signal: controller.signal, root: o.config.root },
      o.executorFor(task),
    );
  } finally {
    endedAt = Date.now();
    c.running.delete(controller);
    // Not waited for: the outcome goes out at once, and a lost release ends with its lease.
    void c.slots.release(held);
  }
  // `time` is on Redis's clock, which may be a little ahead of this machine's.
  const durationMs = Math.max(0, endedAt - time);
  if (o.signal.aborted) return putBack(c);
  switch (outcome.kind) {
    case 'done':
      o.onEvent({ type: 'unit:done', time: endedAt, ...base, durationMs, inputsChanged: outcome.inputsChanged, host: c.host });
      return {
        kind: 'done',
        host: c.host,
        started,
        inputsChanged: outcome.inputsChanged,
        rewrote: outcome.rewrote,
        written: outcome.written,
      };
    case 'push-back':
      return pushBack(c, outcome.retryAfterMs);
    case 'failed': {
      const { failure, outputTail, removed } = outcome;
      o.onEvent({
        type: 'unit:fail',
        time: endedAt,
        ...base,
        durationMs,
        attempt: data.attempt,
        error: failure,
        outputTail,
        removed,
        host: c.host,
      });
      return { kind: 'failed', host: c.host, started, failure, outputTail, removed };
    }
  }
}

/**
 * Waits for the unit's concurrency slots (its services', over every worker; a host service's, on
 * this host), then for the start gate of its rates (in that order: the gate's admission is the
 * moment the unit starts). Undefined when the worker stops first.
 */
async function admit(c: JobContext, task: ResolvedTask): Promise<{ held: HeldSlots; time: number } | undefined> {
  const token = `${c.host}:${c.job.id ?? ''}:${randomUUID()}`;
  const held = await c.slots.acquire(task, token, c.o.signal);
  if (held === undefined) return undefined;
  // A job fetched before another worker's push-back paused the queue would otherwise start
  // inside the pause: BullMQ's rate limit only stops fetching.
  if (!(await pausedOut(c))) {
    await c.slots.release(held);
    return undefined;
  }
  const time = await c.gate.pass(gateRatesOf(task, c.o.config, c.host), token, c.o.signal).catch((error: unknown) => {
    void c.slots.release(held);
    throw error;
  });
  if (time !== undefined) return { held, time };
  await c.slots.release(held);
  return undefined;
}

/** The service pushed back: every worker of the queue pauses, and the job goes back to wait. */
async function pushBack(c: JobContext, retryAfterMs: number | undefined): Promise<never> {
  const { Worker } = await import('bullmq');
  const ms = retryAfterMs ?? DEFAULT_PUSH_BACK_MS;
  // The pause is in force before it is announced: no worker starts a unit after this line.
  await c.queue.rateLimit(ms);
  c.o.onEvent({
    type: 'unit:log',
    time: Date.now(),
    task: c.job.data.unit.task,
    unit: c.job.data.unit.id,
    stream: 'warning',
    text: `pushed back: queue ${c.queue.name} paused for ${ms} ms on every worker`,
  });
  throw Worker.RateLimitError();
}

/** Waits while the queue is paused by a push-back; false when the worker stops first. */
async function pausedOut(c: JobContext): Promise<boolean> {
  for (;;) {
    if (c.o.signal.aborted) return false;
    const ttl = await c.queue.getRateLimitTtl();
    if (ttl <= 0) return true;
    await sleep(ttl, undefined, { signal: c.o.signal }).catch(() => undefined);
  }
}

/** This worker is stopping: the job goes back to wait for another worker, not counted as an attempt. */
async function putBack(c: JobContext): Promise<never> {
  const { WaitingError } = await import('bullmq');
  await c.job.moveToWait(c.token);
  throw new WaitingError();
}
