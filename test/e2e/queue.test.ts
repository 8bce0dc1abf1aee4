/**
 * Scale-out through BullMQ on a real Redis (issue 12): one `runcue build --queue` coordinator and
 * three `runcue worker` processes on one project. Limits hold across the workers together, a
 * killed worker's unit is redone elsewhere, and an unreachable Redis is a quick, clear exit 2.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { collect, parseEvents, REPO, Rig, waitFor, type JsonEvent } from '../rig/index.ts';
import { freePort, startFakeRedis, startRedis, type TestRedis } from '../rig/redis.ts';

let redis: TestRedis;
let rig: Rig;
const started: ChildProcess[] = [];

beforeAll(async () => {
  redis = await startRedis();
}, 30_000);
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  for (const child of started.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('close', r));
      child.kill('SIGKILL');
      await exited;
    }
  }
  rig.cleanup();
  // Every test starts from an empty Redis: no queue, limit or job of an earlier test.
  await redis.command('FLUSHALL');
});

/** A `runcue worker` process and what it printed so far. */
interface QueueWorker {
  readonly child: ChildProcess;
  readonly events: () => JsonEvent[];
  readonly stderr: () => string;
}

let machines = 0;

/**
 * A worker; each on a "machine" of its own (RUNCUE_HOST) unless `env` says which. Its job lock
 * is BullMQ's 10 s (the default): a shorter one may lapse on a loaded machine (3 vitest workers
 * on 2 cores lapsed a 2 s one), and BullMQ then gives the job to another worker while the first
 * still runs it (its at-least-once delivery), which these tests would take for a unit run twice.
 * Only the test of a killed worker shortens it, to see the job redelivered soon.
 */
function startWorker(args: readonly string[] = [], env: Record<string, string> = {}): QueueWorker {
  machines += 1;
  const child = rig.spawn(['worker', '--queue', redis.url, '--json', ...args], {
    env: { RUNCUE_QUEUE_LOCK_MS: '10000', RUNCUE_HOST: `machine-${machines}`, ...env },
  });
  started.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  return { child, events: () => parseEvents(out.slice(0, out.lastIndexOf('\n') + 1)), stderr: () => err };
}

/** Three workers, each ready (it says so on stderr once connected). */
async function startWorkers(count: number, args: readonly string[] = [], env: Record<string, string> = {}): Promise<QueueWorker[]> {
  const workers = Array.from({ length: count }, () => startWorker(args, env));
  await waitFor(() => workers.every((w) => w.stderr().includes('taking jobs')), 30_000, 'the workers to connect');
  return workers;
}

async function stopWorkers(workers: readonly QueueWorker[]): Promise<void> {
  await Promise.all(
    workers.map(async (w) => {
      if (w.child.exitCode !== null) return;
      const done = collect(w.child, 30_000);
      w.child.kill('SIGTERM');
      await done;
    }),
  );
}

function runs(): string[] {
  return rig.exists('runs.log') ? rig.read('runs.log').trim().split('\n').filter(Boolean) : [];
}

function inputs(count: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`in/${String(i).padStart(3, '0')}.txt`, `${i}\n`]));
}

