/** Pieces every command shares: exit codes and the signal handling around a run. */

export const EXIT_CODES = { ok: 0, failed: 1, usage: 2, sigint: 130, sigterm: 143 } as const;

/**
 * Runs `work` with an AbortSignal that SIGINT/SIGTERM abort (the runner then stops every child
 * tree and removes partial outputs). A second signal exits at once.
 */
export async function withSignals<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      process.exit(name === 'SIGTERM' ? EXIT_CODES.sigterm : EXIT_CODES.sigint);
    }
    controller.abort(name);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
