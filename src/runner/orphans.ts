/**
 * Orphans: output files recorded by a unit that no longer exists (its page vanished from a
 * shorter re-split, its source was deleted). They stay on disk until `clean --orphans`, but a
 * fan-in never reads them as inputs: only a file its own record names counts, so a hand-written
 * file that merely matches an output pattern is still an ordinary input.
 */
import type { ResolvedConfig } from '../config/resolved.ts';
import { unitId, type UnitGraph } from '../graph/unit.ts';
import { readOutputRecord } from './output-record.ts';

/** A predicate over files, memoised for one graph: true for a file only a vanished unit wrote. */
export function orphanCheck(config: ResolvedConfig, graph: UnitGraph, tasks: ReadonlySet<string>): (file: string) => boolean {
  // Only tasks whose units this graph expanded: for any other task, a missing unit proves nothing.
  const producers = [...config.tasks.values()]
    .filter((t) => tasks.has(t.name))
    .flatMap((task) => task.outputs.filter((o) => !o.pattern.isGlob).map((o) => ({ task, pattern: o.pattern })));
  const cache = new Map<string, boolean>();
  return (file) => {
    const known = cache.get(file);
    if (known !== undefined) return known;
    let orphan = false;
    for (const { task, pattern } of producers) {
      const values = pattern.match(file);
      if (!values) continue;
      const id = unitId(task.name, task.wildcards, values);
      if (graph.units.has(id)) break;
      if (readOutputRecord(config.root, id)?.files.includes(file)) {
        orphan = true;
        break;
      }
    }
    cache.set(file, orphan);
    return orphan;
  };
}
