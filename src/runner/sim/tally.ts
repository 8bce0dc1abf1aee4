/**
 * The counts a rehearsal's summary needs, kept as the events go by: a rehearsal of 10,000s of
 * units does not hold on to every event (most of the memory it would keep, and the collector's
 * work with it). Callers that want the events themselves listen with `onEvent`.
 */
import type { SimEvent } from './simulate.ts';

/** What the events of a rehearsal added up to. */
export interface SimCounts {
  /** Distinct units that finished (`unit:done`) at least once. */
  readonly built: number;
  /** Units that finished more than once (rebuilt after an edit). */
  readonly rebuilt: number;
  readonly failed: number;
  /** Failed attempts that were tried again. */
  readonly retried: number;
  /** Units fresh when the first pass checked them. */
  readonly fresh: number;
  /** Distinct units blocked. */
  readonly blocked: number;
  /** As the last pass's `run:done` says. */
  readonly notStarted: number;
  /** The latest `run:done` time; undefined before any. */
  readonly lastDone: number | undefined;
  /** Each failure, in order. */
  readonly failures: readonly { readonly unit: string; readonly message: string }[];
}

/** Counts events as they come (see the module comment). */
export class SimTally implements SimCounts {
  /**
   * Units done in the first pass: a list, not a Set, as a pass finishes each unit once at most.
   * Only a second pass (after an edit) asks whether a unit was done before: `done` then.
   */
  private readonly firstPass: string[] = [];
  private done: Set<string> | undefined;
  private readonly again = new Set<string>();
  private readonly blockedUnits = new Set<string>();
  private passes = 0;
  failed = 0;
  retried = 0;
  fresh = 0;
  notStarted = 0;
  lastDone: number | undefined;
  readonly failures: { readonly unit: string; readonly message: string }[] = [];

  get built(): number {
    return this.done?.size ?? this.firstPass.length;
  }

  get rebuilt(): number {
    return this.again.size;
  }

  get blocked(): number {
    return this.blockedUnits.size;
  }

  onEvent(e: SimEvent): void {
    switch (e.type) {
      case 'run:start':
        this.passes++;
        if (this.passes === 2) this.done = new Set(this.firstPass);
        return;
      case 'unit:done':
        if (!this.done) this.firstPass.push(e.unit);
        else if (this.done.has(e.unit)) this.again.add(e.unit);
        else this.done.add(e.unit);
        return;
      case 'unit:fail':
        this.failed++;
        this.failures.push({ unit: e.unit, message: e.error.message });
        return;
      case 'unit:retry':
        if (e.kind === 'retry') this.retried++;
        return;
      case 'unit:skip':
        if (this.passes === 1) this.fresh++;
        return;
      case 'unit:blocked':
        this.blockedUnits.add(e.unit);
        return;
      case 'run:done':
        this.notStarted = e.notStarted ?? 0;
        this.lastDone = Math.max(this.lastDone ?? e.time, e.time);
        return;
      default:
        return;
    }
  }
}
