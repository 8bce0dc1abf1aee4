/**
 * The built-in scenarios on the real scheduler in virtual time: makespans against closed forms,
 * the rate invariant on simulated start times, determinism with a seed, and error rates.
 */
import { describe, expect, it } from 'vitest';
import { rehearse, type Rehearsal, type RehearsalRequest } from '../../../../src/runner/sim/rehearse.ts';
import type { ScenarioName } from '../../../../src/runner/sim/scenarios.ts';
import type { SimEvent } from '../../../../src/runner/sim/simulate.ts';

const START = Date.UTC(2026, 0, 1);

interface Knobs {
  readonly count?: number;
  readonly rate?: string;
  readonly concurrent?: number;
  readonly latency?: string;
  readonly jitter?: string;
  readonly errorRate?: string;
  readonly seed?: string;
  readonly retries?: number;
  readonly keepGoing?: boolean;
}

/** A rehearsal, with every event it told (a rehearsal keeps only their counts). */
async function sim(name: ScenarioName, knobs: Knobs = {}): Promise<Rehearsal & { readonly events: readonly SimEvent[] }> {
  const events: SimEvent[] = [];
  const request: RehearsalRequest = {
    source: {
      kind: 'scenario',
      name,
      limits: { count: knobs.count ?? 100, rate: knobs.rate ?? '10/s', concurrent: knobs.concurrent ?? 5 },
    },
    targets: [],
    flags: {
      latency: knobs.latency ?? '200ms',
      ...(knobs.jitter !== undefined ? { jitter: knobs.jitter } : {}),
      ...(knobs.errorRate !== undefined ? { errorRate: knobs.errorRate } : {}),
    },
    seed: knobs.seed ?? '1',
    start: START,
    ...(knobs.retries !== undefined ? { retries: knobs.retries } : {}),
    ...(knobs.keepGoing ? { keepGoing: true } : {}),
    onEvent: (event) => events.push(event),
  };
  const result = await rehearse(request);
  if (!result.ok) throw new Error(result.error.message);
  return { ...result.value, events };
}

/** Start times (virtual ms since the start), ascending, straight from the events; only `task`'s with one. */
function startTimes(events: readonly SimEvent[], task?: (name: string) => boolean): number[] {
  return events.flatMap((e) => (e.type === 'unit:start' && (!task || task(e.task)) ? [e.time - START] : [])).sort((a, b) => a - b);
}

/** The most starts in any window [t, t + windowMs), by brute force. */
function mostInWindow(times: readonly number[], windowMs: number): number {
  return Math.max(0, ...times.map((t) => times.filter((u) => u >= t && u < t + windowMs).length));
}

describe('runcue sim scenarios: makespan against closed forms', () => {
  // 10/s gives a burst of 10 (runcue paces a rate like providers: ceil(N per second) at once).
  // With 5 slots and 200 ms each, every second starts 5 units at k s and 5 at k s + 200 ms: the
  // 100th unit starts at 9.2 s and ends at 9.4 s. N/R = 10 s is the rate's bound on the starts.
  it('single_queue: 100 units, 10/s, 5 at once, 200 ms -> 9.4 s (last start 9.2 s)', async () => {
    const { summary, events } = await sim('single_queue');
    expect(summary.makespanMs).toBe(9400);
    expect(startTimes(events).at(-1)).toBe(9200);
    expect(summary.units).toMatchObject({ run: 100, built: 100, failed: 0, blocked: 0 });
    expect(summary.services).toEqual([expect.objectContaining({ service: 'api', starts: 100, peakConcurrent: 5 })]);
    expect(summary.boundingTask).toBe('work');
  });

  it('single_queue without a rate is bound by concurrency: ceil(N / c) x latency', async () => {
    const { summary } = await sim('single_queue', { rate: '', count: 103, concurrent: 5 });
    expect(summary.makespanMs).toBe(Math.ceil(103 / 5) * 200);
  });

  it('pipeline: 3N starts on one service at 10/s -> about 3N/R', async () => {
    const { summary } = await sim('pipeline');
    // 300 starts at 10 per second: the last starts in second 29, at 29.0 or 29.2 s.
    expect(summary.makespanMs).toBeGreaterThanOrEqual(29_200);
    expect(summary.makespanMs).toBeLessThanOrEqual(29_400);
    expect(summary.units.built).toBe(300);
    expect(summary.criticalPath.map((s) => s.task)).toEqual(['extract', 'transform', 'load']);
  });

  it('fanout: split (200 ms) + N parts at 10/s (9.4 s) + aggregate (200 ms) -> 9.8 s', async () => {
    const { summary, events } = await sim('fanout');
    expect(summary.makespanMs).toBe(9800);
    expect(summary.units.built).toBe(102);
    expect(events.some((e) => e.type === 'plan:update')).toBe(true);
    expect(summary.criticalPath.map((s) => s.task)).toEqual(['split', 'process', 'aggregate']);
    expect(summary.boundingTask).toBe('process');
  });

  it('dynamic: 10% of the inputs rewritten mid-run -> those units rebuilt, 2.2N starts at R', async () => {
    const { summary, events } = await sim('dynamic');
    const edit = events.find((e) => e.type === 'sim:edit');
    expect(edit && 'files' in edit ? edit.files.length : 0).toBe(10);
    expect(summary.units).toMatchObject({ built: 200, rebuilt: 20, attempts: 220, failed: 0 });
    // 220 starts at 10 per second.
    expect(summary.makespanMs).toBeGreaterThanOrEqual(21_200);
    expect(summary.makespanMs).toBeLessThanOrEqual(22_400);
  });
});

