/**
 * The watch rerun policy on a fake clock (debounce, queued follow-ups, own writes, maxAge), and
 * the watch scope (what is watched and which files matter).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ResolvedConfig } from '../../../src/config/resolved.ts';
import { resolveConfig } from '../../../src/config/resolve.ts';
import { resolveSchedule } from '../../../src/config/schedule.ts';
import { clockExpiry } from '../../../src/runner/expiry.ts';
import { RerunPolicy, type CycleOutcome, type CycleRequest, type PolicyClock } from '../../../src/watch/policy.ts';
import { directoryMatcher, watchScope, type WatchScope } from '../../../src/watch/scope.ts';

/** A clock whose time moves only when the test says so; timers fire in order as it passes them. */
class FakeClock implements PolicyClock {
  time = 1_000_000;
  private timers: { at: number; seq: number; fn: () => void; live: boolean }[] = [];
  private seq = 0;

  now(): number {
    return this.time;
  }

  schedule(delayMs: number, fn: () => void): () => void {
    const timer = { at: this.time + delayMs, seq: this.seq++, fn, live: true };
    this.timers.push(timer);
    return () => {
      timer.live = false;
    };
  }

  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.live && t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      due.live = false;
      this.time = Math.max(this.time, due.at);
      due.fn();
    }
    this.timers = this.timers.filter((t) => t.live);
    this.time = end;
  }

  get armed(): number {
    return this.timers.filter((t) => t.live).length;
  }
}

interface Harness {
  readonly clock: FakeClock;
  readonly policy: RerunPolicy;
  readonly cycles: CycleRequest[];
  /** mtimes of the fake file system (absent: the file does not exist). */
  readonly files: Map<string, number>;
  finish(outcome?: Partial<CycleOutcome>): void;
}

function harness(options: { quietMs?: number; maxWaitMs?: number } = {}): Harness {
  const clock = new FakeClock();
  const cycles: CycleRequest[] = [];
  const files = new Map<string, number>();
  const policy = new RerunPolicy({
    clock,
    mtimeOf: (path) => files.get(path),
    startCycle: (request) => cycles.push(request),
    ...options,
  });
  return {
    clock,
    policy,
    cycles,
    files,
    finish: (outcome = {}) => policy.cycleFinished({ full: false, written: new Map(), removed: [], nextExpiry: undefined, ...outcome }),
  };
}

/** A harness whose initial cycle has run and finished. */
function started(options: { quietMs?: number; maxWaitMs?: number } = {}): Harness {
  const h = harness(options);
  h.policy.start();
  h.finish({ full: true });
  h.cycles.length = 0;
  return h;
}

describe('rerun policy: the initial cycle', () => {
  it('starts the initial cycle at once and queues changes that arrive during it', () => {
    const h = harness();
    h.policy.start();
    expect(h.cycles).toEqual([{ initial: true, changed: [], config: false, expired: false }]);
    expect(h.policy.state).toBe('running');
    h.policy.fileChanged('src/a.txt');
    expect(h.policy.state).toBe('running-dirty');
    h.clock.advance(5_000);
    expect(h.cycles).toHaveLength(1);
    h.finish({ full: true });
    expect(h.policy.state).toBe('debouncing');
    h.clock.advance(100);
    expect(h.cycles[1]).toEqual({ initial: false, changed: ['src/a.txt'], config: false, expired: false });
  });

  it('refuses impossible transitions', () => {
    const h = harness();
    expect(() => h.finish()).toThrow(/internal error/);
    h.policy.start();
    expect(() => h.policy.start()).toThrow(/internal error/);
  });
});

