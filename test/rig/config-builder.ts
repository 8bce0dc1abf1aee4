/**
 * Builders for the pure graph and runner tests: resolved configs from plain objects, task graphs,
 * in-memory file listings, and temp project dirs with explicit mtimes (no dependence on the file
 * system's timestamp granularity).
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Pattern } from '../../src/patterns/pattern.ts';
import type { ConfigFailure, ResolvedConfig } from '../../src/config/resolved.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import type { RuncueConfig, TaskConfig } from '../../src/config/types.ts';
import { expandGraph, type FileSource } from '../../src/graph/expand.ts';
import { buildTaskGraph, type CycleFailure, type TaskGraph } from '../../src/graph/tasks.ts';
import type { UnitGraph } from '../../src/graph/unit.ts';
import { staticPlan, type StaticPlan } from '../../src/runner/inspect.ts';

/** Where pure tests pretend the config lives: patterns resolve under `/virtual`, never touched. */
const VIRTUAL_FILE = '/virtual/runcue.config.ts';

/** A task as a test writes it: `run` defaults to a shell command that is never run. */
export type TaskSpec = Omit<TaskConfig, 'run'> & { readonly run?: TaskConfig['run'] };

/** Where a built config lives and what it holds besides tasks. */
export interface ConfigOptions {
  /** The config file (its directory is the project root); default {@link VIRTUAL_FILE}. */
  readonly file?: string;
  /** Everything of the config besides `tasks` (services, hooks, timeouts). */
  readonly extra?: Omit<RuncueConfig, 'tasks'>;
}

/** The raw config for `tasks`, each task's `run` defaulted. */
function rawConfig(tasks: Readonly<Record<string, TaskSpec>>, extra: Omit<RuncueConfig, 'tasks'> = {}): RuncueConfig {
  const full: Record<string, TaskConfig> = {};
  for (const [name, spec] of Object.entries(tasks)) full[name] = { ...spec, run: spec.run ?? 'true' };
  return { ...extra, tasks: full };
}

/** Resolves `tasks` (2 cores) or throws with the issues: for configs a test expects to be valid. */
export function configOf(tasks: Readonly<Record<string, TaskSpec>>, options: ConfigOptions = {}): ResolvedConfig {
  const result = resolveConfig(rawConfig(tasks, options.extra), options.file ?? VIRTUAL_FILE, { cores: 2 });
  if (!result.ok) throw new Error(`expected a valid config: ${JSON.stringify(result.error)}`);
  return result.value;
}

/** The failure of a config a test expects to be invalid. */
export function configFailureOf(tasks: Readonly<Record<string, TaskSpec>>): ConfigFailure {
  const result = resolveConfig(rawConfig(tasks), VIRTUAL_FILE, { cores: 2 });
  if (result.ok) throw new Error('expected an invalid config');
  return result.error;
}

/** The task graph of a config without cycles. */
export function taskGraphOf(config: ResolvedConfig): TaskGraph {
  const graph = buildTaskGraph(config);
  if (!graph.ok) throw new Error(`unexpected cycle: ${graph.error.message}`);
  return graph.value;
}

/** The cycle of a config a test expects to have one. */
export function cycleOf(config: ResolvedConfig): CycleFailure {
  const graph = buildTaskGraph(config);
  if (graph.ok) throw new Error('expected a dependency cycle');
  return graph.error;
}

/** An in-memory {@link FileSource} that counts its `list` calls. */
export interface MemoryFiles extends FileSource {
  readonly files: readonly string[];
  readonly calls: number;
}

/** A {@link MemoryFiles} over `files` (deduplicated and sorted, as a real listing is). */
export function memoryFiles(files: Iterable<string>): MemoryFiles {
  const sorted = [...new Set(files)].sort();
  let calls = 0;
  return {
    files: sorted,
    get calls() {
      return calls;
    },
    list(pattern: Pattern) {
      calls++;
      return sorted.filter((f) => pattern.match(f) !== undefined);
    },
  };
}

/** What a test says about the run state when it expands a graph. */
export interface ExpandInput {
  /** Unit ids that have finished: their glob outputs are real files now. */
  readonly settled?: Iterable<string>;
  /** Only these tasks get units. */
  readonly only?: Iterable<string>;
}

/** Expands `config` over `files` (a listing, or a {@link MemoryFiles} to count calls on). */
export function expand(config: ResolvedConfig, files: Iterable<string> | MemoryFiles, input: ExpandInput = {}): UnitGraph {
  const source = 'list' in files ? files : memoryFiles(files);
  const settled = new Set(input.settled ?? []);
  return expandGraph({
    config,
    tasks: taskGraphOf(config),
    files: source,
    isSettled: (id) => settled.has(id),
    ...(input.only ? { only: new Set(input.only) } : {}),
  });
}

/** The deps of one unit, sorted (for order-independent assertions). */
export function depsOf(graph: UnitGraph, id: string): string[] {
  return [...(graph.deps.get(id) ?? [])].sort();
}

/** A temp project dir whose files get explicit mtimes. */
export interface TempProject {
  readonly root: string;
  /** The config file path to resolve configs against (it is never written). */
  readonly file: string;
  /** Writes `rel` (parents created); `mtimeMs` sets both atime and mtime. */
  write(rel: string, options?: { readonly content?: string; readonly mtimeMs?: number }): void;
  /** Sets the mtime of an existing file. */
  touch(rel: string, mtimeMs: number): void;
  path(rel: string): string;
  remove(): void;
}

/** Creates a {@link TempProject} in a new temp directory; call `remove()` when done. */
export function tempProject(): TempProject {
  const root = mkdtempSync(join(tmpdir(), 'runcue-'));
  const path = (rel: string): string => join(root, rel);
  const touch = (rel: string, mtimeMs: number): void => {
    const t = new Date(mtimeMs);
    utimesSync(path(rel), t, t);
  };
  return {
    root,
    file: join(root, 'runcue.config.ts'),
    path,
    touch,
    write(rel, options = {}) {
      mkdirSync(dirname(path(rel)), { recursive: true });
      writeFileSync(path(rel), options.content ?? rel);
      if (options.mtimeMs !== undefined) touch(rel, options.mtimeMs);
    },
    remove() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Resolves `tasks` against `project` and plans `targets` as `touch` and `clean` do (their static plan). */
export function planIn(
  project: TempProject,
  tasks: Readonly<Record<string, TaskSpec>>,
  targets: readonly string[] = [],
): { config: ResolvedConfig; plan: StaticPlan } {
  const config = configOf(tasks, { file: project.file });
  const plan = staticPlan(config, targets, true);
  if (!plan.ok) throw new Error(plan.error.message);
  return { config, plan: plan.value };
}
