/**
 * Units from patterns and file listings, and the edges between them. Pure: files come from a
 * {@link FileSource}, and whether a dynamic producer has finished comes from `isSettled`.
 *
 * A task's units are the distinct bindings of its output wildcards, found by matching its input
 * patterns against existing files and against the outputs other tasks will produce. A producer
 * whose output is a glob (a dynamic set) and that has not finished yet cannot say which files it
 * will make; its consumers get a *placeholder* unit (unbound wildcards shown as `*`) that keeps
 * fan-in consumers waiting until the graph is expanded again after the producer settles.
 */
import { bindFromGlob, globsIntersect } from '../config/glob-intersect.ts';
import { globMatcher } from '../config/glob-match.ts';
import { isGlobPath, type Pattern } from '../config/pattern.ts';
import type { ResolvedConfig, ResolvedTask } from '../config/resolved.ts';
import type { Wildcards } from '../config/types.ts';
import type { TaskGraph } from './tasks.ts';
import { unitId, type Unit, type UnitGraph, type UnitPath } from './unit.ts';

/** Existing files, as sorted relative POSIX paths. */
export interface FileSource {
  list(pattern: Pattern): readonly string[];
}

export interface ExpandOptions {
  readonly config: ResolvedConfig;
  readonly tasks: TaskGraph;
  readonly files: FileSource;
  /** True once a unit has finished (done or fresh): its glob outputs are then real files. */
  readonly isSettled: (unitId: string) => boolean;
  /** Only these tasks get units (the selection and its upstream); default: all. */
  readonly only?: ReadonlySet<string>;
}

type Binding = Record<string, string>;

/** Concrete outputs in one sorted array, so a glob's static base is a binary-searched range. */
class OutputIndex {
  readonly byPath = new Map<string, string>();
  private sorted: string[] | undefined;
  /**
   * Dynamic (glob) outputs. `open` ones (unsettled producers, placeholders) stand for files still
   * to come and bind consumers' wildcards; settled ones only give edges (the files exist).
   */
  readonly dynamic: { glob: string; unit: string; open: boolean; isMatch: (p: string) => boolean }[] = [];

  addConcrete(path: string, unit: string): void {
    this.byPath.set(path, unit);
    this.sorted = undefined;
  }

  addDynamic(glob: string, unit: string, open: boolean): void {
    this.dynamic.push({ glob, unit, open, isMatch: globMatcher(glob) });
  }

  /** Concrete outputs under `base` (a directory prefix, '' for all). */
  under(base: string): string[] {
    this.sorted ??= [...this.byPath.keys()].sort();
    if (base === '') return this.sorted;
    const prefix = base.endsWith('/') ? base : `${base}/`;
    const all = this.sorted;
    let lo = 0;
    let hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((all[mid] ?? '') < prefix) lo = mid + 1;
      else hi = mid;
    }
    const out: string[] = [];
    for (let i = lo; i < all.length && (all[i] ?? '').startsWith(prefix); i++) out.push(all[i] ?? '');
    return out;
  }
}

export function expandGraph(options: ExpandOptions): UnitGraph {
  const { config, tasks, only } = options;
  const units = new Map<string, Unit>();
  const unitsByTask = new Map<string, Unit[]>();
  const index = new OutputIndex();
  const deps = new Map<string, Set<string>>();

  for (const name of tasks.order) {
    if (only && !only.has(name)) continue;
    const task = config.tasks.get(name);
    if (!task) continue;
    const taskUnits: Unit[] = [];
    for (const binding of bindingsOf(task, options, index)) {
      const unit = makeUnit(task, binding);
      if (units.has(unit.id)) continue;
      units.set(unit.id, unit);
      taskUnits.push(unit);
    }
    // Edges first, then register this task's outputs: a task never consumes its own outputs
    // (that would be a cycle, rejected by the task graph).
    for (const unit of taskUnits) deps.set(unit.id, producersOf(unit, index));
    for (const unit of taskUnits) {
      const open = unit.placeholder || !options.isSettled(unit.id);
      for (const out of unit.outputs) {
        if (!out.isGlob) index.addConcrete(out.path, unit.id);
        else index.addDynamic(out.path, unit.id, open);
      }
    }
    unitsByTask.set(name, taskUnits);
  }

  const dependents = new Map<string, Set<string>>();
  for (const [id, ds] of deps) {
    for (const d of ds) {
      let set = dependents.get(d);
      if (!set) dependents.set(d, (set = new Set()));
      set.add(id);
    }
  }
  return { units, deps, dependents };
}

