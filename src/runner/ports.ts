/**
 * Time and chance as the runner sees them. They are injected (never the globals `Date.now`,
 * `setTimeout` or `Math.random`) so that the scheduler runs unchanged on a virtual clock: in unit
 * tests without real sleeps, and later in `runcue sim`.
 */

/** Wall-clock time in milliseconds since the epoch. */
export interface Clock {
  now(): number;
}

/** An opaque handle of a pending timer. */
export interface TimerHandle {
  readonly __timer: unique symbol;
}

export interface Timers {
  /**
   * Calls `fn` once after `ms`. `unref`: the timer alone does not keep the process alive (a
   * stall warning, say); a virtual clock ignores it.
   */
  set(fn: () => void, ms: number, options?: { readonly unref?: boolean }): TimerHandle;
  /** Cancels a pending timer; a handle that already fired or `undefined` is ignored. */
  clear(handle: TimerHandle | undefined): void;
}

/** Uniform numbers in [0, 1): the jitter of retry backoff. */
export interface Random {
  next(): number;
}

/** The ports of a real run. */
export interface RunnerPorts {
  readonly clock: Clock;
  readonly timers: Timers;
  readonly random: Random;
}

export const systemClock: Clock = { now: () => Date.now() };

/** The longest delay `setTimeout` takes (about 24.8 days): a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A delay `setTimeout` keeps: a longer one (a `timeout: '30d'`, a `maxAge` expiry in watch) is
 * cut to the longest it takes, so it fires late rather than at once.
 */
export function timerMs(ms: number): number {
  return Math.min(ms, MAX_TIMER_MS);
}

export const systemTimers: Timers = {
  set(fn, ms, options) {
    const timer = setTimeout(fn, timerMs(ms));
    if (options?.unref) timer.unref();
    return timer as unknown as TimerHandle;
  },
  clear(handle) {
    if (handle !== undefined) clearTimeout(handle as unknown as NodeJS.Timeout);
  },
};

const systemRandom: Random = { next: () => Math.random() };

export const systemPorts: RunnerPorts = { clock: systemClock, timers: systemTimers, random: systemRandom };