describe('rerun policy: debounce', () => {
  it('starts a cycle 25 ms after a lone change', () => {
    const h = started();
    h.policy.fileChanged('src/a.txt');
    expect(h.policy.state).toBe('debouncing');
    h.clock.advance(24);
    expect(h.cycles).toHaveLength(0);
    h.clock.advance(1);
    expect(h.cycles).toEqual([{ initial: false, changed: ['src/a.txt'], config: false, expired: false }]);
  });

  it("a lone change's own stirs keep the 25 ms start", () => {
    const h = started();
    h.policy.fileStirred('src/a.txt');
    h.clock.advance(3);
    h.policy.fileChanged('src/a.txt');
    h.policy.fileStirred('src/a.txt');
    h.clock.advance(25);
    expect(h.cycles).toEqual([{ initial: false, changed: ['src/a.txt'], config: false, expired: false }]);
  });

  it('one file written again and again is one burst: its notices after the report keep the cycle waiting', () => {
    const h = started();
    h.policy.fileChanged('src/a.txt');
    // Writes 20 ms apart: the watcher reported the first and only notices the rest.
    for (let i = 0; i < 5; i++) {
      h.clock.advance(20);
      h.policy.fileStirred('src/a.txt');
    }
    // 100 ms after the last notice, not 25 ms after the report.
    h.clock.advance(99);
    expect(h.cycles).toHaveLength(0);
    h.clock.advance(1);
    expect(h.cycles).toEqual([{ initial: false, changed: ['src/a.txt'], config: false, expired: false }]);
  });

  /**
   * One file written `writes` times, `gapMs` apart (each write: the operating system's notice, the
   * watcher's report 2 ms later), while every cycle takes 15 ms: the cycles it caused.
   */
  function storm(gapMs: number, writes = 10, file: (i: number) => string = () => 'src/a.txt'): CycleRequest[] {
    const h = started();
    const writeAt = new Map(Array.from({ length: writes }, (_, i) => [i * gapMs, file(i)]));
    let runningSince: number | undefined;
    const start = h.clock.now();
    for (let t = 0; t <= writes * gapMs + 2_000; t++) {
      const path = writeAt.get(t);
      if (path !== undefined) {
        h.files.set(path, h.clock.now());
        h.policy.fileStirred(path);
      }
      const reported = writeAt.get(t - 2);
      if (reported !== undefined) h.policy.fileChanged(reported);
      if (runningSince === undefined && h.policy.state.startsWith('running')) runningSince = t;
      if (runningSince !== undefined && t - runningSince >= 15) {
        runningSince = undefined;
        h.finish();
      }
      h.clock.advance(1);
      expect(h.clock.now()).toBe(start + t + 1);
    }
    return h.cycles;
  }

  it('one file written every 30 or 80 ms is two cycles: the first write, then the rest once quiet', () => {
    for (const gap of [30, 80]) {
      const cycles = storm(gap);
      expect(cycles.map((c) => c.changed)).toEqual([['src/a.txt'], ['src/a.txt']]);
    }
    // Further apart than the storm window (1 s): each write is an edit of its own, started at once.
    expect(storm(1_100, 3)).toHaveLength(3);
    // Other files each time, as a user editing file after file: no storm, each starts at once.
    expect(storm(80, 5, (i) => `src/${i}.txt`)).toHaveLength(5);
  });

  it('a stir of another file makes a burst, even before that file is reported', () => {
    const h = started();
    h.policy.fileStirred('src/a.txt');
    h.policy.fileStirred('src/b.txt');
    h.clock.advance(30);
    h.policy.fileChanged('src/a.txt');
    // b was stirred 30 ms ago: wait until 100 ms after that stir, not 25 ms after a's change
    h.clock.advance(69);
    expect(h.cycles).toHaveLength(0);
    h.policy.fileChanged('src/b.txt');
    h.clock.advance(99);
    expect(h.cycles).toHaveLength(0);
    h.clock.advance(1);
    expect(h.cycles).toEqual([{ initial: false, changed: ['src/a.txt', 'src/b.txt'], config: false, expired: false }]);
  });

  it('a stir that is never reported delays a cycle by at most 100 ms', () => {
    const h = started();
    h.policy.fileChanged('src/a.txt');
    h.clock.advance(10);
    h.policy.fileStirred('src/b.txt');
    h.clock.advance(99);
    expect(h.cycles).toHaveLength(0);
    h.clock.advance(1);
    expect(h.cycles).toEqual([{ initial: false, changed: ['src/a.txt'], config: false, expired: false }]);
    h.finish();
    // long forgotten: the next lone change starts after 25 ms again
    h.policy.fileChanged('src/c.txt');
    h.clock.advance(25);
    expect(h.cycles).toHaveLength(2);
  });

  it('stirs of files runcue wrote do not slow the next change', () => {
    const h = started();
    h.policy.fileChanged('src/a.txt');
    h.clock.advance(25);
    h.files.set('work/a.up', 500);
    h.finish({ written: new Map([['work/a.up', 500]]) });
    h.policy.fileStirred('work/a.up');
    h.policy.fileChanged('src/c.txt');
    h.clock.advance(25);
    expect(h.cycles).toHaveLength(2);
  });

  it('a second change within 25 ms makes a burst: the cycle starts 100 ms after its last change', () => {
    const h = started();
    h.policy.fileChanged('src/a.txt');
    expect(h.policy.state).toBe('debouncing');
    h.clock.advance(20);
    h.policy.fileChanged('src/b.txt');
    h.clock.advance(60);
    h.policy.fileChanged('src/c.txt');
    h.clock.advance(99);
    expect(h.cycles).toHaveLength(0);
    h.clock.advance(1);
    expect(h.cycles).toEqual([{ initial: false, changed: ['src/a.txt', 'src/b.txt', 'src/c.txt'], config: false, expired: false }]);
    expect(h.policy.state).toBe('running');
  });

  it("an editor's save (write, rename, chmod of one file within a few ms) is one cycle", () => {
    const h = started();
    h.policy.fileChanged('src/a.txt');
    h.clock.advance(3);
    h.policy.fileChanged('src/a.txt');
    h.clock.advance(2);
    h.policy.fileChanged('src/a.txt');
    h.clock.advance(5_000);
    expect(h.cycles).toEqual([{ initial: false, changed: ['src/a.txt'], config: false, expired: false }]);
  });

  it('starts no later than 1 s after the first change of a storm that does not stop', () => {
    const h = started();
    for (let i = 0; i < 30; i++) {
      h.policy.fileChanged(`src/${i}.txt`);
      // The storm opens as a save does, with two events at once: a burst from the start.
      if (i === 0) h.policy.fileChanged('src/0.txt');
      h.clock.advance(50);
    }
    // 30 changes 50 ms apart: the cap (1 s after the first) fired once, mid-storm.
    expect(h.cycles).toHaveLength(1);
    expect(h.cycles[0]?.changed).toHaveLength(20);
    expect(h.policy.state).toBe('running-dirty');
  });

  it('a git checkout of 1,000 files is one cycle', () => {
    const h = started();
    for (let i = 0; i < 1000; i++) {
      h.policy.fileChanged(`src/f${String(i).padStart(4, '0')}.txt`);
      if (i % 10 === 0) h.clock.advance(1);
    }
    h.clock.advance(10_000);
    expect(h.cycles).toHaveLength(1);
    expect(h.cycles[0]?.changed).toHaveLength(1000);
    h.finish();
    h.clock.advance(10_000);
    expect(h.cycles).toHaveLength(1);
    expect(h.policy.state).toBe('idle');
  });

  it('honours custom quiet and cap times', () => {
    const h = started({ quietMs: 10, maxWaitMs: 30 });
    h.policy.fileChanged('a');
    h.clock.advance(10);
    expect(h.cycles).toHaveLength(1);
  });

  it('reports a path changed several times once', () => {
    const h = started();
    for (let i = 0; i < 5; i++) h.policy.fileChanged('src/a.txt');
    h.clock.advance(100);
    expect(h.cycles[0]?.changed).toEqual(['src/a.txt']);
  });

  it("drops a late event for the version a cycle started with (chokidar's replay of a throttled change)", () => {
    const h = started();
    h.files.set('src/a.txt', 1);
    h.policy.fileChanged('src/a.txt');
    h.clock.advance(25);
    expect(h.cycles).toHaveLength(1);
    // Written twice within chokidar's 50 ms: the second event comes 50 ms after the first.
    h.clock.advance(25);
    h.policy.fileChanged('src/a.txt');
    expect(h.policy.state).toBe('running');
    h.finish();
    h.policy.fileChanged('src/a.txt');
    h.clock.advance(5_000);
    expect(h.cycles).toHaveLength(1);
    // A real edit afterwards is a change again.
    h.files.set('src/a.txt', 2);
    h.policy.fileChanged('src/a.txt');
    h.clock.advance(25);
    expect(h.cycles).toHaveLength(2);
  });

  it('never triggers on .runcue/', () => {
    const h = started();
    h.policy.fileChanged('.runcue/rates.json');
    h.policy.fileChanged('.runcue');
    h.clock.advance(5_000);
    expect(h.cycles).toHaveLength(0);
    expect(h.policy.state).toBe('idle');
  });
});

