/**
 * Service admission: concurrency caps, sliding-window rate limits with burst pacing, and the
 * global `--jobs` cap. A unit that uses several services takes a slot in each, or none.
 *
 * Written by hand: no library combines readiness gating, all-or-nothing multi-service admission
 * and blocked reasons (p-queue, Bottleneck and BullMQ use fixed windows that let 2N through
 * across a boundary). Times are integer milliseconds from an injected clock; nothing here sleeps.
 *
 * With a {@link RateStore}, starts of rate-limited services are shared with other runcue
 * processes of the project and with later runs: each start that passes the local check is
 * re-checked against the store and recorded there under its lock.
 */
import type { ResolvedService } from '../config/resolved.ts';
import { FUTURE_TOLERANCE_MS, type RateStore } from './rate-store.ts';

/** The answer of {@link Limiter.tryAcquire}: admitted, or why not. */
export type Admission =
  | { readonly ok: true }
  | { readonly ok: false; readonly kind: 'service-full'; readonly service: string }
  | { readonly ok: false; readonly kind: 'rate-limited'; readonly service: string; readonly until: number };

/** A refusal for a cap reached: a service's `concurrent`, or `--jobs`. */
export type ServiceFull = Extract<Admission, { kind: 'service-full' }>;

/** Replaceable (a distributed limiter could implement it). */
export interface Limiter {
  /** Takes a slot in every service (and the global cap), or none and says why. */
  tryAcquire(services: readonly string[], now: number): Admission;
  release(services: readonly string[]): void;
  /**
   * The `service-full` refusal {@link Limiter.tryAcquire} would give now (a cap, or `--jobs`,
   * reached), taking nothing; undefined when every cap has room.
   */
  full(services: readonly string[]): ServiceFull | undefined;
  /** Units of a service running now. */
  running(service: string): number;
}

/** Optional parts of a limiter. */
export interface LimiterOptions {
  /** Shares the windows of rate-limited services with other processes and later runs. */
  readonly store?: RateStore;
  /** How long to wait before asking again when the store's lock is busy (default 50 ms). */
  readonly lockRetryMs?: number;
}

/** At most `count` starts in any window of `windowMs`. */
interface Window {
  readonly count: number;
  readonly windowMs: number;
}

interface ServiceState {
  readonly name: string;
  readonly concurrent: number | undefined;
  /** The rates, then their pacing windows. */
  readonly windows: readonly Window[];
  /** The longest window: older starts can never matter again. */
  readonly horizonMs: number;
  /** Start times, ascending, at least those inside the horizon. */
  starts: number[];
  running: number;
  /** Its "full" answer, made once: a full service is asked again after every start. */
  readonly full: ServiceFull;
}

/** The windows a service enforces: each rate, and the pacing window that spreads it. */
function windowsOf(service: Pick<ResolvedService, 'rates' | 'burst'>): Window[] {
  const windows: Window[] = [];
  for (const rate of service.rates) {
    windows.push({ count: rate.count, windowMs: rate.windowMs });
    // Pacing: at most `burst` starts in burst/N of the window (60/min -> 1 per second).
    const burst = service.burst ?? defaultBurst(rate.count, rate.windowMs);
    if (burst < rate.count) windows.push({ count: burst, windowMs: Math.ceil((burst * rate.windowMs) / rate.count) });
  }
  return windows;
}

/**
 * How many starts may go out at once: the smallest burst of any of its rates (none above its
 * rate's N); undefined without a rate.
 */
export function startsAtOnce(service: Pick<ResolvedService, 'rates' | 'burst'>): number | undefined {
  const bursts = service.rates.map((rate) => Math.min(rate.count, service.burst ?? defaultBurst(rate.count, rate.windowMs)));
  return bursts.length === 0 ? undefined : Math.min(...bursts);
}

/** `max(1, ceil(N per second))`; the division is exact whenever N per second is a whole number. */
function defaultBurst(count: number, windowMs: number): number {
  return Math.max(1, Math.ceil((count * 1000) / windowMs));
}

/** Refuses a `jobs` from code below 1 or not whole: such a cap starts nothing and waits for good. */
export function checkJobs(jobs: number | undefined): void {
  if (jobs !== undefined && !(Number.isInteger(jobs) && jobs >= 1))
    throw new RangeError(`jobs: expected a positive integer, got ${String(jobs)}`);
}

