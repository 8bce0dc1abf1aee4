/**
 * Orphans: output files recorded by a unit that no longer exists (its page vanished from a
 * shorter re-split, its source was deleted). They stay on disk until `clean --orphans`, but a
 * fan-in never reads them as inputs: only a file its own record names counts, so a hand-written
 * file that merely matches an output pattern is still an ordinary input.
 */
import type { ResolvedConfig } from '../config/resolved.ts';
import { unitId, type UnitGraph } from '../graph/unit.ts';
import type { FileSystem } from './file-system.ts';
import { readOutputRecord } from './output-record.ts';

/**
 * A predicate over files, memoised for one graph: true for a file only a vanished unit wrote.
 * A record is read only for a file whose producing unit is missing from the graph, so a build
 * without orphans reads none.
 */
export function orphanCheck(
  fs: FileSystem,
  config: ResolvedConfig,
  graph: UnitGraph,
  tasks: ReadonlySet<string>,
): (file: string) => boolean {
  // Only tasks whose units this graph expanded: for any other task, a missing unit proves nothing.
  // Glob outputs count too: the pages of a split whose source was deleted are orphans, and the
  // record (not the glob) says which of the matching files that unit wrote.
  const producers = [...config.tasks.values()]
    .filter((t) => tasks.has(t.name))
    .flatMap((task) => task.outputs.map((o) => ({ task, pattern: o.pattern })));
  const cache = new Map<string, boolean>();
  // One read per vanished unit, however many pages it left behind.
  const records = new Map<string, ReadonlySet<string>>();
  return (file) => {
    const known = cache.get(file);
    if (known !== undefined) return known;
    let orphan = false;
    for (const { task, pattern } of producers) {
      const values = pattern.match(file);
      // A glob output that does not bind every wildcard names no single unit.
      if (!values || task.wildcards.some((w) => values[w] === undefined)) continue;
      const id = unitId(task.name, task.wildcards, values);
      if (graph.units.has(id)) break;
      if (!records.has(id)) records.set(id, new Set(readOutputRecord(fs, id)?.files));
      if (records.get(id)?.has(file) === true) {
        orphan = true;
        break;
      }
    }
    cache.set(file, orphan);
    return orphan;
  };
}
