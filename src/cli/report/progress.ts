/**
 * Per-task progress of one run, folded from events: what the live (tty) display draws. O(1) per
 * event, so a build of 10,000 fresh units costs 10,000 map updates and no drawing.
 */
import { unreachable } from '../../result.ts';
import type { RunEvent } from '../../runner/events.ts';
import { SYMBOLS, type EventOf, type Palette } from './format.ts';

type Outcome = 'done' | 'fresh' | 'failed' | 'blocked';

/** How many running units a task shows beneath its title before `+N more`. */
export const MAX_RUNNING_SHOWN = 5;

/** One task's unit counts and running units. */
export class TaskProgress {
  readonly name: string;
  /** Unit count announced by the runner (`run:start`, `plan:update`). */
  total = 0;
  private readonly outcomes = new Map<string, Outcome>();
  private readonly counts: Record<Outcome, number> = { done: 0, fresh: 0, failed: 0, blocked: 0 };
  /** Running units in start order, each with its last log line ('' when none). */
  private readonly running = new Map<string, string>();

  constructor(name: string) {
    this.name = name;
  }

  /** A unit started (again): it no longer counts as settled. */
  start(unit: string): void {
    this.unsettle(unit);
    this.running.delete(unit);
    this.running.set(unit, '');
  }

  /** A unit stopped running without settling (waiting to retry). */
  pause(unit: string): void {
    this.running.delete(unit);
  }

  /** A unit reached an outcome; a later outcome for the same unit replaces it. */
  settle(unit: string, outcome: Outcome): void {
    this.running.delete(unit);
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
    if (last !== undefined) this.running.set(unit, last);
  }

  /** Units running now. */
  get runningCount(): number {
    return this.running.size;
  }

  /** Units that failed (final attempt). */
  get failed(): number {
    return this.counts.failed;
  }

  /** The announced total, or more when more units were seen than announced. */
  get shownTotal(): number {
    return Math.max(this.total, this.outcomes.size + this.running.size);
  }

  /** Every known unit has an outcome and none is running. */
  get allSettled(): boolean {
    return this.running.size === 0 && this.outcomes.size >= this.shownTotal;
  }

  /** `extract  37/120 ✓  5 ▸  1 ✗  2 ⊘`, the name padded to `width`. */
  title(width: number, palette: Palette): string {
    const finished = this.counts.done + this.counts.fresh;
    let title = `${this.name.padEnd(width)}  ${finished}/${this.shownTotal} ${SYMBOLS.done}`;
    if (this.running.size > 0) title += `  ${palette.cyan(`${this.running.size} ${SYMBOLS.start}`)}`;
    if (this.counts.failed > 0) title += `  ${palette.red(`${this.counts.failed} ${SYMBOLS.fail}`)}`;
    if (this.counts.blocked > 0) title += `  ${palette.yellow(`${this.counts.blocked} ${SYMBOLS.blocked}`)}`;
    return title;
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

  /** Folds one event in; returns whether anything visible changed. */
  apply(event: RunEvent): boolean {
    switch (event.type) {
      case 'run:start':
      case 'plan:update':
        this.setTotals(event.tasks);
        return true;
      case 'run:done':
        return false;
      case 'run:stall':
        this.stalls.push(event);
        return false;
      case 'unit:log':
        if (event.stream === 'hook') this.hookErrors.push(event);
        this.task(event.task).log(event.unit, event.text);
        return this.touch(event.task);
      case 'unit:start':
        this.blocked.delete(event.unit);
        this.failures.delete(event.unit);
        this.task(event.task).start(event.unit);
        return this.touch(event.task);
      case 'unit:done':
        this.task(event.task).settle(event.unit, 'done');
        return this.touch(event.task);
      case 'unit:skip':
        this.task(event.task).settle(event.unit, 'fresh');
        return this.touch(event.task);
      case 'unit:fail':
        this.failures.set(event.unit, event);
        this.task(event.task).settle(event.unit, 'failed');
        return this.touch(event.task);
      case 'unit:blocked':
        this.blocked.set(event.unit, event);
        this.task(event.task).settle(event.unit, 'blocked');
        return this.touch(event.task);
      case 'unit:retry':
        this.task(event.task).pause(event.unit);
        return this.touch(event.task);
      default:
        return unreachable(event);
    }
  }

  /** Tasks changed since the last call. */
  takeDirty(): TaskProgress[] {
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

  private setTotals(totals: Readonly<Record<string, number>>): void {
    for (const [name, total] of Object.entries(totals)) {
      const task = this.task(name);
      task.total = total;
      this.dirty.add(task);
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

  private touch(name: string): true {
    const task = this.tasks.get(name);
    if (task !== undefined) this.dirty.add(task);
    return true;
  }
}
