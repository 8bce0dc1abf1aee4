import { describe, expect, it } from 'vitest';
import { TAIL_LIMIT, TAILS_KEPT } from '../../../../src/runner/records/record.ts';
import { peakInWindow, ServiceUse } from '../../../../src/runner/records/service-use.ts';
import type { RunEvent } from '../../../../src/runner/events.ts';
import { accumulated, EVENTS, T0 } from './fixture.ts';

describe('the run record accumulator', () => {
  it('without a list of fresh units (listFresh: false) still counts them', () => {
    const acc = accumulated(EVENTS, false);
    expect(acc.fresh).toEqual([]);
    expect(acc.record(0).counts).toMatchObject({ built: 2, fresh: 1, failed: 1, blocked: 1 });
  });

  it('records each unit that ran, failed or was blocked, and counts the fresh ones', () => {
    const acc = accumulated();
    const record = acc.record(0);
    expect(acc.done).toBe(true);
    expect(acc.fresh).toEqual([{ unit: 'extract[p=d]', task: 'extract' }]);
    expect(record).toMatchObject({
      version: 1,
      command: 'build',
      targets: ['extract'],
      startedAt: T0,
      endedAt: T0 + 2000,
      durationMs: 2000,
      status: 'failed',
      exitCode: 1,
      counts: { built: 2, fresh: 1, failed: 1, blocked: 1, pushBacks: 1 },
      tasks: { extract: 4, sum: 1 },
    });
    expect(record.units.map((u) => [u.unit, u.outcome, u.durationMs, u.attempts, u.pushBacks])).toEqual([
      ['extract[p=a]', 'built', 500, 1, 0],
      ['extract[p=b]', 'built', 1200, 1, 0],
      ['extract[p=c]', 'failed', 380, 1, 1],
      ['sum', 'blocked', 0, 0, 0],
    ]);
    const c = record.units[2];
    expect(c).toMatchObject({
      reason: { kind: 'no-outputs' },
      start: T0 + 1020,
      end: T0 + 1800,
      spans: [
        [T0 + 1020, T0 + 1100],
        [T0 + 1500, T0 + 1800],
      ],
      exitCode: 3,
      command: 'ocr c',
      failure: { reason: 'exit-non-zero' },
    });
    expect(c?.outputTail).toContain('<bad>');
    expect(record.units[3]?.blocked).toBe('extract[p=c] failed');
  });

  it('measures each service against its limits: starts, peak concurrency, the most starts in any rate window', () => {
    const { services } = accumulated().record(0);
    expect(services['ocr']).toEqual({
      concurrent: 2,
      rates: [{ count: 2, windowMs: 1000, peak: 2 }],
      starts: 4,
      peakConcurrent: 2,
      pushBacks: 1,
    });
    expect(services['cpu']).toMatchObject({ concurrent: 4, starts: 0, peakConcurrent: 0 });
  });

  it('is incomplete before run:done, closing units still running at the given time', () => {
    const cut = EVENTS.slice(0, 4); // a and b started, nothing finished
    const acc = accumulated(cut);
    const record = acc.record(T0 + 100);
    expect(acc.started).toBe(true);
    expect(acc.done).toBe(false);
    expect(record).toMatchObject({ status: 'incomplete', endedAt: T0 + 100, durationMs: 100, counts: { built: 0, fresh: 1 } });
    expect(record.units.map((u) => [u.outcome, u.durationMs])).toEqual([
      ['running', 90],
      ['running', 80],
    ]);
  });

  it('marks an aborted unit interrupted and keeps the signal', () => {
    const events: RunEvent[] = [
      ...EVENTS.slice(0, 3),
      {
        type: 'unit:fail',
        time: T0 + 50,
        task: 'extract',
        unit: 'extract[p=a]',
        durationMs: 40,
        attempt: 1,
        error: { reason: 'aborted', message: 'stopped' },
        outputTail: '',
        removed: [],
      },
      {
        type: 'run:done',
        time: T0 + 60,
        ok: false,
        durationMs: 60,
        counts: { built: 0, fresh: 1, failed: 0, blocked: 0, interrupted: 1 },
        interrupted: 'SIGINT',
      },
    ];
    const record = accumulated(events).record(0);
    expect(record).toMatchObject({ status: 'interrupted', interrupted: 'SIGINT', counts: { interrupted: 1 } });
    expect(record.units[0]).toMatchObject({ outcome: 'interrupted', durationMs: 40 });
    expect(record.units[0]?.outputTail).toBeUndefined();
  });

  it('keeps the record small: output tails are cut to their end, and only the first failures keep one', () => {
    const fails: RunEvent[] = Array.from({ length: TAILS_KEPT + 3 }, (_, i) => ({
      type: 'unit:fail',
      time: T0 + i,
      task: 'extract',
      unit: `extract[p=${String(i)}]`,
      durationMs: 1,
      attempt: 1,
      error: { reason: 'exit-non-zero', exitCode: 1, message: 'exit 1' },
      outputTail: `${'x'.repeat(TAIL_LIMIT)}END`,
      removed: [],
    }));
    const record = accumulated([EVENTS[0] as RunEvent, ...fails]).record(T0 + 100);
    expect(record.units[0]?.outputTail).toHaveLength(TAIL_LIMIT);
    expect(record.units[0]?.outputTail?.endsWith('END')).toBe(true);
    expect(record.units.filter((u) => u.outputTail !== undefined)).toHaveLength(TAILS_KEPT);
    expect(record.tailsOmitted).toBe(3);
  });
});

