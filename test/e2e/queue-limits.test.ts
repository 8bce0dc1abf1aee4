/**
 * The limits a queue build holds in Redis, on a real redis-server: the start gate (a service's
 * rate over every worker, exact even when timers fire late and bunch) and the host slots
 * (`scope: 'host'` services per machine name, freed by lease expiry when a worker dies).
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ServiceSlots, type HeldSlots } from '../../src/runner/remote/slots.ts';
import { gateRatesOf, StartGate } from '../../src/runner/remote/start-gate.ts';
import { configOf } from '../rig/config-builder.ts';
import { startRedis, type TestRedis } from '../rig/redis.ts';

let redis: TestRedis;
const clients: Redis[] = [];
const closers: (() => void)[] = [];

beforeAll(async () => {
  redis = await startRedis();
}, 30_000);
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  for (const close of closers.splice(0)) close();
  for (const c of clients.splice(0)) c.disconnect();
  await redis.command('FLUSHALL');
});

function client(): Redis {
  const c = new Redis(redis.url, { maxRetriesPerRequest: null });
  clients.push(c);
  return c;
}

const config = configOf(
  { call: { uses: 'api' }, render: { uses: 'gpu' }, both: { uses: ['api', 'gpu'] } },
  { extra: { services: { api: { rate: '10/200ms' }, gpu: { concurrent: 1, scope: 'host', rate: '5/s' } } } },
);
const task = (name: string) => {
  const t = config.tasks.get(name);
  if (!t) throw new Error(name);
  return t;
};

/** The largest number of `times` in any window of `windowMs`. */
function maxInWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let lo = 0, hi = 0; hi < sorted.length; hi++) {
    while ((sorted[hi] ?? 0) - (sorted[lo] ?? 0) >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

describe('the start gate', () => {
  it('keys a global rate per service and a host-scoped one per host', () => {
    expect(gateRatesOf(task('call'), config, 'a').map((r) => r.logKey)).toEqual(['runcue:gate:api:10/200:log']);
    expect(gateRatesOf(task('both'), config, 'box1').map((r) => r.logKey)).toEqual([
      'runcue:gate:api:10/200:log',
      'runcue:gate:gpu@box1:5/1000:log',
    ]);
    expect(gateRatesOf(configOf({ free: {} }).tasks.get('free') ?? task('call'), configOf({ free: {} }), 'a')).toEqual([]);
  });

  it('admits three gates together at the rate, never more in any window, using all of it', async () => {
    const gates = [new StartGate(client()), new StartGate(client()), new StartGate(client())];
    const rates = gateRatesOf(task('call'), config, 'a');
    const signal = new AbortController().signal;
    const times = await Promise.all(
      Array.from({ length: 60 }, (_, i) => gates[i % 3]?.pass(rates, `t${i}`, signal).then((t) => t ?? NaN) ?? NaN),
    );
    expect(times.every(Number.isFinite)).toBe(true);
    expect(maxInWindow(times, 200)).toBeLessThanOrEqual(10);
    const sorted = [...times].sort((a, b) => a - b);
    const span = (sorted.at(-1) ?? 0) - (sorted[0] ?? 0);
    // 60 starts at 10 per 200 ms: slots 20 ms apart, 1.18 s; generous bounds (a loaded machine).
    expect(span).toBeGreaterThanOrEqual(1170);
    expect(span).toBeLessThan(5000);
  });

  it('holds the window when timers fire late and bunch (the event loop blocked)', async () => {
    const gate = new StartGate(client());
    const rates = gateRatesOf(task('call'), config, 'a');
    const signal = new AbortController().signal;
    // Each start as the gate records it (Redis admitted it), and when it really happened here.
    const passes = Array.from({ length: 30 }, (_, i) => gate.pass(rates, `t${i}`, signal).then((t) => [t ?? NaN, Date.now()] as const));
    // Let the reservations land, then block: every timer due meanwhile fires at once afterwards.
    await new Promise((r) => setTimeout(r, 30));
    const until = Date.now() + 300;
    while (Date.now() < until) {
      // busy: a loaded machine's late timers
    }
    const starts = await Promise.all(passes);
    const times = starts.map(([admitted]) => admitted);
    expect(times.every(Number.isFinite)).toBe(true);
    expect(maxInWindow(times, 200)).toBeLessThanOrEqual(10);
    // The recorded start is when the start happened (a slot's time would be up to 300 ms
    // earlier for the starts whose timers the block delayed); one clock, generous bounds.
    for (const [admitted, here] of starts) expect(here - admitted).toBeLessThan(100);
    for (const [admitted, here] of starts) expect(here - admitted).toBeGreaterThanOrEqual(-2);
  });

  it('gives up its wait when the signal aborts', async () => {
    const gate = new StartGate(client());
    const rates = gateRatesOf(task('render'), config, 'a');
    const controller = new AbortController();
    expect(await gate.pass(rates, 'first', controller.signal)).toBeTypeOf('number');
    const second = gate.pass(rates, 'second', controller.signal);
    setTimeout(() => controller.abort(), 20);
    expect(await second).toBeUndefined();
  });
});

describe('host slots', () => {
  function limits(host: string, leaseMs = 2000): ServiceSlots {
    const l = new ServiceSlots({ redis: client(), config, host, leaseMs });
    closers.push(() => l.close());
    return l;
  }

  it("holds a scope: 'host' service's concurrent per host name: two workers of one host share it, another host has its own", async () => {
    const [a1, a2, b] = [limits('box-a'), limits('box-a'), limits('box-b')];
    const signal = new AbortController().signal;
    const held = await a1.acquire(task('render'), 'a1', signal);
    expect(held).toBeDefined();
    expect(await b.acquire(task('render'), 'b', signal)).toBeDefined();
    let second: HeldSlots | undefined;
    const waiting = a2.acquire(task('render'), 'a2', signal).then((h) => (second = h));
    await new Promise((r) => setTimeout(r, 200));
    expect(second).toBeUndefined();
    if (held) await a1.release(held);
    await waiting;
    expect(second).toBeDefined();
  });

  it('frees the slot of a worker that died (stopped renewing) when its lease ends', async () => {
    const dead = limits('box', 300);
    const signal = new AbortController().signal;
    expect(await dead.acquire(task('render'), 'dead', signal)).toBeDefined();
    dead.close();
    const began = Date.now();
    expect(await limits('box', 300).acquire(task('render'), 'alive', signal)).toBeDefined();
    expect(Date.now() - began).toBeGreaterThanOrEqual(250);
  });

  it('keeps a slot past its lease while its worker renews it', async () => {
    const holder = limits('box', 300);
    const signal = new AbortController().signal;
    expect(await holder.acquire(task('render'), 'holder', signal)).toBeDefined();
    const controller = new AbortController();
    const other = limits('box', 300).acquire(task('render'), 'other', controller.signal);
    setTimeout(() => controller.abort(), 900);
    expect(await other).toBeUndefined();
  });

  it("holds a global service's concurrent by service alone: tasks of different queues and hosts share it", async () => {
    const shared = configOf(
      { call: { uses: 'api' }, scan: { uses: ['api', 'ocr'] }, read: { uses: 'ocr' } },
      { extra: { services: { api: { concurrent: 2 }, ocr: { concurrent: 5 } } } },
    );
    const of = (name: string) => shared.tasks.get(name) ?? task('call');
    const on = (host: string): ServiceSlots => {
      const l = new ServiceSlots({ redis: client(), config: shared, host, leaseMs: 2000 });
      closers.push(() => l.close());
      return l;
    };
    const [a, b, c] = [on('box-a'), on('box-b'), on('box-c')];
    const signal = new AbortController().signal;
    const first = await a.acquire(of('call'), 'a', signal);
    expect(first?.keys).toEqual(['runcue:slots:api']);
    expect(await b.acquire(of('scan'), 'b', signal)).toMatchObject({ keys: ['runcue:slots:api', 'runcue:slots:ocr'] });
    let third: HeldSlots | undefined;
    const waiting = c.acquire(of('scan'), 'c', signal).then((h) => (third = h));
    await new Promise((r) => setTimeout(r, 200));
    expect(third).toBeUndefined();
    // Neither of scan's slots is taken while it waits for api's: all or nothing.
    expect(await client().zcard('runcue:slots:ocr')).toBe(1);
    if (first) await a.release(first);
    await waiting;
    expect(third).toBeDefined();
  });

  it('takes no slot for a task without host-limited services', async () => {
    const l = limits('box');
    const signal = new AbortController().signal;
    expect(await l.acquire(task('call'), 'x', signal)).toEqual({ token: 'x', keys: [], channels: [] });
  });
});
