/**
 * The plain reporter for logs (CI, pipes): one line per unit start, finish, failure, retry and
 * block, a summary at the end, and GitHub Actions annotations when running there.
 */
import type { RunEvent } from '../../runner/events.ts';
import type { WatchEvent } from '../../watch/events.ts';
import { unreachable } from '../../result.ts';
import {
  formatBlocked,
  formatDone,
  formatFailure,
  formatLog,
  formatRetry,
  formatStall,
  formatSkip,
  formatStart,
  formatSummary,
  formatWorker,
  formatOptionsFor,
  type FormatOptions,
} from './format.ts';
import type { Reporter, ReporterOptions } from './types.ts';
import { formatCycle, formatWatchNotice, isWatchEvent, type CycleStart } from './watch.ts';

/** Writes plain lines to `options.stderr`, colored only on a terminal without `NO_COLOR`. */
export function createCiReporter(options: ReporterOptions): Reporter {
  const out = options.stderr;
  const format = formatOptionsFor(out, options);
  const write = (lines: readonly string[]): void => {
    if (lines.length > 0) out.write(`${lines.join('\n')}\n`);
  };
  // In watch mode the line per cycle replaces each run's summary.
  let watching = false;
  let cycleStart: CycleStart | undefined;
  return {
    onEvent(event: RunEvent | WatchEvent): void {
      if (!isWatchEvent(event)) {
        if (!(watching && event.type === 'run:done')) write(linesFor(event, format, options.verbose));
        return;
      }
      watching = true;
      if (event.type !== 'watch:cycle') write(formatWatchNotice(event, format));
      else if (event.phase === 'start') cycleStart = event;
      else write([formatCycle(cycleStart, event, format)]);
    },
    close: () => Promise.resolve(),
  };
}

const NONE: readonly string[] = [];

function linesFor(event: RunEvent, format: FormatOptions, verbose: boolean): readonly string[] {
  switch (event.type) {
    // the hot path: a no-op build of 10,000 fresh units is 10,000 of these
    case 'unit:skip':
      return verbose ? [formatSkip(event, format)] : NONE;
    case 'unit:log':
      return verbose || event.stream === 'hook' || event.stream === 'warning' ? formatLog(event, format) : NONE;
    case 'unit:queued':
      // (queue build) Its `unit:start` follows when a worker starts it: said only when verbose.
      return verbose ? [format.palette.dim(`… ${event.unit} (queued${event.attempt > 1 ? `, attempt ${event.attempt}` : ''})`)] : NONE;
    case 'unit:start':
      return [formatStart(event, format)];
    case 'unit:done':
      return [formatDone(event, format)];
    case 'unit:fail':
      return formatFailure(event, format);
    case 'unit:blocked':
      return [formatBlocked(event, format)];
    case 'unit:retry':
      return [formatRetry(event, format)];
    case 'run:stall':
      return formatStall(event, format);
    case 'run:done':
      return [formatSummary(event, format)];
    case 'run:start':
    case 'plan:update':
      return NONE;
    case 'worker:start':
    case 'worker:ready':
    case 'worker:busy':
    case 'worker:exit': {
      const line = formatWorker(event, format);
      return line === undefined ? NONE : [line];
    }
    default:
      return unreachable(event);
  }
}
