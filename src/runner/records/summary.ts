/**
 * What `runcue report` (and the GitHub step summary) show of a run record, chosen here and
 * rendered in the CLI: the slowest units, the failures, the blocked units and each service's
 * use against its limits. Pure.
 */
import type { RunRecord, UnitRecord } from './record.ts';

/** A rate limit and the share of it the busiest window used (1 = the whole quota). */
export interface RateUtilisation {
  readonly count: number;
  readonly windowMs: number;
  readonly peak: number;
  readonly share: number;
}

/** One service's use in the run. */
export interface ServiceUtilisation {
  readonly name: string;
  readonly concurrent: number | null;
  readonly peakConcurrent: number;
  readonly starts: number;
  readonly pushBacks: number;
  readonly rates: readonly RateUtilisation[];
  /** Starts per minute over the whole run. */
  readonly perMinute: number;
}

/** A run record, sorted for reading. */
export interface RunSummary {
  /** Units that ran, longest first. */
  readonly slowest: readonly UnitRecord[];
  /** Units that failed or were interrupted, in the order they did. */
  readonly failures: readonly UnitRecord[];
  readonly blocked: readonly UnitRecord[];
  /** Services units ran on, by name. */
  readonly services: readonly ServiceUtilisation[];
}

/** The summary of `record`, with at most `slowest` units in `slowest`. */
export function summarizeRun(record: RunRecord, options: { readonly slowest: number }): RunSummary {
  const ran = record.units.filter((u) => u.spans.length > 0);
  const slowest = [...ran].sort((a, b) => b.durationMs - a.durationMs || a.unit.localeCompare(b.unit)).slice(0, options.slowest);
  const failures = record.units.filter((u) => u.outcome === 'failed' || u.outcome === 'interrupted');
  const blocked = record.units.filter((u) => u.outcome === 'blocked');
  const minutes = Math.max(record.durationMs, 1) / 60_000;
  const services = Object.entries(record.services)
    .filter(([, s]) => s.starts > 0)
    .map(([name, s]) => ({
      name,
      concurrent: s.concurrent,
      peakConcurrent: s.peakConcurrent,
      starts: s.starts,
      pushBacks: s.pushBacks,
      rates: s.rates.map((rate) => ({ ...rate, share: rate.count > 0 ? rate.peak / rate.count : 0 })),
      perMinute: s.starts / minutes,
    }));
  return { slowest, failures, blocked, services };
}
