/**
 * What the scheduler's parts share during one run: its options and result types, the record of
 * a unit waiting to run, the run's flags, and the context the loop hands to its parts.
 */
import type { StuckWatch } from '../execute/function-executor.ts';
import type { ResolvedConfig } from '../../config/resolved.ts';
import type { FileSource } from '../../graph/expand.ts';
import type { TargetPlan } from '../../graph/plan.ts';
import type { Unit, UnitGraph } from '../../graph/unit.ts';
import type { BlockedReason, PlanEntry, RunCounts, RunEvent, StaleReason, UnitFailure } from '../events.ts';
import type { ExecutorFor } from '../execute/executor.ts';
import type { UnitView } from '../execute/unit-view.ts';
import type { FileSystem } from '../file-system.ts';
import type { FileStat } from '../files.ts';
import type { InflightRecords } from '../inflight.ts';
import type { Limiter } from '../limiter.ts';
import type { RunnerPorts } from '../ports.ts';
import type { RunQueue } from '../queue.ts';
import type { InputRewrite } from '../self-rewrite.ts';
import type { Book, UnitProblem } from './book.ts';
import type { Hooks } from './hooks.ts';
import type { Ledger } from './ledger.ts';
import type { PendingTable } from './statuses.ts';

/** Everything one run of the scheduler works with. */
export interface SchedulerOptions extends TargetPlan {
  readonly config: ResolvedConfig;
  /** Where the project's files are read and written (the disk, or a simulation's memory). */
  readonly fs: FileSystem;
  /** Runs after the last attempt ended, before `run:done` (a build's own workers stop then). */
  readonly beforeDone?: () => Promise<void>;
  readonly files: FileSource & { invalidate(): void };
  readonly limiter: Limiter;
  readonly force: boolean;
  readonly keepGoing: boolean;
  readonly noDeps: boolean;
  readonly verbose: boolean;
  readonly killGraceMs: number;
  /** Told the deadline of each custom check (see StuckWatch); none in a simulation. */
  readonly stuckWatch?: StuckWatch;
  /** Clock, timers and randomness (the system's in a real run). */
  readonly ports: RunnerPorts;
  readonly emit: (event: RunEvent) => void;
  readonly signal: AbortSignal | undefined;
  /** Plan only: stale units are recorded as "would run" and treated as done; nothing runs. */
  readonly dryRun?: boolean;
  /** (watch) Units that failed earlier, with the input signature they failed on. */
  readonly failedEarlier?: ReadonlyMap<string, string>;
  /** (watch) Paths changed since the last cycle: only units touching them (and around them) are checked. */
  readonly affected?: ReadonlySet<string>;
  /** Records of units in flight: claimed before a unit runs, consulted after its check. */
  readonly inflight?: InflightRecords;
  /** Which units' output records (output-record.ts) a success writes; default all (see BuildOptions). */
  readonly outputRecords?: 'all' | 'read-back';
  /** False: the result's `written` stays empty (see BuildOptions). */
  readonly keepWritten?: boolean;
  /** (watch) Units whose last run rewrote their own inputs: not rerun while the inputs stay as it left them. */
  readonly rewroteEarlier?: ReadonlyMap<string, InputRewrite>;
  /** No other runcue process builds these files (see BuildOptions.alone). */
  readonly alone?: boolean;
  /** Who carries out each task's attempts: the scheduler knows nothing of processes. */
  readonly executorFor: ExecutorFor;
}

/** How a run ended, for the caller. */
export interface BuildResult {
  readonly ok: boolean;
  readonly counts: RunCounts;
  readonly durationMs: number;
  readonly failures: readonly (UnitProblem & { readonly error: UnitFailure })[];
  readonly blocked: readonly (UnitProblem & { readonly reason: BlockedReason })[];
  /** The abort reason when the run was stopped (`SIGINT`, `SIGTERM`, ...). */
  readonly interrupted?: string;
  /** With dryRun: every wanted unit in the order build would take it. */
  readonly plan: readonly PlanEntry[];
  /** Units that failed in this run (or earlier, unchanged), with their input signatures. */
  readonly failedInputs: ReadonlyMap<string, string>;
  /** Output files this run wrote, with their mtimes (so a watcher can ignore its own writes). */
  readonly written: ReadonlyMap<string, number>;
  /** Files of dynamic sets removed before their producer reran (a watcher ignores these too). */
  readonly cleared: readonly string[];
  /** The earliest time a fresh unit's `maxAge` runs out or its `schedule` comes due, if any has one. */
  readonly nextExpiry: number | undefined;
  /** Units of this run whose run changed their own inputs (see self-rewrite.ts). */
  readonly rewrote: ReadonlyMap<string, InputRewrite>;
  /** The unit graph as the run left it (`runcue sim` draws the critical path on it). */
  readonly graph: UnitGraph;
}

/** A stale unit from its check until it settles: why it runs, on which inputs, which attempt. */
export interface Pending {
  readonly reason: StaleReason;
  readonly inputs: ReadonlyMap<string, FileStat>;
  attempt: number;
  pushBacks: number;
  /**
   * Its outputs' stats when it was found stale: another runcue process may build it before it
   * starts (empty when the run is alone).
   */
  readonly outputs: ReadonlyMap<string, FileStat>;
  /** What every attempt runs, decided when it was found stale. */
  readonly view: UnitView;
}

/** The run's flags, read and set by the loop and its parts. */
export interface RunState {
  /** Nothing new starts (a failure without keepGoing, a signal, a fatal stall). */
  stopping: boolean;
  /** A dynamic producer made files: expand again before the next checks. */
  dirty: boolean;
  /** The abort reason of a signal that stopped the run. */
  interrupted: string | undefined;
  /** The message of a fatal stall that stopped the run. */
  stalled: string | undefined;
  /** `run:done` went out: nothing more is reported. */
  reported: boolean;
}

/** What the loop hands its parts: shared state, and the loop's own few operations. */
export interface RunContext {
  readonly o: SchedulerOptions;
  readonly book: Book;
  readonly ledger: Ledger;
  readonly hooks: Hooks;
  readonly queue: RunQueue;
  readonly pending: PendingTable;
  readonly state: RunState;
  now(): number;
  /** Runs the loop again (checks, starts, the end). */
  pump(): void;
  /** A fresh, built or would-run unit settles. */
  settle(unit: Unit): void;
  /** A warning about a unit; none after `run:done`. */
  warn(id: string, text: string): void;
}
