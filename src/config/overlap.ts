/**
 * A glob output (`data/*.json`) says which files a task *may* write. When it also covers a file
 * another task reads as a plain source (`data/config.json`) or another task's outputs, nobody
 * can tell whose file is whose: `clean` and freshness would guess. Both are config errors that
 * name the two keys. A glob output feeding a downstream pattern with wildcards
 * (`pages/*.png` -> `pages/{page}.png`) is the normal case and is not checked here.
 */
import { globsIntersect } from '../patterns/glob-intersect.ts';
import type { ResolvedInput, ResolvedOutput } from './resolved.ts';
import type { PathIssue } from './schema.ts';

interface TaskPatterns {
  readonly inputs: readonly ResolvedInput[];
  readonly outputs: readonly ResolvedOutput[];
}

/** Config issues for glob outputs that also cover another task's source or outputs. */
export function outputOverlapIssues(tasks: ReadonlyMap<string, TaskPatterns>): PathIssue[] {
  const issues: PathIssue[] = [];
  for (const [name, task] of tasks) {
    for (const output of task.outputs) {
      if (!output.pattern.isGlob) continue;
      const glob = output.pattern.glob;
      const at = ['tasks', name, 'output'];
      const writes = `if ${name} writes it, declare it as an output of ${name} too; if it is a source, move it out of ${output.pattern.source}`;
      for (const [other, otherTask] of tasks) {
        if (other === name) continue;
        for (const input of otherTask.inputs) {
          if (input.kind !== 'pattern' || input.pattern.isGlob || input.pattern.wildcards.length > 0) continue;
          if (!globsIntersect(glob, input.pattern.glob)) continue;
          issues.push({
            path: at,
            message: `glob output "${output.pattern.source}" also matches tasks.${other}.input "${input.pattern.source}" (${writes})`,
          });
        }
        for (const theirs of otherTask.outputs) {
          if (!globsIntersect(glob, theirs.pattern.glob)) continue;
          issues.push({
            path: at,
            message: `glob output "${output.pattern.source}" overlaps tasks.${other}.output "${theirs.pattern.source}": a file in both belongs to neither task`,
          });
        }
      }
    }
  }
  return issues;
}
