/**
 * Runs a rehearsal: the real `build` (planner, scheduler, limiter, attempt checks) over a file
 * system in memory, on a virtual clock, with the simulated executor, seeded chance and an
 * in-memory rate store, and no in-flight records. Nothing sleeps and nothing is written to disk.
 *
 * Edits (the `dynamic` scenario) rewrite inputs once the run has finished some units, stamped
 * with the virtual time. A build does not go back to units it finished, so when an edit made
 * some stale, a second pass rebuilds them (what `watch` would do next), on the same clock and
 * rate windows.
 */
import type { ResolvedConfig, ResolvedTask } from '../../config/resolved.ts';
import { err, ok, type Result } from '../../result.ts';
import { build, type BuildFailure, type BuildResult } from '../build.ts';
import type { RunEvent } from '../events.ts';
import type { InflightRecords } from '../inflight.ts';
import type { RunnerPorts } from '../ports.ts';
import { createRecordAccumulator } from '../records/accumulate.ts';
import type { RunRecord } from '../records/record.ts';
import { AttemptLog, type Attempts } from './attempt-log.ts';
import { simExecutors, type TaskModel } from './executor.ts';
import { memoryRateStore } from './memory-rate-store.ts';
import { seededRandom } from './random.ts';
import type { SimEdit } from './scenarios.ts';
import type { MemoryFileSystem } from './memory-file-system.ts';
import { SimTally, type SimCounts } from './tally.ts';
import type { VirtualClock } from './virtual-clock.ts';

/** An event of a rehearsal: the runner's, or an edit the simulation made. */
export type SimEvent = RunEvent | { readonly type: 'sim:edit'; readonly time: number; readonly files: readonly string[] };

/** What to rehearse, over `fs` (seeded: seed.ts), on `clock` (the one that stamps `fs`'s writes). */
export interface SimulateOptions {
  readonly config: ResolvedConfig;
  readonly fs: MemoryFileSystem;
  readonly clock: VirtualClock;
  readonly targets: readonly string[];
  readonly model: (task: ResolvedTask) => TaskModel;
  readonly seed: string;
  readonly edits?: readonly SimEdit[];
  readonly force?: boolean;
  readonly keepGoing?: boolean;
  readonly jobs?: number;
  readonly onEvent?: (event: SimEvent) => void;
  /** Stops the rehearsal (Ctrl-C, a closed stdout). */
  readonly signal?: AbortSignal;
  /** Keep the run record too (`--trace` draws it); the summary needs only the attempts. */
  readonly keepRecord?: boolean;
  /** The project's records of units in flight, read-only (interrupted.ts); none for a scenario. */
  readonly inflight?: InflightRecords;
}

/** How a rehearsal went: its events counted, each pass's result, its attempts and (when kept) the run record of them all. */
export interface SimRun {
  readonly counts: SimCounts;
  readonly passes: readonly BuildResult[];
  readonly attempts: Attempts;
  /** As `build` records a run (`runcue report`): every pass in one record, from the first start to the last end. */
  readonly record?: RunRecord;
  readonly start: number;
  readonly end: number;
}

/** Virtual time a run may take before it is taken for stuck: a year. */
const VIRTUAL_LIMIT_MS = 365 * 24 * 3_600_000;

export async function simulate(options: SimulateOptions): Promise<Result<SimRun, BuildFailure>> {
  const { clock, fs } = options;
  const start = clock.now();
  const ports: RunnerPorts = { clock, timers: clock, random: seededRandom(`${options.seed}/runner`) };
  const executorFor = simExecutors({
    fs,
    timers: clock,
    random: seededRandom(`${options.seed}/work`),
    model: options.model,
  });
  const rateStore = memoryRateStore();
  const tally = new SimTally();
  const listener = options.onEvent;
  const record = (event: SimEvent): void => {
    tally.onEvent(event);
    if (listener) listener(event);
  };
  const attempts = new AttemptLog();
  const recorder = options.keepRecord
    ? createRecordAccumulator({ id: 'sim', command: 'build', targets: options.targets, exitCode: (status) => (status === 'ok' ? 0 : 1) })
    : undefined;
  let started = false;
  const pending = [...(options.edits ?? [])];
  let done = 0;
  let edited = false;
  const onEvent = (event: RunEvent): void => {
    record(event);
    // One record over every pass: the first start, and each end as the run's end so far.
    if (event.type === 'run:done') recorder?.onEvent({ ...event, durationMs: event.time - start });
    else if (event.type !== 'run:start' || !recorder?.started) recorder?.onEvent(event);
    if (event.type !== 'run:start' || !started) attempts.onEvent(event);
    else attempts.nextPass();
    if (event.type === 'run:start') started = true;
    if (event.type !== 'unit:done') return;
    done++;
    if (pending.length === 0) return;
    for (const edit of pending.filter((e) => e.afterDone <= done)) {
      pending.splice(pending.indexOf(edit), 1);
      for (const file of edit.files) fs.put(file, clock.now());
      record({ type: 'sim:edit', time: clock.now(), files: edit.files });
      edited = true;
    }
  };
  const passes: BuildResult[] = [];
  for (let pass = 0; pass < 2; pass++) {
    const running = build({
      config: options.config,
      fs,
      targets: options.targets,
      force: pass === 0 && (options.force ?? false),
      keepGoing: options.keepGoing ?? false,
      ...(options.jobs ? { jobs: options.jobs } : {}),
      ports,
      executorFor,
      rateStore,
      inflightRecords: false,
      ...(options.inflight ? { inflight: options.inflight } : {}),
      alone: true,
      outputRecords: 'read-back',
      keepWritten: false,
      onEvent,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const result = await clock.runUntil(running, VIRTUAL_LIMIT_MS);
    if (!result.ok) return err(result.error);
    passes.push(result.value);
    if (!edited || !result.value.ok || options.signal?.aborted) break;
    edited = false;
  }
  attempts.finish(clock.now());
  const runRecord = recorder?.record(clock.now());
  return ok({ counts: tally, passes, attempts, ...(runRecord ? { record: runRecord } : {}), start, end: clock.now() });
}
