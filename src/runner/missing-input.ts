/**
 * What to say about an input that does not exist and that no unit in the graph will make. "No
 * task produces it" is only true when no task's output pattern could match it; when one could,
 * the truth is that the producing task has no unit for it, and why: its own input matches nothing.
 */
import { bindFromGlob } from '../patterns/glob-bind.ts';
import { globsIntersect } from '../patterns/glob-intersect.ts';
import type { ResolvedConfig } from '../config/resolved.ts';
import type { Unit } from '../graph/unit.ts';
import { dirsAbove } from '../graph/tasks.ts';

export function missingInputMessage(config: ResolvedConfig, unit: Unit, input: string, noDeps = false): string {
  // An input function that threw or returned no usable path (expand.ts): that is the whole story.
  if (input.startsWith('(input ') && input.endsWith(')')) return `${unit.id} waits for ${input.slice(1, -1)}`;
  for (const task of config.tasks.values()) {
    if (task.name === unit.task) continue;
    // Its output may also be a directory above the input (`site` for `site/index.html`).
    const output = task.outputs.find(
      (o) =>
        globsIntersect(o.pattern.glob, input) || (!o.pattern.isGlob && dirsAbove(input).some((d) => globsIntersect(o.pattern.glob, d))),
    );
    if (!output) continue;
    // Its units were left out on purpose: whether it has one for this input is not known here.
    if (noDeps)
      return `${unit.id} waits for ${input}: no file matches; task ${task.name} would produce it, but --no-deps builds no upstream`;
    const values = bindFromGlob(output.pattern, input) ?? {};
    const sources = task.inputs.flatMap((i) => (i.kind === 'pattern' ? [i.pattern.fill(values)] : []));
    const why = sources.length === 0 ? '' : ` (no file matches its input ${sources.join(', ')})`;
    return `${unit.id} waits for ${input}: no file matches; task ${task.name} would produce it but has no unit for it${why}`;
  }
  return `${unit.id} waits for ${input}: no file matches and no task produces it`;
}
