/**
 * The run's last-resort handlers for errors no `await` caught: a timer that throws inside a
 * function task, a promise nobody awaits. One raised by a unit's own code fails that unit (the
 * runner knows whose it was); any other ends the run cleanly (children stopped, partial outputs
 * removed) and exits 1 with "internal error", never a crash that orphans running commands.
 * The same holds for user code that calls `process.exit()`: in a run it throws instead.
 */
import { describeThrown } from '../../describe-thrown.ts';
import { routeEscaped, type EscapeKind } from '../../runner/function-scope.ts';

/** How long a run stopped by an internal error may take to end before the process exits anyway. */
const FATAL_EXIT_AFTER_MS = 15_000;

/**
 * `process.exit` as Node made it. runcue's own ways out (a third Ctrl-C, a run that cannot stop)
 * call it; user code in a run gets the throwing stand-in that `installLastResort` puts there.
 */
export const exitProcess: (code?: number) => never = process.exit.bind(process);

/** What `process.exit()` throws when a function task, a custom check or a hook calls it in a run. */
class ExitInRun extends Error {
  constructor(code: number | string | null | undefined) {
    super(
      `called process.exit(${code === undefined ? '' : String(code)}), which would end runcue and every running unit; throw an Error to report a failure instead`,
    );
    this.name = 'ExitInRun';
  }
}

/** The handlers installed for one command; `dispose` removes them. */
export interface LastResort {
  /** `parent`, also aborted (reason `internal error`) when an error no unit owns escapes. */
  bind(parent?: AbortSignal): AbortSignal;
  /** The line to print for the error that ended the run, if one did (the exit code is then 1). */
  fatalMessage(verbose: boolean): string | undefined;
  dispose(): void;
}

/**
 * Installs the handlers for `uncaughtException` and `unhandledRejection` until `dispose()`.
 * `stderr` is asked for only when there is something to say (see CliContext.stderr).
 */
export function installLastResort(stderr: () => NodeJS.WritableStream): LastResort {
  const controller = new AbortController();
  let fatal: { message: string; stack: string | undefined } | undefined;
  const fatalMessage = (verbose: boolean): string | undefined => {
    if (fatal === undefined) return undefined;
    const stack = verbose && fatal.stack !== undefined ? `\n${fatal.stack}` : '';
    return `runcue: internal error: ${fatal.message}${stack}`;
  };
  const onEscape = (error: unknown, kind: EscapeKind): void => {
    const routed = routeEscaped(error, kind);
    if (routed?.handled) return;
    if (routed) {
      stderr().write(`runcue: ${routed.unit}: ${kind} after the unit had ended: ${describeThrown(error)}\n`);
      return;
    }
    if (fatal !== undefined) return;
    fatal = { message: `${kind}: ${describeThrown(error)}`, stack: error instanceof Error ? error.stack : undefined };
    controller.abort('internal error');
    // The broken part may be the run itself: if it cannot end, the process still must.
    setTimeout(() => {
      stderr().write(`${fatalMessage(false) ?? ''} (the run did not stop within ${FATAL_EXIT_AFTER_MS / 1000}s)\n`);
      exitProcess(1);
    }, FATAL_EXIT_AFTER_MS).unref();
  };
  const onUncaught = (error: unknown): void => onEscape(error, 'uncaught exception');
  const onUnhandled = (reason: unknown): void => onEscape(reason, 'unhandled rejection');
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUnhandled);
  // Exiting from inside the run would skip stopping its commands and removing partial outputs,
  // and end the build silently with the user's code: it fails the unit (or the hook) instead.
  // Kept unbound on purpose: dispose puts back the very function Node installed.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const exit = process.exit;
  const standIn = (code?: number | string | null): never => {
    const error = new ExitInRun(code);
    Error.captureStackTrace(error, standIn);
    throw error;
  };
  process.exit = standIn;
  return {
    bind: (parent) => (parent ? AbortSignal.any([parent, controller.signal]) : controller.signal),
    fatalMessage,
    dispose: () => {
      process.exit = exit;
      process.off('uncaughtException', onUncaught);
      process.off('unhandledRejection', onUnhandled);
    },
  };
}
