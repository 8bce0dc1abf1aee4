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
  | { readonly kind: 'waiting_retry'; readonly until: number; readonly message: string };

/** Why a unit was stale (why it runs). */
export type StaleReason =
  | { readonly kind: 'forced' }
  | { readonly kind: 'no_outputs' }
  | { readonly kind: 'missing_output'; readonly output: string }
  | { readonly kind: 'input_newer'; readonly input: string; readonly output: string }
  | { readonly kind: 'max_age'; readonly output: string; readonly ageMs: number }
  | { readonly kind: 'custom' };

/** How a unit failed. */
export type UnitFailure =
  | { readonly reason: 'exit-non-zero'; readonly exitCode: number; readonly message: string }
  | { readonly reason: 'signal'; readonly signal: string; readonly message: string }
  | { readonly reason: 'spawn-error'; readonly message: string }
  | { readonly reason: 'timeout'; readonly timeoutMs: number; readonly message: string }
  | { readonly reason: 'function-error'; readonly message: string }
  | { readonly reason: 'check-error'; readonly check: 'ready' | 'stale'; readonly message: string }
  | { readonly reason: 'aborted'; readonly message: string };

export interface RunCounts {
  readonly built: number;
  readonly fresh: number;
  readonly failed: number;
  readonly blocked: number;
}

export interface UnitEventBase {
  readonly time: number;
  readonly task: string;
  readonly unit: string;
}

export type RunEvent =
  | {
      readonly type: 'run:start';
      readonly time: number;
      /** Selected tasks with their current unit counts (grows as dynamic outputs are discovered). */
      readonly tasks: Readonly<Record<string, number>>;
      readonly services: Readonly<Record<string, { readonly concurrent: number | null; readonly rates: readonly string[] }>>;
    }
  /** Unit counts changed after a dynamic output was discovered. */
  | { readonly type: 'plan:update'; readonly time: number; readonly tasks: Readonly<Record<string, number>> }
  | (UnitEventBase & {
      readonly type: 'unit:start';
      readonly attempt: number;
      readonly reason: StaleReason;
      /** The resolved command, for shell and argv tasks. */
      readonly command?: string;
    })
  | (UnitEventBase & {
      readonly type: 'unit:done';
      readonly durationMs: number;
      /** An input changed while the unit ran: its outputs were not recorded fresh. */
      readonly inputsChanged: boolean;
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
    })
  | (UnitEventBase & { readonly type: 'unit:skip' })
  | (UnitEventBase & { readonly type: 'unit:blocked'; readonly reason: BlockedReason })
  | (UnitEventBase & { readonly type: 'unit:retry'; readonly attempt: number; readonly delayMs: number; readonly error: UnitFailure })
  | (UnitEventBase & { readonly type: 'unit:log'; readonly stream: 'stdout' | 'stderr' | 'log'; readonly text: string })
  | {
      readonly type: 'run:done';
      readonly time: number;
      readonly ok: boolean;
      readonly durationMs: number;
      readonly counts: RunCounts;
      /** Set when the run was stopped by a signal or an AbortSignal. */
      readonly interrupted?: string;
    };

export type RunEventListener = (event: RunEvent) => void;
