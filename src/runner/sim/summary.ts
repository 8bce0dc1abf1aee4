/**
 * What a rehearsal says: the simulated makespan, how many units ran, failed, were retried or
 * blocked, each service's use against its limits (utilisation; peak concurrency and the most
 * starts in any window of each rate, as the run record counts them from the simulated start
 * times), the critical path and the task that bounds the makespan. Pure: events and the run
 * record in, a plain object out (the `--json` document).
 */
import type { UnitGraph } from '../../graph/unit.ts';
import type { BlockedUnit } from '../events.ts';
import type { RunRecord } from '../records/record.ts';
import { criticalPath, type PathStep } from './critical-path.ts';
import type { SimEvent } from './simulate.ts';
import { spansOf, type Span } from './spans.ts';

/** One rate of a service, and the most starts seen in any window of its length. */
export interface RateUse {
  readonly limit: number;
  readonly windowMs: number;
  readonly maxStarts: number;
}

/** How a service was used. */
export interface ServiceUse {
  readonly service: string;
  readonly concurrent: number | null;
  readonly starts: number;
  /** Slot time held by attempts, summed. */
  readonly busyMs: number;
  /** busyMs / (concurrent x makespan); null for a service without a cap. */
  readonly utilisation: number | null;
  readonly peakConcurrent: number;
  readonly rates: readonly RateUse[];
}

export interface SimUnitCounts {
  /** Attempts started. */
  readonly attempts: number;
  /** Distinct units that ran at least once. */
  readonly run: number;
  readonly built: number;
  readonly failed: number;
  /** Attempts that failed and were tried again. */
  readonly retried: number;
  readonly blocked: number;
  /** Fresh when the first pass checked them: not run. */
  readonly fresh: number;
  /** Units built again after an edit made them stale (the dynamic scenario). */
  readonly rebuilt: number;
  readonly notStarted: number;
}

export interface SimSummary {
  readonly ok: boolean;
  readonly makespanMs: number;
  readonly units: SimUnitCounts;
  readonly services: readonly ServiceUse[];
  readonly criticalPath: readonly PathStep[];
  readonly boundingTask: string | null;
  readonly blocked: readonly BlockedUnit[];
  readonly failures: readonly { readonly unit: string; readonly message: string }[];
}

function serviceUses(record: RunRecord, spans: readonly Span[], makespanMs: number): ServiceUse[] {
  return Object.entries(record.services)
    .filter(([, use]) => use.starts > 0)
    .map(([name, use]) => {
      const busyMs = spans.filter((s) => s.services.includes(name)).reduce((sum, s) => sum + (s.end - s.start), 0);
      const { concurrent } = use;
      return {
        service: name,
        concurrent,
        starts: use.starts,
        busyMs,
        utilisation: concurrent === null || makespanMs === 0 ? null : Math.round((busyMs / (concurrent * makespanMs)) * 1000) / 1000,
        peakConcurrent: use.peakConcurrent,
        rates: use.rates.map((r) => ({ limit: r.count, windowMs: r.windowMs, maxStarts: r.peak })),
      };
    });
}

function unitCounts(events: readonly SimEvent[], spans: readonly Span[]): SimUnitCounts {
  const doneUnits = new Map<string, number>();
  let failed = 0;
  let retried = 0;
  let fresh = 0;
  let notStarted = 0;
  let passes = 0;
  const blocked = new Set<string>();
  for (const e of events) {
    if (e.type === 'run:start') passes++;
    else if (e.type === 'unit:done') doneUnits.set(e.unit, (doneUnits.get(e.unit) ?? 0) + 1);
    else if (e.type === 'unit:fail') failed++;
    else if (e.type === 'unit:retry' && e.kind === 'retry') retried++;
    else if (e.type === 'unit:skip' && passes === 1) fresh++;
    else if (e.type === 'unit:blocked') blocked.add(e.unit);
    else if (e.type === 'run:done') notStarted = e.notStarted ?? 0;
  }
  const rebuilt = [...doneUnits.values()].filter((n) => n > 1).length;
  const run = new Set(spans.map((s) => s.unit)).size;
  return { attempts: spans.length, run, built: doneUnits.size, failed, retried, blocked: blocked.size, fresh, rebuilt, notStarted };
}

/** The summary of a rehearsal that ran from `start` to `end` (virtual ms); `graph` gives the path. */
export function summarize(options: {
  readonly events: readonly SimEvent[];
  readonly record: RunRecord;
  readonly start: number;
  readonly end: number;
  readonly graph: UnitGraph | undefined;
  readonly ok: boolean;
  readonly blocked: readonly BlockedUnit[];
}): SimSummary {
  const { events, record } = options;
  const makespanMs = options.end - options.start;
  const spans = spansOf(record);
  const path = options.graph ? criticalPath(spans, options.graph) : { steps: [], boundingTask: undefined };
  const failures = events.flatMap((e) => (e.type === 'unit:fail' ? [{ unit: e.unit, message: e.error.message }] : []));
  return {
    ok: options.ok,
    makespanMs,
    units: unitCounts(events, spans),
    services: serviceUses(record, spans, makespanMs),
    criticalPath: path.steps,
    boundingTask: path.boundingTask ?? null,
    blocked: options.blocked,
    failures,
  };
}
