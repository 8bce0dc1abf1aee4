/** A small run as events, and its record: shared by the record, JUnit, summary and trace tests. */
import type { RunEvent } from '../../../../src/runner/events.ts';
import { createRecordAccumulator, type RecordAccumulator } from '../../../../src/runner/records/accumulate.ts';

export const T0 = 1_700_000_000_000;

/** ocr (2 at once, 2/s) runs a, b, c; c pushes back once then fails with exit 3; sum is blocked; d is fresh. */
export const EVENTS: readonly RunEvent[] = [
  {
    type: 'run:start',
    time: T0,
    version: 3,
    tasks: { extract: 4, sum: 1 },
    services: { ocr: { concurrent: 2, rates: [{ count: 2, windowMs: 1000 }] }, cpu: { concurrent: 4, rates: [] } },
    uses: { extract: ['ocr'], sum: ['cpu'] },
  },
  { type: 'unit:skip', time: T0, task: 'extract', unit: 'extract[p=d]' },
  {
    type: 'unit:start',
    time: T0 + 10,
    task: 'extract',
    unit: 'extract[p=a]',
    attempt: 1,
    reason: { kind: 'missing-output', output: 'a.txt' },
    command: 'ocr a',
  },
  { type: 'unit:start', time: T0 + 20, task: 'extract', unit: 'extract[p=b]', attempt: 1, reason: { kind: 'forced' } },
  { type: 'unit:done', time: T0 + 510, task: 'extract', unit: 'extract[p=a]', durationMs: 500, inputsChanged: false },
  { type: 'unit:start', time: T0 + 1020, task: 'extract', unit: 'extract[p=c]', attempt: 1, reason: { kind: 'no-outputs' } },
  {
    type: 'unit:retry',
    time: T0 + 1100,
    task: 'extract',
    unit: 'extract[p=c]',
    attempt: 1,
    delayMs: 400,
    kind: 'push-back',
    error: { reason: 'pushed-back', pushBacks: 1, message: 'its service pushed back (once)' },
    services: ['ocr'],
  },
  { type: 'unit:done', time: T0 + 1220, task: 'extract', unit: 'extract[p=b]', durationMs: 1200, inputsChanged: false },
  { type: 'unit:start', time: T0 + 1500, task: 'extract', unit: 'extract[p=c]', attempt: 1, reason: { kind: 'no-outputs' } },
  {
    type: 'unit:fail',
    time: T0 + 1800,
    task: 'extract',
    unit: 'extract[p=c]',
    durationMs: 300,
    attempt: 1,
    error: { reason: 'exit-non-zero', exitCode: 3, message: 'exit 3' },
    command: 'ocr c',
    outputTail: 'line 1\n<bad> & "quoted"\u0007\n',
    removed: [],
  },
  {
    type: 'unit:blocked',
    time: T0 + 1800,
    task: 'sum',
    unit: 'sum',
    reason: { kind: 'upstream_failed', upstream: 'extract[p=c]', message: 'extract[p=c] failed' },
  },
  {
    type: 'run:done',
    time: T0 + 2000,
    ok: false,
    durationMs: 2000,
    counts: { built: 2, fresh: 1, failed: 1, blocked: 1 },
    pushBacks: 1,
  },
];

/** The accumulator after `events`. */
export function accumulated(events: readonly RunEvent[] = EVENTS, listFresh?: boolean): RecordAccumulator {
  const acc = createRecordAccumulator({
    id: '20231114-221320-000-p1',
    command: 'build',
    targets: ['extract'],
    exitCode: (status) => (status === 'ok' ? 0 : 1),
    ...(listFresh === undefined ? {} : { listFresh }),
  });
  for (const event of events) acc.onEvent(event);
  return acc;
}
