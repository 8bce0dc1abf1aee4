/** The `--json` reporter: each event as one line of JSON on stdout, and nothing else anywhere. */
import type { RunEvent } from '../../runner/events.ts';
import type { WatchEvent } from '../../watch/events.ts';
import type { Reporter, ReporterOptions } from './types.ts';

/** One `JSON.stringify(event)` line per event on `options.stdout`; `unit:log` only when verbose (hook errors always). */
export function createJsonReporter(options: ReporterOptions): Reporter {
  const out = options.stdout;
  return {
    onEvent(event: RunEvent | WatchEvent): void {
      // A hook that threw is always reported, even without --verbose; live output only with it.
      if (event.type === 'unit:log' && !options.verbose && event.stream !== 'hook' && event.stream !== 'warning') return;
      out.write(`${JSON.stringify(event)}\n`);
    },
    close: () => flush(out),
  };
}

/** Resolves once everything written before has been handed to the OS (or the stream failed). */
function flush(out: NodeJS.WritableStream): Promise<void> {
  const state = out as { writableEnded?: boolean; destroyed?: boolean };
  // writing to an ended stream would emit 'error' instead of calling back
  if (state.writableEnded === true || state.destroyed === true) return Promise.resolve();
  return new Promise((resolve) => {
    try {
      out.write('', () => {
        resolve();
      });
    } catch {
      resolve();
    }
  });
}
