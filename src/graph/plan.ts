/**
 * The one plan pipeline: targets -> task graph and selection -> units (expand, select, and in
 * watch the part a change affects). `build`, the inspecting commands and every replan of a
 * running build go through here. Pure: files come from a {@link FileSource}.
 */
import type { ResolvedConfig } from '../config/resolved.ts';
import { ok, type Result } from '../result.ts';
import { affectedUnits } from './affected.ts';
import { expandGraph, type FileSource } from './expand.ts';
import { parseTargets, selectUnits, tasksNeeded, type Selection, type TargetFailure } from './select.ts';
import { buildTaskGraph, type CycleFailure, type TaskGraph } from './tasks.ts';
import type { UnitGraph } from './unit.ts';

/** What the targets ask for, at the task level: computed once per run. */
export interface TargetPlan {
  readonly tasks: TaskGraph;
  readonly selection: Selection;
  /** The selected tasks and every task they may need (data upstream and `after`). */
  readonly neededTasks: ReadonlySet<string>;
}

/** Checks the task graph (no cycle) and the targets (each names something). */
export function planTargets(config: ResolvedConfig, targets: readonly string[]): Result<TargetPlan, CycleFailure | TargetFailure> {
  const tasks = buildTaskGraph(config);
  if (!tasks.ok) return tasks;
  const selection = parseTargets(targets, config);
  if (!selection.ok) return selection;
  return ok({ tasks: tasks.value, selection: selection.value, neededTasks: tasksNeeded(selection.value, tasks.value) });
}

/** Inputs of {@link planUnits}: a target plan, the files as they are, and who has settled. */
export interface PlanUnitsOptions extends TargetPlan {
  readonly config: ResolvedConfig;
  readonly files: FileSource;
  /** True once a unit has finished (done or fresh): its glob outputs are then real files. */
  readonly isSettled: (unitId: string) => boolean;
  /** Only the selected units, not their upstream. */
  readonly noDeps: boolean;
  /** (watch) Paths changed since the last cycle: only the units they affect are wanted. */
  readonly affected?: ReadonlySet<string> | undefined;
}

/** The units of one expansion and the ones the run wants. */
export interface UnitPlan {
  readonly graph: UnitGraph;
  readonly wanted: ReadonlySet<string>;
}

/** Expands the units of the needed tasks and selects the wanted ones. */
export function planUnits(options: PlanUnitsOptions): UnitPlan {
  const { config, tasks, selection } = options;
  const graph = expandGraph({ config, tasks, files: options.files, isSettled: options.isSettled, only: options.neededTasks });
  const selected = selectUnits(graph, selection, { noDeps: options.noDeps, after: tasks.after });
  return { graph, wanted: options.affected ? affectedUnits(graph, selected, options.affected, config.tasks.values()) : selected };
}
