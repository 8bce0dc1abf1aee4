/** `build`: plan the selected units and run what is stale, emitting events. */
import type { ResolvedConfig, RunSpec } from '../config/resolved.ts';
import { planTargets } from '../graph/plan.ts';
import type { OutputConflictFailure, TargetFailure } from '../graph/select.ts';
import type { CycleFailure } from '../graph/tasks.ts';
import { err, ok, type Result } from '../result.ts';
import type { RunEvent, RunEventListener } from './events.ts';
import type { ExecutorFor } from './execute/executor.ts';
import { localExecutors } from './execute/local.ts';
import type { StuckWatch } from './execute/function-executor.ts';
import { createInflightRecords, type InflightRecords } from './inflight.ts';
import { systemPorts, type RunnerPorts } from './ports.ts';
import { createProcessGroups, type ProcessGroups, type ProcessIdentity } from './process-groups.ts';
import { WorkerPools } from './workers/pools.ts';
import { checkJobs, createLimiter } from './limiter.ts';
import type { RateStore } from './rate-store.ts';
import { createWarningRateStore } from './rate-warnings.ts';
import { Scheduler, type BuildResult } from './scheduler.ts';
import type { InputRewrite } from './self-rewrite.ts';
import { createFileLister } from './walk.ts';
import { nodeFileSystem, type FileSystem } from './file-system.ts';

export type { BuildResult } from './scheduler.ts';

/** What to build, and how. */
export interface BuildOptions {
  readonly config: ResolvedConfig;
  /** The project's files; default the disk under `config.root` (`runcue sim`: a tree in memory). */
  readonly fs?: FileSystem;
  /** Task names, output paths or globs, unit filters; empty means every task. */
  readonly targets?: readonly string[];
  /** Treat the selected units as stale. */
  readonly force?: boolean;
  /** Run everything not downstream of a failure. */
  readonly keepGoing?: boolean;
  /** Cap on units running at once, over all services. */
  readonly jobs?: number;
  /** Build only the selected units, not their upstream. */
  readonly noDeps?: boolean;
  /** Emit `unit:log` events with live output. */
  readonly verbose?: boolean;
  /** Stops the run: running process trees get SIGTERM, then SIGKILL after `killGraceMs`. */
  readonly signal?: AbortSignal;
  /**
   * Aborted after `signal` (a second Ctrl-C): the grace period ends now, every process tree
   * gets SIGKILL. Partial outputs are still removed before the run ends.
   */
  readonly stopNow?: AbortSignal;
  /** Told the deadline of each function attempt with a timeout (see StuckWatch). */
  readonly stuckWatch?: StuckWatch;
  readonly onEvent?: RunEventListener;
  /** Environment of the commands (default: none but what tasks declare). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly killGraceMs?: number;
  /** The clock, in milliseconds since the epoch (overrides the clock of `ports`). */
  readonly now?: () => number;
  /** Clock, timers and randomness of the run; default the system's (a test passes a virtual clock). */
  readonly ports?: RunnerPorts;
  /** Plan only: run nothing, write nothing; the result's `plan` says what would happen. */
  readonly dryRun?: boolean;
  /** (watch) Units that failed earlier and their input signatures: not rerun until inputs change. */
  readonly failedEarlier?: ReadonlyMap<string, string>;
  /** (watch) Paths changed since the last cycle; only the units they affect are checked. */
  readonly affected?: ReadonlySet<string>;
  /** (watch) Units whose last run rewrote their own inputs: not rerun until the inputs change again. */
  readonly rewroteEarlier?: ReadonlyMap<string, InputRewrite>;
  /** (watch) One store for every cycle, so starts it could not write are still remembered. */
  readonly rateStore?: RateStore;
  /** Who runs each task's units; default: local processes, in-process functions and worker pools. */
  readonly executorFor?: ExecutorFor;
  /** (watch) Worker pools kept across runs; default: the build's own, stopped when it ends. */
  readonly workers?: WorkerPools;
  /**
   * False: keep no records of units in flight under `.runcue/inflight` (`runcue sim`: nothing
   * real runs, so nothing can be left half-written). Default true.
   */
  readonly inflightRecords?: boolean;
  /** Records of units in flight to use instead of `.runcue/inflight`'s own (`runcue sim`: a read-only view of them). */
  readonly inflight?: InflightRecords;
  /**
   * No other runcue process builds these files (`runcue sim`: they are in memory), so a queued
   * unit's outputs are not statted again before it starts to see whether one did. Default false.
   */
  readonly alone?: boolean;
  /**
   * 'read-back': write the record of what a unit wrote (output-record.ts) only for units whose
   * own freshness or cleaning reads it back (a glob input or output). For `runcue sim`: its
   * file system is thrown away at the end, and nothing in it deletes inputs, so no unit that
   * ran can vanish and have its record read as an orphan's. Default 'all'.
   */
  readonly outputRecords?: 'all' | 'read-back';
  /**
   * False: the result's `written` (the files the run wrote, with their mtimes) stays empty, and
   * no output is statted again for it. Only a watcher reads it (to tell its own writes from the
   * user's); `runcue sim` does not. Default true.
   */
  readonly keepWritten?: boolean;
  /**
   * Units run elsewhere (`executorFor` adds them to a remote queue, whose workers enforce the
   * services' limits): no local limits but `jobs`, and no in-flight records.
   */
  readonly remote?: boolean;
  /** The process's working directory, asked when a file is statted (see nodeFileSystem). */
  readonly workingDirectory?: () => string;
}