/** A limiter over the resolved services, with `jobs` as a cap on all units at once. */
export function createLimiter(
  services: ReadonlyMap<string, ResolvedService>,
  jobs: number | undefined,
  options: LimiterOptions = {},
): Limiter {
  const states = new Map<string, ServiceState>();
  for (const [name, s] of services) {
    const windows = windowsOf(s);
    const horizonMs = Math.max(0, ...windows.map((w) => w.windowMs));
    const full: ServiceFull = { ok: false, kind: 'service-full', service: name };
    states.set(name, { name, concurrent: s.concurrent, windows, horizonMs, starts: [], running: 0, full });
  }
  const singles = new Map([...states].map(([name, st]) => [name, [st] as const]));
  const { store } = options;
  const lockRetryMs = options.lockRetryMs ?? 50;
  let runningAll = 0;

  /** The service states of `names`, each once; unknown names have no limits. */
  const statesOf = (names: readonly string[]): readonly ServiceState[] => {
    // One service (most tasks): its state's own one-element list, not a new array per start.
    if (names.length === 1) return singles.get(names[0] ?? '') ?? NO_STATES;
    const out: ServiceState[] = [];
    for (const name of names) {
      const st = states.get(name);
      if (st && !out.includes(st)) out.push(st);
    }
    return out;
  };

  /** Re-checks against every process's starts and records ours, all under the store's lock. */
  const acquireShared = (store: RateStore, rated: readonly ServiceState[], now: number): Admission => {
    const result = store.exclusive((): Admission => {
      for (const st of rated) st.starts = store.load(st.name, now - st.horizonMs, now);
      const refusal = latestRefusal(rated, now, false);
      if (refusal) return refusal;
      for (const st of rated) store.record(st.name, now);
      return ADMITTED;
    });
    if (result.ok) return result.value;
    const first = rated[0];
    return { ok: false, kind: 'rate-limited', service: first?.name ?? '', until: now + lockRetryMs };
  };

  const full = (wanted: readonly ServiceState[]): ServiceFull | undefined => capReached(wanted, jobs !== undefined && runningAll >= jobs);

  return {
    tryAcquire(names, now) {
      const wanted = statesOf(names);
      const refused = full(wanted);
      if (refused) return refused;
      // What this process knows is a subset of every process's starts, so a local refusal is
      // final and costs no I/O; only a local yes is confirmed against the store.
      const local = latestRefusal(wanted, now, true);
      if (local) return local;
      const rated = store && hasWindows(wanted) ? wanted.filter((st) => st.windows.length > 0) : NO_STATES;
      if (store && rated.length > 0) {
        const shared = acquireShared(store, rated, now);
        if (!shared.ok) return shared;
      }
      for (let i = 0; i < wanted.length; i++) {
        const st = wanted[i] as ServiceState;
        st.running++;
        if (st.windows.length > 0) insertSorted(st.starts, now);
      }
      runningAll++;
      return ADMITTED;
    },
    release(names) {
      runningAll--;
      const wanted = statesOf(names);
      for (let i = 0; i < wanted.length; i++) (wanted[i] as ServiceState).running--;
    },
    full(names) {
      return full(statesOf(names));
    },
    running(service) {
      return states.get(service)?.running ?? 0;
    },
  };
}

type RateLimited = Extract<Admission, { kind: 'rate-limited' }>;

const JOBS_FULL: ServiceFull = { ok: false, kind: 'service-full', service: '--jobs' };

/** The first cap reached among `--jobs` (`jobsFull`) and the services' `concurrent`. */
function capReached(wanted: readonly ServiceState[], jobsFull: boolean): ServiceFull | undefined {
  if (jobsFull) return JOBS_FULL;
  for (let i = 0; i < wanted.length; i++) {
    const st = wanted[i] as ServiceState;
    if (st.concurrent !== undefined && st.running >= st.concurrent) return st.full;
  }
  return undefined;
}

function hasWindows(list: readonly ServiceState[]): boolean {
  for (let i = 0; i < list.length; i++) if ((list[i] as ServiceState).windows.length > 0) return true;
  return false;
}

const NO_STATES: readonly ServiceState[] = [];
/** The one "yes" (an answer is only read, and there is one per start). */
const ADMITTED: Admission = { ok: true };

/**
 * The refusal that lasts longest: before its `until` some window of some service says no, and
 * at it every window says yes (unless more starts come), so a caller can sleep until then.
 */
function latestRefusal(list: readonly ServiceState[], now: number, trimFirst: boolean): RateLimited | undefined {
  let latest: RateLimited | undefined;
  // Index loops here and below: asked on every start and every refusal.
  for (let i = 0; i < list.length; i++) {
    const st = list[i] as ServiceState;
    if (trimFirst) trim(st, now);
    const refusal = rateRefusal(st, now);
    if (refusal && (latest === undefined || refusal.until > latest.until)) latest = refusal;
  }
  return latest;
}

/**
 * Drops starts that left the longest window: they can never refuse anything again. Starts in
 * the future beyond the tolerance (the clock stepped back while we ran) count as starts now,
 * so a clock step holds the service for one window at most, not for the whole step.
 */
function trim(st: ServiceState, now: number): void {
  const cutoff = now - st.horizonMs;
  let drop = 0;
  while (drop < st.starts.length && (st.starts[drop] ?? 0) <= cutoff) drop++;
  if (drop > 0) st.starts.splice(0, drop);
  if ((st.starts.at(-1) ?? now) > now + FUTURE_TOLERANCE_MS) {
    st.starts = st.starts.map((t) => (t > now + FUTURE_TOLERANCE_MS ? now : t)).sort((a, b) => a - b);
  }
}

/**
 * A start at `now` is allowed when, for every window, fewer than `count` starts are later than
 * `now - windowMs` (so `s[i + count] - s[i] >= windowMs` keeps holding). Starts later than `now`
 * (recorded by another process a moment after our clock was read) count as inside the window.
 */
function rateRefusal(st: ServiceState, now: number): RateLimited | undefined {
  let until: number | undefined;
  for (let i = 0; i < st.windows.length; i++) {
    const w = st.windows[i] as Window;
    const anchor = st.starts[st.starts.length - w.count];
    if (anchor !== undefined && anchor > now - w.windowMs) until = Math.max(until ?? 0, anchor + w.windowMs);
  }
  return until === undefined ? undefined : { ok: false, kind: 'rate-limited', service: st.name, until };
}

function insertSorted(list: number[], value: number): void {
  let i = list.length;
  while (i > 0 && (list[i - 1] ?? 0) > value) i--;
  list.splice(i, 0, value);
}
