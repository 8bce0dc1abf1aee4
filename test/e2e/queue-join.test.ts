/**
 * Whether a coordinator joins a job already in Redis or adds it again (`joinable`), on a real
 * redis-server and BullMQ worker: a restarted coordinator must join the jobs its predecessor
 * left, even one that finishes while it looks, and run again only those finished before it.
 */
import { Queue, Worker, type Job } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { joinable, type JobLookup } from '../../src/runner/remote/coordinator.ts';
import { QUEUE_PREFIX } from '../../src/runner/remote/names.ts';
import { startRedis, type TestRedis } from '../rig/redis.ts';

let redis: TestRedis;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  redis = await startRedis();
}, 30_000);
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await redis.command('FLUSHALL');
});

const connection = (): { host: string; port: number } => ({ host: '127.0.0.1', port: redis.port });

function queue(): Queue {
  const q = new Queue('join', { connection: connection(), prefix: QUEUE_PREFIX });
  closers.push(() => q.close());
  return q;
}

/** A worker that holds each job until `finish()` (then waits until BullMQ has it completed). */
function holdingWorker(q: Queue): { finish: () => Promise<void> } {
  let release = (): void => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  const worker = new Worker('join', async () => held.then(() => 'done'), {
    connection: connection(),
    prefix: QUEUE_PREFIX,
  });
  // Forced: a test that failed before finish() leaves its job held.
  closers.push(() => worker.close(true));
  return {
    finish: async () => {
      release();
      await reaches(q, 'completed');
    },
  };
}

/** `q`, where the job finishes right after the first read of it, whichever read that is. */
function finishingAfterFirstRead(q: Queue, finish: () => Promise<void>): JobLookup {
  let first = true;
  const after = async <T>(read: Promise<T>): Promise<T> => {
    const value = await read;
    if (first) {
      first = false;
      await finish();
    }
    return value;
  };
  return {
    getJobState: (id: string) => after(q.getJobState(id)),
    getJob: (id: string) => after(q.getJob(id)) as Promise<Job | undefined>,
  } as JobLookup;
}

/** Waits (5 s at most) until job `j` is in `state`. */
async function reaches(q: Queue, state: 'active' | 'completed'): Promise<void> {
  for (let i = 0; i < 500 && (await q.getJobState('j')) !== state; i++) await new Promise((r) => setTimeout(r, 10));
  expect(await q.getJobState('j')).toBe(state);
}

describe('joinable: a job already in Redis', () => {
  it('is joined when it finishes while a restarted coordinator looks at it, not removed and run again', async () => {
    const q = queue();
    await q.add('slow', {}, { jobId: 'j' });
    const worker = holdingWorker(q);
    await reaches(q, 'active');
    // The coordinator restarts while the job runs.
    const since = Date.now();
    expect(await joinable(finishingAfterFirstRead(q, worker.finish), 'j', since)).toBe(true);
    expect(await q.getJobState('j')).toBe('completed');
  }, 30_000);

  it('is joined while it waits or runs, and when it finished during this run', async () => {
    const q = queue();
    const since = Date.now();
    await q.add('slow', {}, { jobId: 'j' });
    expect(await joinable(q, 'j', since)).toBe(true);
    const worker = holdingWorker(q);
    await reaches(q, 'active');
    expect(await joinable(q, 'j', since)).toBe(true);
    await worker.finish();
    expect(await joinable(q, 'j', since)).toBe(true);
  }, 30_000);

  it('is removed, to be added again, when it finished before this run; none is none', async () => {
    const q = queue();
    await q.add('slow', {}, { jobId: 'j' });
    const worker = holdingWorker(q);
    await reaches(q, 'active');
    await worker.finish();
    await new Promise((r) => setTimeout(r, 5));
    expect(await joinable(q, 'j', Date.now())).toBe(false);
    expect(await q.getJobState('j')).toBe('unknown');
    expect(await joinable(q, 'other', Date.now())).toBe(false);
  }, 30_000);
});
