/**
 * Every task's worker pool, for one build or for a whole watch session (workers stay loaded
 * across cycles; a task whose worker config changed gets a new pool). Worker processes have
 * their own process groups and watchdog: they outlive a single run's.
 */
import type { ResolvedConfig, ResolvedTask } from '../../config/resolved.ts';
import type { RunEvent, WorkerEvent } from '../events.ts';

type WorkerLog = Extract<RunEvent, { type: 'unit:log' }>;
import type { Executor } from '../execute/executor.ts';
import { createProcessGroups, type ProcessGroups, type ProcessIdentity } from '../process-groups.ts';
import type { PoolContext, PoolTask, WorkerPool } from './pool.ts';

interface Entry {
  /** What the pool was started from: a change means new workers. */
  readonly key: string;
  /** Loaded on first use: a run without workers never loads the pool's modules. */
  readonly pool: Promise<WorkerPool>;
  readonly executor: Executor;
}

/** The pool of `task`, and the executor that runs its units, once their modules are loaded. */
async function createPool(task: PoolTask, context: PoolContext): Promise<{ pool: WorkerPool; executor: Executor }> {
  const [{ WorkerPool }, { workerExecutor }] = await Promise.all([import('./pool.ts'), import('./worker-executor.ts')]);
  const pool = new WorkerPool(task, context);
  return { pool, executor: workerExecutor(pool, context.root) };
}

/** The worker pools of a build or a watch session. */
export class WorkerPools {
  private readonly entries = new Map<string, Entry>();
  private groups: ProcessGroups | undefined;
  private emit: (event: WorkerEvent | WorkerLog) => void = () => undefined;
  private verbose = false;
  private config: ResolvedConfig | undefined;
  private closing: Promise<void>[] = [];

  private readonly env: Readonly<Record<string, string | undefined>>;

  /** `env`: the run's environment, under each task's declared `env`. */
  constructor(env: Readonly<Record<string, string | undefined>>) {
    this.env = env;
  }

  /**
   * A run begins with `config`: worker events go to `emit`; pools whose task is gone or whose
   * worker config changed stop; pools broken in an earlier run get another chance.
   */
  begin(config: ResolvedConfig, emit: (event: WorkerEvent | WorkerLog) => void, verbose: boolean): void {
    this.config = config;
    this.emit = emit;
    this.verbose = verbose;
    for (const [name, entry] of this.entries) {
      const task = config.tasks.get(name);
      if (task && poolKey(task, config) === entry.key) void entry.pool.then((pool) => pool.reset());
      else {
        this.entries.delete(name);
        this.closing.push(entry.pool.then((pool) => pool.close(config.killGraceMs)));
      }
    }
  }

  /** The executor of a worker task's units. */
  executor(task: ResolvedTask): Executor {
    const config = this.config;
    if (!config) throw new Error('internal error: worker pools used before begin()');
    const existing = this.entries.get(task.name);
    if (existing) return existing.executor;
    if (task.run.kind !== 'worker') throw new Error(`internal error: task ${task.name} has no worker`);
    const groups = this.groupsFor(config);
    const context = {
      root: config.root,
      env: this.env,
      groups,
      killGraceMs: config.killGraceMs,
      emit: (e: WorkerEvent) => this.emit(e),
      // What a worker writes while it holds no unit (loading, between units) is the task's.
      log: (worker: number, line: string) => {
        if (this.verbose)
          this.emit({
            type: 'unit:log',
            time: Date.now(),
            task: task.name,
            unit: `(worker ${task.name}#${worker})`,
            stream: 'stderr',
            text: `${line}\n`,
          });
      },
    };
    const created = createPool({ name: task.name, spec: task.run, env: task.env }, context);
    const executor: Executor = { run: async (request) => (await created).executor.run(request) };
    this.entries.set(task.name, { key: poolKey(task, config), pool: created.then((c) => c.pool), executor });
    return executor;
  }

  /** Starts (once) and names the watchdog of the workers, for in-flight records. */
  watchdog(): ProcessIdentity | undefined {
    const config = this.config;
    if (!config) return undefined;
    return this.groupsFor(config).prepare();
  }

  /** The workers' process groups and watchdog, started with the first worker (or in-flight record). */
  private groupsFor(config: ResolvedConfig): ProcessGroups {
    return (this.groups ??= createProcessGroups({ graceMs: config.killGraceMs }));
  }

  /** Every worker stops: stdin closed, SIGTERM, SIGKILL after the kill grace. */
  async close(): Promise<void> {
    const graceMs = this.config?.killGraceMs ?? 0;
    const pools = [...this.entries.values()].map((e) => e.pool.then((pool) => pool.close(graceMs)));
    this.entries.clear();
    await Promise.all([...this.closing, ...pools]);
    this.closing = [];
    this.groups?.close();
    this.groups = undefined;
  }

  /** SIGKILL to every worker now (a second Ctrl-C). */
  killNow(): void {
    // Pools still loading have no worker to kill.
    for (const entry of this.entries.values()) void entry.pool.then((pool) => pool.killNow());
  }
}

/** What a task's workers are started from: its command, environment and the run's root. */
function poolKey(task: ResolvedTask, config: ResolvedConfig): string {
  if (task.run.kind !== 'worker') return '';
  const { command, writeResult, startTimeoutMs, crashLimit } = task.run;
  return JSON.stringify([config.root, command, task.env, writeResult, startTimeoutMs, crashLimit, config.killGraceMs]);
}
