/**
 * The scheduler on a virtual clock: backoff, push-back pauses, rate windows, stalls and maxAge
 * happen in minutes of virtual time and milliseconds of real time. Files stay real (temp dirs);
 * function tasks make units cheap.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RuncueConfig, TaskFunction } from '../../../../src/config/types.ts';
import { build, type BuildOptions, type BuildResult } from '../../../../src/runner/build.ts';
import type { RunEvent } from '../../../../src/runner/events.ts';
import { RateLimited } from '../../../../src/runner/push-back.ts';
import { resolveSchedule } from '../../../../src/config/schedule.ts';
import { configOf, tempProject, type TaskSpec, type TempProject } from '../../../rig/config-builder.ts';
import { FakeClock, fakePorts, fixedRandom } from '../../../rig/fake-clock.ts';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

let project: TempProject;
let clock: FakeClock;
let t0: number;

beforeEach(() => {
  project = tempProject();
  clock = new FakeClock();
  t0 = clock.now();
});

afterEach(() => {
  project.remove();
});

interface Run {
  readonly result: BuildResult;
  readonly events: RunEvent[];
}

function inputs(...rels: string[]): void {
  for (const rel of rels) project.write(rel, { mtimeMs: t0 - HOUR });
}

function start(
  tasks: Record<string, TaskSpec>,
  extra: Omit<RuncueConfig, 'tasks'> = {},
  options: Partial<BuildOptions> = {},
): { done: Promise<Run>; events: RunEvent[] } {
  const events: RunEvent[] = [];
  const config = configOf(tasks, { file: project.file, extra });
  const done = build({ config, ports: fakePorts(clock, fixedRandom(0.5)), ...options, onEvent: (e) => events.push(e) }).then((result) => {
    if (!result.ok) throw new Error(result.error.message);
    return { result: result.value, events };
  });
  return { done, events };
}

function run(tasks: Record<string, TaskSpec>, extra: Omit<RuncueConfig, 'tasks'> = {}, options: Partial<BuildOptions> = {}): Promise<Run> {
  return clock.runUntil(start(tasks, extra, options).done);
}

/** Virtual ms since t0 of each event of `type`, with its unit. */
function times(events: readonly RunEvent[], type: RunEvent['type']): [string, number][] {
  return events.flatMap((e) => (e.type === type && 'unit' in e ? [[e.unit, e.time - t0] as [string, number]] : []));
}

function writer(log: string[] = []): TaskFunction {
  return ({ id, outputs }) => {
    log.push(id);
    for (const output of outputs) writeFileSync(join(project.root, output), id);
  };
}

describe('scheduler in virtual time: retries', () => {
  it('backs off with full jitter between attempts (deterministic jitter 0.5)', async () => {
    inputs('in/a.txt');
    let calls = 0;
    const flaky: TaskFunction = (unit, ctx) => {
      if (++calls < 3) throw new Error(`attempt ${calls}`);
      writer()(unit, ctx);
    };
    const { result, events } = await run({ work: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: flaky, retries: 2, backoff: '10m' } });
    expect(result.counts).toEqual({ built: 1, fresh: 0, failed: 0, blocked: 0 });
    // 0.5 * 10 min * 2^0, then 0.5 * 10 min * 2^1.
    expect(events.flatMap((e) => (e.type === 'unit:retry' ? [e.delayMs] : []))).toEqual([5 * MINUTE, 10 * MINUTE]);
    expect(times(events, 'unit:start')).toEqual([
      ['work[n=a]', 0],
      ['work[n=a]', 5 * MINUTE],
      ['work[n=a]', 15 * MINUTE],
    ]);
  });

  it('fails after the last retry', async () => {
    inputs('in/a.txt');
    const broken: TaskFunction = () => {
      throw new Error('always');
    };
    const { result, events } = await run({ work: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: broken, retries: 1, backoff: '1h' } });
    expect(result.failures.map((f) => f.error)).toEqual([{ reason: 'function-error', message: 'always' }]);
    expect(times(events, 'unit:fail')).toEqual([['work[n=a]', 30 * MINUTE]]);
  });
});

