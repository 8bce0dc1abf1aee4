/**
 * The only listr2 caller: opens a frame of concurrent tasks on a given stream. Kept apart so the
 * rest of the tty reporter deals in plain handles, not listr2's generic types.
 */
import { Listr, ListrDefaultRendererLogLevels as Level, ListrLogger, ProcessOutput } from 'listr2';
import type { ListrLogLevels } from 'listr2';
import type { Palette } from './format.ts';
import type { ReportStream } from './types.ts';

/** How a task's listr2 entry ends: anything but `done` draws listr2's failure mark. */
export type TaskOutcome = 'done' | 'failed' | 'blocked' | 'incomplete';

const FAILURE_TEXT = {
  failed: 'a unit failed',
  blocked: 'some units are blocked',
  incomplete: 'stopped before all its units finished',
} as const;

/** What a running task may change. */
export interface TaskHandle {
  setTitle(title: string): void;
  setOutput(output: string): void;
}

/** One listr2 task: its first title, and a function that drives it until it resolves. */
export interface ListrTaskSpec {
  readonly title: string;
  readonly run: (handle: TaskHandle) => Promise<TaskOutcome>;
}

/** Where and how the frame is drawn. */
export interface ListrFrameOptions {
  readonly stream: ReportStream;
  /** The redrawing default renderer (a terminal), or the line-based simple one. */
  readonly live: boolean;
  readonly palette: Palette;
  /** Erase the frame when it ends (watch: a one-line result per cycle stays instead). */
  readonly clear?: boolean;
}

/** Starts drawing; resolves when every task has ended and the last frame is written. */
export async function startListr(specs: readonly ListrTaskSpec[], options: ListrFrameOptions): Promise<void> {
  // listr2 writes "stdout" output to the first stream: both go to our stream, so stdout stays free.
  // It only calls write() and reads columns/rows/isTTY, which any ReportStream has.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
  const stream = sized(options.stream) as NodeJS.WriteStream;
  const processOutput = new ProcessOutput(stream, stream);
  const tasks = specs.map((spec) => ({
    title: spec.title,
    task: async (_ctx: unknown, wrapper: { title: string; output: string }): Promise<void> => {
      const outcome = await spec.run({
        setTitle: (title) => {
          wrapper.title = title;
        },
        setOutput: (output) => {
          wrapper.output = output;
        },
      });
      if (outcome !== 'done') throw new Error(FAILURE_TEXT[outcome]);
    },
  }));
  const common = {
    concurrent: true,
    exitOnError: false,
    // runcue handles SIGINT itself; listr2's handler would exit the process with 127
    registerSignalListeners: false,
  } as const;
  if (options.live) {
    const rendererOptions = {
      logger: new ListrLogger<Level>({ processOutput }),
      showErrorMessage: false,
      formatOutput: 'truncate',
      color: liveColors(options.palette),
      clearOutput: options.clear ?? false,
    } as const;
    // the default renderer needs a TTY stdout unless it is also the fallback: our TTY is stderr
    const listr = new Listr(tasks, {
      ...common,
      renderer: 'default',
      rendererOptions,
      fallbackRenderer: 'default',
      fallbackRendererOptions: rendererOptions,
    });
    await listr.run();
    return;
  }
  const logger = new ListrLogger<ListrLogLevels>({ processOutput });
  const listr = new Listr(tasks, {
    ...common,
    renderer: 'simple',
    rendererOptions: { logger },
    fallbackRenderer: 'simple',
    fallbackRendererOptions: { logger },
  });
  await listr.run();
}

/**
 * A terminal that reports no size (a pseudo-terminal opened without one, as `script` does under a
 * parent without a terminal) is drawn as 80 x 24: listr2 truncates every line to the width it
 * reads, and a width of 0 drew nothing at all.
 */
function sized(stream: ReportStream): ReportStream {
  if ((stream.columns ?? 0) > 0) return stream;
  const sizedStream = {
    isTTY: stream.isTTY,
    get columns(): number {
      return stream.columns || 80;
    },
    get rows(): number {
      const { rows } = stream as { rows?: number };
      return rows || 24;
    },
    write: (...args: Parameters<ReportStream['write']>): boolean => stream.write(...args),
  };
  return sizedStream as unknown as ReportStream;
}

/** listr2 colors by process.stdout; ours follow the stream we draw on and NO_COLOR. */
function liveColors(palette: Palette): Partial<Record<Level, (text?: string) => string>> {
  const paint = (fn: (text: string) => string) => (text?: string) => fn(text ?? '');
  return {
    [Level.PENDING]: paint(palette.yellow),
    [Level.COMPLETED]: paint(palette.green),
    [Level.FAILED]: paint(palette.red),
    [Level.CANCELLED]: paint(palette.red),
    [Level.WAITING]: paint(palette.dim),
    [Level.COMPLETED_WITH_FAILED_SISTER_TASKS]: paint(palette.red),
  };
}
