/**
 * The run record: what one build (or one watch cycle) did, kept as a small JSON file under
 * `.runcue/runs/` for `runcue report`, JUnit files, the GitHub step summary and traces. Built
 * from the runner's events only (./accumulate.ts), so it says nothing the events did not.
 * Times are milliseconds since the epoch. Fresh units are counted, not listed: a no-op build of
 * 10,000 units stays a few hundred bytes.
 */
import type { RunCounts, StaleReason, UnitFailure } from '../events.ts';

/** The version of the record's shape; a reader skips records of another version. */
export const RECORD_VERSION = 1;

/** How a listed unit ended in the run. `running`: the record was cut short while it ran. */
export type UnitOutcome = 'built' | 'failed' | 'interrupted' | 'blocked' | 'running';

/** One attempt's time on its service slots, `[start, end]`. */
export type Span = readonly [number, number];

/** A unit that ran, failed or was blocked in the run. */
export interface UnitRecord {
  readonly unit: string;
  readonly task: string;
  readonly outcome: UnitOutcome;
  /** Why it ran (the first attempt's stale reason). */
  readonly reason?: StaleReason;
  /** First attempt's start and last attempt's end. */
  readonly start?: number;
  readonly end?: number;
  /** Sum of its attempts' running times. */
  readonly durationMs: number;
  readonly attempts: number;
  readonly pushBacks: number;
  /** Each attempt's running time, for traces. */
  readonly spans: readonly Span[];
  /** How it failed (failed and interrupted units). */
  readonly failure?: UnitFailure;
  readonly exitCode?: number;
  readonly command?: string;
  /** The end of its output when it failed, at most {@link TAIL_LIMIT} characters. */
  readonly outputTail?: string;
  /** Why it did not run (blocked units). */
  readonly blocked?: string;
  /** (a task with a persistent worker) The worker that ran its last attempt, numbered from 1 per task. */
  readonly worker?: number;
}

/** A rate limit and the most starts the run made in any window of its length. */
export interface RateUse {
  readonly count: number;
  readonly windowMs: number;
  readonly peak: number;
}

/** A service's limits and what the run asked of them. */
export interface ServiceRecord {
  /** Its cap on running units; `null`: no cap. */
  readonly concurrent: number | null;
  readonly rates: readonly RateUse[];
  /** Unit starts (attempts) on the service. */
  readonly starts: number;
  /** The most units running on it at once. */
  readonly peakConcurrent: number;
  /** Push-backs (exit 75 / RateLimited) from units on it. */
  readonly pushBacks: number;
}

/** How the run ended: `incomplete` when runcue stopped before `run:done` (an internal error). */
export type RunStatus = 'ok' | 'failed' | 'interrupted' | 'incomplete';

/** One build or watch cycle. */
export interface RunRecord {
  readonly version: typeof RECORD_VERSION;
  /** Also the file name (`<id>.json`); ids sort in start order. */
  readonly id: string;
  readonly command: 'build' | 'watch';
  /** The targets as given on the command line (empty: every task). */
  readonly targets: readonly string[];
  /** (watch) The cycle number and what started it. */
  readonly cycle?: number;
  readonly trigger?: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly durationMs: number;
  readonly status: RunStatus;
  /** The signal that stopped the run. */
  readonly interrupted?: string;
  /** The exit code the command ended with (build), or would have (watch cycle). */
  readonly exitCode: number;
  readonly counts: RunCounts & { readonly notStarted?: number; readonly pushBacks?: number };
  /** Selected tasks and their unit counts. */
  readonly tasks: Readonly<Record<string, number>>;
  readonly services: Readonly<Record<string, ServiceRecord>>;
  /** The services each task's units take a slot in. */
  readonly uses: Readonly<Record<string, readonly string[]>>;
  /** Units that ran, failed or were blocked, in the order they first appeared. */
  readonly units: readonly UnitRecord[];
  /** Failed units whose output tail was dropped to keep the record small. */
  readonly tailsOmitted?: number;
}

/** Characters of a failed unit's output kept in the record. */
export const TAIL_LIMIT = 2000;
/** Characters of a unit's command (a fan-in's can list thousands of paths) and of a blocked reason kept. */
export const TEXT_LIMIT = 1000;
/** Failed units that keep their output tail; later ones keep only the failure. */
export const TAILS_KEPT = 50;