describe('rerun policy: changes while a cycle runs', () => {
  it('queues exactly one follow-up, never a second concurrent cycle', () => {
    const h = started();
    h.policy.fileChanged('src/a.txt');
    h.clock.advance(100);
    expect(h.cycles).toHaveLength(1);
    for (let i = 0; i < 50; i++) {
      h.policy.fileChanged(`src/${i % 7}.txt`);
      h.clock.advance(200);
    }
    expect(h.cycles).toHaveLength(1);
    h.finish();
    // the changes are long quiet and the cap long passed: the follow-up starts at once
    h.clock.advance(0);
    expect(h.cycles).toHaveLength(2);
    expect(h.cycles[1]?.changed).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `src/${i}.txt`));
    h.finish();
    h.clock.advance(10_000);
    expect(h.cycles).toHaveLength(2);
  });

  it('debounces the follow-up when changes are still arriving', () => {
    const h = started();
    h.policy.fileChanged('a');
    h.clock.advance(100);
    h.policy.fileChanged('b');
    h.policy.fileChanged('c');
    h.clock.advance(30);
    h.finish();
    h.clock.advance(69);
    expect(h.cycles).toHaveLength(1);
    h.clock.advance(1);
    expect(h.cycles).toHaveLength(2);
  });

  it('starts the follow-up at once for a lone change that is already quiet', () => {
    const h = started();
    h.policy.fileChanged('a');
    h.clock.advance(100);
    h.policy.fileChanged('b');
    h.clock.advance(30);
    h.finish();
    h.clock.advance(0);
    expect(h.cycles).toHaveLength(2);
  });
});

