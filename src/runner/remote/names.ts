/**
 * Which BullMQ queue runs a task's units, and the limits Redis enforces on it. One queue per
 * combination of services: BullMQ limits a queue as a whole (its global concurrency and rate
 * limiter hold for every worker together, atomically, in Redis), so a unit's queue must carry
 * the tightest limits of all the services it uses.
 */
import type { ResolvedConfig, ResolvedService, ResolvedTask } from '../../config/resolved.ts';

/** The key prefix of every runcue queue in Redis (BullMQ's `prefix`). */
export const QUEUE_PREFIX = 'runcue';

/** The limits Redis holds a queue to: `undefined` means none. */
export interface QueueLimits {
  /** At most this many of the queue's jobs active at once, over all workers. */
  readonly concurrency: number | undefined;
  /**
   * The start gate hands out one start per `paceMs` at most, over all workers (the slowest of
   * its services' rates; each rate is held on its own, see start-gate.ts). For display.
   */
  readonly paceMs: number | undefined;
}

/**
 * The services that Redis limits for a task: its own, but those of `scope: 'host'` (`cpu`, a
 * GPU: the worker that runs the unit holds those, see slots.ts).
 */
function globalServices(task: ResolvedTask, config: ResolvedConfig): string[] {
  return [...new Set(task.uses)].filter((s) => config.services.get(s)?.scope !== 'host').sort();
}

/** The queue of a task's units: its globally limited services, in order (`default` for none). */
export function queueNameOf(task: ResolvedTask, config: ResolvedConfig): string {
  const services = globalServices(task, config);
  return services.length === 0 ? 'default' : services.join('+');
}

/** Every queue the config's tasks use, each with its limits. */
export function queuesOf(config: ResolvedConfig): Map<string, QueueLimits> {
  const queues = new Map<string, QueueLimits>();
  for (const task of config.tasks.values()) queues.set(queueNameOf(task, config), limitsOf(task, config));
  return queues;
}

/**
 * The global services with a `concurrent` that tasks of more than one queue use (`api` of `api`
 * and `api+ocr`): each queue's concurrency cannot hold theirs, their slots in Redis do (see
 * slots.ts). The others' is their one queue's, at no cost per unit.
 */
export function sharedServices(config: ResolvedConfig): Set<string> {
  const queuesOfService = new Map<string, Set<string>>();
  for (const task of config.tasks.values()) {
    const queue = queueNameOf(task, config);
    for (const s of globalServices(task, config)) queuesOfService.set(s, (queuesOfService.get(s) ?? new Set()).add(queue));
  }
  const shared = [...queuesOfService].filter(([s, queues]) => queues.size > 1 && config.services.get(s)?.concurrent !== undefined);
  return new Set(shared.map(([s]) => s));
}

/** The tightest limits of a task's globally limited services. */
export function limitsOf(task: ResolvedTask, config: ResolvedConfig): QueueLimits {
  const services = globalServices(task, config)
    .map((name) => config.services.get(name))
    .filter((s): s is ResolvedService => s !== undefined);
  const caps = services.map((s) => s.concurrent).filter((c): c is number => c !== undefined);
  const paces = services.flatMap((s) => s.rates.map((r) => paceOf(r.count, r.windowMs)));
  return {
    concurrency: caps.length === 0 ? undefined : Math.min(...caps),
    paceMs: paces.length === 0 ? undefined : Math.max(...paces),
  };
}

/** The gap between two starts the start gate hands out for `count` per `windowMs` (start-gate.ts). */
function paceOf(count: number, windowMs: number): number {
  return Math.ceil(windowMs / count);
}
