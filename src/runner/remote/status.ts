/**
 * `runcue queue status`: what each queue of the config holds right now (waiting, running,
 * failed), how many workers take from it and whether a push-back pauses it. Read from Redis.
 */
import type { ResolvedConfig } from '../../config/resolved.ts';
import { queuesOf, QUEUE_PREFIX, type QueueLimits } from './names.ts';
import { connectionOf, type RedisTarget } from './redis.ts';

/** One queue's state. */
export interface QueueStatus {
  /** The queue's name: its services joined by `+` (`default` for none but host-local ones). */
  readonly queue: string;
  /** Jobs waiting their turn (delayed and prioritized included). */
  readonly waiting: number;
  /** Jobs a worker runs now. */
  readonly active: number;
  /** Jobs BullMQ failed (their workers died mid-unit three times); a unit's failure is a completed job. */
  readonly failed: number;
  readonly completed: number;
  /** Workers connected to the queue. */
  readonly workers: number;
  /** The limits the config gives the queue. */
  readonly limits: QueueLimits;
  /** A push-back pauses the queue for this long still (0: not paused). */
  readonly pausedMs: number;
}

/** The state of every queue the config's tasks use. */
export async function queueStatus(target: RedisTarget, config: ResolvedConfig): Promise<QueueStatus[]> {
  const { Queue } = await import('bullmq');
  const connection = connectionOf(target);
  const rows: QueueStatus[] = [];
  for (const [name, limits] of queuesOf(config)) {
    const queue = new Queue(name, { connection, prefix: QUEUE_PREFIX });
    // The connection was just probed; a failure now shows as the rejected call below.
    queue.on('error', () => undefined);
    try {
      const counts = await queue.getJobCounts('waiting', 'delayed', 'prioritized', 'active', 'failed', 'completed');
      const count = (type: string): number => counts[type] ?? 0;
      const rate = await queue.getGlobalRateLimit();
      rows.push({
        queue: name,
        waiting: count('waiting') + count('delayed') + count('prioritized'),
        active: count('active'),
        failed: count('failed'),
        completed: count('completed'),
        workers: await queue.getWorkersCount(),
        limits,
        pausedMs: Math.max(0, await queue.getRateLimitTtl(rate?.max)),
      });
    } finally {
      await queue.close();
    }
  }
  return rows;
}
