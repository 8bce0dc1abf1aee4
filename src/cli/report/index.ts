/**
 * Renderers that turn runner events into a UI: `tty` (listr2, live), `ci` (plain lines, GitHub
 * Actions annotations), `json` (the `--json` contract on stdout) and `silent`. Chosen in one place
 * here; a renderer bug never stops the run. `withDebugLog` adds a JSON-lines copy to a file.
 */
import { unreachable } from '../../result.ts';
import type { RunEvent } from '../../runner/events.ts';
import type { WatchEvent } from '../../watch/events.ts';
import { createCiReporter } from './ci.ts';
import { escapedEvent } from './escape-names.ts';
import { createJsonReporter } from './json.ts';
import type { Reporter, ReporterKind, ReporterOptions, ReportStream } from './types.ts';

/** The renderer contract, and the event formatting the commands share with the renderers. */
export type { Reporter, ReporterKind, ReporterOptions } from './types.ts';
export { withDebugLogFromEnv } from './debug-log.ts';
export { describeBlocked, describeFailure, describeStale, formatDuration } from './format.ts';

/** `auto` is the live display on an interactive terminal outside CI, plain lines otherwise. */
export function chooseReporterKind(
  requested: 'auto' | ReporterKind,
  opts: { readonly isTTY: boolean; readonly ci: boolean },
): ReporterKind {
  if (requested !== 'auto') return requested;
  return opts.isTTY && !opts.ci ? 'tty' : 'ci';
}

/** Builds a reporter; listr2 is imported only for `tty`. */
export async function createReporter(kind: ReporterKind, options: ReporterOptions): Promise<Reporter> {
  // Before the guard, which would ask for options.stderr: silent never does.
  if (kind === 'silent') return silentReporter;
  const guard = new Guard(options.stderr, kind);
  switch (kind) {
    case 'tty': {
      const { createTtyReporter } = await import('./tty.ts');
      return guard.wrap(escapingNames(createTtyReporter({ ...options, onInternalError: guard.fail })));
    }
    case 'ci':
      return guard.wrap(escapingNames(createCiReporter(options)));
    case 'json':
      return guard.wrap(createJsonReporter(options));
    default:
      return unreachable(kind);
  }
}

/** A human renderer: names in its events shown on one line each (escape-names.ts). */
function escapingNames(inner: Reporter): Reporter {
  return { onEvent: (event) => inner.onEvent(escapedEvent(event)), close: () => inner.close() };
}

const silentReporter: Reporter = {
  onEvent: () => undefined,
  close: () => Promise.resolve(),
};

/**
 * Catches a renderer's own errors: the first is reported once on stderr and later events are
 * dropped; `close` still runs so a live display can release the terminal.
 */
class Guard {
  private broken = false;
  private readonly stderr: ReportStream;
  private readonly kind: ReporterKind;

  constructor(stderr: ReportStream, kind: ReporterKind) {
    this.stderr = stderr;
    this.kind = kind;
  }

  readonly fail = (error: unknown): void => {
    if (this.broken) return;
    this.broken = true;
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    try {
      this.stderr.write(`runcue: internal error in the ${this.kind} reporter; progress output stopped, the run goes on.\n${detail}\n`);
    } catch {
      // nowhere left to report it
    }
  };

  wrap(inner: Reporter): Reporter {
    return {
      onEvent: (event: RunEvent | WatchEvent): void => {
        if (this.broken) return;
        try {
          inner.onEvent(event);
        } catch (error) {
          this.fail(error);
        }
      },
      close: async (): Promise<void> => {
        try {
          await inner.close();
        } catch (error) {
          this.fail(error);
        }
      },
    };
  }
}
