/** Waiting for user promises that may never settle: always with a bound, and cut short on abort. */
import { systemTimers, type Timers } from './ports.ts';

/** How a bounded wait is cut short: an abort signal, and the timers that measure the bound. */
export interface BoundedWaitOptions {
  readonly signal?: AbortSignal | undefined;
  readonly timers?: Timers;
}

/** Resolves true when `work` settles within `ms`, false when the bound or `signal` comes first. */
export async function settlesWithin(work: Promise<unknown>, ms: number, options: BoundedWaitOptions = {}): Promise<boolean> {
  const { signal, timers = systemTimers } = options;
  if (signal?.aborted) return false;
  let timer: ReturnType<Timers['set']> | undefined;
  let onAbort = (): void => undefined;
  const cut = new Promise<false>((resolve) => {
    timer = timers.set(() => resolve(false), ms);
    onAbort = () => resolve(false);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      cut,
    ]);
  } finally {
    timers.clear(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}
