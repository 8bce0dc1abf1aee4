/**
 * A static view of the graph for commands that inspect or act on units without running them
 * (list, graph, clean, touch). A dynamic producer counts as settled when its outputs exist, so
 * the units built from the files it made last time are visible.
 */
import type { ResolvedConfig } from '../config/resolved.ts';
import { planTargets, planUnits, type PlanUnitsOptions } from '../graph/plan.ts';
import { checkSelection, selectUnits, type Selection } from '../graph/select.ts';
import type { TaskGraph } from '../graph/tasks.ts';
import type { UnitGraph } from '../graph/unit.ts';
import { err, ok, type Result } from '../result.ts';
import type { BuildFailure } from './build.ts';
import { filesOf } from './files.ts';
import { createFileLister } from './walk.ts';
import { nodeFileSystem } from './file-system.ts';

/** The units of a static view, and which of them the targets select. */
export interface StaticPlan {
  readonly tasks: TaskGraph;
  readonly graph: UnitGraph;
  readonly selection: Selection;
  /** Units the targets match (without their upstream). */
  readonly selected: ReadonlySet<string>;
  /** The selected units and, unless noDeps, everything they need. */
  readonly needed: ReadonlySet<string>;
}

/** Plans `targets` as they stand on disk, running nothing. */
export function staticPlan(config: ResolvedConfig, targets: readonly string[], noDeps = false): Result<StaticPlan, BuildFailure> {
  const fs = nodeFileSystem(config.root);
  const target = planTargets(config, targets);
  if (!target.ok) return target;
  const options: PlanUnitsOptions = { ...target.value, config, files: createFileLister(fs), isSettled: () => false, noDeps };
  const first = planUnits(options);
  // Second pass: producers whose dynamic outputs exist are treated as settled.
  const settled = new Set<string>();
  for (const unit of first.graph.units.values()) {
    if (!unit.placeholder && unit.outputs.some((o) => o.isGlob) && unit.outputs.every((o) => filesOf(fs, o).length > 0))
      settled.add(unit.id);
  }
  const final = settled.size === 0 ? first : planUnits({ ...options, isSettled: (id) => settled.has(id) });
  const impossible = checkSelection(final.graph, target.value.selection);
  if (impossible) return err(impossible);
  const { tasks, selection } = target.value;
  return ok({
    tasks,
    graph: final.graph,
    selection,
    selected: selectUnits(final.graph, selection, { noDeps: true, after: tasks.after }),
    needed: final.wanted,
  });
}
