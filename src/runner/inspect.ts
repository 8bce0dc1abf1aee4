/**
 * A static view of the graph for commands that inspect or act on units without running them
 * (list, graph, clean, touch). A dynamic producer counts as settled when its outputs exist, so
 * the units built from the files it made last time are visible.
 */
import type { ResolvedConfig } from '../config/resolved.ts';
import { expandGraph } from '../graph/expand.ts';
import { checkSelection, parseTargets, selectUnits, tasksNeeded, type Selection } from '../graph/select.ts';
import { buildTaskGraph, type TaskGraph } from '../graph/tasks.ts';
import type { UnitGraph } from '../graph/unit.ts';
import { err, ok, type Result } from '../result.ts';
import type { BuildFailure } from './build.ts';
import { filesOf } from './files.ts';
import { createFileLister } from './walk.ts';

export interface StaticPlan {
  readonly tasks: TaskGraph;
  readonly graph: UnitGraph;
  readonly selection: Selection;
  /** Units the targets match (without their upstream). */
  readonly selected: ReadonlySet<string>;
  /** The selected units and, unless noDeps, everything they need. */
  readonly needed: ReadonlySet<string>;
}

export function staticPlan(config: ResolvedConfig, targets: readonly string[], noDeps = false): Result<StaticPlan, BuildFailure> {
  const tasks = buildTaskGraph(config);
  if (!tasks.ok) return tasks;
  const selection = parseTargets(targets, config);
  if (!selection.ok) return selection;
  const files = createFileLister(config.root);
  const graph = expandGraph({
    config,
    tasks: tasks.value,
    files,
    isSettled: () => false,
    only: tasksNeeded(selection.value, tasks.value),
  });
  // Second pass: producers whose dynamic outputs exist are treated as settled.
  const settled = new Set<string>();
  for (const unit of graph.units.values()) {
    if (!unit.placeholder && unit.outputs.some((o) => o.isGlob) && unit.outputs.every((o) => filesOf(config.root, o).length > 0)) settled.add(unit.id);
  }
  const final = settled.size === 0 ? graph : expandGraph({ config, tasks: tasks.value, files, isSettled: (id) => settled.has(id), only: tasksNeeded(selection.value, tasks.value) });
  const impossible = checkSelection(final, selection.value);
  if (impossible) return err(impossible);
  const after = tasks.value.after;
  return ok({
    tasks: tasks.value,
    graph: final,
    selection: selection.value,
    selected: selectUnits(final, selection.value, { noDeps: true, after }),
    needed: selectUnits(final, selection.value, { noDeps, after }),
  });
}
