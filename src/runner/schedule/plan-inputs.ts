/**
 * (plan) What a unit whose upstream would run still lacks. A plan does not look at such a unit's
 * files (its upstream would change them first), but an input that exists nowhere and that none
 * of the units it waits for would make stays missing: the build would block the unit on it once
 * they ran, so the plan says so, rather than "would run".
 */
import type { Unit, UnitPath } from '../../graph/unit.ts';
import { globsIntersect } from '../../patterns/glob-intersect.ts';
import type { FileSystem } from '../file-system.ts';
import { observeInputs } from '../staleness.ts';

/** An input of `unit` that is missing and that no unit of `deps` makes (a glob output: that could make it). */
export function unmadeMissingInput(
  unit: Unit,
  deps: Iterable<string>,
  unitOf: (id: string) => Unit | undefined,
  fs: FileSystem,
  isOrphan: (file: string) => boolean,
): UnitPath | undefined {
  const made: UnitPath[] = [];
  for (const d of deps) made.push(...(unitOf(d)?.outputs ?? []));
  for (const input of unit.inputs) {
    if (made.some((output) => couldMake(output, input))) continue;
    if ('missing' in observeInputs(fs, [input], isOrphan)) return input;
  }
  return undefined;
}

/**
 * Whether `output` is, or (a glob on either side) could be, the file `input` names, or a directory
 * above it (`site` makes `site/index.html` and `site/**\/*.html`, as the graph's edges say).
 */
export function couldMake(output: UnitPath, input: UnitPath): boolean {
  if (!output.isGlob && input.path.startsWith(`${output.path}/`)) return true;
  return output.isGlob || input.isGlob ? globsIntersect(output.path, input.path) : output.path === input.path;
}