describe('scheduler in virtual time: push-back', () => {
  it('pauses the service for the Retry-After it was given, then runs everything queued', async () => {
    inputs('in/a.txt', 'in/b.txt');
    let pushedBack = false;
    const api: TaskFunction = (unit, ctx) => {
      if (!pushedBack) {
        pushedBack = true;
        throw new RateLimited({ retryAfter: '30s' });
      }
      writer()(unit, ctx);
    };
    const { result, events } = await run(
      { call: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: api, uses: 'api' } },
      { services: { api: { concurrent: 1 } } },
    );
    expect(result.counts.built).toBe(2);
    const retry = events.find((e) => e.type === 'unit:retry');
    expect(retry).toMatchObject({ kind: 'push-back', delayMs: 30 * SECOND, services: ['api'] });
    expect(times(events, 'unit:start').map(([, t]) => t)).toEqual([0, 30 * SECOND, 30 * SECOND]);
    expect(events.at(-1)).toMatchObject({ type: 'run:done', pushBacks: 1 });
  });

  it('backs off exponentially with jitter when no Retry-After is given', async () => {
    inputs('in/a.txt');
    let calls = 0;
    const api: TaskFunction = (unit, ctx) => {
      if (++calls <= 2) throw new RateLimited();
      writer()(unit, ctx);
    };
    const { events } = await run(
      { call: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: api, uses: 'api', backoff: '1m' } },
      { services: { api: {} } },
    );
    expect(events.flatMap((e) => (e.type === 'unit:retry' ? [e.delayMs] : []))).toEqual([30 * SECOND, MINUTE]);
    expect(times(events, 'unit:start').map(([, t]) => t)).toEqual([0, 30 * SECOND, 90 * SECOND]);
  });
});

describe('scheduler in virtual time: push-back on local work', () => {
  it('delays only the unit when its task uses no service but cpu', async () => {
    inputs('in/a.txt', 'in/b.txt');
    let pushedBack = false;
    const local: TaskFunction = (unit, ctx) => {
      if (unit.id === 'work[n=a]' && !pushedBack) {
        pushedBack = true;
        throw new RateLimited({ retryAfter: '10s' });
      }
      writer()(unit, ctx);
    };
    const { events } = await run(
      { work: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: local } },
      { services: { cpu: { concurrent: 1 } } },
    );
    expect(events.find((e) => e.type === 'unit:retry')).toMatchObject({ kind: 'push-back', delayMs: 10 * SECOND, services: [] });
    expect(times(events, 'unit:start')).toEqual([
      ['work[n=a]', 0],
      ['work[n=b]', 0],
      ['work[n=a]', 10 * SECOND],
    ]);
  });
});

describe('scheduler in virtual time: rate windows', () => {
  it('starts a third unit of a 2/min service when the window has room again', async () => {
    inputs('in/a.txt', 'in/b.txt', 'in/c.txt');
    const { result, events } = await run(
      { call: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: writer(), uses: 'api' } },
      { services: { api: { rate: '2/min', burst: 2 } } },
    );
    expect(result.counts.built).toBe(3);
    expect(times(events, 'unit:start').map(([, t]) => t)).toEqual([0, 0, MINUTE]);
  });
});

describe('scheduler in virtual time: stalls', () => {
  it('warns once when nothing finished for stallWarnAfter, and goes on', async () => {
    inputs('in/a.txt');
    let release = (): void => undefined;
    const slow: TaskFunction = async (unit, ctx) => {
      await new Promise<void>((resolve) => (release = resolve));
      writer()(unit, ctx);
    };
    const started = start({ work: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: slow } }, { stallWarnAfter: '10s' });
    await clock.advance(9 * SECOND);
    expect(started.events.some((e) => e.type === 'run:stall')).toBe(false);
    await clock.advance(2 * SECOND);
    const stalls = started.events.filter((e) => e.type === 'run:stall');
    expect(stalls).toMatchObject([
      { fatal: false, time: t0 + 10 * SECOND, message: 'nothing finished for 10000 ms (stallWarnAfter 10000 ms)' },
    ]);
    expect(stalls[0]?.type === 'run:stall' && stalls[0].blocked).toEqual([]);
    release();
    const { result } = await clock.runUntil(started.done);
    expect(result.ok).toBe(true);
  });

  it('stops the run at stallTimeout and fails what was running as stalled', async () => {
    inputs('in/a.txt');
    const stuck: TaskFunction = (_, { signal }) =>
      new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
    const { result, events } = await run({ work: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: stuck } }, { stallTimeout: '1m' });
    expect(result.ok).toBe(false);
    expect(result.failures).toEqual([
      { unit: 'work[n=a]', task: 'work', error: { reason: 'stalled', message: 'nothing finished for 60000 ms (stallTimeout 60000 ms)' } },
    ]);
    expect(events.find((e) => e.type === 'run:stall')).toMatchObject({ fatal: true, time: t0 + MINUTE });
  });
});