describe("rerun policy: runcue's own writes", () => {
  it('drops changes to files the cycle wrote (arriving during or after it), not later edits', () => {
    const h = started();
    h.policy.fileChanged('src/a.txt');
    h.clock.advance(100);
    // the cycle writes work/a.up; its event arrives while the cycle still runs
    h.files.set('work/a.up', 500);
    h.policy.fileChanged('work/a.up');
    expect(h.policy.state).toBe('running-dirty');
    h.files.set('out/a.md', 501);
    h.finish({
      written: new Map([
        ['work/a.up', 500],
        ['out/a.md', 501],
      ]),
    });
    expect(h.policy.state).toBe('idle');
    // a late event for the other output
    h.policy.fileChanged('out/a.md');
    h.clock.advance(5_000);
    expect(h.cycles).toHaveLength(1);
    // the user edits an output: that is a change
    h.files.set('work/a.up', 900);
    h.policy.fileChanged('work/a.up');
    h.clock.advance(100);
    expect(h.cycles).toHaveLength(2);
    expect(h.cycles[1]?.changed).toEqual(['work/a.up']);
  });

  it('keeps the real changes of a batch that also holds its own writes', () => {
    const h = started();
    h.policy.fileChanged('src/a.txt');
    h.clock.advance(100);
    h.files.set('work/a.up', 500);
    h.policy.fileChanged('work/a.up');
    h.policy.fileChanged('src/b.txt');
    h.finish({ written: new Map([['work/a.up', 500]]) });
    h.clock.advance(100);
    expect(h.cycles[1]?.changed).toEqual(['src/b.txt']);
  });

  it('remembers writes across cycles until someone else changes the file', () => {
    const h = started();
    h.files.set('work/a.up', 500);
    h.policy.fileChanged('src/a.txt');
    h.clock.advance(100);
    h.finish({ written: new Map([['work/a.up', 500]]) });
    h.files.set('work/b.up', 600);
    h.policy.fileChanged('src/b.txt');
    h.clock.advance(100);
    h.finish({ written: new Map([['work/b.up', 600]]) });
    // a late event from the first cycle's write
    h.policy.fileChanged('work/a.up');
    h.clock.advance(1_000);
    expect(h.cycles).toHaveLength(2);
  });

  it("drops the removal of an output a failed unit's cleanup deleted", () => {
    const h = started();
    h.policy.fileChanged('src/a.txt');
    h.clock.advance(100);
    h.policy.fileChanged('work/a.up');
    h.finish({ removed: ['work/a.up'] });
    expect(h.policy.state).toBe('idle');
    // once the file is back (someone made it), its removal counts again
    h.files.set('work/a.up', 700);
    h.policy.fileChanged('work/a.up');
    h.clock.advance(100);
    expect(h.cycles).toHaveLength(2);
    h.finish();
    h.files.delete('work/a.up');
    h.policy.fileChanged('work/a.up');
    h.clock.advance(100);
    expect(h.cycles).toHaveLength(3);
  });
});

