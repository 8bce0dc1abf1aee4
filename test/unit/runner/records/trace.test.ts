import { describe, expect, it } from 'vitest';
import { traceOf, type TraceEvent } from '../../../../src/runner/records/trace.ts';
import { summarizeRun } from '../../../../src/runner/records/summary.ts';
import { accumulated } from './fixture.ts';

describe('the Chrome trace of a run', () => {
  const trace = traceOf(accumulated().record(0));
  const complete = trace.traceEvents.filter((e) => e.ph === 'X');
  const names = (pid: number): Record<string, string> =>
    Object.fromEntries(
      trace.traceEvents
        .filter((e) => e.ph === 'M' && e.pid === pid)
        .map((e: TraceEvent) => [`${e.name}:${String(e.tid)}`, String(e.args?.['name'])]),
    );

  it('has one complete event per attempt, in microseconds from the run start, on a lane of its service', () => {
    const ocr = complete
      .filter((e) => e.cat === 'extract')
      .sort((a, b) => (a.ts ?? 0) - (b.ts ?? 0))
      .map((e) => [e.name, e.tid, e.ts, e.dur]);
    expect(ocr).toEqual([
      ['extract[p=a]', 1, 10_000, 500_000],
      ['extract[p=b]', 2, 20_000, 1_200_000],
      ['extract[p=c]', 1, 1_020_000, 80_000],
      ['extract[p=c]', 1, 1_500_000, 300_000],
    ]);
    expect(new Set(complete.filter((e) => e.cat === 'extract').map((e) => e.pid)).size).toBe(1);
  });

  it('never puts two overlapping attempts on one lane', () => {
    const byLane = new Map<string, TraceEvent[]>();
    for (const e of complete)
      byLane.set(`${String(e.pid)}/${String(e.tid)}`, [...(byLane.get(`${String(e.pid)}/${String(e.tid)}`) ?? []), e]);
    for (const lane of byLane.values()) {
      for (let i = 1; i < lane.length; i++) expect((lane[i]?.ts ?? 0) >= (lane[i - 1]?.ts ?? 0) + (lane[i - 1]?.dur ?? 0)).toBe(true);
    }
  });

  it('names the processes (run, each service used) and the lanes (slots)', () => {
    expect(names(1)).toEqual({ 'process_name:0': 'run', 'thread_name:0': 'build 20231114-221320-000-p1' });
    const ocrPid = complete.find((e) => e.cat === 'extract')?.pid ?? -1;
    expect(names(ocrPid)).toEqual({ 'process_name:0': 'ocr (2 at once)', 'thread_name:1': 'ocr slot 1', 'thread_name:2': 'ocr slot 2' });
    expect(complete.find((e) => e.pid === 1)).toMatchObject({ ts: 0, dur: 2_000_000, name: 'build (failed)' });
  });

  it('is JSON with the fields Perfetto reads', () => {
    const parsed = JSON.parse(JSON.stringify(trace)) as { traceEvents: Record<string, unknown>[] };
    for (const e of parsed.traceEvents) {
      expect(typeof e['name']).toBe('string');
      expect(typeof e['pid']).toBe('number');
      expect(typeof e['tid']).toBe('number');
      if (e['ph'] === 'X') expect([typeof e['ts'], typeof e['dur']]).toEqual(['number', 'number']);
    }
  });
});

describe('the summary of a run', () => {
  it('lists the slowest units, the failures, the blocked units and the services used against their limits', () => {
    const summary = summarizeRun(accumulated().record(0), { slowest: 2 });
    expect(summary.slowest.map((u) => u.unit)).toEqual(['extract[p=b]', 'extract[p=a]']);
    expect(summary.failures.map((u) => u.unit)).toEqual(['extract[p=c]']);
    expect(summary.blocked.map((u) => u.unit)).toEqual(['sum']);
    expect(summary.services).toEqual([
      {
        name: 'ocr',
        concurrent: 2,
        peakConcurrent: 2,
        starts: 4,
        pushBacks: 1,
        rates: [{ count: 2, windowMs: 1000, peak: 2, share: 1 }],
        perMinute: 120,
      },
    ]);
  });
});