describe('runcue sim scenarios: the rate invariant on simulated start times', () => {
  const cases: [ScenarioName, string, number, number][] = [
    ['single_queue', '10/s', 10, 1000],
    ['single_queue', '60/min', 60, 60_000],
    ['pipeline', '100/10s', 100, 10_000],
    ['fanout', '7/s', 7, 1000],
    ['dynamic', '30/min', 30, 60_000],
  ];
  it.each(cases)('%s at %s never starts more than the limit in any window', async (name, rate, limit, windowMs) => {
    const { summary, events, config } = await sim(name, { rate, count: 150, jitter: '0.5', concurrent: 20 });
    const times = startTimes(events, (task) => config.tasks.get(task)?.uses.includes('api') === true);
    expect(mostInWindow(times, windowMs)).toBeLessThanOrEqual(limit);
    // The rate is the bottleneck here, so some window is full, and the summary saw it.
    expect(mostInWindow(times, windowMs)).toBe(limit);
    expect(summary.services.find((s) => s.service === 'api')?.rates[0]?.maxStarts).toBe(limit);
  });
});

describe('runcue sim scenarios: determinism and error rates', () => {
  it('gives the same events and summary, to the millisecond, for the same seed', async () => {
    const knobs = { jitter: '0.3', errorRate: '0.2', retries: 2, keepGoing: true, seed: 'abc', count: 60 };
    const a = await sim('pipeline', knobs);
    const b = await sim('pipeline', knobs);
    const c = await sim('pipeline', { ...knobs, seed: 'xyz' });
    const relative = (events: readonly SimEvent[]): string => JSON.stringify(events.map((e) => ({ ...e, time: e.time - START })));
    expect(relative(a.events)).toBe(relative(b.events));
    expect(a.summary).toEqual(b.summary);
    expect(relative(c.events)).not.toBe(relative(a.events));
  });

  it('fails attempts at the error rate: 10,000 units at 10% within 5 standard deviations', async () => {
    const n = 10_000;
    const { summary } = await sim('single_queue', {
      count: n,
      rate: '',
      concurrent: 500,
      errorRate: '0.1',
      keepGoing: true,
      latency: '1s',
    });
    const sd = Math.sqrt(n * 0.1 * 0.9);
    expect(summary.units.run).toBe(n);
    expect(Math.abs(summary.units.failed - n * 0.1)).toBeLessThan(5 * sd);
    expect(summary.units.built + summary.units.failed).toBe(n);
    expect(summary.makespanMs).toBe((n / 500) * 1000);
  }, 120_000);

  it('retries failed attempts: with retries 2 a unit fails only when all 3 attempts do (p^3)', async () => {
    const n = 2000;
    const { summary } = await sim('single_queue', { count: n, rate: '', concurrent: 200, errorRate: '0.3', retries: 2, keepGoing: true });
    const p = 0.3 ** 3;
    expect(Math.abs(summary.units.failed - n * p)).toBeLessThan(5 * Math.sqrt(n * p * (1 - p)));
    // Expected retries: n (p + p^2) attempts failed and were tried again.
    const retries = n * (0.3 + 0.09);
    expect(Math.abs(summary.units.retried - retries)).toBeLessThan(5 * Math.sqrt(retries));
  }, 60_000);
});

describe('runcue sim scenarios: a stop', () => {
  it('ends every attempt in flight at once, in the order they started, and starts nothing after', async () => {
    const events: SimEvent[] = [];
    const stop = new AbortController();
    let done = 0;
    const result = await rehearse({
      source: { kind: 'scenario', name: 'single_queue', limits: { count: 200, rate: undefined, concurrent: 20 } },
      targets: [],
      flags: { latency: '200ms', jitter: '0.5' },
      seed: '3',
      start: START,
      signal: stop.signal,
      onEvent: (event) => {
        events.push(event);
        // As a Ctrl-C comes: between turns of the event loop, not from inside the run's own calls.
        if (event.type === 'unit:done' && ++done === 30) setImmediate(() => stop.abort('SIGINT'));
      },
    });
    if (!result.ok) throw new Error(result.error.message);
    expect(result.value.interrupted).toBe('SIGINT');
    const first = events.findIndex((e) => e.type === 'unit:fail');
    const inFlight: string[] = [];
    for (const e of events.slice(0, first)) {
      if (e.type === 'unit:start') inFlight.push(e.unit);
      else if (e.type === 'unit:done') inFlight.splice(inFlight.indexOf(e.unit), 1);
    }
    const after = events.slice(first);
    const fails = after.flatMap((e) => (e.type === 'unit:fail' ? [e] : []));
    expect(inFlight.length).toBeGreaterThan(10);
    expect(fails.map((f) => f.unit)).toEqual(inFlight);
    expect(new Set(fails.map((f) => `${f.time} ${f.error.reason}`))).toEqual(new Set([`${fails[0]?.time} aborted`]));
    expect(after.filter((e) => e.type === 'unit:start' || e.type === 'unit:done')).toEqual([]);
  });
});
