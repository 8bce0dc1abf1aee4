/**
 * Per-task progress of one run, folded from events: what the live (tty) display draws. O(1) per
 * event (amortised), so a build of 10,000 fresh units costs 10,000 map updates and no drawing.
 * Services are tracked too: units running on each, and starts within its shortest rate window.
 */
import { unreachable } from '../../result.ts';
import type { RunEvent, ServiceLimits, WorkerEvent } from '../../runner/events.ts';
import { isInterrupted, SYMBOLS, type EventOf, type Palette } from './format.ts';
import { ServiceProgress } from './service-progress.ts';
import { safeLine } from './terminal-text.ts';
import { WorkerProgress } from './worker-progress.ts';

type Outcome = 'done' | 'fresh' | 'failed' | 'blocked' | 'interrupted';

/** How many running units a task shows beneath its title before `+N more`. */
const MAX_RUNNING_SHOWN = 5;

type UnitEvent = Exclude<Extract<RunEvent, { readonly unit: string }>, WorkerEvent>;
type RunLevelEvent = Exclude<RunEvent, UnitEvent | WorkerEvent>;

function isWorkerEvent(event: RunEvent): event is WorkerEvent {
  return event.type.startsWith('worker:');
}

/** One task's unit counts and running units. */
export class TaskProgress {
  readonly name: string;
  /** Unit count announced by the runner (`run:start`, `plan:update`). */
  total = 0;
  private readonly outcomes = new Map<string, Outcome>();
  private readonly counts: Record<Outcome, number> = { done: 0, fresh: 0, failed: 0, blocked: 0, interrupted: 0 };
  /** Running units in start order, each with its last log line ('' when none). */
  private readonly running = new Map<string, string>();
  /** (queue build) Units added to the queue that no worker has started yet. */
  private readonly queued = new Set<string>();
  /** The services its units use (from `run:start.uses`), in the order the config lists them. */
  services: readonly ServiceProgress[] = [];
  /** Its persistent workers, when it has any. */
  readonly workers = new WorkerProgress();

  constructor(name: string) {
    this.name = name;
  }

  /** A unit started (again): it no longer counts as settled. */
  start(unit: string): void {
    this.unsettle(unit);
    this.queued.delete(unit);
    this.running.delete(unit);
    this.running.set(unit, '');
  }

  /** (queue build) A unit waits in the queue for a worker: not settled, not running. */
  queue(unit: string): void {
    this.unsettle(unit);
    this.running.delete(unit);
    this.queued.add(unit);
  }

  /** A unit stopped running without settling (waiting to retry). */
  pause(unit: string): void {
    this.running.delete(unit);
    this.queued.delete(unit);
  }

  /** A unit reached an outcome; a later outcome for the same unit replaces it. */
  settle(unit: string, outcome: Outcome): void {
    this.running.delete(unit);
    this.queued.delete(unit);
    const previous = this.outcomes.get(unit);
    if (previous === outcome) return;
    if (previous !== undefined) this.counts[previous] -= 1;
    this.outcomes.set(unit, outcome);
    this.counts[outcome] += 1;
  }

  /** Keeps the last non-empty line a running unit logged. */
  log(unit: string, text: string): void {
    if (!this.running.has(unit)) return;
    const last = text.split(/\r?\n/).findLast((line) => line.trim() !== '');
    // listr2 truncates it to the terminal width: colour codes would be cut, so they go
    if (last !== undefined) this.running.set(unit, safeLine(last, false));
  }

  /** Whether a unit is running now. */
  isRunning(unit: string): boolean {
    return this.running.has(unit);
  }

  /** Units running now. */
  get runningCount(): number {
    return this.running.size;
  }

  /** Units that failed (final attempt). */
  get failed(): number {
    return this.counts.failed;
  }

  /** Units that could not run (missing input, upstream failure). */
  get blocked(): number {
    return this.counts.blocked;
  }

  /** Units a signal stopped while they ran. */
  get interrupted(): number {
    return this.counts.interrupted;
  }

  /** The announced total, or more when more units were seen than announced. */
  get shownTotal(): number {
    return Math.max(this.total, this.outcomes.size + this.running.size + this.queued.size);
  }

  /** Every known unit has an outcome and none is running. */
  get allSettled(): boolean {
    return this.running.size === 0 && this.queued.size === 0 && this.outcomes.size >= this.shownTotal;
  }

