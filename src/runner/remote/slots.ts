/**
 * A service's `concurrent`, held in Redis by a counting semaphore per service over every worker
 * when its queue cannot hold it. A global service used by tasks of several queues (`api` and
 * `api+ocr`) is keyed by service alone: it keeps to its `concurrent` over all of them together,
 * which BullMQ's per-queue global concurrency cannot do (a global service of one queue is held
 * by that queue alone, with no round trip per unit). A `scope: 'host'` service's (`cpu` unless set
 * otherwise, a GPU) is keyed by service and host name (`RUNCUE_HOST`, else the machine's): held
 * per worker *machine*, so two workers on one box share its GPU, each with its own config's
 * limit (the box's own core count for `cpu`). Each holder is a lease that its worker renews
 * while the unit runs, so a killed worker's slot frees itself when its lease runs out. Rates are
 * the start gate's.
 */
import type { Redis } from 'ioredis';
import type { ResolvedConfig, ResolvedTask } from '../../config/resolved.ts';
import { QUEUE_PREFIX, sharedServices } from './names.ts';
import { sleep } from './start-gate.ts';

/**
 * How often a job waiting for a slot asks again, with jitter so waiters do not align. A release
 * wakes the waiters at once (Redis pub/sub); this catches the lease of a worker that died, and a
 * missed message.
 */
const RETRY_MS = 200;

// KEYS: a sorted set per service (holder -> lease end, ms, Redis clock). ARGV: 'acquire',
// 'renew' or 'release', the holder's token, the lease (ms), then each service's limit (acquire)
// or the channels that tell waiters a slot is free (release). All or nothing: a job never
// holds some of its slots while waiting for the others, so no two jobs can deadlock.
const SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[3])
if ARGV[1] == 'release' then
  for i = 1, #KEYS do redis.call('ZREM', KEYS[i], ARGV[2]) end
  for i = 4, #ARGV do redis.call('PUBLISH', ARGV[i], '') end
  return 1
end
if ARGV[1] == 'renew' then
  for i = 1, #KEYS do
    redis.call('ZADD', KEYS[i], 'XX', now + lease, ARGV[2])
    redis.call('PEXPIRE', KEYS[i], lease * 2)
  end
  return 1
end
for i = 1, #KEYS do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
  if redis.call('ZCARD', KEYS[i]) >= tonumber(ARGV[3 + i]) then return 0 end
end
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], now + lease, ARGV[2])
  redis.call('PEXPIRE', KEYS[i], lease * 2)
end
return 1
`;

/** Slots a job holds: release them when its unit ends. */
export interface HeldSlots {
  readonly token: string;
  readonly keys: readonly string[];
  /** Whose waiters a release wakes: this host's, everyone's, or both. */
  readonly channels: readonly string[];
}

/** A service's semaphore: its key in Redis, its limit, who waits for it. */
interface SlotOf {
  readonly key: string;
  readonly limit: number;
  readonly channel: string;
}

/** One worker's share of the services' concurrency limits. */
export class ServiceSlots {
  private readonly redis: Redis;
  private readonly leaseMs: number;
  /** The services whose `concurrent` this holds. */
  private readonly slots: ReadonlyMap<string, SlotOf>;
  private readonly held = new Map<string, HeldSlots>();
  private readonly renewer: NodeJS.Timeout;
  /** Jobs of this worker waiting for a slot: woken by a release here or elsewhere (pub/sub). */
  private waiters = new Set<() => void>();
  private readonly channels: readonly string[];
  private subscriber: Redis | undefined;

  constructor(o: { readonly redis: Redis; readonly config: ResolvedConfig; readonly host: string; readonly leaseMs: number }) {
    this.redis = o.redis;
    this.leaseMs = o.leaseMs;
    const hostChannel = `${QUEUE_PREFIX}:host-free:${o.host}`;
    const globalChannel = `${QUEUE_PREFIX}:slot-free`;
    this.channels = [globalChannel, hostChannel];
    const shared = sharedServices(o.config);
    const slots = [...o.config.services].flatMap(([name, s]): [string, SlotOf][] => {
      if (s.concurrent === undefined || (s.scope !== 'host' && !shared.has(name))) return [];
      return s.scope === 'host'
        ? [[name, { key: `${QUEUE_PREFIX}:host:${name}@${o.host}`, limit: s.concurrent, channel: hostChannel }]]
        : [[name, { key: `${QUEUE_PREFIX}:slots:${name}`, limit: s.concurrent, channel: globalChannel }]];
    });
    this.slots = new Map(slots);
    this.renewer = setInterval(() => void this.renew(), Math.max(100, Math.floor(o.leaseMs / 3)));
  }

  /** Waits for a slot of each of `task`'s limited services; undefined when `signal` aborts first. */
  async acquire(task: ResolvedTask, token: string, signal: AbortSignal): Promise<HeldSlots | undefined> {
    // Sorted: every worker asks for the same services in the same order.
    const wanted = [...new Set(task.uses)].sort().flatMap((s) => {
      const slot = this.slots.get(s);
      return slot ? [slot] : [];
    });
    const slots = { token, keys: wanted.map((s) => s.key), channels: [...new Set(wanted.map((s) => s.channel))] };
    if (wanted.length === 0) return slots;
    const args = wanted.map((s) => String(s.limit));
    for (;;) {
      if (signal.aborted) return undefined;
      // Listening before asking: a release between a refusal and the wait still wakes it.
      const woken = this.wakeOnRelease(signal);
      if (await this.call('acquire', slots, args)) {
        woken.cancel();
        this.held.set(token, slots);
        return slots;
      }
      await woken.promise;
    }
  }

  /** Gives the slots back (a lost connection is harmless: the lease ends by itself). */
  async release(slots: HeldSlots): Promise<void> {
    if (slots.keys.length === 0) return;
    this.held.delete(slots.token);
    await this.call('release', slots, slots.channels).catch(() => undefined);
    this.wakeAll();
  }

  /** Stops renewing: slots still held end with their lease. */
  close(): void {
    clearInterval(this.renewer);
    this.subscriber?.disconnect();
    this.subscriber = undefined;
    this.wakeAll();
  }

  /** Resolves on a release here or elsewhere, after a while anyway, or when `signal` aborts. */
  private wakeOnRelease(signal: AbortSignal): { promise: Promise<void>; cancel: () => void } {
    this.subscribe();
    const stop = new AbortController();
    const onAbort = (): void => stop.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const wake = (): void => stop.abort();
    this.waiters.add(wake);
    const promise = sleep(RETRY_MS + Math.floor(Math.random() * RETRY_MS), stop.signal).then(() => {
      this.waiters.delete(wake);
      signal.removeEventListener('abort', onAbort);
    });
    return { promise, cancel: wake };
  }

  private wakeAll(): void {
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const wake of waiters) wake();
  }

  private subscribe(): void {
    if (this.subscriber) return;
    const subscriber = this.redis.duplicate();
    this.subscriber = subscriber;
    subscriber.on('error', () => undefined);
    subscriber.on('message', () => this.wakeAll());
    subscriber.subscribe(...this.channels).catch(() => undefined);
  }

  private async renew(): Promise<void> {
    await Promise.allSettled([...this.held.values()].map((slots) => this.call('renew', slots, [])));
  }

  private async call(mode: 'acquire' | 'renew' | 'release', slots: HeldSlots, limits: readonly string[]): Promise<boolean> {
    const reply = await this.redis.eval(SCRIPT, slots.keys.length, ...slots.keys, mode, slots.token, String(this.leaseMs), ...limits);
    return reply === 1;
  }
}