/** The largest number of `times` in any window of `windowMs` (closed on the left, open on the right). */
function maxInWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while ((sorted[hi] ?? 0) - (sorted[lo] ?? 0) >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

/** The most intervals open at once. */
function maxOverlap(intervals: readonly (readonly [number, number])[]): number {
  const edges = intervals.flatMap(([s, e]) => [[s, 1] as const, [e, -1] as const]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let best = 0;
  for (const [, d] of edges) best = Math.max(best, (open += d));
  return best;
}

describe('runcue build --queue with three runcue workers', () => {
  it('runs 100 units once each, never more than 20 starts in any second nor 4 at once over all workers', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default {
        services: { api: { concurrent: 4, rate: '20/s' } },
        tasks: {
          call: { input: 'in/{n}.txt', output: 'out/{n}.txt', uses: 'api', run: 'echo {n} >> runs.log; sleep 0.1; cat {input} > {output}' },
        },
      };`,
      ...inputs(100),
    });
    // Two slots per worker, four for the service: whenever more than two units run, as at the
    // start, some run on another worker (one worker once took all of them at load 8 with four
    // slots). 100 units at 20/s take 5 s: five windows of the rate, and room for 40/s under the
    // concurrency, so the rate is what holds them back (300 took 15 s and tested no more).
    const workers = await startWorkers(3, ['--concurrency', '2']);
    const result = await rig.run(['build', '--queue', redis.url], { timeoutMs: 120_000 });
    expect(result.stderr).toContain('100 built');
    expect(result.code).toBe(0);
    await stopWorkers(workers);
    expect(runs()).toHaveLength(100);
    expect(new Set(runs()).size).toBe(100);
    for (const n of ['000', '042', '099']) expect(rig.read(`out/${n}.txt`)).toBe(`${Number(n)}\n`);
    const events = workers.flatMap((w) => w.events());
    const starts = events.filter((e) => e.type === 'unit:start');
    expect(starts).toHaveLength(100);
    // The work was spread, not run by one worker. Not "every worker": BullMQ promises no
    // fairness, and on a machine at load 8 one of three workers once lost every race for a job.
    // (Six slots for a cap of four keep "never more than 4 at once" a property of the service.)
    expect(workers.filter((w) => w.events().some((e) => e.type === 'unit:start')).length).toBeGreaterThanOrEqual(2);
    expect(
      maxInWindow(
        starts.map((e) => e['time'] as number),
        1000,
      ),
    ).toBeLessThanOrEqual(20);
    const startOf = new Map(starts.map((e) => [e.unit, e['time'] as number]));
    const intervals = events.filter((e) => e.type === 'unit:done').map((e) => [startOf.get(e.unit) ?? 0, e['time'] as number] as const);
    expect(intervals).toHaveLength(100);
    expect(maxOverlap(intervals)).toBeLessThanOrEqual(4);
    // A second build finds everything fresh and adds no job.
    const again = await rig.run(['build', '--queue', redis.url]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('100 fresh');
  }, 180_000);

  it('redoes the unit of a worker killed mid-unit on another worker: nothing lost, nothing run twice to completion', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default {
        services: { api: { concurrent: 3 } },
        tasks: {
          slow: {
            input: 'in/{n}.txt', output: 'out/{n}.txt', uses: 'api',
            run: 'echo partial > {output}; sleep 1; cat {input} > {output}; echo {n} >> runs.log',
          },
        },
      };`,
      ...inputs(9),
    });
    // A 2 s lock: the killed worker's job is redelivered about 2 s after, not 10.
    const workers = await startWorkers(3, [], { RUNCUE_QUEUE_LOCK_MS: '2000' });
    const build = collect(rig.spawn(['build', '--queue', redis.url]), 120_000);
    // The victim: whichever worker starts a unit first (BullMQ may hand one worker nothing).
    const hasStarted = (w: QueueWorker): boolean => w.events().some((e) => e.type === 'unit:start');
    await waitFor(() => workers.some(hasStarted), 30_000, 'a worker to start a unit');
    const victim = workers.find(hasStarted);
    if (!victim) throw new Error('no worker');
    const killedUnit = victim.events().find((e) => e.type === 'unit:start')?.unit;
    victim.child.kill('SIGKILL');
    const result = await build;
    expect(result.stderr).toContain('9 built');
    expect(result.code).toBe(0);
    await stopWorkers(workers.filter((w) => w !== victim));
    expect([...runs()].sort()).toEqual(Object.keys(inputs(9)).map((f) => f.slice(3, 6)));
    for (let i = 0; i < 9; i++) expect(rig.read(`out/${String(i).padStart(3, '0')}.txt`)).toBe(`${i}\n`);
    // The killed worker's unit was started again, by another worker.
    const restarted = workers
      .filter((w) => w !== victim)
      .flatMap((w) => w.events())
      .filter((e) => e.type === 'unit:start' && e.unit === killedUnit);
    expect(restarted.length).toBeGreaterThanOrEqual(1);
  }, 180_000);

  it('fails a unit with a clear message when the worker runs another config', async () => {
    rig = new Rig();
    const config = (text: string): string => `export default {
      tasks: { make: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: 'echo ${text} > {output}' } },
    };`;
    rig.write({ 'runcue.config.mjs': config('one'), 'other/runcue.config.mjs': config('two'), ...inputs(1) });
    const worker = startWorker(['--cwd', 'other']);
    await waitFor(() => worker.stderr().includes('taking jobs'), 30_000, 'the worker to connect');
    const result = await rig.run(['build', '--queue', redis.url]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("differs from the coordinator's");
    expect(rig.exists('out/000.txt')).toBe(false);
  }, 60_000);

  it("carries a unit's failure on its worker (why, exit code, output) to the coordinator's report", async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default {
        tasks: { make: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: 'echo "quota exceeded for {n}" >&2; exit 7' } },
      };`,
      ...inputs(1),
    });
    const worker = startWorker();
    await waitFor(() => worker.stderr().includes('taking jobs'), 30_000, 'the worker to connect');
    const result = await rig.runJson(['build', '--queue', redis.url]);
    expect(result.code).toBe(1);
    const fail = result.events.find((e) => e.type === 'unit:fail');
    expect(fail).toMatchObject({
      unit: 'make[n=000]',
      error: { reason: 'exit-non-zero', exitCode: 7 },
      outputTail: expect.stringContaining('quota exceeded for 000'),
      host: expect.stringMatching(/^machine-\d+$/),
    });
    const plain = await rig.run(['build', '--queue', redis.url]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/✗ make\[n=000\] exit 7/);
    expect(plain.stderr).toContain('quota exceeded for 000');
  }, 60_000);
});

describe('more scenarios, each with three workers', () => {
  it("holds a service's concurrent over every queue that uses it (api alone and api+ocr), on all workers together", async () => {
    rig = new Rig();
    // Each unit logs its own start and end (µs, one clock: the workers share this machine),
    // inside the time its worker holds the slot.
    const run = (dir: string): string => `s=$(date +%s%6N); sleep 0.3; cat {input} > ${dir}/{n}.txt; echo "$s $(date +%s%6N)" >> api.log`;
    rig.write({
      'runcue.config.mjs': `export default {
        services: { api: { concurrent: 2 }, ocr: { concurrent: 4 } },
        tasks: {
          call: { input: 'in/{n}.txt', output: 'call/{n}.txt', uses: 'api', run: '${run('call')}' },
          scan: { input: 'in/{n}.txt', output: 'scan/{n}.txt', uses: ['api', 'ocr'], run: '${run('scan')}' },
        },
      };`,
      ...inputs(8),
    });
    const workers = await startWorkers(3, ['--concurrency', '2']);
    const result = await rig.run(['build', '--queue', redis.url], { timeoutMs: 120_000 });
    expect(result.stderr).toContain('16 built');
    expect(result.code).toBe(0);
    await stopWorkers(workers);
    for (let i = 0; i < 8; i++) {
      const n = String(i).padStart(3, '0');
      expect(rig.read(`call/${n}.txt`)).toBe(`${i}\n`);
      expect(rig.read(`scan/${n}.txt`)).toBe(`${i}\n`);
    }
    const intervals = rig
      .read('api.log')
      .trim()
      .split('\n')
      .map((line) => line.split(' ').map(Number) as [number, number]);
    expect(intervals).toHaveLength(16);
    // Each queue alone allows 2: together they would run 4 without the service's own slots.
    expect(maxOverlap(intervals)).toBe(2);
  }, 120_000);

  it('a coordinator killed and started again: finished units are fresh, the rest completes, none runs twice', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default {
        services: { api: { concurrent: 3 } },
        tasks: {
          slow: { input: 'in/{n}.txt', output: 'out/{n}.txt', uses: 'api', run: 'sleep 0.5; cat {input} > {output}; echo {n} >> runs.log' },
        },
      };`,
      ...inputs(12),
    });
    const workers = await startWorkers(3);
    const first = rig.spawn(['build', '--queue', redis.url]);
    started.push(first);
    const firstDone = collect(first, 120_000);
    await waitFor(() => runs().length >= 3, 60_000, 'three units to finish');
    first.kill('SIGKILL');
    await firstDone;
    const second = await rig.run(['build', '--queue', redis.url], { timeoutMs: 120_000 });
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/[1-9]\d* fresh/);
    await stopWorkers(workers);
    expect(runs()).toHaveLength(12);
    expect(new Set(runs()).size).toBe(12);
    for (let i = 0; i < 12; i++) expect(rig.read(`out/${String(i).padStart(3, '0')}.txt`)).toBe(`${i}\n`);
    const third = await rig.run(['build', '--queue', redis.url]);
    expect(third.stderr).toContain('0 built, 12 fresh');
  }, 180_000);

  it('a push-back from one worker pauses the service on every worker', async () => {
    rig = new Rig();
    // The first unit pushes back once asking for 3 s; every unit records when it started.
    rig.write({
      'runcue.config.mjs': `export default {
        services: { api: { concurrent: 2 } },
        tasks: {
          call: {
            input: 'in/{n}.txt', output: 'out/{n}.txt', uses: 'api',
            run: 'if [ {n} = 000 ] && [ ! -e pushed ]; then touch pushed; echo 3 > "$RUNCUE_RETRY_AFTER_FILE"; exit 75; fi; cat {input} > {output}',
          },
        },
      };`,
      ...inputs(6),
    });
    const workers = await startWorkers(3);
    const result = await rig.run(['build', '--queue', redis.url], { timeoutMs: 120_000 });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('6 built');
    await stopWorkers(workers);
    const events = workers.flatMap((w) => w.events());
    const pushed = events.find((e) => e.type === 'unit:log' && String(e['text']).startsWith('pushed back'));
    expect(pushed).toBeDefined();
    const at = pushed?.['time'] as number;
    // Units started after the push-back: none on any worker until well into the 3 s pause, but
    // for one that another worker had already taken as the push-back came (its start can be
    // logged a few ms after it: seen once, at +7 ms, in a full run).
    const later = events.filter((e) => e.type === 'unit:start' && (e['time'] as number) > at).map((e) => (e['time'] as number) - at);
    expect(later.filter((ms) => ms >= 2000).length).toBeGreaterThan(0);
    const early = later.filter((ms) => ms < 2000);
    expect(early.length).toBeLessThanOrEqual(1);
    for (const ms of early) expect(ms).toBeLessThan(250);
  }, 180_000);

  it('fan-in and a dynamic (glob) output across workers, and a failing unit retried', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default {
        tasks: {
          split: { input: 'in/{n}.txt', output: 'parts/{n}/*.txt', run: 'mkdir -p parts/{n} && echo a{n} > parts/{n}/a.txt && echo b{n} > parts/{n}/b.txt' },
          flaky: {
            input: 'parts/{n}/{part}.txt', output: 'up/{n}-{part}.txt', retries: 2, backoff: '10ms',
            run: 'if [ ! -e tried-{n}-{part} ]; then touch tried-{n}-{part}; exit 3; fi; tr a-z A-Z < {input} > {output}',
          },
          all: { input: 'up/*.txt', output: 'all.txt', run: 'cat $(ls up/*.txt | sort) > {output}' },
        },
      };`,
      ...inputs(3),
    });
    const workers = await startWorkers(3);
    const result = await rig.runJson(['build', '--queue', redis.url], { timeoutMs: 120_000 });
    expect(result.code).toBe(0);
    await stopWorkers(workers);
    expect(rig.read('all.txt')).toBe('A000\nB000\nA001\nB001\nA002\nB002\n');
    // Both the coordinator's and the workers' --json are the documented event contract.
    const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
    const validate = ajv.compile(JSON.parse(readFileSync(join(REPO, 'docs/events.schema.json'), 'utf8')) as object);
    for (const e of [...result.events, ...workers.flatMap((w) => w.events())]) {
      expect(validate(e), `${JSON.stringify(e)}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    }
    // The coordinator's events say which worker host ran each unit.
    const done = result.events.filter((e) => e.type === 'unit:done');
    expect(done).toHaveLength(3 + 6 + 1);
    for (const e of done) expect(e['host']).toMatch(/^machine-\d+$/);
    const retries = result.events.filter((e) => e.type === 'unit:retry');
    expect(retries).toHaveLength(6);
    // Attempts after a failure are jobs of their own, and they too ran on the workers.
    const starts = workers.flatMap((w) => w.events()).filter((e) => e.type === 'unit:start' && e.unit?.startsWith('flaky'));
    expect(starts.filter((e) => e['attempt'] === 2)).toHaveLength(6);
  }, 180_000);
});