/** Distinct wildcard bindings of a task's units (partial ones become placeholders). */
function bindingsOf(task: ResolvedTask, options: ExpandOptions, index: OutputIndex): Binding[] {
  let bindings: Binding[] = [{}];
  const bound = new Set<string>();
  // Concrete patterns bind first: a fan-in glob filled from them can then be reported missing
  // (`summarize[doc=a] waits for work/a/text/*.txt`) instead of silently giving no unit.
  const patterns = task.inputs.flatMap((i) => (i.kind === 'pattern' ? [i.pattern] : []));
  patterns.sort((a, b) => Number(a.isGlob) - Number(b.isGlob));
  for (const pattern of patterns) {
    if (pattern.wildcards.every((w) => bound.has(w))) continue;
    const found = matchesOf(pattern, options, index);
    bindings = join(bindings, found);
    for (const w of pattern.wildcards) bound.add(w);
    if (bindings.length === 0) return [];
  }
  // Keep only output wildcards: an input wildcard must appear in the output (config rule).
  const seen = new Set<string>();
  const result: Binding[] = [];
  for (const b of bindings) {
    const key = task.wildcards.map((w) => b[w] ?? '\u0000').join('\u0001');
    if (seen.has(key)) continue;
    seen.add(key);
    result.push(b);
  }
  return result;
}

function matchesOf(pattern: Pattern, options: ExpandOptions, index: OutputIndex): Binding[] {
  const out: Binding[] = [];
  const seen = new Set<string>();
  const add = (b: Wildcards): void => {
    const key = pattern.wildcards.map((w) => b[w] ?? '\u0000').join('\u0001');
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ ...b });
  };
  for (const file of options.files.list(pattern)) {
    const b = pattern.match(file);
    if (b) add(b);
  }
  for (const path of index.under(pattern.base)) {
    const b = pattern.match(path);
    if (b) add(b);
  }
  for (const d of index.dynamic) {
    if (!d.open) continue;
    const b = bindFromGlob(pattern, d.glob);
    if (b) add(b);
  }
  return out;
}

/** Natural join on shared wildcards; a wildcard missing from a partial binding joins with anything. */
function join(left: readonly Binding[], right: readonly Binding[]): Binding[] {
  const out: Binding[] = [];
  for (const l of left) {
    for (const r of right) {
      let compatible = true;
      for (const key in r) {
        const lv = l[key];
        if (lv !== undefined && lv !== r[key]) {
          compatible = false;
          break;
        }
      }
      if (compatible) out.push({ ...l, ...r });
    }
  }
  return out;
}

function makeUnit(task: ResolvedTask, binding: Binding): Unit {
  const placeholder = task.wildcards.some((w) => binding[w] === undefined);
  const values: Binding = {};
  for (const w of task.wildcards) {
    const v = binding[w];
    if (v !== undefined) values[w] = v;
  }
  const inputs: UnitPath[] = task.inputs.map((input) => {
    if (input.kind === 'pattern') {
      const path = input.pattern.fill(values);
      const open = input.pattern.wildcards.some((w) => values[w] === undefined);
      return { name: input.name, path, isGlob: input.pattern.isGlob || open };
    }
    const anyValues = { ...Object.fromEntries(task.wildcards.map((w) => [w, '*'])), ...values };
    const path = normalize(input.fn(anyValues));
    return { name: input.name, path, isGlob: isGlobPath(path) };
  });
  const outputs: UnitPath[] = task.outputs.map((output) => {
    const path = output.pattern.fill(values);
    const open = output.pattern.wildcards.some((w) => values[w] === undefined);
    return { name: output.name, path, isGlob: output.pattern.isGlob || open };
  });
  return { id: unitId(task.name, task.wildcards, values), task: task.name, wildcards: values, inputs, outputs, placeholder };
}

function normalize(path: string): string {
  return path.replace(/^(\.\/)+/, '').replace(/\/{2,}/g, '/');
}

function producersOf(unit: Unit, index: OutputIndex): Set<string> {
  const found = new Set<string>();
  for (const input of unit.inputs) {
    if (!input.isGlob) {
      const p = index.byPath.get(input.path);
      if (p !== undefined) found.add(p);
      for (const d of index.dynamic) if (d.isMatch(input.path)) found.add(d.unit);
      continue;
    }
    const matcher = globMatcher(input.path);
    for (const path of index.under(staticBase(input.path))) {
      if (matcher(path)) {
        const p = index.byPath.get(path);
        if (p !== undefined) found.add(p);
      }
    }
    for (const d of index.dynamic) if (globsIntersect(d.glob, input.path)) found.add(d.unit);
  }
  found.delete(unit.id);
  return found;
}


/** The directory prefix of a glob before its first segment with glob syntax. */
export function staticBase(glob: string): string {
  const segments = glob.split('/');
  const fixed: string[] = [];
  for (const s of segments.slice(0, -1)) {
    if (isGlobPath(s)) break;
    fixed.push(s);
  }
  return fixed.join('/');
}
