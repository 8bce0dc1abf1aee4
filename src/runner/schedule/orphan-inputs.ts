/**
 * A replan that makes no unit out of an orphan: a file recorded by a unit that no longer exists
 * (orphans.ts). A fan-in skips orphans when it reads its inputs, but a unit with a concrete input
 * was still made from one: after a shorter re-split, the word files of a vanished page made
 * `count` units, and their outputs were summed into the document's total as if the page were
 * still there. So the files such units came from are hidden and the graph is expanded again,
 * until no unit comes from an orphan (one more round per level of vanished producers).
 */
import type { Pattern } from '../../patterns/pattern.ts';
import type { Wildcards } from '../../config/types.ts';
import type { FileSource } from '../../graph/expand.ts';
import type { Unit, UnitGraph } from '../../graph/unit.ts';
import type { FileSystem } from '../file-system.ts';
import { orphanCheck } from '../orphans.ts';
import { replan, type Replan, type ReplanOptions } from './replan.ts';

/** The replan and the orphan check of its graph. */
export interface OrphanFreeReplan {
  readonly next: Replan;
  readonly isOrphan: (file: string) => boolean;
}

/**
 * {@link replanWithoutOrphans} from the files as they are now: the listings of the walk before
 * are forgotten first, and this one's once it is done. Nothing reads them until the next
 * expansion, which lists again, and they held every file's path (10,000s of strings for a
 * rehearsal's inputs) for the rest of the run.
 */
export function replanFromFiles(
  options: ReplanOptions & { readonly fs: FileSystem; readonly files: FileSource & { invalidate(): void } },
): OrphanFreeReplan {
  options.files.invalidate();
  const replanned = replanWithoutOrphans(options);
  options.files.invalidate();
  return replanned;
}

/** {@link replan}, expanded again without the orphan files that units were made from. */
function replanWithoutOrphans(options: ReplanOptions & { readonly fs: FileSystem }): OrphanFreeReplan {
  const hidden = new Set<string>();
  // A unit the run waited on that was made from a hidden file goes too (replan would keep it).
  const disowned = (unit: Unit): boolean => unit.inputs.some((input) => hidden.has(input.path));
  for (;;) {
    const files = hidden.size === 0 ? options.files : without(options.files, hidden);
    const next = replan({ ...options, files, disowned });
    const isOrphan = orphanCheck(options.fs, options.config, next.plan.graph, options.neededTasks);
    const before = hidden.size;
    for (const file of orphanInputs(next.plan.graph, options, isOrphan)) hidden.add(file);
    // Each round hides at least one more file, or it is the last.
    if (hidden.size === before) return { next, isOrphan };
  }
}

/**
 * Concrete input files of units that wait for no unit although their task consumes another's
 * outputs, and that only a vanished unit wrote. A unit with a producer in the graph (every unit
 * of a build with no orphans) costs one lookup.
 */
function orphanInputs(graph: UnitGraph, options: ReplanOptions, isOrphan: (file: string) => boolean): string[] {
  const found: string[] = [];
  graph.units.forEach((unit, id) => {
    if (unit.placeholder || (graph.deps.get(id)?.size ?? 0) > 0) return;
    if ((options.tasks.upstream.get(unit.task)?.length ?? 0) === 0) return;
    for (const input of unit.inputs) if (!input.isGlob && isOrphan(input.path)) found.push(input.path);
  });
  return found;
}

/** `files` without the `hidden` ones. */
function without(files: FileSource, hidden: ReadonlySet<string>): FileSource {
  const each = files.forEachMatch?.bind(files);
  return {
    list: (pattern: Pattern) => files.list(pattern).filter((file) => !hidden.has(file)),
    ...(each
      ? {
          forEachMatch: (pattern: Pattern, visit: (file: string, wildcards: Wildcards) => void) =>
            each(pattern, (file, wildcards) => {
              if (!hidden.has(file)) visit(file, wildcards);
            }),
        }
      : {}),
  };
}