/** Reports a run-level warning as every reporter shows one: a `unit:log` warning from `(run)`. */
export function runWarning(listener: RunEventListener | undefined, now: () => number): (text: string) => void {
  return (text) => listener?.({ type: 'unit:log', time: now(), task: '', unit: '(run)', stream: 'warning', text });
}

/** Why a build could not start: a dependency cycle, an unknown target, or an output two tasks claim. */
export type BuildFailure = CycleFailure | TargetFailure | OutputConflictFailure;

/**
 * The records of units in flight the build keeps: the ones it was given, else `.runcue/inflight`'s.
 * Remote units need none here: their job id keeps them from running twice, and a unit a dead
 * worker left half-written has no fingerprint (queue builds judge by content hashes). Simulated
 * units neither: nothing real runs.
 */
function inflightOf(
  options: BuildOptions,
  run: {
    readonly now: () => number;
    readonly emit: (event: RunEvent) => void;
    readonly groups: ProcessGroups;
    readonly workers: WorkerPools;
  },
): InflightRecords | undefined {
  if (options.inflight) return options.inflight;
  if (options.remote || options.inflightRecords === false) return undefined;
  const { config } = options;
  return createInflightRecords({
    root: config.root,
    now: run.now,
    // Started before the first record is written, so every command unit's record names it.
    watchdog: (unit) => watchdogOf(config.tasks.get(unit.task)?.run.kind, run.groups, run.workers),
    onError: (error) => {
      const text = `cannot record units in flight under .runcue/inflight (${error.message}): if runcue is killed, outputs it was writing may look fresh`;
      run.emit({ type: 'unit:log', time: run.now(), task: '', unit: '(run)', stream: 'warning', text });
    },
  });
}