describe('every kind of task runs on the workers', () => {
  it("a function task (found in the worker's own config) and a persistent worker task", async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `import { readFileSync, writeFileSync } from 'node:fs';
      export default {
        tasks: {
          upper: { input: 'in/{n}.txt', output: 'fn/{n}.txt', run: ({ input, output }) => writeFileSync(output, readFileSync(input, 'utf8').toUpperCase() + process.pid + '\\n') },
          answer: { input: 'in/{n}.txt', output: 'pw/{n}.json', worker: [${JSON.stringify(process.execPath)}, 'handler.mjs'], writeResult: 'json' },
        },
      };`,
      'handler.mjs': `import { serveWorker } from 'runcue/worker';\nawait serveWorker({ handle: () => ({ pid: process.pid }) });\n`,
      ...Object.fromEntries(['a', 'b', 'c', 'd'].map((x, i) => [`in/${String(i).padStart(3, '0')}.txt`, `${x}\n`])),
    });
    const workers = await startWorkers(2, ['--concurrency', '2']);
    const result = await rig.run(['build', '--queue', redis.url], { timeoutMs: 120_000 });
    expect(result.stderr).toContain('8 built');
    expect(result.code).toBe(0);
    await stopWorkers(workers);
    const workerPids = new Set(workers.map((w) => w.child.pid));
    for (let i = 0; i < 4; i++) {
      const [text, pid] = rig.read(`fn/00${i}.txt`).split('\n');
      expect(text).toBe('ABCD'[i]);
      // The function ran in a runcue worker process, not in the coordinator.
      expect(workerPids.has(Number(pid))).toBe(true);
      expect(JSON.parse(rig.read(`pw/00${i}.json`))).toEqual({ pid: expect.any(Number) as number });
    }
  }, 120_000);
});

