/**
 * Attempts as spans of virtual time, read from a rehearsal's run record (the one `build` keeps
 * for `runcue report`): the critical path and the services' busy time are computed from these.
 */
import type { RunRecord } from '../records/record.ts';

/** One attempt of one unit. */
export interface Span {
  readonly task: string;
  readonly unit: string;
  /** Virtual ms since the run started. */
  readonly start: number;
  readonly end: number;
  /** The services it held a slot in. */
  readonly services: readonly string[];
}

/** The attempts of the record, in start order. */
export function spansOf(record: RunRecord): Span[] {
  const spans = record.units.flatMap((u) =>
    u.spans.map(([start, end]) => ({
      task: u.task,
      unit: u.unit,
      start: start - record.startedAt,
      end: end - record.startedAt,
      services: record.uses[u.task] ?? ['cpu'],
    })),
  );
  return spans.sort((a, b) => a.start - b.start || a.end - b.end);
}
