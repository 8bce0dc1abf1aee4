/**
 * The plan of a dry run (`runcue plan`), recorded by watching the book: each unit's verdict is the
 * move that decided it. In a dry run a stale unit is queued and then settles as `would-run`
 * instead of starting, and one that runs in another process settles the same way.
 */
import type { BlockedUnit, PlanEntry } from '../events.ts';
import type { Book } from './book.ts';

/** Records the plan of a dry run from the moves of its book. */
export class PlanRecorder {
  /** Every wanted unit in the order build would take it. */
  readonly entries: PlanEntry[] = [];

  constructor(book: Book) {
    book.onMove((id, unit, to, note) => {
      if (!unit || unit.placeholder) return;
      const entry = { unit: id, task: unit.task };
      if (to === 'fresh') this.entries.push({ ...entry, verdict: 'fresh' });
      else if (to === 'queued' && note.stale) this.entries.push({ ...entry, verdict: 'run', reason: note.stale });
      else if (to === 'elsewhere' && note.blocked) this.entries.push({ ...entry, verdict: 'waiting', reason: note.blocked });
      else if (to === 'blocked' && note.blocked) this.entries.push({ ...entry, verdict: 'blocked', reason: note.blocked });
      else if (to === 'failed' && note.error) this.entries.push({ ...entry, verdict: 'fails', error: note.error });
    });
  }

  /** As the run ends: units that still wait (on units that would run first) say what for. */
  finish(waiting: readonly BlockedUnit[]): void {
    for (const b of waiting) this.entries.push({ unit: b.unit, task: b.task, verdict: 'waiting', reason: b.reason });
  }
}