  /**
   * `extract  37/120 ✓ 5 ▸ ocr 60/min (42 in the last minute), 5/5 running  3 queued  1 ✗  2 ⊘`
   * (SPEC's progress line, `extract  37/120 ✓ 5 ▸ ocr 60/min`), the name padded to `width`;
   * `services` is {@link serviceText}'s, or '' where the services are not shown.
   */
  title(width: number, palette: Palette, services = ''): string {
    const finished = this.counts.done + this.counts.fresh;
    let title = `${this.name.padEnd(width)}  ${finished}/${this.shownTotal} ${SYMBOLS.done}`;
    if (this.running.size > 0) title += ` ${palette.cyan(`${this.running.size} ${SYMBOLS.start}`)}`;
    if (services !== '') title += ` ${services}`;
    if (this.queued.size > 0) title += `  ${palette.dim(`${this.queued.size} queued`)}`;
    if (this.counts.failed > 0) title += `  ${palette.red(`${this.counts.failed} ${SYMBOLS.fail}`)}`;
    if (this.counts.blocked > 0) title += `  ${palette.yellow(`${this.counts.blocked} ${SYMBOLS.blocked}`)}`;
    if (this.counts.interrupted > 0) title += `  ${palette.yellow(`${this.counts.interrupted} ${SYMBOLS.interrupted}`)}`;
    return title;
  }

  /**
   * `ocr 60/min (42 in the last minute), 5/5 running` for each service it uses, while it has work left ('' after).
   * `cpu` only when it is the task's one service and has units running: elsewhere it is noise.
   */
  serviceText(palette: Palette): string {
    if (this.services.length === 0 || this.allSettled) return '';
    const only = this.services.length === 1;
    const shown = this.services.filter((service) => service.name !== 'cpu' || (only && service.running > 0));
    return [...shown.map((service) => service.text(palette)), this.workers.text(palette)].filter((t) => t !== '').join('  ');
  }

  /** The running unit ids (with their last log line when verbose), at most a few, then `+N more`. */
  runningLines(verbose: boolean, palette: Palette): string[] {
    const lines: string[] = [];
    for (const [unit, lastLog] of this.running) {
      if (lines.length === MAX_RUNNING_SHOWN) break;
      lines.push(verbose && lastLog !== '' ? `${unit} ${palette.dim(`│ ${lastLog}`)}` : unit);
    }
    const more = this.running.size - lines.length;
    if (more > 0) lines.push(palette.dim(`+${more} more`));
    return lines;
  }

  private unsettle(unit: string): void {
    const previous = this.outcomes.get(unit);
    if (previous === undefined) return;
    this.outcomes.delete(unit);
    this.counts[previous] -= 1;
  }
}

/** All tasks of one run, plus the failures and blocks to print once the live display ends. */
export class RunProgress {
  /** Tasks in the order the runner announced them (later discoveries appended). */
  readonly tasks = new Map<string, TaskProgress>();
  readonly failures = new Map<string, EventOf<'unit:fail'>>();
  readonly blocked = new Map<string, EventOf<'unit:blocked'>>();
  readonly stalls: EventOf<'run:stall'>[] = [];
  readonly hookErrors: EventOf<'unit:log'>[] = [];
  private readonly dirty = new Set<TaskProgress>();
  /** Services announced by `run:start`, and the tasks whose titles show each. */
  private readonly services = new Map<string, ServiceProgress>();
  private readonly shownIn = new Map<ServiceProgress, TaskProgress[]>();
  private readonly dirtyServices = new Set<ServiceProgress>();
  /** The latest event time (or `advance` time): rate windows are trimmed against it. */
  private now = Number.NEGATIVE_INFINITY;

  /** Folds one event in; returns whether anything visible changed. */
  apply(event: RunEvent): boolean {
    if (event.time > this.now) this.now = event.time;
    if (isWorkerEvent(event)) {
      const task = this.task(event.task);
      task.workers.apply(event);
      this.dirty.add(task);
      return true;
    }
    if (!('unit' in event)) return this.applyRun(event);
    const task = this.task(event.task);
    if (event.type === 'unit:done' || event.type === 'unit:fail' || event.type === 'unit:retry') task.workers.unitEnded(event.unit);
    const wasRunning = task.isRunning(event.unit);
    this.applyUnit(event, task);
    const delta = Number(task.isRunning(event.unit)) - Number(wasRunning);
    if (delta !== 0 || event.type === 'unit:start') {
      for (const service of task.services) {
        service.running += delta;
        if (event.type === 'unit:start') service.start(event.time);
        this.dirtyServices.add(service);
      }
    }
    this.dirty.add(task);
    return true;
  }

