/** `runcue graph [targets...]`: the task graph, or with `--units` the unit graph, on stdout. */
import { renderGraph } from '../../graph/render.ts';
import { tasksNeeded } from '../../graph/select.ts';
import { taskGraphView, unitGraphView } from '../../graph/view.ts';
import type { CliContext, GraphCommandOptions } from '../options.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { loadPlan } from './load.ts';

/** Prints the graph of the targets (all tasks when none) in the chosen format; exit 0, or 2 on a bad target. */
export async function graphCommand(targets: readonly string[], options: GraphCommandOptions, context: CliContext): Promise<number> {
  const loaded = await loadPlan(targets, options, context);
  if (!loaded.ok) return loaded.exitCode;
  const { config } = loaded;
  const { tasks, graph, selection, needed } = loaded.plan;
  let view;
  if (options.units) {
    view = unitGraphView(graph, needed, tasks.after);
  } else {
    const unitCounts = new Map<string, number>();
    for (const unit of graph.units.values()) {
      if (!unit.placeholder) unitCounts.set(unit.task, (unitCounts.get(unit.task) ?? 0) + 1);
    }
    const only = tasksNeeded(selection, tasks);
    for (const name of only) if (!unitCounts.has(name)) unitCounts.set(name, 0);
    view = taskGraphView(config, tasks, { only, unitCounts });
  }
  context.stdout.write(renderGraph(view, options.json ? 'json' : options.format));
  return EXIT_CODES.ok;
}
