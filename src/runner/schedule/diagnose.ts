/**
 * Why units do not run (the blocked list of `run:stall` and of a plan's waiting units), and the
 * stall alarm: a timer that asks {@link StallWatch} now and then whether the run stalled, fed by
 * the book's moves.
 */
import type { ResolvedConfig } from '../../config/resolved.ts';
import type { Unit } from '../../graph/unit.ts';
import { unreachable } from '../../result.ts';
import type { BlockedReason, BlockedUnit } from '../events.ts';
import type { Clock, TimerHandle, Timers } from '../ports.ts';
import { StallWatch, type Stall, type StallLimits } from '../stall-watch.ts';
import { isSettled, type Book } from './book.ts';
import { couldMake } from './plan-inputs.ts';

/** What the diagnosis reads besides the book: the loop's waits, by unit. */
export interface DiagnoseSources {
  readonly book: Book;
  readonly config: ResolvedConfig;
  readonly clock: Clock;
  /** Why the lane of these services was last refused a slot. */
  readonly refusal: (services: readonly string[]) => BlockedReason | undefined;
  /** Why a unit waits for another runcue process. */
  readonly elsewhere: (id: string) => BlockedReason | undefined;
  /** When a unit in backoff retries. */
  readonly retryAt: (id: string) => number | undefined;
  /** The custom check in flight for a unit, and since when. */
  readonly checking: (id: string) => { readonly check: 'ready' | 'stale'; readonly since: number } | undefined;
}

/** Every wanted unit that is not running or finished, and why. */
export function diagnose(sources: DiagnoseSources): BlockedUnit[] {
  const out: BlockedUnit[] = [];
  for (const id of sources.book.wanted) {
    const unit = sources.book.unit(id);
    if (!unit || unit.placeholder) continue;
    const reason = reasonFor(sources, unit);
    if (reason) out.push({ task: unit.task, unit: id, reason });
  }
  return out;
}

function reasonFor(sources: DiagnoseSources, unit: Unit): BlockedReason | undefined {
  const { book } = sources;
  const id = unit.id;
  const st = book.statusOf(id) ?? 'waiting';
  switch (st) {
    case 'blocked':
      return book.blockedReason(id);
    case 'waiting':
      return waitingReason(book, unit);
    case 'not-ready': {
      const task = sources.config.tasks.get(unit.task);
      if (task && !book.afterSettled(task))
        return { kind: 'not_ready', input: '', message: `${id} waits for ${task.after.join(', ')} (after)` };
      return { kind: 'not_ready', input: '', message: `${id} is not ready yet: ready() returned false` };
    }
    case 'queued': {
      const uses = sources.config.tasks.get(unit.task)?.uses ?? ['cpu'];
      return (
        sources.refusal(uses) ?? { kind: 'service_full', service: uses[0] ?? 'cpu', message: 'waits for a slot behind other queued units' }
      );
    }
    case 'elsewhere':
      return sources.elsewhere(id);
    case 'retrying': {
      const until = sources.retryAt(id) ?? sources.clock.now();
      return { kind: 'waiting_retry', until, message: `retries at ${new Date(until).toISOString()}` };
    }
    case 'checking': {
      const pending = sources.checking(id);
      if (!pending) return undefined;
      const message = `waits for its ${pending.check}() check, pending for ${sources.clock.now() - pending.since} ms`;
      return { kind: 'not_ready', input: '', message };
    }
    case 'checkable':
    case 'running':
    case 'fresh':
    case 'done':
    case 'would-run':
    case 'failed':
      return undefined;
    default:
      return unreachable(st);
  }
}

/** The first dep a waiting unit still waits for, and through which input. */
function waitingReason(book: Book, unit: Unit): BlockedReason | undefined {
  for (const d of book.deps(unit.id)) {
    const ds = book.statusOf(d) ?? 'waiting';
    if (isSettled(ds)) continue;
    const producer = book.unit(d);
    const input = unit.inputs.find((i) => producer?.outputs.some((o) => couldMake(o, i)))?.path ?? '';
    const what = producer?.placeholder ? `the units ${d} will discover` : `${d} (${ds})`;
    return { kind: 'not_ready', input, producer: d, message: `waits for ${input || 'its inputs'} from ${what}` };
  }
  return undefined;
}

