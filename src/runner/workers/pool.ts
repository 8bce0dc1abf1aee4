/**
 * The workers of one task: started lazily, one per unit running at once (the task's services
 * bound that), reused across units, replaced when one dies. A pool whose workers cannot start,
 * or crash `crashLimit` times in a row, is broken for the rest of the run: its units fail at once
 * instead of paying for a start that will fail again.
 */
import type { WorkerSpec } from '../../config/resolved.ts';
import type { UnitFailure, WorkerEvent, WorkerExitReason } from '../events.ts';
import type { ProcessGroups } from '../process-groups.ts';
import { describeEnd, WorkerProcess, type WorkerEnd } from './worker-process.ts';

/** What every pool of a run (or of a whole watch session) shares. */
export interface PoolContext {
  readonly root: string;
  /** The run's environment, under the task's declared `env`. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly groups: ProcessGroups;
  readonly killGraceMs: number;
  readonly emit: (event: WorkerEvent) => void;
  /** A line worker number `worker` wrote while it held no unit. */
  readonly log: (worker: number, line: string) => void;
}

/** One task's side of the pool: what it starts and how it behaves. */
export interface PoolTask {
  readonly name: string;
  readonly spec: WorkerSpec;
  readonly env: Readonly<Record<string, string>>;
}

/** A worker of the pool with its number. */
export interface PooledWorker {
  readonly process: WorkerProcess;
  readonly number: number;
}

/** A worker to run a unit on, or why there is none. */
export type Acquired =
  | { readonly ok: true; readonly worker: PooledWorker }
  /** `stderr`: the end of what a worker that failed to start wrote there. */
  | { readonly ok: false; readonly failure: UnitFailure; readonly stderr?: string };

/** The workers of one task. */
export class WorkerPool {
  private readonly idle: PooledWorker[] = [];
  private readonly live = new Set<PooledWorker>();
  private numbered = 0;
  private crashesInRow = 0;
  private broken: string | undefined;
  /** A worker ended while the task still had work: the next one started replaces it. */
  private replaced: number | undefined;
  /** Its workers answer one task and exit (runqy's `run_once`): each gets one unit. */
  runOnce = false;

  readonly task: PoolTask;
  private readonly ctx: PoolContext;
  /** Workers being stopped: {@link close} waits for them too. */
  private readonly retiring = new Set<Promise<void>>();

  constructor(task: PoolTask, ctx: PoolContext) {
    this.task = task;
    this.ctx = ctx;
  }

  /** A new run begins: a pool broken in an earlier watch cycle gets another chance. */
  reset(): void {
    this.broken = undefined;
    this.crashesInRow = 0;
  }

  /** An idle worker, or a new one once it said ready, to run `unit` on. */
  async acquire(signal: AbortSignal, unit: string): Promise<Acquired> {
    if (this.broken !== undefined) return { ok: false, failure: { reason: 'worker-failed', message: this.broken } };
    let acquired: Acquired | undefined;
    // Pop only until one is found: a second pop would drop an idle worker from the pool (still
    // alive, never reused), and the next unit would start one more than the services admit.
    for (let w = this.idle.pop(); w !== undefined; w = acquired ? undefined : this.idle.pop()) {
      if (!w.process.gone) acquired = { ok: true, worker: w };
    }
    acquired ??= await this.start(signal);
    if (acquired.ok) this.ctx.emit({ type: 'worker:busy', time: Date.now(), task: this.task.name, worker: acquired.worker.number, unit });
    return acquired;
  }

  /** The unit is answered: the worker serves the next one (a run-once worker is let go). */
  release(worker: PooledWorker): void {
    this.crashesInRow = 0;
    worker.process.release();
    if (worker.process.gone) return;
    if (this.runOnce) void this.retire(worker, 'exited', this.ctx.killGraceMs, undefined, true);
    else this.idle.push(worker);
  }

  /** The worker failed its unit (crash, protocol error, timeout, stop): it goes, and is replaced on demand. */
  async discard(worker: PooledWorker, reason: WorkerExitReason, message?: string): Promise<void> {
    worker.process.release();
    if (reason === 'crashed' || reason === 'protocol-error') this.countCrash(message ?? 'it crashed');
    this.replaced = worker.number;
    await this.retire(worker, reason, reason === 'killed' ? this.ctx.killGraceMs : 0, message);
  }

