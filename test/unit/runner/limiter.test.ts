/**
 * The limiter on a simulated clock: a small discrete-event simulation feeds it units with
 * random ready times and durations through the real run queue, asking at every event time as
 * the scheduler does, and checks the schedule it allows against the rules (and, where the rules
 * fix it completely, against the exact recurrence). Integer milliseconds throughout.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ResolvedService } from '../../../src/config/resolved.ts';
import { createLimiter, type Admission, type Limiter } from '../../../src/runner/limiter.ts';
import { RunQueue } from '../../../src/runner/queue.ts';

interface RateSpec {
  readonly count: number;
  readonly windowMs: number;
}

interface ServiceSpec {
  readonly concurrent: number | undefined;
  readonly rates: readonly RateSpec[];
  readonly burst: number | undefined;
}

interface UnitSpec {
  readonly ready: number;
  readonly duration: number;
  readonly services: readonly string[];
}

interface Sim {
  /** Start time of each unit, by index. */
  readonly starts: readonly number[];
}

function resolved(specs: Readonly<Record<string, ServiceSpec>>): Map<string, ResolvedService> {
  const map = new Map<string, ResolvedService>();
  for (const [name, s] of Object.entries(specs)) {
    const rates = s.rates.map((r) => ({ ...r, source: `${r.count}/${r.windowMs}ms` }));
    map.set(name, { name, concurrent: s.concurrent, rates, burst: s.burst, scope: 'global' });
  }
  return map;
}

/** Every window a service must respect, derived here from the spec rather than the limiter. */
function windowsOf(s: ServiceSpec): RateSpec[] {
  const out: RateSpec[] = [];
  for (const r of s.rates) {
    out.push(r);
    const burst = s.burst ?? Math.max(1, Math.floor((r.count * 1000 + r.windowMs - 1) / r.windowMs));
    if (burst < r.count) out.push({ count: burst, windowMs: Math.floor((burst * r.windowMs + r.count - 1) / r.count) });
  }
  return out;
}

/**
 * Runs `units` through `limiter` on a simulated clock. Units become ready at `ready` (FIFO in
 * index order among equal times), queue in the real RunQueue, and are offered at every event
 * time: a unit becoming ready, a unit finishing (its slots released first), or the `until` of a
 * refusal. Checks, after every answer, that the limiter's running counts match the units that
 * hold slots (so a refused unit took nothing) and that caps hold.
 */
function simulate(limiter: Limiter, specs: Readonly<Record<string, ServiceSpec>>, units: readonly UnitSpec[], jobs?: number): Sim {
  const order = units.map((_, i) => i).sort((a, b) => (units[a]?.ready ?? 0) - (units[b]?.ready ?? 0) || a - b);
  const starts: number[] = units.map(() => -1);
  const running = new Map<number, number>(); // unit -> end time
  const queue = new RunQueue();
  let nextReady = 0;
  let wake: number | undefined;
  let now = 0;
  let steps = 0;

  const holders = (service: string): number => [...running.keys()].filter((i) => units[i]?.services.includes(service)).length;
  const checkCounts = (): void => {
    for (const [name, spec] of Object.entries(specs)) {
      const held = holders(name);
      expect(limiter.running(name)).toBe(held);
      if (spec.concurrent !== undefined) expect(held).toBeLessThanOrEqual(spec.concurrent);
    }
    if (jobs !== undefined) expect(running.size).toBeLessThanOrEqual(jobs);
  };

  while (nextReady < order.length || queue.size > 0 || running.size > 0) {
    if (++steps > 100_000) throw new Error('simulation did not finish');
    for (const [i, end] of [...running]) {
      if (end > now) continue;
      running.delete(i);
      limiter.release(units[i]?.services ?? []);
    }
    while (nextReady < order.length && (units[order[nextReady] ?? 0]?.ready ?? 0) <= now) {
      const i = order[nextReady++] ?? 0;
      queue.push(String(i), units[i]?.services ?? [], 0);
    }
    let refusedUntil: number | undefined;
    queue.drain((id, services) => {
      const i = Number(id);
      const admission: Admission = limiter.tryAcquire(services, now);
      if (admission.ok) {
        expect(now).toBeGreaterThanOrEqual(units[i]?.ready ?? 0);
        starts[i] = now;
        running.set(i, now + (units[i]?.duration ?? 0));
      } else if (admission.kind === 'rate-limited') {
        // A wake-up at or before now would spin: the scheduler trusts `until` to move on.
        expect(admission.until).toBeGreaterThan(now);
        refusedUntil = Math.min(refusedUntil ?? Infinity, admission.until);
      }
      checkCounts();
      return admission.ok;
    });
    if (refusedUntil !== undefined) wake = refusedUntil;
    const candidates = [...running.values()];
    const upcoming = order[nextReady];
    if (upcoming !== undefined) candidates.push(units[upcoming]?.ready ?? 0);
    if (wake !== undefined && wake > now) candidates.push(wake);
    if (candidates.length === 0 && queue.size === 0) break;
    if (candidates.length === 0) throw new Error(`stuck at ${now} with ${queue.size} queued`);
    now = Math.max(now, Math.min(...candidates));
  }
  return { starts };
}

