/**
 * What a rehearsal knows of the project's records of units in flight (`.runcue/inflight`,
 * inflight.ts): a unit whose earlier run died while it ran is stale, as `build` finds it,
 * whatever its outputs' mtimes say. Read-only: nothing on disk is claimed or removed, and a unit
 * the rehearsal runs counts as interrupted no more. A unit another runcue process runs now is
 * judged by its files (a rehearsal waits for no other process).
 */
import { createInflightRecords, type InflightRecords, type InflightState } from '../inflight.ts';

const NONE: InflightState = Object.freeze({ kind: 'none' });

/** The records under `root`, seen as a rehearsal sees them; `now`: the virtual clock (a record from another host ages by it). */
export function interruptedRecords(root: string, now: () => number): InflightRecords {
  const disk = createInflightRecords({ root, now });
  const ran = new Set<string>();
  return {
    inspect(unitId) {
      if (ran.has(unitId)) return NONE;
      const state = disk.inspect(unitId);
      return state.kind === 'interrupted' ? state : NONE;
    },
    claim(unit) {
      ran.add(unit.id);
      return { ok: true };
    },
    release: () => undefined,
    releaseAll: () => undefined,
    forget: () => undefined,
  };
}