/** Plans the targets and runs what is stale; the result says how it went, never rejects for a unit. */
export async function build(options: BuildOptions): Promise<Result<BuildResult, BuildFailure>> {
  checkJobs(options.jobs);
  const { config } = options;
  const target = planTargets(config, options.targets ?? []);
  if (!target.ok) return target;
  const listener = options.onEvent;
  const emit = listener ? (event: RunEvent) => listener(event) : () => undefined;
  const basePorts = options.ports ?? systemPorts;
  const ports: RunnerPorts = options.now ? { ...basePorts, clock: { now: options.now } } : basePorts;
  const now = (): number => ports.clock.now();
  const killGraceMs = options.killGraceMs ?? config.killGraceMs;
  const groups = createProcessGroups({ graceMs: killGraceMs });
  const workers = options.workers ?? new WorkerPools(options.env ?? {});
  workers.begin(config, emit, options.verbose ?? false);
  const inflight = inflightOf(options, { now, emit, groups, workers });
  const fs = options.fs ?? nodeFileSystem(config.root, options.workingDirectory);
  const scheduler = new Scheduler({
    config,
    fs,
    // Upstream tasks are expanded even with --no-deps: their planned outputs bind the selected
    // units' wildcards, so a selected unit whose inputs are missing is reported, not dropped.
    ...target.value,
    files: createFileLister(fs),
    // Dry runs never ask for a slot, so the store is only written by real starts.
    limiter: options.remote
      ? createLimiter(new Map(), options.jobs)
      : createLimiter(config.services, options.jobs, {
          store: options.rateStore ?? createWarningRateStore(config.root, runWarning(listener, now)),
        }),
    force: options.force ?? false,
    keepGoing: (options.keepGoing ?? false) || (options.dryRun ?? false), // a plan tells every unit's fate
    noDeps: options.noDeps ?? false,
    verbose: options.verbose ?? false,
    killGraceMs,
    ports,
    executorFor: options.executorFor ?? localExecutorsOf(options, killGraceMs, groups, workers),
    emit,
    ...(inflight ? { inflight } : {}),
    ...(options.stuckWatch ? { stuckWatch: options.stuckWatch } : {}),
    ...(options.outputRecords ? { outputRecords: options.outputRecords } : {}),
    ...(options.keepWritten === false ? { keepWritten: false } : {}),
    // So that every worker:exit comes before run:done.
    ...(options.workers === undefined ? { beforeDone: () => workers.close() } : {}),
    signal: options.signal,
    dryRun: options.dryRun ?? false,
    ...(options.failedEarlier ? { failedEarlier: options.failedEarlier } : {}),
    ...(options.affected ? { affected: options.affected } : {}),
    ...(options.rewroteEarlier ? { rewroteEarlier: options.rewroteEarlier } : {}),
    ...(options.alone ? { alone: true } : {}),
  });
  const ownWorkers = options.workers === undefined;
  const impossible = scheduler.prepare();
  if (impossible) {
    if (ownWorkers) await workers.close();
    return err(impossible);
  }
  const offStopNow = onStopNow(options.stopNow, groups, workers);
  try {
    return ok(await scheduler.run());
  } finally {
    offStopNow();
    if (ownWorkers) await workers.close();
    groups.close();
  }
}

/** Processes, functions and persistent workers on this machine. */
function localExecutorsOf(options: BuildOptions, killGraceMs: number, groups: ProcessGroups, workers: WorkerPools): ExecutorFor {
  const { config, stopNow, stuckWatch } = options;
  return localExecutors({ root: config.root, env: options.env ?? {}, killGraceMs, groups, stopNow, stuckWatch }, workers);
}

/** A second Ctrl-C (`stopNow`) ends the grace period: trees and workers get SIGKILL now. Returns the unsubscribe. */
function onStopNow(stopNow: AbortSignal | undefined, groups: ProcessGroups, workers: WorkerPools): () => void {
  const killNow = (): void => {
    groups.killAll('SIGKILL');
    workers.killNow();
  };
  stopNow?.addEventListener('abort', killNow, { once: true });
  return () => stopNow?.removeEventListener('abort', killNow);
}

/**
 * The watchdog a unit's in-flight record names: its command's, its worker's, or, for a function,
 * the one that stops the commands it starts itself.
 */
function watchdogOf(kind: RunSpec['kind'] | undefined, groups: ProcessGroups, workers: WorkerPools): ProcessIdentity | undefined {
  if (kind === 'function') return groups.forFunctions();
  return kind === 'worker' ? workers.watchdog() : groups.prepare();
}
