/**
 * The rate store: starts kept under `.runcue/rates/` in a real temp dir, shared by several
 * store instances (as by several processes) and by two real child processes hammering the same
 * window through the limiter (its sources, run by Node as they are).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ResolvedService } from '../../../src/config/resolved.ts';
import { createLimiter } from '../../../src/runner/limiter.ts';
import { createRateStore } from '../../../src/runner/rate-store.ts';
import { REPO } from '../../rig/index.ts';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'runcue-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const log = (service: string): string => join(root, '.runcue', 'rates', `${service}.log`);
const lines = (service: string): string[] => readFileSync(log(service), 'utf8').split('\n').filter(Boolean);

function services(count: number, windowMs: number, burst?: number): Map<string, ResolvedService> {
  return new Map([
    [
      'api',
      {
        name: 'api',
        concurrent: undefined,
        rates: [{ count, windowMs, source: `${count}/${windowMs}ms` }],
        burst,
        scope: 'global' as const,
      },
    ],
    ['cpu', { name: 'cpu', concurrent: 2, rates: [], burst: undefined, scope: 'host' as const }],
  ]);
}

describe('rate store', () => {
  it('keeps starts in an append-only file that another instance reads', () => {
    const a = createRateStore(root);
    const b = createRateStore(root);
    expect(a.load('api', 0)).toEqual([]);
    expect(existsSync(join(root, '.runcue'))).toBe(false);
    a.exclusive(() => {
      a.record('api', 100);
      a.record('api', 200);
    });
    expect(lines('api')).toEqual(['100', '200']);
    expect(b.load('api', 0)).toEqual([100, 200]);
    expect(b.load('api', 150)).toEqual([200]);
    b.exclusive(() => b.record('api', 150));
    expect(a.load('api', 0)).toEqual([100, 150, 200]);
    expect(existsSync(join(root, '.runcue', 'rates', '.lock'))).toBe(false);
  });

  it('reads only whole lines: a torn last line waits for its newline', () => {
    const store = createRateStore(root);
    store.exclusive(() => store.record('api', 1));
    appendFileSync(log('api'), '12');
    expect(store.load('api', 0)).toEqual([1]);
    appendFileSync(log('api'), '3\n');
    expect(store.load('api', 0)).toEqual([1, 123]);
  });

  it('compacts a file that grew past a few times the window, and other instances follow', () => {
    const a = createRateStore(root);
    const b = createRateStore(root);
    for (let t = 0; t < 1000; t++) {
      a.exclusive(() => {
        a.load('api', t - 10);
        a.record('api', t);
      });
    }
    expect(lines('api').length).toBeLessThanOrEqual(64);
    expect(b.load('api', 990)).toEqual([990, 991, 992, 993, 994, 995, 996, 997, 998, 999]);
    b.exclusive(() => b.record('api', 1000));
    expect(a.load('api', 995)).toEqual([995, 996, 997, 998, 999, 1000]);
  });

  it('forgets the window when .runcue/ is deleted, and writes again afterwards', () => {
    const store = createRateStore(root);
    store.exclusive(() => store.record('api', 5));
    rmSync(join(root, '.runcue'), { recursive: true });
    expect(store.load('api', 0)).toEqual([]);
    store.exclusive(() => store.record('api', 6));
    expect(lines('api')).toEqual(['6']);
  });

  it('keeps service names that are not file names apart', () => {
    const store = createRateStore(root);
    store.exclusive(() => {
      store.record('a/b', 1);
      store.record('a', 2);
    });
    expect(store.load('a/b', 0)).toEqual([1]);
    expect(store.load('a', 0)).toEqual([2]);
  });

  it('gives up on a lock held past the wait, and breaks a stale one', () => {
    const holder = createRateStore(root);
    const waiter = createRateStore(root, { lockWaitMs: 20, staleLockMs: 60_000 });
    const inner = holder.exclusive(() => waiter.exclusive(() => 'ran'));
    expect(inner).toEqual({
      ok: true,
      value: { ok: false, error: { reason: 'lock-busy', path: join(root, '.runcue', 'rates', '.lock') } },
    });

    // A lock left by a process that died holding it.
    const lockPath = join(root, '.runcue', 'rates', '.lock');
    mkdirSync(join(root, '.runcue', 'rates'), { recursive: true });
    writeFileSync(lockPath, '');
    const old = new Date(Date.now() - 30_000);
    utimesSync(lockPath, old, old);
    expect(waiter.exclusive(() => 'ran')).toEqual({ ok: false, error: { reason: 'lock-busy', path: lockPath } });
    expect(createRateStore(root, { staleLockMs: 1000 }).exclusive(() => 'ran')).toEqual({ ok: true, value: 'ran' });
    expect(existsSync(lockPath)).toBe(false);
  });

  it('is re-entrant', () => {
    const store = createRateStore(root);
    expect(store.exclusive(() => store.exclusive(() => 7))).toEqual({ ok: true, value: { ok: true, value: 7 } });
  });

  it('reports an I/O failure once and goes on in memory', () => {
    writeFileSync(join(root, '.runcue'), 'a file where a directory should be');
    const errors: Error[] = [];
    const store = createRateStore(root, { onError: (e) => errors.push(e) });
    const limiter = createLimiter(services(1, 1000), undefined, { store });
    expect(limiter.tryAcquire(['api'], 0).ok).toBe(true);
    expect(limiter.tryAcquire(['api'], 10)).toEqual({ ok: false, kind: 'rate-limited', service: 'api', until: 1000 });
    expect(errors).toHaveLength(1);
  });

  // Tests run as root, where chmod stops nothing: a file where a directory should be is the
  // unwritable state directory that works for every user.
  it('keeps the starts it could not write, so a later limiter on the same store still sees them', () => {
    mkdirSync(join(root, '.runcue'));
    writeFileSync(join(root, '.runcue', 'rates'), 'a file where a directory should be');
    const errors: Error[] = [];
    const store = createRateStore(root, { onError: (e) => errors.push(e) });
    expect(createLimiter(services(1, 1000), undefined, { store }).tryAcquire(['api'], 0).ok).toBe(true);
    // A watch session runs each cycle with a new limiter over one store.
    const next = createLimiter(services(1, 1000), undefined, { store });
    expect(next.tryAcquire(['api'], 10)).toEqual({ ok: false, kind: 'rate-limited', service: 'api', until: 1000 });
    expect(next.tryAcquire(['api'], 1000).ok).toBe(true);
    expect(store.load('api', 0)).toEqual([0, 1000]);
    expect(errors.map((e) => (e as NodeJS.ErrnoException).code)).toEqual(['ENOTDIR']);
  });

  it('counts starts recorded in the future as starts now, and says so once per file', () => {
    const skews: [string, number][] = [];
    const store = createRateStore(root, { onFutureStarts: (file, skew) => skews.push([file, skew]) });
    mkdirSync(join(root, '.runcue', 'rates'), { recursive: true });
    writeFileSync(log('api'), '1000\n1500\n3600000\n');
    expect(store.load('api', 0, 1000)).toEqual([1000, 1000, 1500]);
    expect(skews).toEqual([[log('api'), 3_599_000]]);
    appendFileSync(log('api'), '7200000\n');
    expect(store.load('api', 0, 2000)).toEqual([1000, 1000, 1500, 2000]);
    expect(skews).toHaveLength(1);
  });

  it('a stale lock it may not remove makes it go on without the lock, not wait forever', () => {
    const errors: Error[] = [];
    const lockPath = join(root, '.runcue', 'rates', '.lock');
    mkdirSync(lockPath, { recursive: true });
    writeFileSync(join(lockPath, 'x'), '');
    const old = new Date(Date.now() - 30_000);
    utimesSync(lockPath, old, old);
    const store = createRateStore(root, { staleLockMs: 1000, lockWaitMs: 60_000, onError: (e) => errors.push(e) });
    expect(store.exclusive(() => 'ran')).toEqual({ ok: true, value: 'ran' });
    expect(errors).toHaveLength(1);
  });
});

describe('limiter with a rate store', () => {
  it('remembers the window across a restart', () => {
    const first = createLimiter(services(3, 1000, 3), undefined, { store: createRateStore(root) });
    for (const t of [0, 10, 20]) expect(first.tryAcquire(['api'], t).ok).toBe(true);
    const second = createLimiter(services(3, 1000, 3), undefined, { store: createRateStore(root) });
    expect(second.tryAcquire(['api'], 30)).toEqual({ ok: false, kind: 'rate-limited', service: 'api', until: 1000 });
    expect(second.tryAcquire(['api'], 1000).ok).toBe(true);
    expect(second.tryAcquire(['api'], 1005)).toEqual({ ok: false, kind: 'rate-limited', service: 'api', until: 1010 });
  });

  it('a start recorded an hour ahead holds the service for one window, not for the hour', () => {
    mkdirSync(join(root, '.runcue', 'rates'), { recursive: true });
    writeFileSync(log('api'), `${10_000 + 3_600_000}\n`);
    const limiter = createLimiter(services(1, 1000), undefined, { store: createRateStore(root) });
    expect(limiter.tryAcquire(['api'], 10_000)).toEqual({ ok: false, kind: 'rate-limited', service: 'api', until: 11_000 });
    expect(limiter.tryAcquire(['api'], 11_000).ok).toBe(true);
  });

  it('a clock stepped back while running holds the service for a window or two, not for the step', () => {
    const limiter = createLimiter(services(1, 1000), undefined, { store: createRateStore(root) });
    expect(limiter.tryAcquire(['api'], 3_600_000).ok).toBe(true);
    // Its own memory counts the start as one at 0; the file's copy is counted at the next look.
    expect(limiter.tryAcquire(['api'], 0)).toEqual({ ok: false, kind: 'rate-limited', service: 'api', until: 1000 });
    expect(limiter.tryAcquire(['api'], 1000)).toEqual({ ok: false, kind: 'rate-limited', service: 'api', until: 2000 });
    expect(limiter.tryAcquire(['api'], 2000).ok).toBe(true);
  });

  it('a service without rates never touches the disk', () => {
    const limiter = createLimiter(services(3, 1000), undefined, { store: createRateStore(root) });
    expect(limiter.tryAcquire(['cpu'], 0).ok).toBe(true);
    expect(existsSync(join(root, '.runcue'))).toBe(false);
  });

  it('a refused lock is a short rate-limited wait, not a slot', () => {
    const holder = createRateStore(root);
    const limiter = createLimiter(services(3, 1000), undefined, { store: createRateStore(root, { lockWaitMs: 5 }), lockRetryMs: 40 });
    const inner = holder.exclusive(() => limiter.tryAcquire(['api', 'cpu'], 100));
    expect(inner).toEqual({ ok: true, value: { ok: false, kind: 'rate-limited', service: 'api', until: 140 } });
    expect(limiter.running('cpu')).toBe(0);
    expect(limiter.tryAcquire(['api', 'cpu'], 140).ok).toBe(true);
  });

  it('several limiters on one store, interleaved at random on one clock, keep every window together', () => {
    fc.assert(
      fc.property(
        fc.record({ count: fc.integer({ min: 1, max: 5 }), windowMs: fc.integer({ min: 1, max: 300 }) }),
        fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
        fc.array(fc.record({ who: fc.integer({ min: 0, max: 2 }), dt: fc.integer({ min: 0, max: 60 }) }), { minLength: 1, maxLength: 80 }),
        (rate, burst, asks) => {
          const dir = mkdtempSync(join(root, 'p-'));
          const limiters = [0, 1, 2].map(() =>
            createLimiter(services(rate.count, rate.windowMs, burst), undefined, { store: createRateStore(dir) }),
          );
          const starts: number[] = [];
          let now = 0;
          for (const { who, dt } of asks) {
            now += dt;
            const limiter = limiters[who];
            if (limiter?.tryAcquire(['api'], now).ok) {
              starts.push(now);
              limiter.release(['api']);
            }
          }
          const b = burst ?? Math.max(1, Math.ceil((rate.count * 1000) / rate.windowMs));
          const windows = [rate, ...(b < rate.count ? [{ count: b, windowMs: Math.ceil((b * rate.windowMs) / rate.count) }] : [])];
          for (const w of windows) {
            for (let i = 0; i + w.count < starts.length; i++)
              expect((starts[i + w.count] ?? 0) - (starts[i] ?? 0)).toBeGreaterThanOrEqual(w.windowMs);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('two real processes hammering one window never exceed it together', async () => {
    // The sources themselves (Node strips their types): dist holds a bundle, not these modules.
    const limiterUrl = pathToFileURL(join(REPO, 'src', 'runner', 'limiter.ts')).href;
    const storeUrl = pathToFileURL(join(REPO, 'src', 'runner', 'rate-store.ts')).href;
    const script = join(root, 'hammer.mjs');
    // Each process takes every slot it can for `ms` and prints its start times. Both wake at
    // the same `until`, so they race for the same slots again and again.
    writeFileSync(
      script,
      `import { createLimiter } from ${JSON.stringify(limiterUrl)};
      import { createRateStore } from ${JSON.stringify(storeUrl)};
      const [dir, ms] = process.argv.slice(2);
      const services = new Map([['api', { name: 'api', concurrent: undefined, rates: [{ count: 5, windowMs: 100, source: '5/100ms' }], burst: 5 }]]);
      const limiter = createLimiter(services, undefined, { store: createRateStore(dir, { lockWaitMs: 2000 }) });
      const starts = [];
      const end = Date.now() + Number(ms);
      while (Date.now() < end) {
        const now = Date.now();
        const a = limiter.tryAcquire(['api'], now);
        if (a.ok) { starts.push(now); limiter.release(['api']); continue; }
        await new Promise((r) => setTimeout(r, Math.max(0, a.until - Date.now())));
      }
      process.stdout.write(JSON.stringify(starts));
      `,
    );
    const run = (): Promise<number[]> =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [script, root, '1500'], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`hammer exited ${code}`))));
      });
    const [a, b] = await Promise.all([run(), run()]);
    const all = [...a, ...b].sort((x, y) => x - y);
    expect(all.length).toBeGreaterThan(0);
    for (let i = 0; i + 5 < all.length; i++) {
      if ((all[i + 5] ?? 0) - (all[i] ?? 0) < 100)
        throw new Error(`6 starts within 100 ms from ${all[i]}: ${all.slice(i, i + 6).join(', ')}`);
    }
    // The file holds what both processes did (compacted to the window at most).
    const recorded = lines('api').map(Number);
    expect(recorded.length).toBeGreaterThan(0);
    expect(statSync(log('api')).size).toBeLessThan(4096);
  });
});