  /**
   * The worker ended cleanly after answering, holding a unit it had not read: a run-once worker.
   * It goes without counting as a crash, and every worker from now on gets one unit.
   */
  async letGo(worker: PooledWorker): Promise<void> {
    worker.process.release();
    this.runOnce = true;
    await this.retire(worker, 'exited', 0);
  }

  /** Every worker stops (the run ends, or the task's config changed). */
  async close(graceMs: number): Promise<void> {
    this.idle.length = 0;
    await Promise.all([...this.live].map((w) => this.retire(w, 'stopped', graceMs, undefined, true)));
    await Promise.all(this.retiring);
  }

  /** SIGKILL to every worker now (a second Ctrl-C). */
  killNow(): void {
    for (const w of this.live) w.process.killNow();
  }

  private async start(signal: AbortSignal): Promise<Acquired> {
    const { spec, name } = this.task;
    const number = ++this.numbered;
    const argv = typeof spec.command === 'string' ? ['/bin/sh', '-c', spec.command] : spec.command;
    const env = { ...this.ctx.env, ...this.task.env, RUNCUE_TASK: name, RUNCUE_WORKER: String(number) };
    const spawned = WorkerProcess.spawn({
      argv,
      cwd: this.ctx.root,
      env,
      groups: this.ctx.groups,
      killGraceMs: this.ctx.killGraceMs,
      idleLog: (line) => this.ctx.log(number, line),
    });
    if (spawned instanceof Error) return this.fail(`could not start it: ${spawned.message}`);
    const worker = { process: spawned, number };
    this.live.add(worker);
    const replaces = this.replaced;
    this.replaced = undefined;
    this.ctx.emit({
      type: 'worker:start',
      time: Date.now(),
      task: name,
      worker: number,
      pid: spawned.pid,
      ...(replaces ? { replaces } : {}),
    });
    this.watch(worker);
    const start = await spawned.ready(spec.startTimeoutMs, signal);
    if (start.kind === 'ready') {
      this.ctx.emit({ type: 'worker:ready', time: Date.now(), task: name, worker: number, loadMs: start.loadMs });
      return { ok: true, worker };
    }
    if (start.kind === 'aborted') {
      await this.retire(worker, 'stopped', 0);
      return { ok: false, failure: { reason: 'aborted', message: 'stopped while its worker started' } };
    }
    await this.retire(worker, start.kind, 0, start.message);
    return this.fail(start.message, spawned.stderrText());
  }

  /** A start that failed breaks the pool: the next one would fail the same way. */
  private fail(message: string, stderr?: string): Acquired {
    this.broken = `the worker of task "${this.task.name}" could not serve: ${message}`;
    const failure: UnitFailure = { reason: 'worker-failed', message: this.broken };
    return stderr ? { ok: false, failure, stderr: `${stderr}\n` } : { ok: false, failure };
  }

  private countCrash(message: string): void {
    this.crashesInRow++;
    if (this.crashesInRow < this.task.spec.crashLimit) return;
    this.broken = `the workers of task "${this.task.name}" crashed ${this.crashesInRow} times in a row; the last: ${message}`;
  }

  /** An idle worker that ends on its own: after answering, that is a run-once worker; else a crash. */
  private watch(worker: PooledWorker): void {
    void worker.process.whenGone().then((end) => {
      const index = this.idle.indexOf(worker);
      if (index < 0 || !this.live.has(worker)) return;
      this.idle.splice(index, 1);
      this.live.delete(worker);
      const clean = end.code === 0 && worker.process.answered > 0;
      if (clean) this.runOnce = true;
      else this.countCrash(`it ${describeEnd(end)} while idle`);
      this.emitExit(worker, clean ? 'exited' : 'crashed', end, clean ? undefined : `it ${describeEnd(end)} while idle`);
    });
  }

  private async retire(worker: PooledWorker, reason: WorkerExitReason, graceMs: number, message?: string, politely = false): Promise<void> {
    if (!this.live.delete(worker)) return;
    const index = this.idle.indexOf(worker);
    if (index >= 0) this.idle.splice(index, 1);
    const done = worker.process.stop(graceMs, politely).then((end) => this.emitExit(worker, reason, end, message));
    this.retiring.add(done);
    await done;
    this.retiring.delete(done);
  }

  private emitExit(worker: PooledWorker, reason: WorkerExitReason, end: WorkerEnd, message: string | undefined): void {
    this.ctx.emit({
      type: 'worker:exit',
      time: Date.now(),
      task: this.task.name,
      worker: worker.number,
      reason,
      code: end.code,
      signal: end.signal,
      ...(message === undefined ? {} : { message }),
    });
  }
}
