/**
 * What the runner reports. Renderers (src/cli/report) turn these into a UI; the JSON reporter
 * prints them as they are, so this union is also the `--json` contract (docs/events.md).
 * `time` is milliseconds since the epoch.
 */

/** Why a unit that is not running is not running. */
export type BlockedReason =
  /** An input is missing; `producer` is the unit that will make it, when one exists. */
  | { readonly kind: 'not_ready'; readonly input: string; readonly producer?: string; readonly message: string }
  /** A unit it depends on failed or was blocked. */
  | { readonly kind: 'upstream_failed'; readonly upstream: string; readonly message: string }
  | { readonly kind: 'service_full'; readonly service: string; readonly message: string }
  | { readonly kind: 'rate_limited'; readonly service: string; readonly until: number; readonly message: string }
  | { readonly kind: 'waiting_retry'; readonly until: number; readonly message: string }
  /** (watch) It failed in an earlier cycle and none of its inputs changed since. */
  | { readonly kind: 'failed_earlier'; readonly message: string }
  /** Another runcue process (pid `pid` on `host`) has been running it since `since`: it waits for that run. */
  | { readonly kind: 'running_elsewhere'; readonly pid: number; readonly host: string; readonly since: number; readonly message: string };

/** Why a unit was stale (why it runs). */
export type StaleReason =
  | { readonly kind: 'forced' }
  | { readonly kind: 'no-outputs' }
  | { readonly kind: 'missing-output'; readonly output: string }
  | { readonly kind: 'input-newer'; readonly input: string; readonly output: string }
  | { readonly kind: 'max-age'; readonly output: string; readonly ageMs: number }
  /** The oldest output predates `due`, the task's most recent scheduled time (ms since the epoch). */
  | { readonly kind: 'scheduled'; readonly output: string; readonly due: number }
  | { readonly kind: 'custom' }
  /** Files match its glob output but no record says this unit wrote them (never built, or built before records). */
  | { readonly kind: 'unrecorded'; readonly output: string; readonly files: number }
  /** (fan-in) An input file was added or removed since its last success. */
  | { readonly kind: 'members-changed'; readonly input: string; readonly change: 'added' | 'removed' }
  /** (freshness 'hash') The content fingerprint differs from the recorded one: which part, and how. */
  | { readonly kind: 'fingerprint'; readonly part: 'new' | 'inputs' | 'command' | 'env' | 'outputs'; readonly detail: string }
  /** (plan) An upstream unit would run first, so this one will be stale after it. */
  | { readonly kind: 'upstream'; readonly upstream: string }
  /**
   * A run that started it at `startedAt` died before it settled (runcue was killed, the machine
   * lost power): its outputs may be half-written. `pid` 0: the record itself was cut short.
   */
  | { readonly kind: 'interrupted'; readonly pid: number; readonly startedAt: number };

/** One unit in `runcue plan`: what build would do with it, and why. */
export type PlanEntry =
  | { readonly unit: string; readonly task: string; readonly verdict: 'run'; readonly reason: StaleReason }
  | { readonly unit: string; readonly task: string; readonly verdict: 'fresh' }
  | { readonly unit: string; readonly task: string; readonly verdict: 'blocked' | 'waiting'; readonly reason: BlockedReason }
  /** Its custom ready() or stale() threw: build would fail it. */
  | { readonly unit: string; readonly task: string; readonly verdict: 'fails'; readonly error: UnitFailure };

