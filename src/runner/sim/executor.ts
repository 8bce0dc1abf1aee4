/**
 * The simulated executor: an attempt takes a latency on the virtual clock (with jitter), fails
 * at the task's error rate, and otherwise "writes" the unit's outputs as empty files stamped
 * with the virtual time, so the real runner around it (output checks, staleness, dynamic
 * outputs) works unchanged. A dynamic (glob) output gets `fanout` files per producer.
 */
import type { ResolvedTask } from '../../config/resolved.ts';
import type { UnitPath } from '../../graph/unit.ts';
import type { UnitFailure } from '../events.ts';
import type { AttemptRequest, Executor, ExecutorFor, ExecutorOutcome } from '../execute/executor.ts';
import type { FileSystem } from '../file-system.ts';
import type { Random, TimerHandle } from '../ports.ts';
import { VirtualTimer } from './virtual-clock.ts';
import { namesFor } from './names.ts';

/** How one task behaves in a simulation. */
export interface TaskModel {
  /** Mean duration of an attempt. */
  readonly latencyMs: number;
  /** Each attempt's duration is `latencyMs` times a uniform factor in [1 - jitter, 1 + jitter]. */
  readonly jitter: number;
  /** Probability that an attempt fails. */
  readonly errorRate: number;
  /** Files a dynamic (glob) output gets per producer. */
  readonly fanout: number;
}

/** The virtual clock's timers, as the simulated executor sets them. */
export interface SimTimers {
  schedule(timer: VirtualTimer, ms: number): void;
  clear(handle: TimerHandle | undefined): void;
}

/** What the simulated executor needs: the files (in memory), virtual time, seeded chance, the model. */
export interface SimExecutorOptions {
  readonly fs: FileSystem;
  readonly timers: SimTimers;
  readonly random: Random;
  readonly model: (task: ResolvedTask) => TaskModel;
}

/** The simulated executor of every task. */
export function simExecutors(options: SimExecutorOptions): ExecutorFor {
  const executors = new Map<string, Executor>();
  // One table for every task's executor: a stop ends their attempts in the order they started.
  const waits = new Waits(options.timers);
  return (task) => {
    let executor = executors.get(task.name);
    if (!executor) {
      executor = simExecutor(options, task, waits);
      executors.set(task.name, executor);
    }
    return executor;
  };
}

/** One task's model, as its attempts end by it. */
interface SimTask {
  readonly options: SimExecutorOptions;
  readonly fanout: number;
  /** Every simulated failure of the task is the same outcome. */
  readonly failure: ExecutorOutcome;
}

function simExecutor(options: SimExecutorOptions, task: ResolvedTask, waits: Waits): Executor {
  const model = options.model(task);
  const percent = Math.round(model.errorRate * 1000) / 10;
  const failure: ExecutorOutcome = failed({ reason: 'exit-non-zero', exitCode: 1, message: `simulated failure (error rate ${percent}%)` });
  const sim: SimTask = { options, fanout: model.fanout, failure };
  const runThen = (request: AttemptRequest, done: (outcome: ExecutorOutcome) => void): void => {
    const factor = 1 + model.jitter * (2 * options.random.next() - 1);
    const duration = Math.max(0, Math.round(model.latencyMs * factor));
    const fails = options.random.next() < model.errorRate;
    const timeoutMs = request.view.timeoutMs;
    const timesOut = timeoutMs !== undefined && duration > timeoutMs;
    waits.wait(new Attempt(sim, request, done, fails, timesOut ? duration : undefined), timesOut ? timeoutMs : duration);
  };
  return {
    run: (request) => new Promise((resolve) => runThen(request, resolve)),
    runThen,
    sharedSignal: true,
  };
}

/** Every simulated success is the same outcome. */
const DONE: ExecutorOutcome = Object.freeze({ kind: 'done' });

function failed(failure: UnitFailure): ExecutorOutcome {
  return { kind: 'failed', failure, outputTail: '' };
}

function stopped(): ExecutorOutcome {
  return failed({ reason: 'aborted', message: 'stopped' });
}

/**
 * An attempt waiting out its virtual time: its own timer, and a link of its signal's list, in
 * the order they started. When it fires, `done` gets what the attempt came to then (its writes
 * stamped with that time).
 */
class Attempt extends VirtualTimer {
  readonly sim: SimTask;
  readonly request: AttemptRequest;
  readonly done: (outcome: ExecutorOutcome) => void;
  private readonly fails: boolean;
  /** Set when it times out: the latency it would have taken. */
  private readonly latency: number | undefined;
  list: WaitList | undefined = undefined;
  prev: Attempt | undefined = undefined;
  next: Attempt | undefined = undefined;

