/**
 * The services of `scope: 'host'` (`cpu` unless set otherwise, a GPU): held by each `runcue
 * worker` for the jobs it runs, with the same limiter as a local build, since Redis holds only
 * the limits shared by every machine. A job waits here for its host's slot.
 */
import type { ResolvedConfig, ResolvedTask } from '../../config/resolved.ts';
import { createLimiter, type Limiter } from '../limiter.ts';

/** One worker's host-local limits. */
export class HostLimits {
  private readonly limiter: Limiter;
  private readonly hostServices: ReadonlySet<string>;
  private wakers: (() => void)[] = [];

  constructor(config: ResolvedConfig) {
    const host = new Map([...config.services].filter(([, s]) => s.scope === 'host'));
    this.hostServices = new Set(host.keys());
    this.limiter = createLimiter(host, undefined);
  }

  /**
   * Waits for a slot in each host service `task` uses: the services held, and whether it had to
   * wait; undefined when `signal` aborts first.
   */
  async acquire(task: ResolvedTask, signal: AbortSignal): Promise<{ services: readonly string[]; waited: boolean } | undefined> {
    const services = task.uses.filter((s) => this.hostServices.has(s));
    for (let waited = false; ; waited = true) {
      if (signal.aborted) return undefined;
      const admitted = this.limiter.tryAcquire(services, Date.now());
      if (admitted.ok) return { services, waited };
      const waitMs = admitted.kind === 'rate-limited' ? Math.max(1, admitted.until - Date.now()) : undefined;
      await new Promise<void>((resolve) => {
        const timer = waitMs === undefined ? undefined : setTimeout(resolve, waitMs);
        const wake = (): void => {
          clearTimeout(timer);
          resolve();
        };
        this.wakers.push(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
    }
  }

  /** Gives the slots back; waiting jobs try again. */
  release(services: readonly string[]): void {
    this.limiter.release(services);
    const wakers = this.wakers;
    this.wakers = [];
    for (const wake of wakers) wake();
  }
}
