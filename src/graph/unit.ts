/** Units of work and the graph between them. Pure data: no I/O here. */
import type { Wildcards } from '../config/types.ts';
import { joinFlat } from '../flat-string.ts';

/** One input or output of a unit: a concrete path, or a glob for a set (fan-in input, dynamic output). */
export interface UnitPath {
  /** The record key, or `input0`/`output0`... for string and array forms. */
  readonly name: string;
  /** Relative POSIX path from the config directory. */
  readonly path: string;
  readonly isGlob: boolean;
  /** (outputs) A unit that exits 0 without writing it still succeeds. */
  readonly optional?: true;
}

/** One run of a task: the task with its wildcards bound, and its concrete inputs and outputs. */
export interface Unit {
  /** `task[key=value,...]` with keys in the task's wildcard order; the task name when it has none. */
  readonly id: string;
  readonly task: string;
  readonly wildcards: Wildcards;
  readonly inputs: readonly UnitPath[];
  readonly outputs: readonly UnitPath[];
  /**
   * Stands for the units a pending dynamic producer will create (some wildcards unbound, shown as
   * `*`). It never runs; it keeps fan-in consumers waiting and disappears when re-expanded.
   */
  readonly placeholder: boolean;
}

/** The unit graph: `deps` maps a unit to the units it waits for (a unit that waits for none has no entry). */
export interface UnitGraph {
  readonly units: ReadonlyMap<string, Unit>;
  readonly deps: ReadonlyMap<string, ReadonlySet<string>>;
  readonly dependents: ReadonlyMap<string, ReadonlySet<string>>;
  /** Output files that units of two different tasks both claim (an ambiguous config). */
  readonly conflicts?: readonly OutputConflict[];
}

/** A file that units of two different tasks both claim as output. */
export interface OutputConflict {
  readonly path: string;
  readonly units: readonly [string, string];
}

/** A unit's id, `task[key=value,...]` in the task's wildcard order (`*` for an unbound one). */
export function unitId(task: string, wildcardOrder: readonly string[], values: Wildcards): string {
  if (wildcardOrder.length === 0) return task;
  // Flat: ids key the scheduler's tables of 10,000s of units (see flat-string.ts). One
  // wildcard (most tasks): an array of its exact length, not one grown by pushes.
  if (wildcardOrder.length === 1) {
    const name = wildcardOrder[0] as string;
    return joinFlat([task, '[', name, '=', values[name] ?? '*', ']']);
  }
  const parts: string[] = [task, '['];
  for (let i = 0; i < wildcardOrder.length; i++) {
    const name = wildcardOrder[i] as string;
    if (i > 0) parts.push(',');
    parts.push(name, '=', values[name] ?? '*');
  }
  parts.push(']');
  return joinFlat(parts);
}