/**
 * Nothing can progress: whatever still waits is blocked. First the units whose `ready()` stays
 * false; that wakes the units parked on `after` their task, so it returns true: check those again
 * (they are blocked as upstream_failed then). Units that still wait on `after` tasks are blocked
 * next, except in a plan (`planning`): there they, like the units behind one that would run,
 * wait on work that would run first, and the plan reports them as waiting (so are units whose
 * `ready()` is false while some unit would run: a build asks again as each one finishes).
 */
export function blockStuck(sources: DiagnoseSources, options: { readonly planning: boolean }): boolean {
  const { book, config } = sources;
  const parked = book.stillParked().map((id) => ({ id, task: config.tasks.get(book.unit(id)?.task ?? '') }));
  const notReady = parked.filter(({ task }) => task && book.afterSettled(task));
  // A build asks ready() again as each unit finishes: behind units that would run, they wait.
  if (options.planning && notReady.length > 0 && someWouldRun(book)) return false;
  for (const { id } of notReady) book.block(id, { kind: 'not_ready', input: '', message: `${id} is not ready: ready() returned false` });
  if (notReady.length > 0) return true;
  if (options.planning) return false;
  for (const { id, task } of parked)
    book.block(id, { kind: 'not_ready', input: '', message: `${id} waits for ${task?.after.join(', ') ?? ''} (after)` });
  // Anything still waiting now waits for something that cannot happen (say, a cycle that only
  // unit-level edges reveal): report it rather than end silently.
  if (book.finishedCount >= book.wanted.size) return false;
  for (const b of diagnose(sources)) {
    if (book.statusOf(b.unit) === 'waiting') book.block(b.unit, b.reason);
  }
  return false;
}

function someWouldRun(book: Book): boolean {
  for (const id of book.wanted) if (book.statusOf(id) === 'would-run') return true;
  return false;
}

/** What a {@link StallAlarm} watches, and whom it tells. */
export interface StallAlarmOptions {
  readonly limits: StallLimits;
  readonly book: Book;
  readonly clock: Clock;
  readonly timers: Timers;
  /** True while no stall should be reported (the run finished or is stopping). */
  readonly quiet: () => boolean;
  readonly onStall: (stall: Stall) => void;
}

/**
 * The stall watch of a run: fed by the book's moves (waiting, running, finishing), asked every
 * tick (when a limit is set) whether the run stalled.
 */
export class StallAlarm {
  private readonly o: StallAlarmOptions;
  private readonly watch: StallWatch;
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(options: StallAlarmOptions) {
    this.o = options;
    const { clock } = options;
    const watch = (this.watch = new StallWatch(options.limits, clock.now()));
    // Without a limit the watch is never asked: no clock read and no map entry per unit.
    if (watch.tickMs === undefined) return;
    options.book.onMove((id, _unit, to) => {
      if (to === 'waiting') watch.waiting(id, clock.now());
      else if (to === 'running') watch.running(id);
      else if (to === 'fresh' || to === 'done' || to === 'would-run' || to === 'failed' || to === 'blocked')
        watch.progress(id, clock.now());
    });
  }

  /** Starts ticking; a watch without limits never ticks. */
  start(): void {
    const tickMs = this.watch.tickMs;
    if (tickMs === undefined) return;
    const tick = (): void => {
      if (this.stopped) return;
      this.timer = this.o.timers.set(tick, tickMs, { unref: true });
      if (this.o.quiet()) return;
      const stall = this.watch.check(this.o.clock.now());
      if (stall) this.o.onStall(stall);
    };
    this.timer = this.o.timers.set(tick, tickMs, { unref: true });
  }

  /** No tick after this. */
  stop(): void {
    this.stopped = true;
    this.o.timers.clear(this.timer);
  }
}
