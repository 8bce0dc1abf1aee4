/**
 * A rehearsal as a Chrome trace-event file (open it in Perfetto or chrome://tracing): one
 * process per service, one thread (lane) per slot of it, one complete event (`ph: 'X'`) per
 * attempt. An attempt that holds slots in several services appears in a lane of each.
 * Kept to one pure function so it can be unified with `runcue report --trace` later.
 */
import type { Span } from './spans.ts';

/** One entry of the trace's `traceEvents` array (the fields this file uses). */
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

/** Trace events of the spans: times in microseconds since the run started. */
export function traceEvents(spans: readonly Span[]): TraceEvent[] {
  const services = [...new Set(spans.flatMap((s) => s.services))].sort();
  const out: TraceEvent[] = [];
  services.forEach((service, index) => {
    const pid = index + 1;
    out.push({ name: 'process_name', ph: 'M', pid, tid: 0, args: { name: service } });
    /** When each lane is free again. */
    const lanes: number[] = [];
    const mine = spans.filter((s) => s.services.includes(service)).sort((a, b) => a.start - b.start || a.end - b.end);
    for (const span of mine) {
      let lane = lanes.findIndex((freeAt) => freeAt <= span.start);
      if (lane < 0) lane = lanes.push(0) - 1;
      lanes[lane] = span.end;
      const args = { task: span.task, attempt: span.attempt, outcome: span.outcome };
      out.push({
        name: span.unit,
        cat: span.task,
        ph: 'X',
        pid,
        tid: lane + 1,
        ts: span.start * 1000,
        dur: (span.end - span.start) * 1000,
        args,
      });
    }
    lanes.forEach((_, lane) =>
      out.push({ name: 'thread_name', ph: 'M', pid, tid: lane + 1, args: { name: `${service} slot ${lane + 1}` } }),
    );
  });
  return out;
}
