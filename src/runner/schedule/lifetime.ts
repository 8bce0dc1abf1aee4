/**
 * What ties a run to its process: the abort signal it listens to (Ctrl-C, an embedder), and a
 * timer that keeps Node alive while the run waits on user promises, which hold no handle.
 */
import type { TimerHandle, Timers } from '../ports.ts';

/**
 * Calls `onAbort` with the abort reason when `signal` aborts (at once if it has). Returns the
 * detach: a long-lived signal (watch, embedders) must not keep every finished run alive.
 */
export function listenAbort(signal: AbortSignal | undefined, onAbort: (reason: string) => void): () => void {
  if (!signal) return () => undefined;
  if (signal.aborted) {
    onAbort(String(signal.reason));
    return () => undefined;
  }
  const listener = (): void => onAbort(String(signal.reason));
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}

/**
 * Keeps the process alive until the returned release is called. Without it, a run waiting only on
 * user promises would let Node exit with 13 mid-run. Re-armed: one timer cannot wait forever.
 */
export function holdOpen(timers: Timers): () => void {
  let handle: TimerHandle | undefined;
  const arm = (): void => {
    handle = timers.set(arm, 1 << 30);
  };
  arm();
  return () => timers.clear(handle);
}
