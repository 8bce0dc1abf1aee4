/**
 * Text renderings of a {@link GraphView}: Graphviz DOT, Mermaid flowchart, and JSON. Pure.
 * Unit ids contain `[`, `=` and `,`, so DOT quotes every id and Mermaid uses generated ids
 * with the real id in the label.
 */
import { unreachable } from '../result.ts';
import type { GraphEdge, GraphView, TaskNode, UnitNode } from './view.ts';

/** Version of the JSON graph document; fields are only ever added within a version. */
const GRAPH_JSON_VERSION = 1;

/** The output formats of `runcue graph`. */
export type GraphFormat = 'dot' | 'mermaid' | 'json';

/** The view in the given format, ending with a newline. */
export function renderGraph(view: GraphView, format: GraphFormat): string {
  switch (format) {
    case 'dot':
      return renderDot(view);
    case 'mermaid':
      return renderMermaid(view);
    case 'json':
      return renderJson(view);
    default:
      return unreachable(format);
  }
}

/** `{ version: 1, kind, nodes, edges }`, pretty-printed. */
export function renderJson(view: GraphView): string {
  return `${JSON.stringify({ version: GRAPH_JSON_VERSION, kind: view.kind, nodes: view.nodes, edges: view.edges }, null, 2)}\n`;
}

/** A DOT quoted string: only `"` needs escaping, and a `\` is doubled so it cannot escape the quote. */
export function dotId(text: string): string {
  return `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** A DOT label: as {@link dotId}, with newlines as `\n` (labels are escString). */
export function dotLabel(text: string): string {
  return dotId(text).replaceAll('\r', '').replaceAll('\n', '\\n');
}

/** `doc=a, page=001`, or the task name for a unit without wildcards. */
function unitLabel(node: UnitNode): string {
  const parts = Object.entries(node.wildcards).map(([k, v]) => `${k}=${v}`);
  const unbound = /\[(.*)\]$/.exec(node.id)?.[1];
  // A placeholder's unbound wildcards are only in its id (`page=*`).
  if (node.placeholder && unbound !== undefined) return unbound.split(',').join(', ');
  return parts.length === 0 ? node.task : parts.join(', ');
}

function taskLabel(node: TaskNode): string {
  const units = node.units === undefined ? '' : ` · ${node.units} unit${node.units === 1 ? '' : 's'}`;
  return `${node.task}\n${node.uses.join(', ')}${units}`;
}

/** A Graphviz digraph: tasks as boxes, or units boxed per task in clusters; `after` edges dashed. */
export function renderDot(view: GraphView): string {
  const lines = ['digraph runcue {', '  rankdir=LR;', '  node [shape=box];'];
  if (view.kind === 'tasks') {
    for (const node of view.nodes) lines.push(`  ${dotId(node.id)} [label=${dotLabel(taskLabel(node))}];`);
  } else {
    for (const [task, nodes] of groupByTask(view.nodes)) {
      lines.push(`  subgraph ${dotId(`cluster_${task}`)} {`, `    label=${dotLabel(task)};`);
      for (const node of nodes) {
        const style = node.placeholder ? ', style=dashed' : '';
        lines.push(`    ${dotId(node.id)} [label=${dotLabel(unitLabel(node))}${style}];`);
      }
      lines.push('  }');
    }
  }
  for (const edge of view.edges) lines.push(`  ${dotId(edge.from)} -> ${dotId(edge.to)}${dotEdgeStyle(edge)};`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function dotEdgeStyle(edge: GraphEdge): string {
  return edge.kind === 'after' ? ' [style=dashed, label="after"]' : '';
}

/** Text inside a Mermaid `["..."]` label: quotes and markup as entity codes. */
export function mermaidText(text: string): string {
  return text
    .replaceAll('#', '#35;')
    .replaceAll('"', '#quot;')
    .replaceAll('<', '#lt;')
    .replaceAll('>', '#gt;')
    .replaceAll('\r', '')
    .replaceAll('\n', '<br/>');
}

/** A Mermaid flowchart (left to right); ids are `n0`, `n1`... with the real ids as labels. */
export function renderMermaid(view: GraphView): string {
  const lines = ['flowchart LR'];
  const ids = new Map(view.nodes.map((n, i) => [n.id, `n${i}`]));
  const idOf = (id: string): string => ids.get(id) ?? 'unknown';
  if (view.kind === 'tasks') {
    for (const node of view.nodes) lines.push(`  ${idOf(node.id)}["${mermaidText(node.task)}"]`);
  } else {
    let t = 0;
    const placeholders: string[] = [];
    for (const [task, nodes] of groupByTask(view.nodes)) {
      lines.push(`  subgraph t${t++}["${mermaidText(task)}"]`);
      for (const node of nodes) {
        lines.push(`    ${idOf(node.id)}["${mermaidText(unitLabel(node))}"]`);
        if (node.placeholder) placeholders.push(idOf(node.id));
      }
      lines.push('  end');
    }
    if (placeholders.length > 0) {
      lines.push('  classDef placeholder stroke-dasharray: 5 5', `  class ${placeholders.join(',')} placeholder`);
    }
  }
  for (const edge of view.edges) {
    const arrow = edge.kind === 'after' ? '-.->|after|' : '-->';
    lines.push(`  ${idOf(edge.from)} ${arrow} ${idOf(edge.to)}`);
  }
  return `${lines.join('\n')}\n`;
}

function groupByTask(nodes: readonly UnitNode[]): Map<string, UnitNode[]> {
  const groups = new Map<string, UnitNode[]>();
  for (const node of nodes) {
    let list = groups.get(node.task);
    if (!list) groups.set(node.task, (list = []));
    list.push(node);
  }
  return groups;
}
