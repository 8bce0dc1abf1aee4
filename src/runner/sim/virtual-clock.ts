/**
 * A virtual clock: a {@link Clock} and {@link Timers} whose time moves only when it is driven.
 * Due timers run in time order (ties in the order they were set), and pending promises are
 * flushed between timers, so a unit that settles on a promise is seen before the next timer
 * fires. Nothing sleeps for real. `runcue sim` drives the real scheduler with it; scheduler tests
 * use it through test/rig/fake-clock.ts.
 *
 * Timers are kept in a binary heap (10,000 units mean tens of thousands of timers); a timer's
 * handle is its entry, so a cleared one is marked at once (no table of live timers) and skipped
 * when it reaches the top of the heap.
 */
import type { Clock, TimerHandle, Timers } from '../ports.ts';

/**
 * A timer: {@link VirtualClock.schedule} takes one made by the caller, which fires itself (the
 * simulated executor's attempts are timers: one object per attempt, not a closure, its context
 * and an entry).
 */
export abstract class VirtualTimer {
  /** Set by the clock: the order of timers due at one instant. */
  id = 0;
  at = 0;
  /** Neither fired nor cleared yet. */
  live = false;
  abstract fire(): void;
}

/** A timer of {@link VirtualClock.set}: calls its function. */
class Call extends VirtualTimer {
  private readonly fn: () => void;
  constructor(fn: () => void) {
    super();
    this.fn = fn;
  }
  fire(): void {
    this.fn();
  }
}

type Pending = VirtualTimer;

/** Options of a {@link VirtualClock}. */
export interface VirtualClockOptions {
  /**
   * Event-loop turns given to pending promises after each timer (and before the first). The
   * runner's file access is synchronous, so one turn settles every promise chain; tests that
   * touch real async I/O ask for more.
   */
  readonly flushTurns?: number;
  /**
   * Runs every timer due at the same instant before pending promises settle, instead of
   * settling them after each timer: one event-loop turn per instant, not per timer (the cost
   * of a large rehearsal). Continuations of those timers then interleave (still in a fixed
   * order), so this is for callers that do not depend on the order within an instant.
   */
  readonly batchInstants?: boolean;
}

function earlier(a: Pending, b: Pending): boolean {
  return a.at < b.at || (a.at === b.at && a.id < b.id);
}

/** Virtual time and its timers (see the module comment). */
export class VirtualClock implements Clock, Timers {
  private time: number;
  private nextId = 1;
  private readonly heap: Pending[] = [];
  /** Timers neither fired nor cleared. */
  private live = 0;
  private readonly flushTurns: number;
  private readonly batch: boolean;

  constructor(start = Date.now(), options: VirtualClockOptions = {}) {
    this.time = start;
    this.flushTurns = Math.max(1, options.flushTurns ?? 1);
    this.batch = options.batchInstants ?? false;
  }

  now(): number {
    return this.time;
  }

  set(fn: () => void, ms: number): TimerHandle {
    const timer = new Call(fn);
    this.schedule(timer, ms);
    return timer as unknown as TimerHandle;
  }

  /** Fires `timer` after `ms` (as {@link set} calls a function); {@link clear} takes it as its handle. */
  schedule(timer: VirtualTimer, ms: number): void {
    timer.id = this.nextId++;
    timer.at = this.time + Math.max(0, ms);
    timer.live = true;
    this.live++;
    this.push(timer);
  }

  clear(handle: TimerHandle | undefined): void {
    const timer = handle as unknown as Pending | undefined;
    if (timer?.live !== true) return;
    timer.live = false;
    this.live--;
  }

  /** How many timers are pending. */
  get pending(): number {
    return this.live;
  }

  /** Lets pending promises settle (turns of the real event loop; no time passes). */
  async flush(): Promise<void> {
    for (let i = 0; i < this.flushTurns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Moves time forward by `ms`, running every timer that falls due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    await this.flush();
    for (let next = this.take(end); next; next = this.take(end)) {
      this.time = Math.max(this.time, next.at);
      next.fire();
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
      const next = this.take(end);
      if (!next) throw new Error(`not settled after ${limitMs} ms of virtual time (${this.live} timers pending)`);
      this.time = Math.max(this.time, next.at);
      next.fire();
      if (this.batch) for (let more = this.take(next.at); more; more = this.take(next.at)) more.fire();
      await this.flush();
    }
    return watched;
  }

  /** Removes and returns the earliest live timer due by `end`. */
  private take(end: number): Pending | undefined {
    for (;;) {
      const top = this.heap[0];
      if (!top || top.at > end) return undefined;
      this.pop();
      if (!top.live) continue;
      top.live = false;
      this.live--;
      return top;
    }
  }

  private push(item: Pending): void {
    const heap = this.heap;
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as Pending;
      if (!earlier(item, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = item;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (!last || heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const l = heap[left] as Pending;
      const r = heap[right];
      const child = r && earlier(r, l) ? right : left;
      const c = heap[child] as Pending;
      if (!earlier(c, last)) break;
      heap[i] = c;
      i = child;
    }
    heap[i] = last;
  }
}
