/**
 * What the scheduler does with in-flight records of other runs: a unit running elsewhere is
 * polled (with bounded backoff) until its record is gone or its owner died, then checked again;
 * a unit whose earlier run was interrupted is stale, whatever its outputs' mtimes say.
 */
import type { BlockedReason } from './events.ts';
import type { InflightRecord } from './inflight.ts';
import type { TimerHandle, Timers } from './ports.ts';
import type { CheckOutcome } from './staleness.ts';

const FIRST_POLL_MS = 100;
const LONGEST_POLL_MS = 2_000;

/** Units waiting for another process to finish them. */
export class ElsewhereWaits {
  private readonly waits = new Map<string, { timer: TimerHandle; reason: BlockedReason }>();
  private readonly timers: Timers;

  constructor(timers: Timers) {
    this.timers = timers;
  }

  /** How many units are waited for. */
  get size(): number {
    return this.waits.size;
  }

  /** Polls `stillHeld` until it says no, then calls `onFree` (never after {@link cancelAll}). */
  wait(id: string, reason: BlockedReason, stillHeld: () => boolean, onFree: () => void): void {
    let delayMs = FIRST_POLL_MS;
    const poll = (): void => {
      if (!stillHeld()) {
        this.waits.delete(id);
        onFree();
        return;
      }
      delayMs = Math.min(delayMs * 1.5, LONGEST_POLL_MS);
      this.waits.set(id, { timer: this.timers.set(poll, delayMs), reason });
    };
    this.waits.set(id, { timer: this.timers.set(poll, delayMs), reason });
  }

  /** Why `id` waits, while it does. */
  reasonOf(id: string): BlockedReason | undefined {
    return this.waits.get(id)?.reason;
  }

  /** Stops every wait; none calls its `onFree` any more. */
  cancelAll(): void {
    for (const { timer } of this.waits.values()) this.timers.clear(timer);
    this.waits.clear();
  }
}

/** `stopping`: its runcue died and its watchdog is still stopping the command (see inflight.ts). */
export function runningElsewhere(record: InflightRecord, stopping = false): Extract<BlockedReason, { kind: 'running_elsewhere' }> {
  const where = record.host === '' ? '' : ` on ${record.host}`;
  const since = new Date(record.startedAt).toISOString();
  return {
    kind: 'running_elsewhere',
    pid: record.pid,
    host: record.host,
    since: record.startedAt,
    message: stopping
      ? `a runcue that died (pid ${record.pid}${where}) is still stopping its command (watchdog pid ${record.watchdog?.pid ?? 0}): waiting`
      : `runs in another runcue process (pid ${record.pid}${where}) since ${since}: waiting for it to finish`,
  };
}

/** A unit whose earlier run died while it ran is stale (unless forced, which says more). */
export function interruptedOutcome(outcome: CheckOutcome, record: InflightRecord): CheckOutcome {
  if (outcome.kind === 'missing-input' || (outcome.kind === 'stale' && outcome.reason.kind === 'forced')) return outcome;
  return { kind: 'stale', reason: { kind: 'interrupted', pid: record.pid, startedAt: record.startedAt }, inputs: outcome.inputs };
}
