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
import { bindFromGlob } from '../patterns/glob-bind.ts';
import { isGlobPath } from '../patterns/glob-syntax.ts';
import type { Pattern } from '../patterns/pattern.ts';
import type { ResolvedConfig, ResolvedTask } from '../config/resolved.ts';
import { describeValue } from '../config/schema.ts';
import { describeThrown } from '../describe-thrown.ts';
import type { Wildcards } from '../config/types.ts';
import type { TaskGraph } from './tasks.ts';
import { OutputIndex, producersOf } from './output-index.ts';
import { unitId, type Unit, type UnitGraph, type UnitPath } from './unit.ts';

/** Existing files, as sorted relative POSIX paths. */
export interface FileSource {
  list(pattern: Pattern): readonly string[];
  /** The same files with their bindings, when the source has them at hand (saves a match each, and a list). */
  forEachMatch?(pattern: Pattern, visit: (file: string, wildcards: Wildcards) => void): void;
}

/** What the unit graph is expanded from: the config, its task graph and the files on disk. */
export interface ExpandOptions {
  readonly config: ResolvedConfig;
  readonly tasks: TaskGraph;
  readonly files: FileSource;
  /** True once a unit has finished (done or fresh): its glob outputs are then real files. */
  readonly isSettled: (unitId: string) => boolean;
  /** Only these tasks get units (the selection and its upstream); default: all. */
  readonly only?: ReadonlySet<string>;
}

type Binding = Readonly<Record<string, string>>;

/** The units of the (selected) tasks and the edges between them, from patterns and existing files. */
export function expandGraph(options: ExpandOptions): UnitGraph {
  const { config, tasks, only } = options;
  const units = new Map<string, Unit>();
  const index = new OutputIndex();
  const deps = new Map<string, ReadonlySet<string>>();
  const taskOf = (id: string): string | undefined => units.get(id)?.task;

  for (const name of tasks.order) {
    if (only && !only.has(name)) continue;
    const task = config.tasks.get(name);
    if (!task) continue;
    const taskUnits: Unit[] = [];
    const { bindings, known } = bindingsOf(task, options, index);
    for (let b = 0; b < bindings.length; b++) {
      const unit = makeUnit(task, bindings[b] as Binding, known?.pattern, known?.paths[b]);
      if (units.has(unit.id)) continue;
      units.set(unit.id, unit);
      taskUnits.push(unit);
    }
    // Index loops and forEach, not for-of, in this function and producersOf: run once per unit,
    // mostly before the optimizer steps in, for-of allocates an iterator result per step.
    for (let u = 0; u < taskUnits.length; u++) {
      const unit = taskUnits[u] as Unit;
      const open = unit.placeholder || !options.isSettled(unit.id);
      for (let o = 0; o < unit.outputs.length; o++) {
        const out = unit.outputs[o] as UnitPath;
        if (!out.isGlob) index.addConcrete(out.path, unit, taskOf);
        else index.addDynamic(out.path, unit.id, open);
      }
    }
  }
  // Edges once every output is known: a function input the task graph could not place may
  // read from a task expanded after it. A task never consumes its own outputs (a cycle).
  // Only units that wait for something: most wait for nothing, and the readers take a missing
  // entry for none (no table insert per unit).
  units.forEach((unit) => {
    const producers = producersOf(unit, index, units);
    if (producers.size > 0) deps.set(unit.id, producers);
  });

  const dependents = new Map<string, Set<string>>();
  deps.forEach((ds, id) => {
    for (const d of ds) {
      let set = dependents.get(d);
      if (!set) dependents.set(d, (set = new Set()));
      set.add(id);
    }
  });
  return index.conflicts.length > 0 ? { units, deps, dependents, conflicts: index.conflicts } : { units, deps, dependents };
}

/**
 * The paths a concrete (glob-free) input pattern matched, one per binding: what the pattern
 * fills back from each, as the very strings of the listing. A unit's input is then the listed
 * string, not an equal copy: 10,000s fewer strings kept, and a lookup by it in a table keyed by
 * the listing (a file system in memory, a stat cache) compares one pointer, not the characters.
 */
interface KnownPaths {
  readonly pattern: Pattern;
  readonly paths: readonly (string | undefined)[];
}

interface Bindings {
  readonly bindings: Binding[];
  /** Set when the bindings came from one concrete pattern's matches alone. */
  readonly known?: KnownPaths;
}