describe('rerun policy: config and maxAge', () => {
  it('reloads the config in a debounced cycle', () => {
    const h = started();
    h.policy.configChanged();
    h.policy.configChanged();
    h.clock.advance(100);
    expect(h.cycles).toEqual([{ initial: false, changed: [], config: true, expired: false }]);
  });

  it('starts a cycle when the earliest expiry comes, with no file event', () => {
    const h = harness();
    h.policy.start();
    h.finish({ full: true, nextExpiry: h.clock.now() + 5_000 });
    expect(h.policy.nextExpiry).toBe(h.clock.now() + 5_000);
    h.clock.advance(5_000);
    expect(h.cycles).toHaveLength(1);
    h.clock.advance(5);
    expect(h.cycles[1]).toEqual({ initial: false, changed: [], config: false, expired: true });
    expect(h.policy.state).toBe('running');
  });

  it('wakes at the next scheduled time of a daily schedule, then a day later', () => {
    const daily = resolveSchedule({ cron: '0 6 * * *', timezone: 'UTC' });
    const h = harness();
    h.clock.time = Date.parse('2026-12-05T05:59:30Z');
    h.policy.start();
    // What the runner reports for a unit built now: it expires at the next scheduled time.
    h.finish({ full: true, nextExpiry: clockExpiry({ maxAgeMs: undefined, schedule: daily }, h.clock.now()) });
    h.clock.advance(30_000);
    expect(h.cycles).toHaveLength(1);
    h.clock.advance(5);
    expect(h.cycles[1]).toEqual({ initial: false, changed: [], config: false, expired: true });
    expect(h.clock.now()).toBe(Date.parse('2026-12-05T06:00:00.005Z'));
    h.finish({ full: true, nextExpiry: clockExpiry({ maxAgeMs: undefined, schedule: daily }, h.clock.now()) });
    expect(h.policy.nextExpiry).toBe(Date.parse('2026-12-06T06:00:00Z'));
  });

  it('wakes at 06:00 Berlin time across the spring daylight-saving change (04:00Z, not 05:00Z)', () => {
    const berlin = resolveSchedule({ cron: '0 6 * * *', timezone: 'Europe/Berlin' });
    const h = harness();
    h.clock.time = Date.parse('2026-03-28T12:00:00Z');
    h.policy.start();
    h.finish({ full: true, nextExpiry: clockExpiry({ maxAgeMs: undefined, schedule: berlin }, h.clock.now()) });
    h.clock.advance(Date.parse('2026-03-29T04:00:00Z') - h.clock.now());
    expect(h.cycles).toHaveLength(1);
    h.clock.advance(5);
    expect(h.cycles).toHaveLength(2);
    expect(h.cycles[1]?.expired).toBe(true);
  });

  it('never schedules an expiry sooner than 50 ms from now', () => {
    const h = started();
    h.policy.fileChanged('a');
    h.clock.advance(100);
    h.finish({ nextExpiry: h.clock.now() - 10_000 });
    h.clock.advance(49);
    expect(h.cycles).toHaveLength(1);
    h.clock.advance(1);
    expect(h.cycles).toHaveLength(2);
  });

  it('a partial cycle keeps an earlier expiry; a full cycle replaces it', () => {
    const h = started();
    const t0 = h.clock.now();
    h.policy.fileChanged('a');
    h.clock.advance(100);
    h.finish({ full: false, nextExpiry: t0 + 10_000 });
    h.policy.fileChanged('b');
    h.clock.advance(100);
    h.finish({ full: false, nextExpiry: t0 + 60_000 });
    expect(h.policy.nextExpiry).toBe(t0 + 10_000);
    h.policy.configChanged();
    h.clock.advance(100);
    h.finish({ full: true, nextExpiry: t0 + 60_000 });
    expect(h.policy.nextExpiry).toBe(t0 + 60_000);
    h.clock.advance(30_000);
    expect(h.cycles).toHaveLength(3);
  });

  it('an expiry during a cycle queues a follow-up', () => {
    const h = started();
    h.policy.fileChanged('a');
    h.clock.advance(100);
    h.finish({ nextExpiry: h.clock.now() + 1_000 });
    h.policy.fileChanged('b');
    h.clock.advance(100);
    h.clock.advance(2_000);
    expect(h.policy.state).toBe('running-dirty');
    h.finish();
    h.clock.advance(0);
    expect(h.cycles[2]).toEqual({ initial: false, changed: [], config: false, expired: true });
  });

  it('stop cancels every timer and starts nothing more', () => {
    const h = started();
    h.policy.fileChanged('a');
    h.clock.advance(100);
    h.finish({ nextExpiry: h.clock.now() + 1_000 });
    h.policy.fileChanged('b');
    h.policy.stop();
    expect(h.clock.armed).toBe(0);
    h.policy.fileChanged('c');
    h.policy.configChanged();
    h.clock.advance(10_000);
    expect(h.cycles).toHaveLength(1);
    expect(h.policy.state).toBe('stopped');
  });
});

