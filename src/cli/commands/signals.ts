/**
 * How a run command ends when asked to: SIGINT, SIGTERM, SIGHUP or a closed stdout stop the run
 * cleanly, and the exit code says which (128 + the signal's number, as shells report it).
 */
import { EXIT_CODES } from '../exit-codes.ts';
import { exitProcess } from './last-resort.ts';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Runs `work` with an AbortSignal that SIGINT, SIGTERM and SIGHUP (a closed terminal or SSH
 * session) abort: the runner then stops every child tree and removes partial outputs. A second
 * signal aborts `stopNow`: the grace period ends and every tree gets SIGKILL, but cleanup still
 * happens. A third exits at once (the watchdog still stops the trees, and the in-flight records
 * make the next run redo the units). A closed stdout (`runcue build --json | head -1`) stops the
 * run as the first signal does, as SIGPIPE would stop make.
 */
export async function withSignals<T>(
  work: (signal: AbortSignal, stopNow: AbortSignal) => Promise<T>,
  streams: { readonly stdout: NodeJS.WritableStream; readonly stderr: NodeJS.WritableStream },
): Promise<T> {
  // stderr is read when there is something to say, not before (see CliContext.stderr).
  const { stdout } = streams;
  const controller = new AbortController();
  const now = new AbortController();
  let received = 0;
  const say = (text: string): void => {
    streams.stderr.write(`runcue: ${text}\n`);
  };
  const onSignal = (name: NodeJS.Signals): void => {
    received++;
    if (name === 'SIGHUP') {
      // The terminal is gone: writing to it fails (EIO), which must not end the cleanup.
      stdout.on('error', () => undefined);
      streams.stderr.on('error', () => undefined);
    }
    if (received === 1 && !controller.signal.aborted) {
      say(`stopping (${name}): waiting for running commands to stop; again to kill them at once`);
      controller.abort(name);
    } else if (!now.signal.aborted) {
      say('killing running commands now');
      if (!controller.signal.aborted) controller.abort(name);
      now.abort(name);
    } else {
      say('exiting at once: the watchdog kills what still runs; interrupted units rerun next time');
      exitProcess(interruptedExitCode(String(controller.signal.reason)) ?? EXIT_CODES.sigint);
    }
  };
  const onStdoutError = (error: NodeJS.ErrnoException): void => {
    if (error.code === 'EPIPE' && !controller.signal.aborted) controller.abort('SIGPIPE');
  };
  for (const name of STOP_SIGNALS) process.on(name, onSignal);
  stdout.on('error', onStdoutError);
  try {
    return await work(controller.signal, now.signal);
  } finally {
    for (const name of STOP_SIGNALS) process.off(name, onSignal);
    // Later writes to a broken pipe must not crash the process either.
    if (controller.signal.reason === 'SIGPIPE') stdout.on('error', () => undefined);
    stdout.off('error', onStdoutError);
  }
}

/** The exit code for a run stopped by `reason` (a signal name), or undefined. */
export function interruptedExitCode(reason: string | undefined): number | undefined {
  if (reason === 'SIGINT') return EXIT_CODES.sigint;
  if (reason === 'SIGTERM') return EXIT_CODES.sigterm;
  if (reason === 'SIGHUP') return EXIT_CODES.sighup;
  if (reason === 'SIGPIPE') return EXIT_CODES.sigpipe;
  return undefined;
}
