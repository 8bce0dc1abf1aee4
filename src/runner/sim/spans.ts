/**
 * Attempts as spans of virtual time, from a rehearsal's events: each `unit:start` opens one, the
 * `unit:done`, `unit:fail` or `unit:retry` of the same unit closes it. The summary, the critical
 * path and the trace are computed from these.
 */
import type { ResolvedConfig } from '../../config/resolved.ts';
import type { SimEvent } from './simulate.ts';

/** One attempt of one unit. */
export interface Span {
  readonly task: string;
  readonly unit: string;
  readonly attempt: number;
  /** Virtual ms since the run started. */
  readonly start: number;
  readonly end: number;
  readonly outcome: 'done' | 'failed' | 'retry';
  /** The services it held a slot in. */
  readonly services: readonly string[];
}

/** The attempts of a rehearsal, in start order; `origin` is the run's start. */
export function spansOf(events: readonly SimEvent[], config: ResolvedConfig, origin: number): Span[] {
  const open = new Map<string, { task: string; attempt: number; start: number; index: number }>();
  const spans: (Span | undefined)[] = [];
  const close = (unit: string, end: number, outcome: Span['outcome']): void => {
    const o = open.get(unit);
    if (!o) return;
    open.delete(unit);
    const services = config.tasks.get(o.task)?.uses ?? ['cpu'];
    spans[o.index] = { task: o.task, unit, attempt: o.attempt, start: o.start, end: end - origin, outcome, services };
  };
  for (const e of events) {
    if (e.type === 'unit:start') {
      open.set(e.unit, { task: e.task, attempt: e.attempt, start: e.time - origin, index: spans.length });
      spans.push(undefined);
    } else if (e.type === 'unit:done') close(e.unit, e.time, 'done');
    else if (e.type === 'unit:fail') close(e.unit, e.time, 'failed');
    else if (e.type === 'unit:retry') close(e.unit, e.time, 'retry');
  }
  return spans.filter((s): s is Span => s !== undefined);
}