/** Distinct wildcard bindings of a task's units (partial ones become placeholders). */
function bindingsOf(task: ResolvedTask, options: ExpandOptions, index: OutputIndex): Bindings {
  let bindings: Binding[] = [{}];
  let known: KnownPaths | undefined;
  const bound = new Set<string>();
  // Concrete patterns bind first: a fan-in glob filled from them can then be reported missing
  // (`summarize[doc=a] waits for work/a/text/*.txt`) instead of silently giving no unit.
  const patterns = task.inputs.flatMap((i) => (i.kind === 'pattern' ? [i.pattern] : []));
  patterns.sort((a, b) => Number(a.isGlob) - Number(b.isGlob));
  let joins = 0;
  for (const pattern of patterns) {
    if (pattern.wildcards.every((w) => bound.has(w))) continue;
    const paths = pattern.isGlob ? undefined : [];
    const found = matchesOf(pattern, options, index, paths);
    // The first pattern's distinct matches are the bindings as they are: no join, no copy.
    if (joins++ === 0) {
      bindings = found;
      known = paths && { pattern, paths };
    } else bindings = join(bindings, found);
    for (const w of pattern.wildcards) bound.add(w);
    if (bindings.length === 0) return { bindings: [] };
  }
  // One pattern binding exactly the output wildcards: matchesOf already made them distinct.
  if (joins === 1 && patterns.some((p) => p.wildcards.length === task.wildcards.length)) return known ? { bindings, known } : { bindings };
  // Keep only output wildcards: an input wildcard must appear in the output (config rule).
  const seen = new Set<string>();
  const result: Binding[] = [];
  for (const b of bindings) {
    const key = task.wildcards.map((w) => b[w] ?? '\u0000').join('\u0001');
    if (seen.has(key)) continue;
    seen.add(key);
    result.push(b);
  }
  return { bindings: result };
}

