/**
 * The live terminal reporter: one listr2 task per runcue task, titled with live counts and showing
 * its running units beneath, never a line per unit. Failures, blocked units and the summary are
 * printed after the listr2 frame ends. Loaded lazily: only this file imports listr2.
 */
import type { RunEvent } from '../../runner/events.ts';
import type { WatchEvent } from '../../watch/events.ts';
import { formatBlocked, formatFailure, formatFailureHeadline, formatLog, formatOptionsFor, formatStall, formatSummary } from './format.ts';
import type { EventOf, FormatOptions } from './format.ts';
import { RunProgress, type TaskProgress } from './progress.ts';
import type { Reporter, ReporterOptions, ReportStream } from './types.ts';
import { startListr, type ListrTaskSpec, type TaskHandle, type TaskOutcome } from './listr.ts';
import { formatCycle, formatWatchNotice, isWatchEvent, type CycleStart } from './watch.ts';

/** Redraws at most this often, however many events arrive. */
const THROTTLE_MS = 80;
/** How often a live frame redraws without events, so rate windows visibly empty while work waits. */
const TICK_MS = 1000;
/** Failures printed in full after the frame; later ones get their headline only. */
const MAX_DETAILED_FAILURES = 10;
const MAX_BLOCKED_SHOWN = 20;

/** Options of the tty reporter beyond the common ones. */
export interface TtyReporterOptions extends ReporterOptions {
  /** Receives errors thrown asynchronously (inside listr2), which `onEvent` cannot throw. */
  readonly onInternalError: (error: unknown) => void;
}

/**
 * A reporter drawing with listr2 on `options.stderr`: its default renderer when stderr is a
 * terminal, the line-based `simple` renderer otherwise. Each `run:start` ... `run:done` pair (one
 * per watch iteration) is one listr2 frame. In watch mode a frame is erased when its cycle ends
 * and a timestamped line per cycle stays instead of each run's summary.
 */
export function createTtyReporter(options: TtyReporterOptions): Reporter {
  let session: Session | undefined;
  let queue: Promise<void> = Promise.resolve();
  // frames draw one after another: a frame owns the stream until it ends
  const enqueue = (step: () => void | Promise<void>): void => {
    queue = queue.then(step).catch(options.onInternalError);
  };
  const end = (done: EventOf<'run:done'> | undefined): void => {
    const ending = session;
    session = undefined;
    if (ending !== undefined) enqueue(() => ending.finish(done));
  };
  let watching = false;
  let cycleStart: CycleStart | undefined;
  const format = formatOptionsFor(options.stderr, options);
  const onWatchEvent = (event: WatchEvent): void => {
    watching = true;
    if (event.type === 'watch:cycle' && event.phase === 'start') {
      cycleStart = event;
      return;
    }
    const lines = event.type === 'watch:cycle' ? [formatCycle(cycleStart, event, format)] : formatWatchNotice(event, format);
    enqueue(() => writeLines(options.stderr, lines));
  };
  return {
    onEvent(event: RunEvent | WatchEvent): void {
      if (isWatchEvent(event)) {
        onWatchEvent(event);
        return;
      }
      if (event.type === 'run:start') {
        end(undefined);
        const started = new Session(options, watching);
        session = started;
        started.apply(event);
        enqueue(() => {
          started.start();
        });
        return;
      }
      session?.apply(event);
      if (event.type === 'run:done') end(event);
    },
    async close(): Promise<void> {
      end(undefined);
      await queue;
    },
  };
}

/** One run's frame: progress state, the listr2 tasks drawing it, and the throttle between them. */
class Session {
  private readonly progress = new RunProgress();
  private readonly views = new Map<string, TaskView>();
  private readonly options: TtyReporterOptions;
  private readonly format: FormatOptions;
  private readonly live: boolean;
  private timer: NodeJS.Timeout | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private listrDone: Promise<void> = Promise.resolve();
  private started = false;
  private ended = false;
  /** A watch cycle: erase the frame at the end, and leave the summary to the cycle line. */
  private readonly watching: boolean;

  constructor(options: TtyReporterOptions, watching: boolean) {
    this.options = options;
    this.watching = watching;
    this.format = formatOptionsFor(options.stderr, options);
    // A pseudo-terminal that reports no width (`script` without a size) is drawn 80 columns wide
    // (listr.ts).
    this.live = options.stderr.isTTY === true;
  }

  apply(event: RunEvent): void {
    if (this.progress.apply(event) && this.started) this.schedule();
    // a pause on a service without a rate must still disappear from the display when it ends
    if (this.started && this.live && this.ticker === undefined && event.type === 'unit:retry' && event.kind === 'push-back')
      this.startTicking();
  }

  /** Opens the listr2 frame with one task per runcue task known so far. */
  start(): void {
    const width = this.progress.nameWidth;
    const specs: ListrTaskSpec[] = [];
    for (const task of this.progress.tasks.values()) {
      const view = new TaskView({
        title: () => this.title(task, width),
        output: () => (this.live ? task.runningLines(this.options.verbose, this.format.palette).join('\n') : ''),
      });
      this.views.set(task.name, view);
      specs.push(view.spec());
    }
    const frame = { stream: this.options.stderr, live: this.live, palette: this.format.palette, clear: this.watching };
    // handled at once: a rejection left for finish() would be an unhandled one until then
    this.listrDone = startListr(specs, frame).catch(this.options.onInternalError);
    this.started = true;
    this.flush();
    if (this.live && this.progress.changesWithTime) this.startTicking();
  }

