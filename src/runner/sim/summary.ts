/**
 * What a rehearsal says: the simulated makespan, how many units ran, failed, were retried or
 * blocked, each service's use against its limits (utilisation; peak concurrency and the most
 * starts in any window of each rate, as the run record counts them from the simulated start
 * times), the critical path and the task that bounds the makespan. Pure: the events' counts and
 * the attempts (attempt-log.ts) in, a plain object out (the `--json` document).
 */
import type { UnitGraph } from '../../graph/unit.ts';
import type { BlockedUnit } from '../events.ts';
import type { Attempts } from './attempt-log.ts';
import { criticalPath, type PathStep } from './critical-path.ts';
import type { SimCounts } from './tally.ts';

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

/** Each service's slot time held by the attempts. */
function busyByService(log: Attempts): Map<string, number> {
  const busy = new Map<string, number>();
  for (let i = 0; i < log.size; i++) {
    const n = log.spans(i);
    if (n === 0) continue;
    let held = 0;
    for (let j = 0; j < n; j++) held += log.end(i, j) - log.start(i, j);
    const services = log.usesOf(log.task(i));
    for (let k = 0; k < services.length; k++) {
      const name = services[k] as string;
      busy.set(name, (busy.get(name) ?? 0) + held);
    }
  }
  return busy;
}

function serviceUses(log: Attempts, makespanMs: number): ServiceUse[] {
  const busy = busyByService(log);
  return Object.entries(log.services)
    .filter(([, use]) => use.starts > 0)
    .map(([name, use]) => {
      const busyMs = busy.get(name) ?? 0;
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

function unitCounts(counts: SimCounts, log: Attempts): SimUnitCounts {
  let attempts = 0;
  let run = 0;
  for (let i = 0; i < log.size; i++) {
    const n = log.spans(i);
    attempts += n;
    if (n > 0) run++;
  }
  const { built, failed, retried, blocked, fresh, rebuilt, notStarted } = counts;
  return { attempts, run, built, failed, retried, blocked, fresh, rebuilt, notStarted };
}

/** The summary of a rehearsal that ran from `start` to `end` (virtual ms); `graph` gives the path. */
export function summarize(options: {
  readonly counts: SimCounts;
  readonly attempts: Attempts;
  readonly start: number;
  readonly end: number;
  readonly graph: UnitGraph | undefined;
  /** Task -> the tasks it runs `after`: dependencies of the critical path too. */
  readonly after?: ReadonlyMap<string, readonly string[]>;
  readonly ok: boolean;
  readonly blocked: readonly BlockedUnit[];
}): SimSummary {
  const { counts, attempts } = options;
  const makespanMs = options.end - options.start;
  const path = options.graph ? criticalPath(attempts, options.graph, options.after) : { steps: [], boundingTask: undefined };
  return {
    ok: options.ok,
    makespanMs,
    units: unitCounts(counts, attempts),
    services: serviceUses(attempts, makespanMs),
    criticalPath: path.steps,
    boundingTask: path.boundingTask ?? null,
    blocked: options.blocked,
    failures: counts.failures,
  };
}
