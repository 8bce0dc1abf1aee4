/**
 * A run record as Chrome trace-event JSON (the format Perfetto and chrome://tracing open): one
 * process per service, one thread ("lane") per slot of it, one complete (`X`) event per attempt
 * of a unit in the lane it held, and a `run` process spanning the whole run. Times are
 * microseconds from the run's start. Pure.
 */
import type { RunRecord, UnitRecord } from './record.ts';

/** One trace event (the fields this writer uses of the trace-event format). */
export interface TraceEvent {
  readonly name: string;
  readonly ph: 'X' | 'M';
  readonly pid: number;
  readonly tid: number;
  readonly ts?: number;
  readonly dur?: number;
  readonly cat?: string;
  readonly args?: Readonly<Record<string, string | number>>;
}

/** The JSON object a trace file holds. */
export interface Trace {
  readonly traceEvents: readonly TraceEvent[];
  readonly displayTimeUnit: 'ms';
}

interface Attempt {
  readonly unit: UnitRecord;
  readonly start: number;
  readonly end: number;
  /** 1 for its first start, 2 after a retry or a push-back, ... */
  readonly attempt: number;
}

const RUN_PID = 1;

/** The trace of `record`. */
export function traceOf(record: RunRecord): Trace {
  const us = (time: number): number => Math.max(0, Math.round((time - record.startedAt) * 1000));
  const events: TraceEvent[] = [
    meta('process_name', RUN_PID, 0, 'run'),
    meta('thread_name', RUN_PID, 0, `${record.command} ${record.id}`),
    {
      name: `${record.command} (${record.status})`,
      ph: 'X',
      pid: RUN_PID,
      tid: 0,
      ts: 0,
      dur: us(record.endedAt),
      args: { built: record.counts.built, fresh: record.counts.fresh, failed: record.counts.failed, blocked: record.counts.blocked },
    },
  ];
  Object.keys(record.services).forEach((service, index) => {
    const pid = RUN_PID + 1 + index;
    const lanes = assignLanes(attemptsOn(record, service));
    if (lanes.length === 0) return;
    const limit = record.services[service]?.concurrent;
    events.push(meta('process_name', pid, 0, `${service}${limit !== null && limit !== undefined ? ` (${String(limit)} at once)` : ''}`));
    lanes.forEach((lane, slot) => {
      events.push(meta('thread_name', pid, slot + 1, `${service} slot ${String(slot + 1)}`));
      for (const a of lane) {
        events.push({
          name: a.unit.unit,
          cat: a.unit.task,
          ph: 'X',
          pid,
          tid: slot + 1,
          ts: us(a.start),
          dur: Math.max(0, Math.round((a.end - a.start) * 1000)),
          args: { task: a.unit.task, try: a.attempt, outcome: a.unit.outcome },
        });
      }
    });
  });
  return { traceEvents: events, displayTimeUnit: 'ms' };
}

function meta(name: 'process_name' | 'thread_name', pid: number, tid: number, label: string): TraceEvent {
  return { name, ph: 'M', pid, tid, args: { name: label } };
}

function attemptsOn(record: RunRecord, service: string): Attempt[] {
  const out: Attempt[] = [];
  for (const unit of record.units) {
    if (!(record.uses[unit.task] ?? ['cpu']).includes(service)) continue;
    unit.spans.forEach(([start, end], i) => out.push({ unit, start, end, attempt: i + 1 }));
  }
  return out.sort((a, b) => a.start - b.start || a.end - b.end);
}

/** Puts each attempt in the lowest lane free when it starts: lanes are the service's slots. */
function assignLanes(attempts: readonly Attempt[]): Attempt[][] {
  const lanes: Attempt[][] = [];
  const freeAt: number[] = [];
  for (const attempt of attempts) {
    let lane = freeAt.findIndex((end) => end <= attempt.start);
    if (lane < 0) {
      lane = lanes.length;
      lanes.push([]);
      freeAt.push(0);
    }
    lanes[lane]?.push(attempt);
    freeAt[lane] = attempt.end;
  }
  return lanes;
}
