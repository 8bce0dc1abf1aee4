/** Which units a watch cycle checks: those a set of changed paths can affect. Pure. */
import { globMatcher } from '../patterns/glob-match.ts';
import type { UnitGraph } from './unit.ts';

/**
 * The part of `wanted` a set of changed paths can affect: units that read or write one of them,
 * everything downstream of those, and what those need (their upstream, which is cheap to confirm
 * fresh). A watch cycle checks this instead of every unit.
 */
export function affectedUnits(graph: UnitGraph, wanted: ReadonlySet<string>, changed: ReadonlySet<string>): Set<string> {
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
  const result = new Set(down);
  const up = [...down];
  while (up.length > 0) {
    for (const d of graph.deps.get(up.pop() ?? '') ?? []) {
      if (wanted.has(d) && !result.has(d)) {
        result.add(d);
        up.push(d);
      }
    }
  }
  return result;
}
