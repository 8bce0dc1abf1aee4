/**
 * What a run asked of each service, counted from unit starts and ends: starts, the most units
 * running at once, and the most starts in any window of each rate's length. Pure.
 */
import type { ServiceLimits } from '../events.ts';
import type { ServiceRecord } from './record.ts';

/** The services the run announced, and their use so far. */
export class ServiceUse {
  private readonly limits: Readonly<Record<string, ServiceLimits>>;
  private readonly running = new Map<string, number>();
  private readonly peaks = new Map<string, number>();
  private readonly startTimes = new Map<string, number[]>();
  private readonly pushBacks = new Map<string, number>();

  constructor(limits: Readonly<Record<string, ServiceLimits>>) {
    this.limits = limits;
  }

  // Index loops: once per start and end of every attempt.
  started(services: readonly string[], time: number): void {
    for (let i = 0; i < services.length; i++) {
      const name = services[i] as string;
      const now = (this.running.get(name) ?? 0) + 1;
      this.running.set(name, now);
      this.peaks.set(name, Math.max(now, this.peaks.get(name) ?? 0));
      const times = this.startTimes.get(name) ?? [];
      times.push(time);
      this.startTimes.set(name, times);
    }
  }

  ended(services: readonly string[]): void {
    for (let i = 0; i < services.length; i++) {
      const name = services[i] as string;
      this.running.set(name, Math.max(0, (this.running.get(name) ?? 0) - 1));
    }
  }

  pushedBack(services: readonly string[]): void {
    for (const name of services) this.pushBacks.set(name, (this.pushBacks.get(name) ?? 0) + 1);
  }

  /** Every announced service (and any other a unit used), with its limits and use. */
  records(): Record<string, ServiceRecord> {
    const names = new Set([...Object.keys(this.limits), ...this.startTimes.keys()]);
    const out: Record<string, ServiceRecord> = {};
    for (const name of [...names].sort()) {
      const limits = this.limits[name];
      // Event times can step back when the system clock does.
      const times = [...(this.startTimes.get(name) ?? [])].sort((a, b) => a - b);
      out[name] = {
        concurrent: limits?.concurrent ?? null,
        rates: (limits?.rates ?? []).map((rate) => ({ ...rate, peak: peakInWindow(times, rate.windowMs) })),
        starts: times.length,
        peakConcurrent: this.peaks.get(name) ?? 0,
        pushBacks: this.pushBacks.get(name) ?? 0,
      };
    }
    return out;
  }
}

/** The most of `times` (ascending) that fall in any window `[t, t + windowMs)`. */
export function peakInWindow(times: readonly number[], windowMs: number): number {
  let peak = 0;
  let first = 0;
  for (let last = 0; last < times.length; last++) {
    while ((times[last] ?? 0) - (times[first] ?? 0) >= windowMs) first++;
    peak = Math.max(peak, last - first + 1);
  }
  return peak;
}