describe('rerun policy: properties', () => {
  type Step = { kind: 'change'; path: string } | { kind: 'wait'; ms: number } | { kind: 'finish' } | { kind: 'config' };
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ kind: fc.constant('change' as const), path: fc.constantFrom('a', 'b', 'c', 'd') }),
    fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 1500 }) }),
    fc.record({ kind: fc.constant('finish' as const) }),
    fc.record({ kind: fc.constant('config' as const) }),
  );

  it('never runs two cycles at once, and every change reaches a cycle once things settle', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const clock = new FakeClock();
        let running = false;
        const unseen = new Set<string>();
        let configUnseen = false;
        const policy = new RerunPolicy({
          clock,
          mtimeOf: () => undefined,
          startCycle: (request) => {
            expect(running).toBe(false);
            running = true;
            expect(request.initial || request.changed.length > 0 || request.config || request.expired).toBe(true);
            for (const p of request.changed) unseen.delete(p);
            if (request.config) configUnseen = false;
          },
        });
        const finish = (): void => {
          if (!running) return;
          running = false;
          policy.cycleFinished({ full: true, written: new Map(), removed: [], nextExpiry: undefined });
        };
        policy.start();
        for (const s of steps) {
          if (s.kind === 'change') {
            policy.fileChanged(s.path);
            unseen.add(s.path);
          } else if (s.kind === 'config') {
            policy.configChanged();
            configUnseen = true;
          } else if (s.kind === 'wait') {
            clock.advance(s.ms);
          } else {
            finish();
          }
        }
        // settle: finish whatever runs and let timers fire until nothing is left
        for (let i = 0; i < 10; i++) {
          finish();
          clock.advance(2_000);
        }
        expect(unseen.size).toBe(0);
        expect(configUnseen).toBe(false);
        expect(policy.state).toBe('idle');
      }),
    );
  });
});

// ---- scope ---------------------------------------------------------------------------------

function config(raw: unknown): ResolvedConfig {
  const result = resolveConfig(raw, '/project/runcue.config.mjs', { cores: 2 });
  if (!result.ok) throw new Error(JSON.stringify(result.error));
  return result.value;
}

function scopeOf(raw: unknown, targets: string[] = []): WatchScope {
  const scope = watchScope(config(raw), targets);
  if (!scope.ok) throw new Error(scope.error.message);
  return scope.value;
}