/** `paths` (a concrete pattern's): gets the path each binding was matched in, aligned with the bindings. */
function matchesOf(pattern: Pattern, options: ExpandOptions, index: OutputIndex, paths?: (string | undefined)[]): Binding[] {
  const out: Binding[] = [];
  const names = pattern.wildcards;
  const only = names.length === 1 ? (names[0] ?? '') : undefined;
  // A one-wildcard pattern (the common case) keys by its value: no array, no join.
  const keyOf = (b: Wildcards): string => (only !== undefined ? (b[only] ?? '\u0000') : names.map((w) => b[w] ?? '\u0000').join('\u0001'));
  // A concrete pattern fills its binding back into the one path it matched, so the distinct
  // files of one listing are distinct bindings: the set of keys is made only once a second
  // source (outputs to come) adds to the first (10,000s of inputs are one listing).
  let seen: Set<string> | undefined;
  const needSeen = (): Set<string> => {
    if (seen === undefined) {
      seen = new Set();
      for (let i = 0; i < out.length; i++) seen.add(keyOf(out[i] as Binding));
    }
    return seen;
  };
  const add = (b: Wildcards, path: string | undefined): void => {
    const known = needSeen();
    const key = keyOf(b);
    if (known.has(key)) return;
    known.add(key);
    // Bindings are read, never written: match() makes a new object per file (or the shared
    // frozen empty one), so it is kept as it is.
    out.push(b);
    paths?.push(path);
  };
  if (options.files.forEachMatch) {
    if (pattern.isGlob) options.files.forEachMatch(pattern, (file, b) => add(b, file));
    else
      options.files.forEachMatch(pattern, (file, b) => {
        out.push(b);
        paths?.push(file);
      });
  } else {
    for (const file of options.files.list(pattern)) {
      const b = pattern.match(file);
      if (b) add(b, file);
    }
  }
  for (const path of index.under(pattern.base)) {
    const b = pattern.match(path);
    if (b) add(b, path);
  }
  for (const d of index.dynamic) {
    if (!d.open) continue;
    const b = bindFromGlob(pattern, d.glob);
    // A glob's binding: the pattern filled from it may still be a glob, not this path.
    if (b) add(b, undefined);
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

/** `knownPath`: the path `known` (one of the task's input patterns) matched to give `binding`. */
function makeUnit(task: ResolvedTask, binding: Binding, known?: Pattern, knownPath?: string): Unit {
  // Index loops, no closures: this runs once per unit, 100,000s of them, mostly before V8
  // optimises it. A one-wildcard task's binding with its value is its values (input wildcards are
  // among the output's): kept, not copied (bindings are read, never written).
  const names = task.wildcards;
  let placeholder = false;
  const keep = names.length === 1 && binding[names[0] as string] !== undefined;
  const values: Record<string, string> = keep ? binding : {};
  for (let i = 0; !keep && i < names.length; i++) {
    const w = names[i] as string;
    const v = binding[w];
    if (v === undefined) placeholder = true;
    else values[w] = v;
  }
  // An array of exactly its length (a unit lives as long as the run).
  const mapped: (UnitPath | undefined)[] = new Array<UnitPath | undefined>(task.inputs.length);
  let dropped = false;
  for (let i = 0; i < task.inputs.length; i++) {
    const spec = task.inputs[i] as ResolvedTask['inputs'][number];
    const input =
      knownPath !== undefined && spec.kind === 'pattern' && spec.pattern === known
        ? { name: spec.name, path: knownPath, isGlob: false }
        : unitInput(task, spec, values, placeholder);
    if (input === undefined) dropped = true;
    mapped[i] = input;
  }
  const inputs = dropped ? mapped.filter((i) => i !== undefined) : (mapped as UnitPath[]);
  const outputs = new Array<UnitPath>(task.outputs.length);
  for (let i = 0; i < task.outputs.length; i++) {
    const output = task.outputs[i] as ResolvedTask['outputs'][number];
    const path = output.pattern.fill(values);
    const isGlob = output.pattern.isGlob || (placeholder && !allBound(output.pattern.wildcards, values));
    outputs[i] = output.optional ? { name: output.name, path, isGlob, optional: true } : { name: output.name, path, isGlob };
  }
  return { id: unitId(task.name, names, values), task: task.name, wildcards: values, inputs, outputs, placeholder };
}

/** Whether every one of `names` has a value. */
function allBound(names: readonly string[], values: Binding): boolean {
  for (let i = 0; i < names.length; i++) if (values[names[i] as string] === undefined) return false;
  return true;
}

/** One input of a unit; undefined for a function input that cannot answer for a placeholder. */
function unitInput(task: ResolvedTask, input: ResolvedTask['inputs'][number], values: Binding, placeholder: boolean): UnitPath | undefined {
  if (input.kind === 'pattern') {
    const path = input.pattern.fill(values);
    return { name: input.name, path, isGlob: input.pattern.isGlob || (placeholder && !allBound(input.pattern.wildcards, values)) };
  }
  const anyValues = { ...Object.fromEntries(task.wildcards.map((w) => [w, '*'])), ...values };
  try {
    const unknown: string[] = [];
    const returned: unknown = input.fn(noticingUnknown(anyValues, unknown));
    // `({ nme }) => ...` gives `cfg/undefined.json`, which then waits for a file nobody makes.
    if (unknown.length > 0) {
      const has = task.wildcards.length === 0 ? 'it has no wildcards' : `its wildcards: ${task.wildcards.join(', ')}`;
      const path = `(input ${input.name}: its function read wildcard "${unknown[0] ?? ''}", which task ${task.name} does not have (${has}))`;
      return { name: input.name, path, isGlob: false };
    }
    const refused = refusedInputPath(returned);
    // Like a pattern with `..`, the path is refused: the unit waits for it, and says why.
    if (refused !== undefined) {
      const what = typeof returned === 'string' ? JSON.stringify(returned) : describeReturned(returned);
      return { name: input.name, path: `(input ${input.name}: its function returned ${what}: ${refused})`, isGlob: false };
    }
    const path = normalize(returned as string);
    return { name: input.name, path, isGlob: isGlobPath(path) };
  } catch (error) {
    // A placeholder asks with '*', which the function may not handle: leave the input out.
    if (placeholder) return undefined;
    // Expansion is pure and must not throw: the unit waits for a path nobody can make, and
    // its diagnostic says why.
    return { name: input.name, path: `(input ${input.name}: its function threw: ${describeThrown(error)})`, isGlob: false };
  }
}

/** Names an input function may read from its wildcards that are no wildcard (no unit has them). */
const NOT_WILDCARDS = new Set(['then', 'toJSON']);

/** `values`, noting in `unknown` each name read from it that it does not hold. */
function noticingUnknown(values: Binding, unknown: string[]): Binding {
  return new Proxy(values, {
    get(target, key, receiver) {
      if (typeof key === 'string' && !(key in target) && !NOT_WILDCARDS.has(key)) unknown.push(key);
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
}

/** What an input function returned, for a message; a hostile Proxy cannot make it throw. */
function describeReturned(value: unknown): string {
  try {
    return describeValue(value);
  } catch {
    return 'a value that cannot be described';
  }
}

/** Why a value returned by an input function is not a path inside the config directory. */
function refusedInputPath(path: unknown): string | undefined {
  if (typeof path !== 'string' || path === '') return 'expected a path string';
  if (path.startsWith('/')) return 'absolute paths are not allowed (inputs are relative to the config directory)';
  if (path.split('/').includes('..')) return '".." segments are not allowed (inputs stay inside the config directory)';
  return undefined;
}

function normalize(path: string): string {
  return path.replace(/^(\.\/)+/, '').replace(/\/{2,}/g, '/');
}
