/**
 * Service admission: concurrency caps, sliding-window rate limits with burst pacing, and the
 * global `--jobs` cap. A unit that uses several services takes a slot in each, or none.
 *
 * Written by hand: no library combines readiness gating, all-or-nothing multi-service admission
 * and blocked reasons (p-queue, Bottleneck and BullMQ use fixed windows that let 2N through
 * across a boundary). Times are integer milliseconds from an injected clock; nothing here sleeps.
 */
import type { ResolvedService } from '../config/resolved.ts';

export type Admission =
  | { readonly ok: true }
  | { readonly ok: false; readonly kind: 'service_full'; readonly service: string }
  | { readonly ok: false; readonly kind: 'rate_limited'; readonly service: string; readonly until: number };

/** Replaceable (a distributed limiter could implement it). */
export interface Limiter {
  /** Takes a slot in every service (and the global cap), or none and says why. */
  tryAcquire(services: readonly string[], now: number): Admission;
  release(services: readonly string[]): void;
  /** Units of a service running now. */
  running(service: string): number;
}

interface Window {
  readonly count: number;
  readonly windowMs: number;
}

interface ServiceState {
  readonly concurrent: number | undefined;
  readonly windows: readonly Window[];
  /** Start times, ascending; trimmed to the longest window. */
  readonly starts: number[];
  running: number;
}

export function createLimiter(services: ReadonlyMap<string, ResolvedService>, jobs: number | undefined): Limiter {
  const states = new Map<string, ServiceState>();
  for (const [name, s] of services) {
    const windows: Window[] = [];
    for (const rate of s.rates) {
      windows.push({ count: rate.count, windowMs: rate.windowMs });
      // Pacing: at most `burst` starts in burst/N of the window (60/min -> 1 per second).
      const perSecond = (rate.count * 1000) / rate.windowMs;
      const burst = s.burst ?? Math.max(1, Math.ceil(perSecond));
      if (burst < rate.count) windows.push({ count: burst, windowMs: Math.ceil((burst * rate.windowMs) / rate.count) });
    }
    states.set(name, { concurrent: s.concurrent, windows, starts: [], running: 0 });
  }
  let runningAll = 0;
  const longest = (st: ServiceState): number => Math.max(0, ...st.windows.map((w) => w.windowMs));

  return {
    tryAcquire(names, now) {
      if (jobs !== undefined && runningAll >= jobs) return { ok: false, kind: 'service_full', service: '--jobs' };
      for (const name of names) {
        const st = states.get(name);
        if (!st) continue;
        if (st.concurrent !== undefined && st.running >= st.concurrent) return { ok: false, kind: 'service_full', service: name };
        const cutoff = now - longest(st);
        while (st.starts.length > 0 && (st.starts[0] ?? 0) <= cutoff) st.starts.shift();
        for (const w of st.windows) {
          // The start `count` places back must have left the window (now - windowMs, now].
          const anchor = st.starts[st.starts.length - w.count];
          if (anchor !== undefined && anchor > now - w.windowMs) {
            return { ok: false, kind: 'rate_limited', service: name, until: anchor + w.windowMs };
          }
        }
      }
      for (const name of names) {
        const st = states.get(name);
        if (!st) continue;
        st.running++;
        if (st.windows.length > 0) st.starts.push(now);
      }
      runningAll++;
      return { ok: true };
    },
    release(names) {
      runningAll--;
      for (const name of names) {
        const st = states.get(name);
        if (st) st.running--;
      }
    },
    running(service) {
      return states.get(service)?.running ?? 0;
    },
  };
}