describe('a worker stopped with SIGTERM', () => {
  it('stops its unit, removes the partial output and puts the job back for another worker at once', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default {
        tasks: { slow: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: 'echo partial > {output}; while [ ! -e go ]; do sleep 0.05; done; cat {input} > {output}' } },
      };`,
      ...inputs(1),
    });
    const first = startWorker();
    await waitFor(() => first.stderr().includes('taking jobs'), 30_000, 'the first worker to connect');
    const build = collect(rig.spawn(['build', '--queue', redis.url]), 120_000);
    await waitFor(() => rig.exists('out/000.txt'), 30_000, 'the unit to start');
    const firstDone = collect(first.child, 30_000);
    first.child.kill('SIGTERM');
    expect((await firstDone).code).toBe(143);
    expect(rig.exists('out/000.txt')).toBe(false);
    // The job went back to wait: a worker started now takes it (no lock to expire), and prints what it runs.
    const second = rig.spawn(['worker', '--queue', redis.url], { env: { RUNCUE_QUEUE_LOCK_MS: '60000' } });
    started.push(second);
    let out = '';
    second.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    await waitFor(() => out.includes('▸ slow[n=000]'), 30_000, 'the second worker to take the job');
    rig.write({ go: '' });
    const result = await build;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('1 built');
    // The coordinator's log names the worker host that ran the unit.
    expect(result.stderr).toMatch(new RegExp(`✓ slow\\[n=000\\] [\\d.]+m?s on ${hostname()}`));
    expect(rig.read('out/000.txt')).toBe('0\n');
    await waitFor(() => out.includes('✓ slow[n=000]'), 30_000, 'the second worker to print the end');
  }, 120_000);
});

describe('runcue queue status', () => {
  it('shows the waiting jobs and workers of each queue; Ctrl-C on the coordinator removes its waiting jobs', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default {
        services: { api: { concurrent: 2, rate: '10/s' } },
        tasks: { call: { input: 'in/{n}.txt', output: 'out/{n}.txt', uses: 'api', run: 'cat {input} > {output}' } },
      };`,
      ...inputs(3),
    });
    const status = async (): Promise<Record<string, unknown>[]> => {
      const result = await rig.run(['queue', 'status', '--queue', redis.url, '--json']);
      expect(result.code).toBe(0);
      return JSON.parse(result.stdout) as Record<string, unknown>[];
    };
    // No worker yet: the coordinator's jobs wait.
    const coordinator = rig.spawn(['build', '--queue', redis.url]);
    started.push(coordinator);
    const done = collect(coordinator, 60_000);
    let rows: Record<string, unknown>[] = [];
    // Each status run is a bounded wait of its own (a process start): polled, never slept.
    for (let i = 0; i < 60 && rows[0]?.['waiting'] !== 3; i++) rows = await status();
    expect(rows).toEqual([
      expect.objectContaining({ queue: 'api', waiting: 3, active: 0, workers: 0, limits: { concurrency: 2, paceMs: 100 } }),
    ]);
    coordinator.kill('SIGINT');
    expect((await done).code).toBe(130);
    expect(await status()).toEqual([expect.objectContaining({ queue: 'api', waiting: 0, active: 0 })]);
    const worker = startWorker();
    await waitFor(() => worker.stderr().includes('taking jobs'), 30_000, 'the worker to connect');
    expect(await status()).toEqual([expect.objectContaining({ workers: 1 })]);
    const table = await rig.run(['queue', 'status', '--queue', redis.url]);
    expect(table.stdout).toMatch(/^queue\s+waiting\s+active\s+failed\s+done\s+workers\s+limits\s+paused\n/);
    expect(table.stdout).toContain('2 at once, 1 start per 100 ms');
  }, 120_000);
});

