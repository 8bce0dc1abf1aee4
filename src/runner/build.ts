/** `build`: plan the selected units and run what is stale, emitting events. */
import type { ResolvedConfig } from '../config/resolved.ts';
import { parseTargets, tasksNeeded, type OutputConflictFailure, type TargetFailure } from '../graph/select.ts';
import { buildTaskGraph, type CycleFailure } from '../graph/tasks.ts';
import { err, ok, type Result } from '../result.ts';
import type { RunEvent, RunEventListener } from './events.ts';
import type { ExecutorFor } from './execute/executor.ts';
import { localExecutors } from './execute/local.ts';
import { createInflightRecords } from './inflight.ts';
import { createProcessGroups } from './process-groups.ts';
import { createLimiter } from './limiter.ts';
import type { RateStore } from './rate-store.ts';
import { createWarningRateStore } from './rate-warnings.ts';
import { Scheduler, type BuildResult } from './scheduler.ts';
import type { InputRewrite } from './self-rewrite.ts';
import { createFileLister } from './walk.ts';

export type { BuildResult } from './scheduler.ts';

export interface BuildOptions {
  readonly config: ResolvedConfig;
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
  readonly onEvent?: RunEventListener;
  /** Environment of the commands (default: none but what tasks declare). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly killGraceMs?: number;
  /** The clock, in milliseconds since the epoch. */
  readonly now?: () => number;
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
  /** Who runs each task's units; default: local processes and in-process functions. */
  readonly executorFor?: ExecutorFor;
}

/** Reports a run-level warning as every reporter shows one: a `unit:log` warning from `(run)`. */
export function runWarning(listener: RunEventListener | undefined, now: () => number): (text: string) => void {
  return (text) => listener?.({ type: 'unit:log', time: now(), task: '', unit: '(run)', stream: 'warning', text });
}

export type BuildFailure = CycleFailure | TargetFailure | OutputConflictFailure;

export async function build(options: BuildOptions): Promise<Result<BuildResult, BuildFailure>> {
  const { config } = options;
  const tasks = buildTaskGraph(config);
  if (!tasks.ok) return tasks;
  const selection = parseTargets(options.targets ?? [], config);
  if (!selection.ok) return selection;
  const listener = options.onEvent;
  const emit = listener ? (event: RunEvent) => listener(event) : () => undefined;
  const now = options.now ?? Date.now;
  const killGraceMs = options.killGraceMs ?? config.killGraceMs;
  const groups = createProcessGroups({ graceMs: killGraceMs });
  const inflight = createInflightRecords({
    root: config.root,
    now,
    // Started before the first record is written, so every command unit's record names it.
    watchdog: (unit) => (config.tasks.get(unit.task)?.run.kind === 'function' ? undefined : groups.prepare()),
    onError: (error) => {
      const text = `cannot record units in flight under .runcue/inflight (${error.message}): if runcue is killed, outputs it was writing may look fresh`;
      emit({ type: 'unit:log', time: now(), task: '', unit: '(run)', stream: 'warning', text });
    },
  });
  const scheduler = new Scheduler({
    config,
    tasks: tasks.value,
    // Upstream tasks are expanded even with --no-deps: their planned outputs bind the selected
    // units' wildcards, so a selected unit whose inputs are missing is reported, not dropped.
    neededTasks: tasksNeeded(selection.value, tasks.value),
    selection: selection.value,
    files: createFileLister(config.root),
    // Dry runs never ask for a slot, so the store is only written by real starts.
    limiter: createLimiter(config.services, options.jobs, { store: options.rateStore ?? createWarningRateStore(config.root, runWarning(listener, now)) }),
    force: options.force ?? false,
    keepGoing: options.keepGoing ?? false,
    noDeps: options.noDeps ?? false,
    verbose: options.verbose ?? false,
    killGraceMs,
    executorFor: options.executorFor ?? localExecutors({ root: config.root, env: options.env ?? {}, killGraceMs, groups }),
    now,
    emit,
    inflight,
    signal: options.signal,
    dryRun: options.dryRun ?? false,
    ...(options.failedEarlier ? { failedEarlier: options.failedEarlier } : {}),
    ...(options.affected ? { affected: options.affected } : {}),
    ...(options.rewroteEarlier ? { rewroteEarlier: options.rewroteEarlier } : {}),
  });
  const impossible = scheduler.prepare();
  if (impossible) return err(impossible);
  const killNow = (): void => groups.killAll('SIGKILL');
  options.stopNow?.addEventListener('abort', killNow, { once: true });
  try {
    return ok(await scheduler.run());
  } finally {
    options.stopNow?.removeEventListener('abort', killNow);
    groups.close();
  }
}
