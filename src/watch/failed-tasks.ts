/**
 * Which failures a config reload keeps. A unit that failed is not retried until one of its inputs
 * changes (it may be a paid call); a reload that changed its task (command, function, patterns,
 * options or the services it uses) may have fixed it, so that task's units are tried again.
 */
import type { ResolvedConfig } from '../config/resolved.ts';

/** The task as the config states it, functions by their source: equal when an edit left it alone. */
function taskSignature(config: ResolvedConfig, name: string): string | undefined {
  const task = config.tasks.get(name);
  if (task === undefined) return undefined;
  const services = task.uses.map((service) => config.services.get(service));
  try {
    return JSON.stringify({ task, services }, (_key, value: unknown) => (typeof value === 'function' ? String(value) : value));
  } catch {
    // Not serialisable (a cycle, a BigInt): taken as changed, so the unit is tried again.
    return undefined;
  }
}

/** Forgets the failures of units whose task the reload changed or removed; keeps the others. */
export function keepFailuresOfUnchangedTasks(failed: Map<string, string>, before: ResolvedConfig, after: ResolvedConfig): void {
  const unchanged = new Map<string, boolean>();
  for (const unit of [...failed.keys()]) {
    // A unit id is `task[wildcards]` or the task's name; task names cannot hold `[`.
    const task = unit.split('[', 1)[0] ?? unit;
    let same = unchanged.get(task);
    if (same === undefined) {
      const signature = taskSignature(before, task);
      same = signature !== undefined && signature === taskSignature(after, task);
      unchanged.set(task, same);
    }
    if (!same) failed.delete(unit);
  }
}
