/**
 * The attempts of a rehearsal as its summary reads them: each unit's task and the spans of its
 * attempts, in the order the run record would list the units, and each service's use as the run
 * record counts it. A run record (records/accumulate.ts) keeps an object with 18 fields, the
 * boxed numbers of its times and two arrays per span for every unit to the end of the run; a
 * rehearsal of 10,000s of units spent a sixth of its instructions there, most of them in the
 * collector copying those objects. This keeps a few numbers per unit in flat arrays instead
 * (`--trace`, which needs the whole record, still gets one: simulate.ts).
 */
import type { RunEvent } from '../events.ts';
import type { ServiceRecord } from '../records/record.ts';
import { ServiceUse } from '../records/service-use.ts';

/** What the summary and the critical path read: the units in record order and their attempts. */
export interface Attempts {
  /** When the (first) run started. */
  readonly startedAt: number;
  /** Units seen, numbered from 0 in record order. */
  readonly size: number;
  unit(i: number): string;
  task(i: number): string;
  /** How many attempts unit `i` made. */
  spans(i: number): number;
  /** Start and end of attempt `j` of unit `i`. */
  start(i: number, j: number): number;
  end(i: number, j: number): number;
  /** The number of `unit`, if it was seen. */
  indexOf(unit: string): number | undefined;
  /** Each service's limits and use, as the run record has them. */
  readonly services: Readonly<Record<string, ServiceRecord>>;
  /** The services a unit of `task` held, as the run record lists them. */
  usesOf(task: string): readonly string[];
}

const DEFAULT_USES: readonly string[] = ['cpu'];

/**
 * Feeds on the events the run record would get (the same ones, in the same order); `finish`
 * closes attempts still running when it ended, as the record does.
 */
export class AttemptLog implements Attempts {
  startedAt = 0;
  /**
   * The number of each unit of this pass that may still have events: one that is done, failed
   * or blocked has none left in the pass, so it leaves the table, which stays about as large as
   * the units in flight (a table of every unit was a visible share of a rehearsal: a lookup
   * missing the cache per event, and growing it copied it whole). A later pass keeps them all.
   */
  private readonly active = new Map<string, number>();
  private keepAll = false;
  /** Every unit's number, made when first asked (the critical path looks a few up). */
  private index: Map<string, number> | undefined;
  private readonly units: string[] = [];
  private readonly tasks: string[] = [];
  /** Each unit's first attempt (NaN until it starts, or ends), and how many it made. */
  private readonly firstStart: number[] = [];
  private readonly firstEnd: number[] = [];
  private readonly counts: number[] = [];
  /** The start of the attempt running now (NaN when none). */
  private readonly since: number[] = [];
  /** Units with more than one attempt: the later ones' starts and ends, flat. */
  private readonly later = new Map<number, number[]>();
  private use = new ServiceUse({});
  private uses: Readonly<Record<string, readonly string[]>> = {};
  private taskCounts: Readonly<Record<string, number>> = {};
  private lastDone: number | undefined;
  private serviceRecords: Readonly<Record<string, ServiceRecord>> | undefined;

  get size(): number {
    return this.units.length;
  }

  get services(): Readonly<Record<string, ServiceRecord>> {
    return (this.serviceRecords ??= this.use.records());
  }

  onEvent(event: RunEvent): void {
    switch (event.type) {
      case 'run:start':
        this.startedAt = event.time;
        this.taskCounts = event.tasks;
        this.uses = event.uses ?? {};
        this.use = new ServiceUse(event.services);
        return;
      case 'plan:update':
        this.taskCounts = event.tasks;
        return;
      case 'unit:start': {
        const i = this.numberOf(event.task, event.unit);
        this.since[i] = event.time;
        this.use.started(this.servicesOf(event.task), event.time);
        return;
      }
      case 'unit:done':
        this.endAttempt(this.numberOf(event.task, event.unit), event.time);
        this.settled(event.unit);
        return;
      case 'unit:retry':
        this.endAttempt(this.numberOf(event.task, event.unit), event.time);
        if (event.kind === 'push-back') this.use.pushedBack(event.services ?? this.servicesOf(event.task));
        return;
      case 'unit:fail':
        this.endAttempt(this.numberOf(event.task, event.unit), event.time);
        this.settled(event.unit);
        return;
      case 'unit:blocked':
        this.numberOf(event.task, event.unit);
        this.settled(event.unit);
        return;
      case 'worker:busy':
        this.numberOf(event.task, event.unit);
        return;
      case 'run:done':
        this.lastDone = event.time;
        return;
      default:
        return;
    }
  }

  /** A later pass (after an edit) starts: it may run units the first one finished, which keep their numbers. */
  nextPass(): void {
    if (this.keepAll) return;
    this.keepAll = true;
    for (let i = 0; i < this.units.length; i++) this.active.set(this.units[i] as string, i);
  }

  /** Ends attempts still running at the last `run:done` (or `now`, when there was none). */
  finish(now: number): void {
    const endedAt = this.lastDone ?? now;
    for (let i = 0; i < this.units.length; i++) {
      const since = this.since[i] as number;
      if (!Number.isNaN(since)) this.addSpan(i, since, endedAt);
    }
  }

  unit(i: number): string {
    return this.units[i] as string;
  }

  task(i: number): string {
    return this.tasks[i] as string;
  }

  spans(i: number): number {
    return this.counts[i] as number;
  }

  start(i: number, j: number): number {
    return j === 0 ? (this.firstStart[i] as number) : (this.later.get(i)?.[2 * (j - 1)] as number);
  }

  end(i: number, j: number): number {
    return j === 0 ? (this.firstEnd[i] as number) : (this.later.get(i)?.[2 * (j - 1) + 1] as number);
  }

  indexOf(unit: string): number | undefined {
    if (!this.index) {
      this.index = new Map();
      for (let i = 0; i < this.units.length; i++) this.index.set(this.units[i] as string, i);
    }
    return this.index.get(unit);
  }

  /** As the run record lists a task's services: those of the tasks it counted, `cpu` for others. */
  usesOf(task: string): readonly string[] {
    return Object.hasOwn(this.taskCounts, task) ? this.servicesOf(task) : DEFAULT_USES;
  }

  private servicesOf(task: string): readonly string[] {
    return this.uses[task] ?? DEFAULT_USES;
  }

  private numberOf(task: string, unit: string): number {
    const known = this.active.get(unit);
    if (known !== undefined) return known;
    const i = this.units.length;
    this.active.set(unit, i);
    this.index = undefined;
    this.units.push(unit);
    this.tasks.push(task);
    this.firstStart.push(NaN);
    this.firstEnd.push(NaN);
    this.counts.push(0);
    this.since.push(NaN);
    return i;
  }

  /** `unit` has no more events in this pass (see `active`). */
  private settled(unit: string): void {
    if (!this.keepAll) this.active.delete(unit);
  }

  private endAttempt(i: number, time: number): void {
    const since = this.since[i] as number;
    if (Number.isNaN(since)) return;
    this.since[i] = NaN;
    this.addSpan(i, since, time);
    this.use.ended(this.servicesOf(this.tasks[i] as string));
  }

  private addSpan(i: number, start: number, end: number): void {
    const n = this.counts[i] as number;
    this.counts[i] = n + 1;
    if (n === 0) {
      this.firstStart[i] = start;
      this.firstEnd[i] = end;
      return;
    }
    let spans = this.later.get(i);
    if (!spans) this.later.set(i, (spans = []));
    spans.push(start, end);
  }
}
