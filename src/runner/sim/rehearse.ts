/**
 * `runcue sim` end to end, below the CLI: seed a file system in memory (a scenario's synthetic
 * inputs, or the user's project files plus `--files`), build the model from the flags, simulate,
 * plan the final graph for the critical path, and summarise. Nothing on disk is written.
 */
import type { ResolvedConfig } from '../../config/resolved.ts';
import { err, ok, type Result } from '../../result.ts';
import type { BuildFailure } from '../build.ts';
import type { BlockedUnit } from '../events.ts';
import type { InflightRecords } from '../inflight.ts';
import type { RunRecord } from '../records/record.ts';
import { interruptedRecords } from './interrupted.ts';
import { modelOf, type ModelFlags } from './model.ts';
import { scenario, type ScenarioLimits, type ScenarioName, type SimEdit } from './scenarios.ts';
import { MemoryFileSystem } from './memory-file-system.ts';
import { seedFromProject, simConfig, writeSynthetic, type SyntheticFiles } from './seed.ts';
import { simulate, type SimEvent } from './simulate.ts';
import { summarize, type SimSummary } from './summary.ts';
import { VirtualClock } from './virtual-clock.ts';

/** What to rehearse: a built-in scenario, or the user's config. */
export type RehearsalSource =
  | { readonly kind: 'scenario'; readonly name: ScenarioName; readonly limits: ScenarioLimits }
  | { readonly kind: 'config'; readonly config: ResolvedConfig; readonly files: readonly SyntheticFiles[] };

export interface RehearsalRequest {
  readonly source: RehearsalSource;
  readonly targets: readonly string[];
  readonly flags: ModelFlags;
  readonly seed: string;
  /** The virtual time the run starts at: not before the project's files were written (ms since the epoch). */
  readonly start: number;
  /** Overrides every task's `retries`. */
  readonly retries?: number;
  readonly keepGoing?: boolean;
  readonly force?: boolean;
  readonly jobs?: number;
  readonly onEvent?: (event: SimEvent) => void;
  readonly signal?: AbortSignal;
  /** Keep the run record (for `--trace`). */
  readonly keepRecord?: boolean;
}

/** A finished rehearsal: the summary, the run record, and the config as simulated (the events went to `onEvent`). */
export interface Rehearsal {
  readonly summary: SimSummary;
  /** The run record, as `build` keeps it (`runcue report`), when asked for (`keepRecord`); `--trace` is drawn from it. */
  readonly record?: RunRecord;
  readonly config: ResolvedConfig;
  readonly start: number;
  /** Set when a signal stopped the rehearsal (`SIGINT`, `SIGPIPE`, ...). */
  readonly interrupted?: string;
}

/** A flag that does not fit the config (`--latency ocr2=1s`), or a build that cannot start. */
export type RehearsalFailure = { readonly reason: 'sim-usage'; readonly message: string } | BuildFailure;

interface Prepared {
  readonly config: ResolvedConfig;
  readonly edits: readonly SimEdit[];
  readonly fanout: number | undefined;
  /** (the user's config) Units an earlier run left interrupted are stale, as for `build`. */
  readonly inflight?: InflightRecords;
}

/** Where a scenario's project lives: a directory that exists only in memory. */
const SCENARIO_ROOT = '/runcue-sim';

function prepare(request: RehearsalRequest, clock: VirtualClock): Result<Prepared & { readonly fs: MemoryFileSystem }, string> {
  const { source } = request;
  const inputsAt = request.start - 1000;
  if (source.kind === 'scenario') {
    const fs = new MemoryFileSystem(SCENARIO_ROOT, clock);
    const sc = scenario(source.name, SCENARIO_ROOT, source.limits);
    const written = writeSynthetic(fs, sc.files, inputsAt);
    if (!written.ok) return err(written.error);
    return ok({ fs, config: sc.config, edits: sc.edits, fanout: sc.fanout });
  }
  const fs = new MemoryFileSystem(source.config.root, clock);
  seedFromProject(source.config, fs);
  const written = writeSynthetic(fs, source.files, inputsAt);
  if (!written.ok) return err(written.error);
  const inflight = interruptedRecords(source.config.root, () => clock.now());
  return ok({ fs, config: simConfig(source.config), edits: [], fanout: undefined, inflight });
}

function withRetries(config: ResolvedConfig, retries: number | undefined): ResolvedConfig {
  if (retries === undefined) return config;
  return { ...config, tasks: new Map([...config.tasks].map(([name, task]) => [name, { ...task, retries }])) };
}

export async function rehearse(request: RehearsalRequest): Promise<Result<Rehearsal, RehearsalFailure>> {
  const clock = new VirtualClock(request.start, { batchInstants: true });
  const prepared = prepare(request, clock);
  if (!prepared.ok) return err({ reason: 'sim-usage', message: prepared.error });
  const config = withRetries(prepared.value.config, request.retries);
  const fanout = request.flags.fanout ?? (prepared.value.fanout === undefined ? undefined : String(prepared.value.fanout));
  const model = modelOf(config, { ...request.flags, ...(fanout === undefined ? {} : { fanout }) });
  if (!model.ok) return err({ reason: 'sim-usage', message: model.error });
  const run = await simulate({
    config,
    fs: prepared.value.fs,
    clock,
    targets: request.targets,
    model: model.value,
    seed: request.seed,
    edits: prepared.value.edits,
    ...(prepared.value.inflight ? { inflight: prepared.value.inflight } : {}),
    ...(request.force ? { force: true } : {}),
    ...(request.keepGoing ? { keepGoing: true } : {}),
    ...(request.jobs ? { jobs: request.jobs } : {}),
    ...(request.onEvent ? { onEvent: request.onEvent } : {}),
    ...(request.signal ? { signal: request.signal } : {}),
    ...(request.keepRecord ? { keepRecord: true } : {}),
  });
  if (!run.ok) return err(run.error);
  const { counts, passes, attempts, record } = run.value;
  const last = passes.at(-1);
  const blocked: BlockedUnit[] = (last?.blocked ?? []).map((b) => ({ task: b.task, unit: b.unit, reason: b.reason }));
  const end = Math.max(request.start, counts.lastDone ?? request.start);
  const summary = summarize({
    counts,
    attempts,
    start: request.start,
    end,
    graph: last?.graph,
    after: new Map([...config.tasks].map(([name, task]) => [name, task.after])),
    ok: passes.every((p) => p.ok),
    blocked,
  });
  const interrupted = passes.find((p) => p.interrupted !== undefined)?.interrupted;
  return ok({
    summary,
    ...(record ? { record } : {}),
    config,
    start: request.start,
    ...(interrupted ? { interrupted } : {}),
  });
}
