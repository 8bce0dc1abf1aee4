/**
 * The executor seam: how one attempt of a unit is carried out, apart from everything common to
 * every attempt (output directories, the before/after snapshots, the changed-inputs check,
 * fingerprints: attempt.ts). Today a process executor (shell and argv commands) and a function
 * executor; persistent workers, a remote queue or a simulated executor fit behind the same
 * interface. The scheduler is given an {@link ExecutorFor} and knows nothing of processes.
 */
import type { ResolvedTask } from '../../config/resolved.ts';
import type { UnitFailure } from '../events.ts';
import type { UnitRunOutcome, UnitRunRequest } from './attempt.ts';
import type { UnitView } from './unit-view.ts';

/** Where a line of live output came from: a command's pipes, or a function's `log()`. */
export type LogStream = 'stdout' | 'stderr' | 'log';

/** One attempt, as an executor is asked to run it. */
export interface AttemptRequest {
  readonly view: UnitView;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Aborted when the run stops: the attempt ends as soon as it can, failing with `aborted`. */
  readonly signal: AbortSignal;
  /** Live output, when the run wants it (--verbose); the tail of a failure is kept regardless. */
  readonly log?: (stream: LogStream, text: string) => void;
  /** (a {@link Executor.queued} executor) Called once, when and where the attempt really started. */
  readonly onStart?: (start: { readonly time: number; readonly host: string }) => void;
}

/** How an attempt ended, as its executor saw it. */
export type ExecutorOutcome =
  /** The work finished; whether it wrote its outputs is checked around the executor. */
  /** `outputTail`: the last lines of its output, for a missing-output failure found afterwards. */
  | { readonly kind: 'done'; readonly outputTail?: string }
  /** The service said "too many requests" (exit 75, RateLimitError): requeue, not a failure. */
  /** `unreadable`: a Retry-After value that was given but could not be read (the backoff applies). */
  | { readonly kind: 'push-back'; readonly retryAfterMs: number | undefined; readonly unreadable?: string }
  | {
      readonly kind: 'failed';
      readonly failure: UnitFailure;
      /** The last lines of its output, for the failure report. */
      readonly outputTail: string;
      /** Work that ignored its abort signal and may still write: settles when it ends. */
      readonly abandoned?: Promise<void>;
    };

/** Carries out attempts of units. */
export interface Executor {
  run(request: AttemptRequest): Promise<ExecutorOutcome>;
  /**
   * Carries out the whole attempt, the common part around it included, where the outputs are
   * written: a remote queue's workers run runUnit on their machine and report its outcome.
   */
  runWhole?(request: UnitRunRequest): Promise<UnitRunOutcome>;
  /**
   * The same attempt, ended by calling `done` instead of settling a promise (the simulated
   * executor, whose attempts end on a virtual clock: a rehearsal runs 10,000s of them, and a
   * promise, an async frame and a continuation each were a visible share of its time).
   */
  runThen?(request: AttemptRequest, done: (outcome: ExecutorOutcome) => void): void;
  /**
   * Its attempts may be given one abort signal per run (aborted when the run stops) rather than
   * one each: it listens to a signal once, not once per attempt.
   */
  readonly sharedSignal?: boolean;
  /** Its attempts wait in a queue before they start: it calls the request's `onStart` when one does. */
  readonly queued?: boolean;
}

/** Chooses the executor of a task's units. */
export type ExecutorFor = (task: ResolvedTask) => Executor;