  /** Completes every task, waits for listr2 to draw its last frame, then prints the details. */
  async finish(done: EventOf<'run:done'> | undefined): Promise<void> {
    if (!this.started) this.start();
    this.ended = true;
    clearTimeout(this.timer);
    clearInterval(this.ticker);
    this.flush();
    for (const [name, view] of this.views) view.end(finalOutcome(this.progress.tasks.get(name), done));
    await this.listrDone;
    writeLines(this.options.stderr, this.details(done));
  }

  private schedule(): void {
    if (this.timer !== undefined || this.ended) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      try {
        this.flush();
      } catch (error) {
        this.options.onInternalError(error);
      }
    }, THROTTLE_MS);
    this.timer.unref();
  }

  /** The task's counts; on a terminal, also the state of the services it uses. */
  private title(task: TaskProgress, width: number): string {
    const { palette } = this.format;
    return task.title(width, palette, this.live ? task.serviceText(palette) : '');
  }

  private startTicking(): void {
    if (this.ended) return;
    this.ticker = setInterval(() => {
      try {
        // the one place wall time is read: event times drive everything else
        this.progress.advance(Date.now());
        this.flush();
      } catch (error) {
        this.options.onInternalError(error);
      }
    }, TICK_MS);
    this.ticker.unref();
  }

  private flush(): void {
    for (const task of this.progress.takeDirty()) this.views.get(task.name)?.update();
    this.completeSettledPrefix();
  }

  /**
   * Marks tasks done once all their units settled, in announced order: a later task may still
   * gain units from an earlier one (dynamic outputs), and a finished listr2 task cannot reopen.
   */
  private completeSettledPrefix(): void {
    for (const [name, view] of this.views) {
      if (view.finished) continue;
      const task = this.progress.tasks.get(name);
      if (task === undefined || task.shownTotal === 0 || !task.allSettled) return;
      view.end(task.failed > 0 ? 'failed' : task.blocked > 0 ? 'blocked' : task.interrupted > 0 ? 'incomplete' : 'done');
    }
  }

  private details(done: EventOf<'run:done'> | undefined): string[] {
    const lines: string[] = [];
    for (const stall of this.progress.stalls) lines.push(...formatStall(stall, this.format));
    for (const hook of this.progress.hookErrors) lines.push(...formatLog(hook, this.format));
    let shown = 0;
    for (const failure of this.progress.failures.values()) {
      shown += 1;
      if (shown <= MAX_DETAILED_FAILURES) lines.push(...formatFailure(failure, this.format));
      else lines.push(formatFailureHeadline(failure, this.format));
    }
    const blocked = [...this.progress.blocked.values()];
    for (const event of blocked.slice(0, MAX_BLOCKED_SHOWN)) lines.push(formatBlocked(event, this.format));
    if (blocked.length > MAX_BLOCKED_SHOWN) {
      lines.push(this.format.palette.dim(`… and ${blocked.length - MAX_BLOCKED_SHOWN} more blocked`));
    }
    if (done !== undefined && !this.watching) lines.push(formatSummary(done, this.format));
    return lines;
  }
}

/** Couples one listr2 task to its progress: pushes title/output changes, ends it on request. */
class TaskView {
  finished = false;
  private handle: TaskHandle | undefined;
  private lastTitle = '';
  private lastOutput = '';
  private readonly render: { readonly title: () => string; readonly output: () => string };
  private resolveOutcome: (outcome: TaskOutcome) => void = () => undefined;
  private readonly outcome: Promise<TaskOutcome>;

  constructor(render: { readonly title: () => string; readonly output: () => string }) {
    this.render = render;
    this.outcome = new Promise((resolve) => {
      this.resolveOutcome = resolve;
    });
  }

  spec(): ListrTaskSpec {
    this.lastTitle = this.render.title();
    return {
      title: this.lastTitle,
      run: (handle) => {
        this.handle = handle;
        this.push();
        return this.outcome;
      },
    };
  }

  update(): void {
    if (!this.finished) this.push();
  }

  end(outcome: TaskOutcome): void {
    if (this.finished) return;
    this.finished = true;
    this.push();
    this.resolveOutcome(outcome);
  }

  private push(): void {
    const handle = this.handle;
    if (handle === undefined) return;
    // every assignment repaints in listr2, so only assign what changed
    const title = this.render.title();
    if (title !== this.lastTitle) handle.setTitle((this.lastTitle = title));
    const output = this.finished ? '' : this.render.output();
    if (output !== this.lastOutput) handle.setOutput((this.lastOutput = output));
  }
}

function finalOutcome(task: TaskProgress | undefined, done: EventOf<'run:done'> | undefined): TaskOutcome {
  if (task === undefined) return 'done';
  if (task.failed > 0) return 'failed';
  if (task.interrupted > 0) return 'incomplete';
  // A task with blocked units did not do all it was asked to: no success mark.
  if (task.blocked > 0) return 'blocked';
  // a successful run settled everything it meant to, whatever the announced totals said
  return task.allSettled || done?.ok === true ? 'done' : 'incomplete';
}

function writeLines(stream: ReportStream, lines: readonly string[]): void {
  if (lines.length > 0) stream.write(`${lines.join('\n')}\n`);
}
