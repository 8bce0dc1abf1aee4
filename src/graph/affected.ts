/** Which units a watch cycle checks: those a set of changed paths can affect. Pure. */
import type { ResolvedTask } from '../config/resolved.ts';
import { globMatcher } from '../patterns/glob-match.ts';
import { unitId, type UnitGraph } from './unit.ts';
import { withUpstream } from './upstream.ts';

/**
 * The part of `wanted` a set of changed paths can affect: units that read or write one of them,
 * everything downstream of those, and what those need (their upstream and the units of the tasks
 * they run `after`, which are cheap to confirm fresh, or blocked as a build finds them). A watch
 * cycle checks this instead of every unit.
 */
export function affectedUnits(
  graph: UnitGraph,
  wanted: ReadonlySet<string>,
  changedPaths: ReadonlySet<string>,
  tasks: Iterable<ResolvedTask>,
): Set<string> {
  const taskList = [...tasks];
  const changed = withVanishedOutputs(graph, changedPaths, taskList);
  const paths = [...changed];
  const touches = (p: { readonly path: string; readonly isGlob: boolean }): boolean =>
    p.isGlob ? paths.some(globMatcher(p.path)) : changed.has(p.path);
  const down = new Set<string>();
  const stack: string[] = [];
  for (const id of wanted) {
    const unit = graph.units.get(id);
    if (unit && (unit.inputs.some(touches) || unit.outputs.some(touches))) {
      down.add(id);
      stack.push(id);
    }
  }
  while (stack.length > 0) {
    for (const d of graph.dependents.get(stack.pop() ?? '') ?? []) {
      if (wanted.has(d) && !down.has(d)) {
        down.add(d);
        stack.push(d);
      }
    }
  }
  const result = withUpstream(graph, down, new Map(taskList.map((t) => [t.name, t.after])), wanted);
  // In the plan's order, not the walk's (which reverses siblings): the units an expansion makes
  // due at once (the pages of several splits) queue in this order, first come first.
  const ordered = new Set<string>();
  for (const id of wanted) if (result.has(id)) ordered.add(id);
  return ordered;
}

/**
 * `changed` plus the outputs of units that a change made vanish: a removed `in/1.txt` was the
 * only binding of `t[n=1]`, so no unit of the new graph reads it, yet a fan-in over `out/*.txt`
 * that read `out/1.txt` must be checked (it is stale without it), as a build would find.
 */
function withVanishedOutputs(graph: UnitGraph, changed: ReadonlySet<string>, tasks: readonly ResolvedTask[]): ReadonlySet<string> {
  const out = new Set(changed);
  const queue = [...changed];
  for (let path = queue.pop(); path !== undefined; path = queue.pop()) {
    for (const task of tasks) {
      for (const input of task.inputs) {
        const values = input.kind === 'pattern' ? input.pattern.match(path) : undefined;
        if (!values || task.wildcards.some((w) => values[w] === undefined)) continue;
        if (graph.units.has(unitId(task.name, task.wildcards, values))) continue;
        for (const output of task.outputs) {
          const file = output.pattern.isGlob ? undefined : output.pattern.fill(values);
          if (file !== undefined && !out.has(file)) queue.push(file);
          if (file !== undefined) out.add(file);
        }
      }
    }
  }
  return out;
}