const PIPELINE = {
  tasks: {
    split: { input: 'docs/{doc}.pdf', output: 'work/{doc}/pages/*.png', run: 'true' },
    extract: { input: 'work/{doc}/pages/{page}.png', output: 'work/{doc}/text/{page}.txt', run: 'true' },
    summarize: { input: { text: 'work/{doc}/text/*.txt', prompt: 'prompt.txt' }, output: 'out/{doc}.md', run: 'true' },
    other: { input: 'misc/**/*.csv', output: 'misc.out', run: 'true' },
  },
};

describe('watch scope', () => {
  it('watches the static bases of the inputs of the selected tasks and what they need, single files, and the config', () => {
    expect(scopeOf(PIPELINE).roots).toEqual(['docs', 'misc', 'prompt.txt', 'runcue.config.mjs', 'work']);
    expect(scopeOf(PIPELINE, ['extract']).roots).toEqual(['docs', 'runcue.config.mjs', 'work']);
    expect(scopeOf(PIPELINE, ['split']).roots).toEqual(['docs', 'runcue.config.mjs']);
  });

  it('reports only files that match an input pattern, or the config', () => {
    const scope = scopeOf(PIPELINE);
    expect(scope.isRelevantFile('docs/a.pdf')).toBe(true);
    expect(scope.isRelevantFile('docs/a.txt')).toBe(false);
    expect(scope.isRelevantFile('docs/.a.pdf.swp')).toBe(false);
    expect(scope.isRelevantFile('work/a/pages/p1.png')).toBe(true);
    expect(scope.isRelevantFile('work/a/text/p1.txt')).toBe(true);
    expect(scope.isRelevantFile('prompt.txt')).toBe(true);
    expect(scope.isRelevantFile('runcue.config.mjs')).toBe(true);
    expect(scope.isRelevantFile('out/a.md')).toBe(false);
    expect(scope.isRelevantFile('misc/x/y/z.csv')).toBe(true);
    expect(scope.isRelevantFile('misc/node_modules/z.csv')).toBe(false);
  });

  it('enters only directories that may hold a matching file', () => {
    const scope = scopeOf(PIPELINE);
    expect(scope.mayContain('docs')).toBe(true);
    expect(scope.mayContain('docs/sub')).toBe(false);
    expect(scope.mayContain('work/a')).toBe(true);
    expect(scope.mayContain('work/a/pages')).toBe(true);
    expect(scope.mayContain('work/a/pages/deeper')).toBe(false);
    expect(scope.mayContain('work/a/other')).toBe(false);
    expect(scope.mayContain('out')).toBe(false);
    expect(scope.mayContain('misc/a/b/c')).toBe(true);
    expect(scope.mayContain('node_modules')).toBe(false);
    expect(scope.mayContain('.git')).toBe(false);
    expect(scope.mayContain('.runcue')).toBe(false);
  });

  it('watches the root, entering only what matters, for patterns at the top level', () => {
    const scope = scopeOf({ tasks: { t: { input: ['{name}.txt', 'cfg/settings.json'], output: 'out/{name}.md', run: 'true' } } });
    expect(scope.roots).toEqual(['']);
    expect(scope.mayContain('cfg')).toBe(true);
    expect(scope.mayContain('out')).toBe(false);
    expect(scope.isRelevantFile('a.txt')).toBe(true);
    expect(scope.isRelevantFile('cfg/settings.json')).toBe(true);
    expect(scope.isRelevantFile('cfg/other.json')).toBe(false);
  });

  it('fails on an unknown target', () => {
    const scope = watchScope(config(PIPELINE), ['nope']);
    expect(scope.ok).toBe(false);
  });

  it('matches directories segment by segment', () => {
    expect(directoryMatcher('a/*/c/*.txt')('a/x/c')).toBe(true);
    expect(directoryMatcher('a/*/c/*.txt')('a/x/d')).toBe(false);
    expect(directoryMatcher('a/**/c.txt')('a/x/y/z')).toBe(true);
    expect(directoryMatcher('a/{b,c}/*.txt')('a/c')).toBe(true);
    expect(directoryMatcher('a/{b,c}/*.txt')('a/d')).toBe(false);
    expect(directoryMatcher('a/*.txt')('a/.hidden')).toBe(false);
  });
});