/** How a unit failed. */
export type UnitFailure =
  | { readonly reason: 'exit-non-zero'; readonly exitCode: number; readonly message: string }
  | { readonly reason: 'signal'; readonly signal: string; readonly message: string }
  | { readonly reason: 'spawn-error'; readonly message: string }
  | { readonly reason: 'timeout'; readonly timeoutMs: number; readonly message: string }
  | { readonly reason: 'function-error'; readonly message: string }
  /**
   * A file or directory runcue itself had to write could not be (an output's parent directory,
   * the unit's fingerprint under `.runcue/`): `path` says which, `message` why.
   */
  | { readonly reason: 'file-error'; readonly path: string; readonly message: string }
  /** It exited 0 (or returned) without writing these declared, non-optional outputs. */
  | { readonly reason: 'missing-output'; readonly outputs: readonly string[]; readonly message: string }
  /**
   * It failed (`exitCode`: the command's, when it exited non-zero) and these inputs, there when
   * it was checked, were gone afterwards: removed before or while it ran. Not retried.
   */
  | { readonly reason: 'input-removed'; readonly inputs: readonly string[]; readonly exitCode?: number; readonly message: string }
  | { readonly reason: 'check-error'; readonly check: 'ready' | 'stale'; readonly message: string }
  | { readonly reason: 'aborted'; readonly message: string }
  /** (unit:retry) The service pushed back (exit 75 / RateLimited); the unit is requeued. */
  | {
      readonly reason: 'pushed-back';
      readonly pushBacks: number;
      readonly retryAfterMs?: number;
      /** A Retry-After value given that runcue could not read (the backoff applied instead). */
      readonly unreadableRetryAfter?: string;
      readonly message: string;
    }
  /** The service pushed back (exit 75 / RateLimited) more often than the cap allows. */
  | { readonly reason: 'push-back-limit'; readonly pushBacks: number; readonly message: string }
  /** The run hit `stallTimeout` or `pendingTimeout` while this unit was running. */
  | { readonly reason: 'stalled'; readonly message: string }
  /** (worker) The handler answered with an error; `retry` is what it asked for. */
  | { readonly reason: 'worker-error'; readonly retry: boolean; readonly message: string }
  /** (worker) The worker holding the unit exited, closed its stdout or broke the protocol: it is replaced. */
  | { readonly reason: 'worker-crashed'; readonly message: string }
  /**
   * (worker) The task's workers cannot serve: a load failed, none said ready in time, or they
   * crashed `workerCrashLimit` times in a row. Not retried.
   */
  | { readonly reason: 'worker-failed'; readonly message: string }
  /**
   * (queue) The remote queue could not run the unit: a worker refused its job (its config
   * differs), the job failed in BullMQ (its workers died mid-unit too often) or Redis failed.
   */
  | { readonly reason: 'queue-error'; readonly message: string };

/** One unit that is not running, and why (for stall diagnostics and `runcue why`). */
export interface BlockedUnit {
  readonly task: string;
  readonly unit: string;
  readonly reason: BlockedReason;
}

export interface RunCounts {
  readonly built: number;
  readonly fresh: number;
  /** Units that failed; units a signal stopped while they ran count as `interrupted` instead. */
  readonly failed: number;
  readonly blocked: number;
  /** Units stopped by a signal (Ctrl-C, SIGTERM, an AbortSignal) while they ran; absent when 0. */
  readonly interrupted?: number;
}

/** A rate limit as data: at most `count` starts in any window of `windowMs` milliseconds (`60/min` is 60 in 60000). */
export interface RateWindow {
  readonly count: number;
  readonly windowMs: number;
}

/** A service's limits as `run:start` announces them. */
export interface ServiceLimits {
  /** Its cap on running units; `null`: no cap. */
  readonly concurrent: number | null;
  /** Its rate limits, in config order. */
  readonly rates: readonly RateWindow[];
}

/** The fields every unit event has. */
export interface UnitEventBase {
  readonly time: number;
  readonly task: string;
  readonly unit: string;
}

