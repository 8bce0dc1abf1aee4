/**
 * A virtual clock for scheduler tests: a {@link Clock} and {@link Timers} whose time moves only
 * when the test advances it. Due timers run in time order (ties in the order they were set), and
 * pending promises are flushed between timers, so a unit that settles on a promise is seen
 * before the next timer fires. Nothing sleeps for real.
 */
import type { Clock, Random, RunnerPorts, TimerHandle, Timers } from '../../src/runner/ports.ts';

interface Pending {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/** How many event-loop turns {@link FakeClock.flush} gives pending promises (and real fs callbacks). */
const FLUSH_TURNS = 20;

/** Virtual time and its timers (see the module comment). */
export class FakeClock implements Clock, Timers {
  private time: number;
  private nextId = 1;
  private readonly timers = new Map<number, Pending>();

  constructor(start = Date.now()) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  set(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { id, at: this.time + Math.max(0, ms), fn });
    return id as unknown as TimerHandle;
  }

  clear(handle: TimerHandle | undefined): void {
    if (handle !== undefined) this.timers.delete(handle as unknown as number);
  }

  /** How many timers are pending. */
  get pending(): number {
    return this.timers.size;
  }

  /** Lets pending promises settle (a few turns of the real event loop; no time passes). */
  async flush(): Promise<void> {
    for (let i = 0; i < FLUSH_TURNS; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Moves time forward by `ms`, running every timer that falls due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    await this.flush();
    for (let next = this.due(end); next; next = this.due(end)) {
      this.timers.delete(next.id);
      this.time = Math.max(this.time, next.at);
      next.fn();
      await this.flush();
    }
    this.time = end;
  }

  /**
   * Runs timers in order until `work` settles, and returns what it resolves to. Throws when it
   * has not settled `limitMs` of virtual time from now: the run is stuck, not slow.
   */
  async runUntil<T>(work: Promise<T>, limitMs = 24 * 3_600_000): Promise<T> {
    let settled = false;
    const watched = work.finally(() => (settled = true));
    const end = this.time + limitMs;
    await this.flush();
    while (!settled) {
      const next = this.due(end);
      if (!next) throw new Error(`not settled after ${limitMs} ms of virtual time (${this.timers.size} timers pending)`);
      this.timers.delete(next.id);
      this.time = Math.max(this.time, next.at);
      next.fn();
      await this.flush();
    }
    return watched;
  }

  /** The earliest timer due by `end`. */
  private due(end: number): Pending | undefined {
    let first: Pending | undefined;
    for (const t of this.timers.values())
      if (t.at <= end && (!first || t.at < first.at || (t.at === first.at && t.id < first.id))) first = t;
    return first;
  }
}

/** Numbers from `values` in turn (repeating), for backoff with a known jitter. */
export function fixedRandom(...values: number[]): Random {
  let i = 0;
  return { next: () => values[i++ % values.length] ?? 0 };
}

/** Ports of a virtual run: the clock's time and timers, and `random`. */
export function fakePorts(clock: FakeClock, random: Random = fixedRandom(0.5)): RunnerPorts {
  return { clock, timers: clock, random };
}