/** Asserts `s[i + count] - s[i] >= windowMs` over the sorted starts. */
function expectWindow(starts: readonly number[], w: RateSpec, what: string): void {
  const sorted = [...starts].sort((a, b) => a - b);
  for (let i = 0; i + w.count < sorted.length; i++) {
    const gap = (sorted[i + w.count] ?? 0) - (sorted[i] ?? 0);
    if (gap < w.windowMs) throw new Error(`${what}: ${w.count + 1} starts within ${gap} ms (< ${w.windowMs}) from ${sorted[i]}`);
  }
}

const rateArb = fc.record({ count: fc.integer({ min: 1, max: 6 }), windowMs: fc.integer({ min: 1, max: 2500 }) });
const serviceArb = fc.record({
  concurrent: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
  rates: fc.array(rateArb, { minLength: 0, maxLength: 2 }),
  burst: fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
});
const NAMES = ['a', 'b', 'c'] as const;
const unitArb = fc.record({
  ready: fc.integer({ min: 0, max: 3000 }),
  duration: fc.integer({ min: 0, max: 400 }),
  services: fc.subarray([...NAMES], { minLength: 1 }),
});

describe('limiter (property tests on a simulated clock)', () => {
  it('never breaks a rate, a pacing window, a concurrency cap or --jobs, and takes all services or none', () => {
    fc.assert(
      fc.property(
        fc.record({ a: serviceArb, b: serviceArb, c: serviceArb }),
        fc.array(unitArb, { minLength: 1, maxLength: 40 }),
        fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
        (specs, units, jobs) => {
          const { starts } = simulate(createLimiter(resolved(specs), jobs), specs, units, jobs);
          for (const name of NAMES) {
            const mine = starts.filter((_, i) => units[i]?.services.includes(name));
            for (const w of windowsOf(specs[name])) expectWindow(mine, w, `${name} ${w.count}/${w.windowMs}`);
          }
          starts.forEach((s, i) => expect(s).toBeGreaterThanOrEqual(units[i]?.ready ?? 0));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('starts every unit as early as the rules allow: the exact recurrence, with no concurrency cap', () => {
    fc.assert(
      fc.property(
        fc.array(rateArb, { minLength: 1, maxLength: 2 }),
        fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
        fc.array(fc.integer({ min: 0, max: 4000 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 0, max: 300 }),
        (rates, burst, readyTimes, duration) => {
          const spec: ServiceSpec = { concurrent: undefined, rates, burst };
          const ready = [...readyTimes].sort((a, b) => a - b);
          const units = ready.map((r) => ({ ready: r, duration, services: ['api'] }));
          const { starts } = simulate(createLimiter(resolved({ api: spec }), undefined), { api: spec }, units);
          // s_i = max(ready_i, s_{i-1}, s_{i-N} + T, s_{i-B} + ceil(B*T/N)) over every rate.
          const expected: number[] = [];
          ready.forEach((r, i) => {
            let s = Math.max(r, expected[i - 1] ?? 0);
            for (const w of windowsOf(spec)) {
              const back = expected[i - w.count];
              if (back !== undefined) s = Math.max(s, back + w.windowMs);
            }
            expected.push(s);
          });
          expect(starts).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('with burst N, follows s_i = max(ready_i, s_{i-1}, s_{i-N} + T) and sends whole windows at once', () => {
    fc.assert(
      fc.property(rateArb, fc.array(fc.integer({ min: 0, max: 4000 }), { minLength: 1, maxLength: 60 }), (rate, readyTimes) => {
        const spec: ServiceSpec = { concurrent: undefined, rates: [rate], burst: rate.count };
        const ready = [...readyTimes].sort((a, b) => a - b);
        const units = ready.map((r) => ({ ready: r, duration: 0, services: ['api'] }));
        const { starts } = simulate(createLimiter(resolved({ api: spec }), undefined), { api: spec }, units);
        const expected: number[] = [];
        ready.forEach((r, i) => expected.push(Math.max(r, expected[i - 1] ?? 0, (expected[i - rate.count] ?? -Infinity) + rate.windowMs)));
        expect(starts).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('never lets a unit wait while every one of its services has room (concurrency only)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(unitArb, { minLength: 1, maxLength: 40 }), (cap, units) => {
        const spec: ServiceSpec = { concurrent: cap, rates: [], burst: undefined };
        const one = units.map((u) => ({ ...u, services: ['a'] }));
        const { starts } = simulate(createLimiter(resolved({ a: spec }), undefined), { a: spec }, one);
        // Work-conserving: at each start time, either the unit was just ready, or a slot just freed.
        const ends = new Set(one.map((u, i) => (starts[i] ?? 0) + u.duration));
        starts.forEach((s, i) => {
          if (s > (one[i]?.ready ?? 0)) expect(ends.has(s)).toBe(true);
        });
      }),
      { numRuns: 200 },
    );
  });
});

describe('limiter (examples)', () => {
  const one = (spec: Partial<ServiceSpec>, jobs?: number): Limiter =>
    createLimiter(resolved({ api: { concurrent: undefined, rates: [], burst: undefined, ...spec } }), jobs);

  it('paces 60/min to one start a second by default', () => {
    const limiter = one({ rates: [{ count: 60, windowMs: 60_000 }] });
    expect(limiter.tryAcquire(['api'], 0)).toEqual({ ok: true });
    expect(limiter.tryAcquire(['api'], 999)).toEqual({ ok: false, kind: 'rate-limited', service: 'api', until: 1000 });
    expect(limiter.tryAcquire(['api'], 1000)).toEqual({ ok: true });
  });

  it('600/min goes out 10 at a time, once a second', () => {
    const limiter = one({ rates: [{ count: 600, windowMs: 60_000 }] });
    for (let i = 0; i < 10; i++) expect(limiter.tryAcquire(['api'], 5).ok).toBe(true);
    expect(limiter.tryAcquire(['api'], 5)).toEqual({ ok: false, kind: 'rate-limited', service: 'api', until: 1005 });
  });

  it('burst: N lets the whole window go at once, then waits for the first start to leave it', () => {
    const limiter = one({ rates: [{ count: 5, windowMs: 60_000 }], burst: 5 });
    for (let i = 0; i < 5; i++) expect(limiter.tryAcquire(['api'], i).ok).toBe(true);
    expect(limiter.tryAcquire(['api'], 100)).toEqual({ ok: false, kind: 'rate-limited', service: 'api', until: 60_000 });
    expect(limiter.tryAcquire(['api'], 60_000).ok).toBe(true);
    expect(limiter.tryAcquire(['api'], 60_000)).toEqual({ ok: false, kind: 'rate-limited', service: 'api', until: 60_001 });
  });

  it('with several rates, waits until every one of them allows a start', () => {
    const limiter = one({
      rates: [
        { count: 2, windowMs: 1000 },
        { count: 3, windowMs: 10_000 },
      ],
      burst: 3,
    });
    expect(limiter.tryAcquire(['api'], 0).ok).toBe(true);
    expect(limiter.tryAcquire(['api'], 0).ok).toBe(true);
    expect(limiter.tryAcquire(['api'], 1000).ok).toBe(true);
    expect(limiter.tryAcquire(['api'], 2000)).toEqual({ ok: false, kind: 'rate-limited', service: 'api', until: 10_000 });
  });

  it('a unit that uses two services takes both or neither', () => {
    const limiter = createLimiter(
      resolved({ a: { concurrent: 1, rates: [], burst: undefined }, b: { concurrent: 2, rates: [], burst: undefined } }),
      undefined,
    );
    expect(limiter.tryAcquire(['b'], 0).ok).toBe(true);
    expect(limiter.tryAcquire(['a'], 0).ok).toBe(true);
    expect(limiter.tryAcquire(['b', 'a'], 0)).toEqual({ ok: false, kind: 'service-full', service: 'a' });
    expect([limiter.running('a'), limiter.running('b')]).toEqual([1, 1]);
    limiter.release(['a']);
    expect(limiter.tryAcquire(['b', 'a'], 0).ok).toBe(true);
    expect([limiter.running('a'), limiter.running('b')]).toEqual([1, 2]);
  });

  it('a refused rate takes no concurrency slot, and --jobs caps everything', () => {
    const limiter = one({ concurrent: 5, rates: [{ count: 1, windowMs: 100 }] }, 2);
    expect(limiter.tryAcquire(['api'], 0).ok).toBe(true);
    expect(limiter.tryAcquire(['api'], 50).ok).toBe(false);
    expect(limiter.running('api')).toBe(1);
    expect(limiter.tryAcquire(['cpu'], 50).ok).toBe(true);
    expect(limiter.tryAcquire(['cpu'], 50)).toEqual({ ok: false, kind: 'service-full', service: '--jobs' });
  });

  it('says which cap is full without taking a slot, and not for a rate', () => {
    const limiter = createLimiter(
      resolved({
        a: { concurrent: 1, rates: [], burst: undefined },
        b: { concurrent: undefined, rates: [{ count: 1, windowMs: 1000 }], burst: undefined },
      }),
      2,
    );
    expect(limiter.full(['a', 'b'])).toBeUndefined();
    expect(limiter.tryAcquire(['b'], 0).ok).toBe(true);
    expect(limiter.full(['b'])).toBeUndefined();
    expect(limiter.tryAcquire(['a'], 0).ok).toBe(true);
    expect(limiter.full(['b', 'a'])).toEqual({ ok: false, kind: 'service-full', service: '--jobs' });
    limiter.release(['b']);
    expect(limiter.full(['b', 'a'])).toEqual({ ok: false, kind: 'service-full', service: 'a' });
    expect([limiter.running('a'), limiter.running('b')]).toEqual([1, 0]);
  });

  it('a clock stepped back an hour holds a service for one window, not for the hour', () => {
    const limiter = one({ rates: [{ count: 2, windowMs: 1000 }], burst: 2 });
    expect(limiter.tryAcquire(['api'], 3_600_000).ok).toBe(true);
    expect(limiter.tryAcquire(['api'], 3_600_000).ok).toBe(true);
    expect(limiter.tryAcquire(['api'], 0)).toEqual({ ok: false, kind: 'rate-limited', service: 'api', until: 1000 });
    expect(limiter.tryAcquire(['api'], 1000).ok).toBe(true);
  });

  it('a start a moment ahead of the clock (another process) still counts where it is', () => {
    const limiter = one({ rates: [{ count: 1, windowMs: 1000 }] });
    expect(limiter.tryAcquire(['api'], 500).ok).toBe(true);
    expect(limiter.tryAcquire(['api'], 0)).toEqual({ ok: false, kind: 'rate-limited', service: 'api', until: 1500 });
  });

  it('counts a service named twice once', () => {
    const limiter = one({ concurrent: 1 });
    expect(limiter.tryAcquire(['api', 'api'], 0).ok).toBe(true);
    expect(limiter.running('api')).toBe(1);
    limiter.release(['api', 'api']);
    expect(limiter.running('api')).toBe(0);
  });
});
