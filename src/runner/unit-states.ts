/**
 * Each unit's state as `build` would find it now: the runner's own dry run (the one behind
 * `runcue plan`), so hash freshness, custom checks and upstream work all count exactly as in a
 * build. Placeholders (units a dynamic producer has yet to reveal) come from the static graph.
 */
import type { ResolvedConfig } from '../config/resolved.ts';
import type { UnitGraph } from '../graph/unit.ts';
import { ok, unreachable, type Result } from '../result.ts';
import { build, type BuildFailure } from './build.ts';
import type { PlanEntry } from './events.ts';

/**
 * `fresh`: up to date; `stale`: build would run it (its own check, or upstream work first);
 * `waiting`: it waits for units a dynamic producer has yet to reveal; `blocked`: an input is
 * missing and nothing will produce it, or a custom check throws.
 */
export type UnitState = 'fresh' | 'stale' | 'waiting' | 'blocked';

/** The states in display order. */
export const UNIT_STATES: readonly UnitState[] = ['fresh', 'stale', 'waiting', 'blocked'];

/** Units of one task by state, and its placeholders apart (the unit count will grow). */
export interface TaskStateCounts {
  readonly units: number;
  readonly placeholders: number;
  readonly states: Readonly<Record<UnitState, number>>;
}

function stateOf(entry: PlanEntry): UnitState {
  switch (entry.verdict) {
    case 'run':
      return 'stale';
    case 'fresh':
      return 'fresh';
    case 'waiting':
      return 'waiting';
    case 'blocked':
    case 'fails':
      return 'blocked';
    default:
      return unreachable(entry);
  }
}

/** Counts per task, for every task of `config` (zeros when it has no units). */
export async function countStates(
  config: ResolvedConfig,
  graph: UnitGraph,
  env: Readonly<Record<string, string | undefined>>,
): Promise<Result<Map<string, TaskStateCounts>, BuildFailure>> {
  const dryRun = await build({ config, dryRun: true, env });
  if (!dryRun.ok) return dryRun;
  const counts = new Map<string, { units: number; placeholders: number; states: Record<UnitState, number> }>();
  for (const name of config.tasks.keys()) {
    counts.set(name, { units: 0, placeholders: 0, states: { fresh: 0, stale: 0, waiting: 0, blocked: 0 } });
  }
  const seen = new Set<string>();
  for (const entry of dryRun.value.plan) {
    // A unit has one state: the first verdict the plan gives it.
    if (seen.has(entry.unit)) continue;
    seen.add(entry.unit);
    const task = counts.get(entry.task);
    if (!task) continue;
    task.units++;
    task.states[stateOf(entry)]++;
  }
  for (const unit of graph.units.values()) {
    const task = counts.get(unit.task);
    if (task && unit.placeholder) task.placeholders++;
  }
  return ok(counts);
}
