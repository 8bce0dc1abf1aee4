/** The units a set of units needs: its data upstream and the units of the tasks it runs `after`. */
import type { UnitGraph } from './unit.ts';

/**
 * `from` and, transitively, every unit it depends on and every unit of a task named in the `after`
 * of its tasks; only units in `among` when given (the rest of the graph otherwise). In walk order:
 * callers that need the graph's order sort it themselves.
 */
export function withUpstream(
  graph: UnitGraph,
  from: Iterable<string>,
  after: ReadonlyMap<string, readonly string[]>,
  among?: ReadonlySet<string>,
): Set<string> {
  const byTask = new Map<string, string[]>();
  const file = (id: string, task: string): void => {
    let list = byTask.get(task);
    if (!list) byTask.set(task, (list = []));
    list.push(id);
  };
  if (among) for (const id of among) file(id, graph.units.get(id)?.task ?? '');
  else for (const unit of graph.units.values()) file(unit.id, unit.task);
  const result = new Set(from);
  const stack = [...result];
  const add = (id: string): void => {
    if ((!among || among.has(id)) && !result.has(id)) {
      result.add(id);
      stack.push(id);
    }
  };
  const tasksDone = new Set<string>();
  while (stack.length > 0) {
    const id = stack.pop() ?? '';
    for (const d of graph.deps.get(id) ?? []) add(d);
    const task = graph.units.get(id)?.task ?? '';
    if (tasksDone.has(task)) continue;
    tasksDone.add(task);
    for (const before of after.get(task) ?? []) for (const d of byTask.get(before) ?? []) add(d);
  }
  return result;
}
