/**
 * When a unit starts, as the run tells it. A local attempt starts when it is admitted. A queued
 * one (a queue build) is `unit:queued` then, and `unit:start` (with the worker's host) when its
 * worker starts it, which the executor tells through the request's `onStart`; its `start` hook
 * runs then too, and its duration counts from then.
 */
import type { RunEvent, StaleReason } from '../events.ts';

/** What every start event of an attempt says. */
export interface StartFacts {
  readonly task: string;
  readonly unit: string;
  readonly attempt: number;
  readonly reason: StaleReason;
  readonly command: string | undefined;
}

/** An attempt's start, said or to be said. */
export interface StartAnnouncer {
  /** For the request of a queued attempt: its executor's word that it started. */
  readonly onStart?: (start: { readonly time: number; readonly host: string }) => void;
  /** When the attempt started (for a queued one not yet started: when it was queued). */
  startedAt(): number;
}

/** Says that `facts`' attempt starts (local) or is queued (then starts when `onStart` is called). */
export function announceStart(
  emit: (event: RunEvent) => void,
  facts: StartFacts,
  admittedAt: number,
  queued: boolean,
  onStarted: () => void,
): StartAnnouncer {
  const { task, unit, attempt, reason, command } = facts;
  if (!queued) {
    // One object, keys in the order of the queued form below: a rehearsal starts 10,000s.
    emit(
      command
        ? { type: 'unit:start', time: admittedAt, task, unit, attempt, reason, command }
        : { type: 'unit:start', time: admittedAt, task, unit, attempt, reason },
    );
    onStarted();
    return new Started(admittedAt);
  }
  const base = { task, unit, attempt, reason, ...(command ? { command } : {}) };
  emit({ type: 'unit:queued', time: admittedAt, ...base });
  let startedAt: number | undefined;
  return {
    onStart: ({ time, host }) => {
      if (startedAt !== undefined) return;
      startedAt = time;
      emit({ type: 'unit:start', time, ...base, host });
      onStarted();
    },
    startedAt: () => startedAt ?? admittedAt,
  };
}

/** A local attempt's announcer: one object, not a closure and its context (a rehearsal starts 10,000s). */
class Started implements StartAnnouncer {
  private readonly at: number;
  constructor(at: number) {
    this.at = at;
  }
  startedAt(): number {
    return this.at;
  }
}
