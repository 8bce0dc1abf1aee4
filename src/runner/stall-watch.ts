/**
 * `stallTimeout`/`pendingTimeout` and their warning variants: when nothing finished for too long,
 * or one unit waited too long. Pure bookkeeping on times the scheduler passes in.
 */

export interface StallLimits {
  readonly stallTimeoutMs: number | undefined;
  readonly pendingTimeoutMs: number | undefined;
  readonly stallWarnAfterMs: number | undefined;
  readonly pendingWarnAfterMs: number | undefined;
}

export interface Stall {
  /** Fatal stalls fail the run; warnings are reported once each and fail nothing. */
  readonly fatal: boolean;
  readonly message: string;
}

export class StallWatch {
  private readonly limits: StallLimits;
  private lastProgress: number;
  /** When each waiting unit started waiting (insertion order is not age order after requeues). */
  private readonly waitingSince = new Map<string, number>();
  private readonly warned = { stall: false, pending: false };

  constructor(limits: StallLimits, now: number) {
    this.limits = limits;
    this.lastProgress = now;
  }

  /** How often to call {@link check}; undefined when no limit is set. */
  get tickMs(): number | undefined {
    const l = this.limits;
    const set = [l.stallTimeoutMs, l.pendingTimeoutMs, l.stallWarnAfterMs, l.pendingWarnAfterMs].filter(
      (v): v is number => v !== undefined,
    );
    if (set.length === 0) return undefined;
    return Math.max(10, Math.min(1000, Math.floor(Math.min(...set) / 4)));
  }

  /** A unit finished (done, failed or blocked). */
  progress(id: string, now: number): void {
    this.lastProgress = now;
    this.waitingSince.delete(id);
  }

  /** A unit waits (kept from its first wait until it runs or finishes). */
  waiting(id: string, now: number): void {
    if (!this.waitingSince.has(id)) this.waitingSince.set(id, now);
  }

  /** A unit stopped waiting without finishing (it started running). */
  running(id: string): void {
    this.waitingSince.delete(id);
  }

  /** The stall to report now, if any: fatal limits first, each warning once. */
  check(now: number): Stall | undefined {
    const l = this.limits;
    const idle = now - this.lastProgress;
    let oldest: [string, number] | undefined;
    for (const entry of this.waitingSince) if (!oldest || entry[1] < oldest[1]) oldest = entry;
    const waited = oldest ? now - oldest[1] : 0;
    if (l.stallTimeoutMs !== undefined && idle >= l.stallTimeoutMs) {
      return { fatal: true, message: `nothing finished for ${idle} ms (stallTimeout ${l.stallTimeoutMs} ms)` };
    }
    if (l.pendingTimeoutMs !== undefined && oldest && waited >= l.pendingTimeoutMs) {
      return { fatal: true, message: `${oldest[0]} waited ${waited} ms (pendingTimeout ${l.pendingTimeoutMs} ms)` };
    }
    if (l.stallWarnAfterMs !== undefined && idle >= l.stallWarnAfterMs && !this.warned.stall) {
      this.warned.stall = true;
      return { fatal: false, message: `nothing finished for ${idle} ms (stallWarnAfter ${l.stallWarnAfterMs} ms)` };
    }
    if (l.pendingWarnAfterMs !== undefined && oldest && waited >= l.pendingWarnAfterMs && !this.warned.pending) {
      this.warned.pending = true;
      return { fatal: false, message: `${oldest[0]} waited ${waited} ms (pendingWarnAfter ${l.pendingWarnAfterMs} ms)` };
    }
    return undefined;
  }
}