describe('scheduler in virtual time: a signal', () => {
  it('stops a run waiting out a backoff at once, the unit not started again', async () => {
    inputs('in/a.txt');
    const stop = new AbortController();
    const broken: TaskFunction = () => {
      throw new Error('flaky');
    };
    const started = start(
      { work: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: broken, retries: 3, backoff: '1h' } },
      {},
      { signal: stop.signal },
    );
    await clock.advance(MINUTE);
    stop.abort('SIGINT');
    const { result, events } = await clock.runUntil(started.done);
    expect(result.interrupted).toBe('SIGINT');
    expect(times(events, 'unit:start')).toEqual([['work[n=a]', 0]]);
    expect(events.at(-1)).toMatchObject({ type: 'run:done', time: t0 + MINUTE, ok: false, interrupted: 'SIGINT', notStarted: 1 });
  });
});

describe('scheduler in virtual time: custom checks', () => {
  it('fails a ready() check that never settles after checkTimeout', async () => {
    inputs('in/a.txt');
    const { result, events } = await run({
      work: {
        input: 'in/{n}.txt',
        output: 'out/{n}.txt',
        run: writer(),
        ready: () => new Promise<boolean>(() => undefined),
        checkTimeout: '5m',
      },
    });
    expect(result.failures.map((f) => f.error.reason)).toEqual(['check-error']);
    expect(times(events, 'unit:fail')).toEqual([['work[n=a]', 5 * MINUTE]]);
  });
});

describe('scheduler in virtual time: maxAge', () => {
  const TASKS = (log: string[]): Record<string, TaskSpec> => ({
    fetch: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: writer(log), maxAge: '1h' },
  });

  it('says when a built unit expires, keeps it fresh until then, and rebuilds it after', async () => {
    inputs('in/a.txt');
    const log: string[] = [];
    const first = await run(TASKS(log));
    expect(first.result.nextExpiry).toBe(t0 + HOUR);
    const fresh = await run(TASKS(log));
    expect(fresh.result.counts.fresh).toBe(1);
    // The output's real mtime plus an hour: within the few real ms this test took.
    expect(Math.abs((fresh.result.nextExpiry ?? 0) - (t0 + HOUR))).toBeLessThan(10 * SECOND);
    await clock.advance(2 * HOUR);
    const expired = await run(TASKS(log));
    expect(expired.events.find((e) => e.type === 'unit:start')).toMatchObject({ reason: { kind: 'max-age', output: 'out/a.txt' } });
    expect(expired.result.nextExpiry).toBe(t0 + 3 * HOUR);
    expect(log).toEqual(['fetch[n=a]', 'fetch[n=a]']);
  });
});

describe('scheduler in virtual time: schedule', () => {
  // Half an hour away from now, on the hour's minute: the few real ms the test takes never cross it.
  const minute = (new Date().getUTCMinutes() + 30) % 60;
  const cron = `${minute} * * * *`;
  const hourly = resolveSchedule({ cron, timezone: 'UTC' });
  const TASKS = (log: string[]): Record<string, TaskSpec> => ({
    fetch: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: writer(log), schedule: { cron, timezone: 'UTC' } },
  });

  it('says when a built unit is due, keeps it fresh until then, and rebuilds it after', async () => {
    inputs('in/a.txt');
    const log: string[] = [];
    const due = hourly?.next(t0) ?? 0;
    const first = await run(TASKS(log));
    expect(first.result.nextExpiry).toBe(due);
    const fresh = await run(TASKS(log));
    expect(fresh.result.counts.fresh).toBe(1);
    expect(fresh.result.nextExpiry).toBe(due);
    await clock.advance(due - t0 + SECOND);
    const refreshed = await run(TASKS(log));
    expect(refreshed.events.find((e) => e.type === 'unit:start')).toMatchObject({
      reason: { kind: 'scheduled', output: 'out/a.txt', due },
    });
    expect(refreshed.result.nextExpiry).toBe(due + HOUR);
    expect(log).toEqual(['fetch[n=a]', 'fetch[n=a]']);
  });
});
