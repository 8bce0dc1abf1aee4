/**
 * What a run asked of each service, counted from unit starts and ends: starts, the most units
 * running at once, and the most starts in any window of each rate's length. Pure.
 */
import type { ServiceLimits } from '../events.ts';
import type { ServiceRecord } from './record.ts';

/** One service's use so far. */
interface Use {
  running: number;
  peak: number;
  readonly startTimes: number[];
  pushBacks: number;
}

/** The services the run announced, and their use so far. */
export class ServiceUse {
  private readonly limits: Readonly<Record<string, ServiceLimits>>;
  /** One entry per service, with every count: a start is one lookup, not five. */
  private readonly uses = new Map<string, Use>();

  constructor(limits: Readonly<Record<string, ServiceLimits>>) {
    this.limits = limits;
  }

  private useOf(name: string): Use {
    let use = this.uses.get(name);
    if (!use) this.uses.set(name, (use = { running: 0, peak: 0, startTimes: [], pushBacks: 0 }));
    return use;
  }

  // Index loops: once per start and end of every attempt.
  started(services: readonly string[], time: number): void {
    for (let i = 0; i < services.length; i++) {
      const use = this.useOf(services[i] as string);
      use.running++;
      if (use.running > use.peak) use.peak = use.running;
      use.startTimes.push(time);
    }
  }

  ended(services: readonly string[]): void {
    for (let i = 0; i < services.length; i++) {
      const use = this.useOf(services[i] as string);
      use.running = Math.max(0, use.running - 1);
    }
  }

  pushedBack(services: readonly string[]): void {
    for (const name of services) this.useOf(name).pushBacks++;
  }

  /** Every announced service (and any other a unit used), with its limits and use. */
  records(): Record<string, ServiceRecord> {
    const names = new Set(Object.keys(this.limits));
    for (const [name, use] of this.uses) if (use.startTimes.length > 0) names.add(name);
    const out: Record<string, ServiceRecord> = {};
    for (const name of [...names].sort()) {
      const limits = this.limits[name];
      const use = this.uses.get(name);
      const times = ascending(use?.startTimes ?? []);
      out[name] = {
        concurrent: limits?.concurrent ?? null,
        rates: (limits?.rates ?? []).map((rate) => ({ ...rate, peak: peakInWindow(times, rate.windowMs) })),
        starts: times.length,
        peakConcurrent: use?.peak ?? 0,
        pushBacks: use?.pushBacks ?? 0,
      };
    }
    return out;
  }
}

/**
 * `times` in ascending order (a copy). Event times can step back when the system clock does, but
 * mostly they do not (never on a virtual clock): no sort of 10,000s then.
 */
function ascending(times: readonly number[]): number[] {
  for (let i = 1; i < times.length; i++) if ((times[i] as number) < (times[i - 1] as number)) return [...times].sort((a, b) => a - b);
  return times.slice();
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