export type RunEvent =
  | {
      readonly type: 'run:start';
      readonly time: number;
      /** The version of this event contract (docs/events.md): 3 since blocked kinds are snake_case (`not_ready`, `service_full`), as the product contract names them. */
      readonly version: 3;
      /** Selected tasks with their current unit counts (grows as dynamic outputs are discovered). */
      readonly tasks: Readonly<Record<string, number>>;
      /** Every service's limits, by name. */
      readonly services: Readonly<Record<string, ServiceLimits>>;
      /** The services each selected task uses (task -> service names), for per-service progress. */
      readonly uses?: Readonly<Record<string, readonly string[]>>;
    }
  /** Unit counts changed after a dynamic output was discovered. */
  | { readonly type: 'plan:update'; readonly time: number; readonly tasks: Readonly<Record<string, number>> }
  /**
   * (queue build) The unit's attempt was added to the queue as a job; `unit:start` follows when
   * a worker starts it.
   */
  | (UnitEventBase & {
      readonly type: 'unit:queued';
      readonly attempt: number;
      readonly reason: StaleReason;
      readonly command?: string;
    })
  | (UnitEventBase & {
      readonly type: 'unit:start';
      readonly attempt: number;
      readonly reason: StaleReason;
      /** The resolved command, for shell and argv tasks. */
      readonly command?: string;
      /** (queue build) The host of the `runcue worker` that started it (its `time`: when the start gate admitted it). */
      readonly host?: string;
    })
  | (UnitEventBase & {
      readonly type: 'unit:done';
      readonly durationMs: number;
      /** An input changed while the unit ran: its outputs were not recorded fresh. */
      readonly inputsChanged: boolean;
      /** (queue build) The host of the `runcue worker` that ran it. */
      readonly host?: string;
    })
  | (UnitEventBase & {
      readonly type: 'unit:fail';
      readonly durationMs: number;
      readonly attempt: number;
      readonly error: UnitFailure;
      readonly command?: string;
      /** The last lines of stdout and stderr, interleaved as they came. */
      readonly outputTail: string;
      /** Outputs removed because the unit failed. */
      readonly removed: readonly string[];
      /** (queue build) The host of the `runcue worker` that ran its last attempt. */
      readonly host?: string;
    })
  | (UnitEventBase & { readonly type: 'unit:skip' })
  | (UnitEventBase & { readonly type: 'unit:blocked'; readonly reason: BlockedReason })
  | (UnitEventBase & {
      readonly type: 'unit:retry';
      /** The attempt that failed (a push-back does not use up an attempt). */
      readonly attempt: number;
      readonly delayMs: number;
      /** `retry`: the unit failed and has retries left; `push-back`: its service asked to slow down. */
      readonly kind: 'retry' | 'push-back';
      readonly error: UnitFailure;
      /**
       * (push-back) The services paused until `time + delayMs` (a longer pause already under way
       * is kept); empty when only this unit waits (a task on the default `cpu` service alone).
       */
      readonly services?: readonly string[];
    })
  /**
   * Nothing finished for `stallTimeout`/`stallWarnAfter`, or a unit waited `pendingTimeout`/
   * `pendingWarnAfter`: `fatal` runs fail, warnings only report. Lists what is blocked and why.
   */
  | {
      readonly type: 'run:stall';
      readonly time: number;
      readonly fatal: boolean;
      readonly message: string;
      readonly blocked: readonly BlockedUnit[];
    }
  /**
   * Live output (with --verbose), a function task's `log()`, (`hook`) a hook that threw, or
   * (`warning`) something the user should know, such as a declared output a unit did not write.
   * `hook` and `warning` lines are always shown.
   */
  | (UnitEventBase & {
      readonly type: 'unit:log';
      readonly stream: 'stdout' | 'stderr' | 'log' | 'hook' | 'warning';
      readonly text: string;
    })
  | {
      readonly type: 'run:done';
      readonly time: number;
      readonly ok: boolean;
      readonly durationMs: number;
      readonly counts: RunCounts;
      /** Set when the run was stopped by a signal or an AbortSignal. */
      readonly interrupted?: string;
      /** Stale units that never started because the run stopped (a failure without --keep-going, a stall, a signal). */
      readonly notStarted?: number;
      /** How often a service pushed back (exit 75 / RateLimited) in this run; absent when 0. */
      readonly pushBacks?: number;
    }
  | WorkerEvent;

/** Why a persistent worker process ended. */
export type WorkerExitReason =
  /** The run ended or the task's config changed: stdin closed, SIGTERM, SIGKILL after the grace. */
  | 'stopped'
  /** It exited (or closed stdout) on its own while holding a unit, or before it said ready. */
  | 'crashed'
  /** It reported `{"status": "error"}` while loading. */
  | 'load-failed'
  /** It did not say ready within `workerStartTimeout`. */
  | 'start-timeout'
  /** Its unit timed out or was stopped: its process tree was killed. */
  | 'killed'
  /** It answered with a task id it was not given. */
  | 'protocol-error'
  /** It exited after answering, holding nothing: a run-once worker. */
  | 'exited';

/** The life of a persistent worker process (`worker` numbers the task's workers from 1). */
export type WorkerEvent =
  | {
      readonly type: 'worker:start';
      readonly time: number;
      readonly task: string;
      readonly worker: number;
      readonly pid: number;
      /** The number of the worker it replaces, when one ended while the task still had work. */
      readonly replaces?: number;
    }
  | { readonly type: 'worker:ready'; readonly time: number; readonly task: string; readonly worker: number; readonly loadMs: number }
  | { readonly type: 'worker:busy'; readonly time: number; readonly task: string; readonly worker: number; readonly unit: string }
  | {
      readonly type: 'worker:exit';
      readonly time: number;
      readonly task: string;
      readonly worker: number;
      readonly reason: WorkerExitReason;
      readonly code: number | null;
      readonly signal: string | null;
      /** What went wrong, with the tail of its stderr, for every reason but `stopped` and `exited`. */
      readonly message?: string;
    };

export type RunEventListener = (event: RunEvent) => void;
