/**
 * The `concurrent` of `scope: 'host'` services (`cpu` unless set otherwise, a GPU): held per
 * worker *machine*, not per `runcue worker` process, so two workers on one box share its GPU.
 * A counting semaphore in Redis keyed by service and host name (`RUNCUE_HOST`, else the
 * machine's): each holder is a lease that its worker renews while the unit runs, so a killed
 * worker's slot frees itself when its lease runs out. Each worker uses its own config's limit
 * (the box's own core count for `cpu`). Their rates are the start gate's, keyed per host too.
 */
import type { Redis } from 'ioredis';
import type { ResolvedConfig, ResolvedTask } from '../../config/resolved.ts';
import { QUEUE_PREFIX } from './names.ts';
import { sleep } from './start-gate.ts';

/**
 * How often a job waiting for a host slot asks again, with jitter so waiters do not align. A
 * release wakes the host's waiters at once (Redis pub/sub); this catches the lease of a worker
 * that died, and a missed message.
 */
const RETRY_MS = 200;

// KEYS: a sorted set per service (holder -> lease end, ms, Redis clock). ARGV: 'acquire',
// 'renew' or 'release', the holder's token, the lease (ms), then each service's limit (acquire)
// or the channel that tells the host's waiters a slot is free (release).
const SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[3])
if ARGV[1] == 'release' then
  for i = 1, #KEYS do redis.call('ZREM', KEYS[i], ARGV[2]) end
  redis.call('PUBLISH', ARGV[4], '')
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
}

/** One worker's share of its host's limits. */
export class HostLimits {
  private readonly redis: Redis;
  private readonly host: string;
  private readonly leaseMs: number;
  /** Services of `scope: 'host'` with a `concurrent`, and that limit. */
  private readonly limits: ReadonlyMap<string, number>;
  private readonly held = new Map<string, HeldSlots>();
  private readonly renewer: NodeJS.Timeout;
  /** Jobs of this worker waiting for a slot: woken by a release here or on the host (pub/sub). */
  private waiters = new Set<() => void>();
  private readonly channel: string;
  private subscriber: Redis | undefined;

  constructor(o: { readonly redis: Redis; readonly config: ResolvedConfig; readonly host: string; readonly leaseMs: number }) {
    this.redis = o.redis;
    this.host = o.host;
    this.leaseMs = o.leaseMs;
    this.channel = `${QUEUE_PREFIX}:host-free:${o.host}`;
    const limits = [...o.config.services].flatMap(([name, s]) =>
      s.scope === 'host' && s.concurrent !== undefined ? [[name, s.concurrent] as const] : [],
    );
    this.limits = new Map(limits);
    this.renewer = setInterval(() => void this.renew(), Math.max(100, Math.floor(o.leaseMs / 3)));
  }

  /** Waits for a slot of `task`'s host services on this host; undefined when `signal` aborts first. */
  async acquire(task: ResolvedTask, token: string, signal: AbortSignal): Promise<HeldSlots | undefined> {
    const services = [...new Set(task.uses)].filter((s) => this.limits.has(s)).sort();
    const slots = { token, keys: services.map((s) => this.keyOf(s)) };
    if (services.length === 0) return slots;
    const args = services.map((s) => String(this.limits.get(s)));
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
    await this.call('release', slots, [this.channel]).catch(() => undefined);
    this.wakeAll();
  }

  /** Stops renewing: slots still held end with their lease. */
  close(): void {
    clearInterval(this.renewer);
    this.subscriber?.disconnect();
    this.subscriber = undefined;
    this.wakeAll();
  }

  /** Resolves on a release on this host, after a while anyway, or when `signal` aborts. */
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
    subscriber.subscribe(this.channel).catch(() => undefined);
  }

  private keyOf(service: string): string {
    return `${QUEUE_PREFIX}:host:${service}@${this.host}`;
  }

  private async renew(): Promise<void> {
    await Promise.allSettled([...this.held.values()].map((slots) => this.call('renew', slots, [])));
  }

  private async call(mode: 'acquire' | 'renew' | 'release', slots: HeldSlots, limits: readonly string[]): Promise<boolean> {
    const reply = await this.redis.eval(SCRIPT, slots.keys.length, ...slots.keys, mode, slots.token, String(this.leaseMs), ...limits);
    return reply === 1;
  }
}
