/**
 * Units that rewrite their own inputs (`sed -i ... {input}`). In watch such a unit would loop
 * forever: its run changes its input, the change starts a cycle, the cycle finds it stale again.
 * The runner reports each run that modified an input file that existed before and after it (a
 * file appearing in a glob input is never taken for the unit's own write); watch decides which
 * units to hold back (src/watch/rewriters.ts), and the runner skips those, with a warning, while
 * their inputs stay as their last run left them. Siblings reading the same file still rerun.
 */
import type { Unit } from '../graph/unit.ts';
import type { FileSystem } from './file-system.ts';
import type { FileStat } from './files.ts';
import { inputSignature, observeInputs } from './staleness.ts';

/** A unit's last run changed its own inputs: what they looked like right after it. */
export interface InputRewrite {
  /** The inputs' signature (see `inputSignature`) after the run. */
  readonly signature: string;
  /** The input files it changed (files that existed before and after it ran). */
  readonly paths: readonly string[];
}

/** The rewrite to remember after a run that changed `rewrote`, or undefined when it changed none. */
export function rewriteAfterRun(fs: FileSystem, unit: Unit, rewrote: readonly string[]): InputRewrite | undefined {
  if (rewrote.length === 0) return undefined;
  const now = observeInputs(fs, unit.inputs);
  return 'missing' in now ? undefined : { signature: inputSignature(now.files), paths: rewrote };
}

/** The earlier rewrite of unit `id`, when its inputs are still exactly as that run left them. */
export function unchangedSinceRewrite(
  earlier: ReadonlyMap<string, InputRewrite> | undefined,
  id: string,
  inputs: ReadonlyMap<string, FileStat>,
): InputRewrite | undefined {
  const rewrite = earlier?.get(id);
  return rewrite !== undefined && rewrite.signature === inputSignature(inputs) ? rewrite : undefined;
}

/** The warning shown when watch holds such a unit back. */
export function rewriteWarning(rewrite: InputRewrite): string {
  const [first] = rewrite.paths;
  const what = rewrite.paths.length === 1 && first !== undefined ? `input ${first}` : `inputs ${rewrite.paths.join(', ')}`;
  const them = rewrite.paths.length === 1 ? 'it changes' : 'one of them changes';
  return `changes its own ${what} each time it runs; not rerunning it until ${them} from outside`;
}
