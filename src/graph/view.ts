/**
 * Graph views for `runcue graph` and `runcue list`: the task graph or a unit graph as plain
 * nodes and edges, ready for a renderer (render.ts). Pure.
 */
import type { ResolvedConfig, ResolvedTask } from '../config/resolved.ts';
import type { Wildcards } from '../config/types.ts';
import type { TaskGraph } from './tasks.ts';
import type { UnitGraph } from './unit.ts';

/** One task of the task graph. */
export interface TaskNode {
  readonly id: string;
  readonly task: string;
  readonly uses: readonly string[];
  /** Input patterns as written; a function entry shows as `name: (function)`. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Known units (placeholders excluded); undefined when not counted. */
  readonly units?: number;
}

/** One unit of the unit graph. */
export interface UnitNode {
  readonly id: string;
  readonly task: string;
  readonly wildcards: Wildcards;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Stands for units a dynamic producer has not made yet (unbound wildcards are `*`). */
  readonly placeholder: boolean;
}

/** `data`: the consumer reads what the producer writes; `after`: ordering only. */
export type EdgeKind = 'data' | 'after';

/** An edge from the unit or task that must finish first to the one that waits for it. */
export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: EdgeKind;
}

/** A graph ready to render: tasks or units, with edges from what must finish first. */
export type GraphView =
  | { readonly kind: 'tasks'; readonly nodes: readonly TaskNode[]; readonly edges: readonly GraphEdge[] }
  | { readonly kind: 'units'; readonly nodes: readonly UnitNode[]; readonly edges: readonly GraphEdge[] };

/** A task's input and output patterns as the user wrote them, for display. */
export function taskPatterns(task: ResolvedTask): { inputs: string[]; outputs: string[] } {
  return {
    inputs: task.inputs.map((i) => (i.kind === 'pattern' ? i.pattern.source : `${i.name}: (function)`)),
    outputs: task.outputs.map((o) => o.pattern.source),
  };
}

/**
 * The task graph: every task (or those in `only`), producers before consumers, with data edges
 * from `TaskGraph.upstream` and ordering edges from `after`.
 */
export function taskGraphView(
  config: ResolvedConfig,
  tasks: TaskGraph,
  options: { readonly only?: ReadonlySet<string>; readonly unitCounts?: ReadonlyMap<string, number> } = {},
): GraphView {
  const included = (name: string): boolean => config.tasks.has(name) && (options.only === undefined || options.only.has(name));
  const nodes: TaskNode[] = [];
  const edges: GraphEdge[] = [];
  for (const name of tasks.order) {
    const task = config.tasks.get(name);
    if (!task || !included(name)) continue;
    const units = options.unitCounts?.get(name);
    nodes.push({ id: name, task: name, uses: [...task.uses], ...taskPatterns(task), ...(units === undefined ? {} : { units }) });
    for (const from of tasks.upstream.get(name) ?? []) if (included(from)) edges.push({ from, to: name, kind: 'data' });
    for (const from of tasks.after.get(name) ?? []) if (included(from)) edges.push({ from, to: name, kind: 'after' });
  }
  return { kind: 'tasks', nodes, edges };
}

/**
 * The unit graph restricted to `ids`: data edges from `UnitGraph.deps`, and an `after` edge from
 * every unit of a task named in `after` to every unit that waits for it.
 */
export function unitGraphView(graph: UnitGraph, ids: ReadonlySet<string>, after: ReadonlyMap<string, readonly string[]>): GraphView {
  const nodes: UnitNode[] = [];
  const byTask = new Map<string, string[]>();
  for (const unit of graph.units.values()) {
    if (!ids.has(unit.id)) continue;
    nodes.push({
      id: unit.id,
      task: unit.task,
      wildcards: { ...unit.wildcards },
      inputs: unit.inputs.map((p) => p.path),
      outputs: unit.outputs.map((p) => p.path),
      placeholder: unit.placeholder,
    });
    let list = byTask.get(unit.task);
    if (!list) byTask.set(unit.task, (list = []));
    list.push(unit.id);
  }
  const order = new Map(nodes.map((n, i) => [n.id, i]));
  const edges: GraphEdge[] = [];
  for (const node of nodes) {
    const deps = [...(graph.deps.get(node.id) ?? [])].filter((d) => order.has(d));
    deps.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
    for (const from of deps) edges.push({ from, to: node.id, kind: 'data' });
    for (const before of after.get(node.task) ?? []) {
      for (const from of byTask.get(before) ?? []) edges.push({ from, to: node.id, kind: 'after' });
    }
  }
  return { kind: 'units', nodes, edges };
}
