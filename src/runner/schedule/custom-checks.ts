/**
 * The custom `ready()`/`stale()` checks of a run in flight: how many, which one each unit waits
 * for and since when (stall diagnostics name it), and the signal that ends them all when the run
 * stops (a user promise may never settle).
 */
import type { ResolvedTask } from '../../config/resolved.ts';
import type { Unit } from '../../graph/unit.ts';
import { describeThrown } from '../../describe-thrown.ts';
import type { Clock, Timers } from '../ports.ts';
import type { CheckContext } from '../staleness.ts';
import type { StuckWatch } from '../execute/function-executor.ts';
import { customCheck, type CheckFailure, type CustomCheckResult } from '../unit-check.ts';

/** Which custom check a unit waits for, and since when. */
export interface CheckInFlight {
  readonly check: 'ready' | 'stale';
  readonly since: number;
}

/** The custom checks of one run. */
export class CustomChecks {
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly inFlight = new Map<string, CheckInFlight>();
  private running = 0;
  private readonly stopper = new AbortController();
  private readonly stuckWatch: StuckWatch | undefined;

  constructor(clock: Clock, timers: Timers, stuckWatch?: StuckWatch) {
    this.clock = clock;
    this.timers = timers;
    this.stuckWatch = stuckWatch;
  }

  /** How many checks have not ended. */
  get count(): number {
    return this.running;
  }

  /** Aborted when the run stops (it also cuts short the end-of-run wait for hooks). */
  get signal(): AbortSignal {
    return this.stopper.signal;
  }

  /** Ends every check still in flight: each ends with a `stopped` failure. */
  stop(reason: string): void {
    this.stopper.abort(reason);
  }

  /** The check `id` waits for, while it does. */
  of(id: string): CheckInFlight | undefined {
    return this.inFlight.get(id);
  }

  /** Runs the custom checks of `unit`; `onEnd` gets the result and how long the check took. */
  run(unit: Unit, task: ResolvedTask, ctx: CheckContext, onEnd: (result: CustomCheckResult, durationMs: number) => void): void {
    this.running++;
    const limits = {
      signal: this.stopper.signal,
      timers: this.timers,
      ...(this.stuckWatch ? { stuckWatch: this.stuckWatch } : {}),
      onCheck: (check: 'ready' | 'stale') => this.inFlight.set(unit.id, { check, since: this.clock.now() }),
    };
    // A throw here is a bug in runcue, not in the check: the unit fails all the same.
    const bug = (error: unknown): CheckFailure => ({ kind: 'check-failed', check: 'stale', why: 'threw', message: describeThrown(error) });
    void customCheck(unit, task, ctx, limits)
      .catch(bug)
      .then((result) => {
        this.running--;
        const since = this.inFlight.get(unit.id)?.since ?? ctx.now;
        this.inFlight.delete(unit.id);
        onEnd(result, this.clock.now() - since);
      });
  }
}
