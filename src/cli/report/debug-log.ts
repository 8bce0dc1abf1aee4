/**
 * The debug renderer (`RUNCUE_DEBUG_LOG=<file>`): every event, `unit:log` included, appended to a
 * file as one JSON line, alongside whichever reporter draws the run. Meant to be attached to bug
 * reports, so it is written synchronously: the file holds every event up to a crash.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { err, ok, type Result } from '../../result.ts';
import type { RunEvent } from '../../runner/events.ts';
import type { WatchEvent } from '../../watch/events.ts';
import type { Reporter, ReportStream } from './types.ts';

/** The environment variable naming the debug log file. */
const DEBUG_LOG_ENV = 'RUNCUE_DEBUG_LOG';

/**
 * `reporter`, also appending each event to the file at `path` (created if missing, opened once).
 * Fails only when the file cannot be opened; a later write error stops the log, reported once on
 * `stderr`, and never the run or the inner reporter.
 */
function withDebugLog(reporter: Reporter, path: string, stderr: ReportStream): Result<Reporter, string> {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'a');
  } catch (error) {
    return err(`cannot open ${DEBUG_LOG_ENV} file ${path}: ${messageOf(error)}`);
  }
  const log = fd;
  let broken = false;
  const write = (event: RunEvent | WatchEvent): void => {
    if (broken) return;
    try {
      writeSync(log, `${JSON.stringify(event)}\n`);
    } catch (error) {
      broken = true;
      stderr.write(`runcue: ${DEBUG_LOG_ENV}: writing ${path} failed, the debug log stops here: ${messageOf(error)}\n`);
    }
  };
  return ok({
    onEvent(event: RunEvent | WatchEvent): void {
      write(event);
      reporter.onEvent(event);
    },
    async close(): Promise<void> {
      try {
        await reporter.close();
      } finally {
        closeSync(log);
      }
    },
  });
}

/**
 * `reporter` with the debug log when `env` names a file (relative to `cwd`); when that file cannot
 * be opened, says so on `stderr` and goes on without it (a debug aid never stops a build).
 */
export function withDebugLogFromEnv(
  reporter: Reporter,
  options: { readonly env: Readonly<Record<string, string | undefined>>; readonly cwd: string; readonly stderr: ReportStream },
): Reporter {
  const file = options.env[DEBUG_LOG_ENV];
  if (file === undefined || file === '') return reporter;
  const wrapped = withDebugLog(reporter, resolve(options.cwd, file), options.stderr);
  if (wrapped.ok) return wrapped.value;
  options.stderr.write(`runcue: ${wrapped.error}; going on without it\n`);
  return reporter;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