describe('config: queue.url and scope host', () => {
  it("takes the queue from the config's queue.url, and holds a scope: 'host' service per machine, over its workers", async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default {
        queue: { url: '${redis.url}' },
        services: { gpu: { concurrent: 1, scope: 'host' } },
        tasks: { render: { input: 'in/{n}.txt', output: 'out/{n}.txt', uses: 'gpu', run: 'sleep 0.5; cat {input} > {output}' } },
      };`,
      ...inputs(6),
    });
    // Two workers on machine "box-a", one on "box-b" (RUNCUE_HOST stands for the host name).
    const workers = ['box-a', 'box-a', 'box-b'].map((host) => {
      const child = rig.spawn(['worker', '--json', '--concurrency', '2'], { env: { RUNCUE_HOST: host } });
      started.push(child);
      let out = '';
      let err = '';
      child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
      return { host, child, events: () => parseEvents(out.slice(0, out.lastIndexOf('\n') + 1)), stderr: () => err };
    });
    await waitFor(() => workers.every((w) => w.stderr().includes(`taking jobs from ${redis.url}`)), 30_000, 'the workers to connect');
    const result = await rig.runJson(['build'], { timeoutMs: 120_000 });
    // The config's queue.url alone makes it a queue build (no --queue, no RUNCUE_QUEUE).
    expect(result.code).toBe(0);
    expect(result.events.at(-1)).toMatchObject({ type: 'run:done', counts: { built: 6 } });
    await stopWorkers(workers);
    const intervalsOf = (events: readonly JsonEvent[]): [number, number][] => {
      const startOf = new Map(events.filter((e) => e.type === 'unit:start').map((e) => [e.unit, e['time'] as number]));
      return events.filter((e) => e.type === 'unit:done').map((e) => [startOf.get(e.unit) ?? 0, e['time'] as number]);
    };
    const on = (host: string): JsonEvent[] => workers.filter((w) => w.host === host).flatMap((w) => w.events());
    // gpu is per machine: never two at once on box-a, over both of its workers...
    expect(maxOverlap(intervalsOf(on('box-a')))).toBe(1);
    expect(on('box-a').filter((e) => e.type === 'unit:done').length).toBeGreaterThan(0);
    // ...while box-b ran its own at the same time.
    expect(on('box-b').filter((e) => e.type === 'unit:done').length).toBeGreaterThan(0);
    expect(maxOverlap(intervalsOf(workers.flatMap((w) => w.events())))).toBe(2);
    // The coordinator says each unit was queued, then started on the machine that ran it.
    for (const unit of Object.keys(inputs(6)).map((f) => `render[n=${f.slice(3, 6)}]`)) {
      const mine = result.events.filter((e) => e.unit === unit).map((e) => e.type);
      expect(mine).toEqual(['unit:queued', 'unit:start', 'unit:done']);
      const start = result.events.find((e) => e.unit === unit && e.type === 'unit:start');
      const ranOn = workers.find((w) => w.events().some((e) => e.unit === unit && e.type === 'unit:done'))?.host;
      expect(start?.['host']).toBe(ranOn);
    }
  }, 120_000);
});

describe('an unreachable Redis', () => {
  it('is exit 2 with a message naming it, within 5 s', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': `export default { tasks: { a: { output: 'a.txt', run: 'echo > a.txt' } } };` });
    const port = await freePort();
    const began = Date.now();
    const result = await rig.run(['build', '--queue', `redis://127.0.0.1:${port}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`cannot reach Redis at redis://127.0.0.1:${port}`);
    expect(Date.now() - began).toBeLessThan(5000);
    const worker = await rig.run(['worker', '--queue', `redis://127.0.0.1:${port}`]);
    expect(worker.code).toBe(2);
    expect(worker.stderr).toContain('cannot reach Redis');
  });

  it('a URL that is not redis:// is exit 2 saying what is expected', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': `export default { tasks: { a: { output: 'a.txt', run: 'echo > a.txt' } } };` });
    const result = await rig.run(['build', '--queue', 'http://localhost:6379']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('expected redis://host[:port][/db]');
  });

  it('a database that is not a number is exit 2 saying so', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': `export default { tasks: { a: { output: 'a.txt', run: 'echo > a.txt' } } };` });
    const result = await rig.run(['build', '--queue', `${redis.url}/queue`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('the database must be a number');
    expect(rig.exists('a.txt')).toBe(false);
  });

  it('a Redis older than 6.2 is exit 2 naming its version, for the coordinator and the worker', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': `export default { tasks: { a: { output: 'a.txt', run: 'echo > a.txt' } } };` });
    const old = await startFakeRedis('5.0.7');
    try {
      for (const command of ['build', 'worker']) {
        const result = await rig.run([command, '--queue', old.url]);
        expect(result.code).toBe(2);
        expect(result.stderr).toContain(`Redis at ${old.url} is version 5.0.7; runcue's queue (BullMQ) needs 6.2.0 or newer`);
      }
      expect(rig.exists('a.txt')).toBe(false);
    } finally {
      await old.close();
    }
  });
});
