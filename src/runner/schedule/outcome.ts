/** How a run ended, told twice: the `run:done` event and the result `build` resolves to. */
import type { RunEvent } from '../events.ts';
import type { Book } from './book.ts';
import type { BuildResult, RunState } from './context.ts';
import type { Ledger } from './ledger.ts';
import type { PlanRecorder } from './plan-recorder.ts';

/** What the end of a run reads. */
export interface OutcomeSources {
  readonly book: Book;
  readonly ledger: Ledger;
  readonly state: RunState;
  readonly recorder: PlanRecorder | undefined;
  readonly pushBacks: number;
  readonly durationMs: number;
  readonly time: number;
}

/** The run's `run:done` event and its result. */
export function runOutcome(sources: OutcomeSources): {
  readonly event: Extract<RunEvent, { type: 'run:done' }>;
  readonly result: BuildResult;
} {
  const { book, ledger, state, durationMs } = sources;
  const ok = book.failures.length === 0 && book.blocked.length === 0 && state.interrupted === undefined && state.stalled === undefined;
  const notStarted = book.notStarted();
  const counts = { ...book.counts, ...(book.interrupted > 0 ? { interrupted: book.interrupted } : {}) };
  const interrupted = state.interrupted ? { interrupted: state.interrupted } : {};
  return {
    event: {
      type: 'run:done',
      time: sources.time,
      ok,
      durationMs,
      counts,
      ...interrupted,
      ...(notStarted > 0 ? { notStarted } : {}),
      ...(sources.pushBacks > 0 ? { pushBacks: sources.pushBacks } : {}),
    },
    result: {
      ok,
      counts,
      durationMs,
      failures: book.failures,
      blocked: book.blocked,
      plan: sources.recorder?.entries ?? [],
      failedInputs: ledger.failedInputs,
      written: ledger.written,
      cleared: ledger.cleared,
      nextExpiry: ledger.nextExpiry,
      rewrote: ledger.rewrote,
      graph: book.plan.graph,
      ...interrupted,
    },
  };
}
