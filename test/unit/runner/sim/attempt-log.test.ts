/** The rehearsal's attempt log keeps what the run record says of each unit's attempts and services. */
import { describe, expect, it } from 'vitest';
import type { RunEvent, UnitFailure } from '../../../../src/runner/events.ts';
import { createRecordAccumulator } from '../../../../src/runner/records/accumulate.ts';
import { AttemptLog, type Attempts } from '../../../../src/runner/sim/attempt-log.ts';

const T = 1_700_000_000_000;
const FAILED: UnitFailure = { reason: 'exit-non-zero', exitCode: 1, message: 'no' };
const base = (task: string, unit: string, time: number) => ({ task, unit, time: T + time });
const start = (task: string, unit: string, time: number): RunEvent => ({
  type: 'unit:start',
  ...base(task, unit, time),
  attempt: 1,
  reason: { kind: 'no-outputs' },
});
const done = (task: string, unit: string, time: number): RunEvent => ({
  type: 'unit:done',
  ...base(task, unit, time),
  durationMs: 0,
  inputsChanged: false,
});
const retry = (task: string, unit: string, time: number, kind: 'retry' | 'push-back'): RunEvent => ({
  type: 'unit:retry',
  ...base(task, unit, time),
  attempt: 1,
  delayMs: 10,
  kind,
  error: FAILED,
});
const fail = (task: string, unit: string, time: number): RunEvent => ({
  type: 'unit:fail',
  ...base(task, unit, time),
  durationMs: 0,
  attempt: 2,
  error: FAILED,
  outputTail: '',
  removed: [],
});

/** A run of three tasks: retries, a push-back, a failure, a blocked unit, one still running at the end. */
const EVENTS: RunEvent[] = [
  {
    type: 'run:start',
    time: T,
    version: 3,
    tasks: { a: 2, b: 2, c: 1 },
    services: { api: { concurrent: 2, rates: [{ count: 2, windowMs: 100 }] } },
    uses: { a: ['api'], b: ['api', 'cpu'] },
  },
  { type: 'unit:blocked', ...base('c', 'c1', 0), reason: { kind: 'upstream_failed', upstream: 'b2', message: 'x' } },
  start('a', 'a1', 0),
  start('a', 'a2', 5),
  retry('a', 'a1', 50, 'retry'),
  done('a', 'a2', 60),
  start('a', 'a1', 70),
  start('b', 'b1', 70),
  retry('a', 'a1', 80, 'push-back'),
  start('a', 'a1', 100),
  fail('b', 'b1', 130),
  done('a', 'a1', 150),
  start('b', 'b2', 160),
  { type: 'run:done', time: T + 170, ok: false, durationMs: 170, counts: { built: 2, fresh: 0, failed: 1, blocked: 1 } },
];

function spansOf(log: Attempts): Record<string, [number, number][]> {
  const out: Record<string, [number, number][]> = {};
  for (let i = 0; i < log.size; i++) {
    const spans: [number, number][] = [];
    for (let j = 0; j < log.spans(i); j++) spans.push([log.start(i, j), log.end(i, j)]);
    out[log.unit(i)] = spans;
  }
  return out;
}

describe('AttemptLog', () => {
  it('has the units, spans, services and uses of the run record fed the same events', () => {
    const log = new AttemptLog();
    const accumulator = createRecordAccumulator({ id: 'x', command: 'build', targets: [], exitCode: () => 0 });
    for (const event of EVENTS) {
      log.onEvent(event);
      accumulator.onEvent(event);
    }
    log.finish(T + 999);
    const record = accumulator.record(T + 999);
    expect(log.startedAt).toBe(record.startedAt);
    expect(Object.keys(spansOf(log))).toEqual(record.units.map((u) => u.unit));
    expect(spansOf(log)).toEqual(Object.fromEntries(record.units.map((u) => [u.unit, u.spans])));
    expect(spansOf(log)['b2']).toEqual([[T + 160, T + 170]]);
    expect(record.units.map((u) => log.task(log.indexOf(u.unit) ?? -1))).toEqual(record.units.map((u) => u.task));
    expect(log.services).toEqual(record.services);
    for (const task of ['a', 'b', 'c', 'd']) expect(log.usesOf(task)).toEqual(record.uses[task] ?? ['cpu']);
    expect(log.indexOf('nope')).toBeUndefined();
  });

  it('gives a unit rebuilt in a later pass its number from the first, as the record lists it once', () => {
    const log = new AttemptLog();
    const accumulator = createRecordAccumulator({ id: 'x', command: 'build', targets: [], exitCode: () => 0 });
    const [runStart] = EVENTS;
    const first = [runStart as RunEvent, start('a', 'a1', 0), done('a', 'a1', 10), start('a', 'a2', 10), fail('a', 'a2', 20)];
    const runDone = (time: number): RunEvent => ({
      type: 'run:done',
      time: T + time,
      ok: true,
      durationMs: time,
      counts: { built: 1, fresh: 0, failed: 0, blocked: 0 },
    });
    for (const event of [...first, runDone(20)]) {
      log.onEvent(event);
      accumulator.onEvent(event);
    }
    // simulate.ts: the second pass's run:start goes to the record but not to the log.
    log.nextPass();
    for (const event of [start('a', 'a2', 30), done('a', 'a2', 40), start('a', 'a1', 40), done('a', 'a1', 50), runDone(50)]) {
      log.onEvent(event);
      accumulator.onEvent(event);
    }
    log.finish(T + 999);
    const record = accumulator.record(T + 999);
    expect(Object.keys(spansOf(log))).toEqual(['a1', 'a2']);
    expect(spansOf(log)).toEqual(Object.fromEntries(record.units.map((u) => [u.unit, u.spans])));
    expect(spansOf(log)['a1']).toEqual([
      [T, T + 10],
      [T + 40, T + 50],
    ]);
  });
});