  constructor(
    sim: SimTask,
    request: AttemptRequest,
    done: (outcome: ExecutorOutcome) => void,
    fails: boolean,
    latency: number | undefined,
  ) {
    super();
    this.sim = sim;
    this.request = request;
    this.done = done;
    this.fails = fails;
    this.latency = latency;
  }

  fire(): void {
    if (this.list) unlink(this.list, this);
    this.done(this.end());
  }

  private end(): ExecutorOutcome {
    const timeoutMs = this.request.view.timeoutMs;
    if (this.latency !== undefined && timeoutMs !== undefined) {
      const message = `timed out after ${timeoutMs} ms (simulated latency ${this.latency} ms)`;
      return failed({ reason: 'timeout', timeoutMs, message });
    }
    if (this.fails) return this.sim.failure;
    const problem = writeOutputs(this.sim.options, this.request.view.unit.outputs, this.sim.fanout);
    return problem ? failed({ reason: 'file-error', path: problem.path, message: problem.message }) : DONE;
  }
}

/** The attempts in flight on one signal, oldest first (links, not a Set: an insert and a delete per attempt). */
interface WaitList {
  first: Attempt | undefined;
  last: Attempt | undefined;
}

/**
 * The attempts in flight, by abort signal: one listener per signal (a run shares one among its
 * attempts) ends them all, in the order they started. A listener per attempt, added to a signal
 * of its own, was a visible share of a rehearsal's time.
 */
class Waits {
  private readonly timers: SimTimers;
  private readonly bySignal = new WeakMap<AbortSignal, WaitList>();

  constructor(timers: SimTimers) {
    this.timers = timers;
  }

  /** `attempt` ends after `ms` of virtual time, or with an `aborted` outcome when the run stops first. */
  wait(attempt: Attempt, ms: number): void {
    const { signal } = attempt.request;
    if (signal.aborted) {
      attempt.done(stopped());
      return;
    }
    const waits = this.waitsOf(signal);
    attempt.list = waits;
    attempt.prev = waits.last;
    if (waits.last) waits.last.next = attempt;
    else waits.first = attempt;
    waits.last = attempt;
    this.timers.schedule(attempt, ms);
  }

  private waitsOf(signal: AbortSignal): WaitList {
    const known = this.bySignal.get(signal);
    if (known) return known;
    const waits: WaitList = { first: undefined, last: undefined };
    this.bySignal.set(signal, waits);
    // No `once`: an abort fires once anyway. The list is taken whole first: an attempt that
    // starts meanwhile sees the signal aborted and ends at once, outside it.
    signal.addEventListener('abort', () => {
      let wait = waits.first;
      waits.first = undefined;
      waits.last = undefined;
      while (wait) {
        const next = wait.next;
        wait.list = undefined;
        wait.prev = undefined;
        wait.next = undefined;
        this.timers.clear(wait as unknown as TimerHandle);
        wait.done(stopped());
        wait = next;
      }
    });
    return waits;
  }
}

function unlink(waits: WaitList, wait: Attempt): void {
  if (wait.prev) wait.prev.next = wait.next;
  else waits.first = wait.next;
  if (wait.next) wait.next.prev = wait.prev;
  else waits.last = wait.prev;
  wait.list = undefined;
  wait.prev = undefined;
  wait.next = undefined;
}

/** Writes each output as an empty file stamped with the virtual time; says which could not be. */
function writeOutputs(
  options: SimExecutorOptions,
  outputs: readonly UnitPath[],
  fanout: number,
): { path: string; message: string } | undefined {
  for (let i = 0; i < outputs.length; i++) {
    const output = outputs[i] as UnitPath;
    if (!output.isGlob) {
      const problem = writeEmpty(options.fs, output.path, false);
      if (problem) return problem;
      continue;
    }
    const names = namesFor(output.path, fanout, 'sim');
    if (!names.ok) return { path: output.path, message: names.error };
    for (let j = 0; j < names.value.length; j++) {
      const problem = writeEmpty(options.fs, names.value[j] as string, true);
      if (problem) return problem;
    }
  }
  return undefined;
}

/** Writes `name` as an empty file; `deep`: a glob's file, whose directory runcue may not have made. */
function writeEmpty(fs: FileSystem, name: string, deep: boolean): { path: string; message: string } | undefined {
  try {
    // runcue made the parents of declared paths and a glob's base; a glob may reach deeper.
    const slash = name.lastIndexOf('/');
    if (deep && slash > 0) fs.mkdir(name.slice(0, slash));
    // Stamped with the virtual time by the file system.
    fs.writeFile(name, '');
    return undefined;
  } catch (error) {
    return { path: name, message: error instanceof Error ? error.message : String(error) };
  }
}