  /** Moves the clock on without an event (a periodic redraw), so rate windows empty as time passes. */
  advance(now: number): void {
    if (now > this.now) this.now = now;
  }

  /** Some service has a rate limit or a pause: what it shows changes with time alone. */
  get changesWithTime(): boolean {
    for (const service of this.services.values()) if (service.rate !== undefined || service.paused) return true;
    return false;
  }

  /** Tasks changed since the last call, counting services whose window emptied a little since. */
  takeDirty(): TaskProgress[] {
    for (const service of this.services.values()) if (service.trim(this.now)) this.dirtyServices.add(service);
    for (const service of this.dirtyServices) for (const task of this.shownIn.get(service) ?? []) this.dirty.add(task);
    this.dirtyServices.clear();
    const changed = [...this.dirty];
    this.dirty.clear();
    return changed;
  }

  /** Length of the longest task name, for aligning titles. */
  get nameWidth(): number {
    let width = 0;
    for (const name of this.tasks.keys()) width = Math.max(width, name.length);
    return width;
  }

  private applyRun(event: RunLevelEvent): boolean {
    switch (event.type) {
      case 'run:start':
        this.setTotals(event.tasks);
        this.setServices(event.services, event.uses ?? {});
        return true;
      case 'plan:update':
        this.setTotals(event.tasks);
        return true;
      case 'run:done':
        return false;
      case 'run:stall':
        this.stalls.push(event);
        return false;
      default:
        return unreachable(event);
    }
  }

  private applyUnit(event: UnitEvent, task: TaskProgress): void {
    switch (event.type) {
      case 'unit:log':
        if (event.stream === 'hook' || event.stream === 'warning') this.hookErrors.push(event);
        task.log(event.unit, event.text);
        return;
      case 'unit:queued':
        this.blocked.delete(event.unit);
        this.failures.delete(event.unit);
        task.queue(event.unit);
        return;
      case 'unit:start':
        this.blocked.delete(event.unit);
        this.failures.delete(event.unit);
        task.start(event.unit);
        return;
      case 'unit:done':
        task.settle(event.unit, 'done');
        return;
      case 'unit:skip':
        task.settle(event.unit, 'fresh');
        return;
      case 'unit:fail':
        this.failures.set(event.unit, event);
        task.settle(event.unit, isInterrupted(event) ? 'interrupted' : 'failed');
        return;
      case 'unit:blocked':
        this.blocked.set(event.unit, event);
        task.settle(event.unit, 'blocked');
        return;
      case 'unit:retry':
        task.pause(event.unit);
        if (event.kind === 'push-back') this.pauseServices(event);
        return;
      default:
        return unreachable(event);
    }
  }

  private pauseServices(event: EventOf<'unit:retry'>): void {
    for (const name of event.services ?? []) {
      const service = this.services.get(name);
      if (service === undefined) continue;
      service.pauseUntil(event.time + event.delayMs, event.unit);
      this.dirtyServices.add(service);
    }
  }

  private setTotals(totals: Readonly<Record<string, number>>): void {
    for (const [name, total] of Object.entries(totals)) {
      const task = this.task(name);
      task.total = total;
      this.dirty.add(task);
    }
  }

  private setServices(limits: Readonly<Record<string, ServiceLimits>>, uses: Readonly<Record<string, readonly string[]>>): void {
    for (const [name, limit] of Object.entries(limits)) this.services.set(name, new ServiceProgress(name, limit));
    for (const [name, serviceNames] of Object.entries(uses)) {
      const task = this.task(name);
      const services: ServiceProgress[] = [];
      for (const serviceName of serviceNames) {
        // a service missing from `services` has no known limits: still worth counting
        let service = this.services.get(serviceName);
        if (service === undefined) {
          service = new ServiceProgress(serviceName, { concurrent: null, rates: [] });
          this.services.set(serviceName, service);
        }
        services.push(service);
        const shown = this.shownIn.get(service);
        if (shown === undefined) this.shownIn.set(service, [task]);
        else shown.push(task);
      }
      task.services = services;
    }
  }

  private task(name: string): TaskProgress {
    let task = this.tasks.get(name);
    if (task === undefined) {
      task = new TaskProgress(name);
      this.tasks.set(name, task);
    }
    return task;
  }
}