describe('peakInWindow', () => {
  it('counts the most times in any window of the given length, the window open at its end', () => {
    expect(peakInWindow([], 1000)).toBe(0);
    expect(peakInWindow([0, 999, 1000, 1500, 1999], 1000)).toBe(3);
    expect(peakInWindow([0, 1000, 2000], 1000)).toBe(1);
  });
});

describe('ServiceUse', () => {
  it('counts the most starts in a rate window from the start times in time order, also when the clock stepped back', () => {
    const use = new ServiceUse({ api: { concurrent: null, rates: [{ count: 5, windowMs: 100 }] } });
    // The clock stepped back after 1000: the starts at 0, 50 and 60 share a window, 990 and 1000 another.
    for (const time of [0, 1000, 50, 60, 990]) {
      use.started(['api'], time);
      use.ended(['api']);
    }
    expect(use.records()['api']).toMatchObject({ starts: 5, peakConcurrent: 1, rates: [{ count: 5, windowMs: 100, peak: 3 }] });
  });
});

describe('persistent workers in the record', () => {
  it('notes the worker that ran a unit, and ignores the rest of a worker life', () => {
    const events: RunEvent[] = [
      ...EVENTS.slice(0, 3),
      { type: 'worker:start', time: T0 + 1, task: 'extract', worker: 2, pid: 99 },
      { type: 'worker:busy', time: T0 + 11, task: 'extract', worker: 2, unit: 'extract[p=a]' },
      ...EVENTS.slice(3),
    ];
    const record = accumulated(events).record(0);
    expect(record.units.find((u) => u.unit === 'extract[p=a]')?.worker).toBe(2);
    expect(record.units.map((u) => u.unit)).toEqual(
      accumulated()
        .record(0)
        .units.map((u) => u.unit),
    );
  });
});

describe('long texts in the record', () => {
  it('keeps the start of a huge fan-in command and says how much was cut', () => {
    const command = `cat ${'work/a/text/p0001.txt '.repeat(2000)}`;
    const events: RunEvent[] = [
      EVENTS[0] as RunEvent,
      { type: 'unit:start', time: T0 + 1, task: 'sum', unit: 'sum', attempt: 1, reason: { kind: 'no-outputs' }, command },
    ];
    const kept = accumulated(events).record(T0 + 2).units[0]?.command ?? '';
    expect(kept.startsWith('cat work/a/text/p0001.txt')).toBe(true);
    expect(kept.length).toBeLessThan(1100);
    expect(kept).toMatch(/ \.\.\. \(\d+ more characters\)$/);
  });
});

describe('the record as JSON', () => {
  it("lists each unit's keys in the order its events set them, then spans and durationMs", () => {
    const events: RunEvent[] = [
      ...EVENTS.slice(0, 3),
      { type: 'worker:busy', time: T0 + 11, task: 'extract', worker: 2, unit: 'extract[p=a]' },
      ...EVENTS.slice(3),
    ];
    const units = accumulated(events).record(T0 + 5000).units;
    expect(units.map((u) => Object.keys(u).join(' '))).toEqual([
      'unit task outcome attempts pushBacks reason start command worker end spans durationMs',
      'unit task outcome attempts pushBacks reason start end spans durationMs',
      'unit task outcome attempts pushBacks reason start end failure exitCode command outputTail spans durationMs',
      'unit task outcome attempts pushBacks blocked spans durationMs',
    ]);
    // What `runcue report` and `--trace` read back: the same keys, none undefined.
    expect(units.map((u) => Object.keys(JSON.parse(JSON.stringify(u)) as object).length)).toEqual(units.map((u) => Object.keys(u).length));
  });
});
