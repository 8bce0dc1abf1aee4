/**
 * Target selection: which units a command acts on. Targets, as typed on the command line, are
 * task names, output paths, output globs, or unit filters `task[key=glob,...]` over wildcard
 * values. Pure.
 */
import { globsIntersect } from '../patterns/glob-intersect.ts';
import { globMatcher } from '../patterns/glob-match.ts';
import { isGlobPath } from '../patterns/glob-syntax.ts';
import type { ResolvedConfig } from '../config/resolved.ts';
import { didYouMean } from '../suggest.ts';
import { err, ok, type Result } from '../result.ts';
import type { TaskGraph } from './tasks.ts';
import { KeySet } from './key-set.ts';
import { withUpstream } from './upstream.ts';
import type { Unit, UnitGraph } from './unit.ts';

/** The parsed targets of a command: which units it acts on. */
export interface Selection {
  /** No targets: every task. */
  readonly all: boolean;
  /** Each target with its own matcher; `task` targets may legitimately match no unit yet. */
  readonly targets: readonly { readonly target: string; readonly isTask: boolean; readonly matches: (unit: Unit) => boolean }[];
  /** Tasks that may hold selected units. */
  readonly tasks: ReadonlySet<string>;
  matches(unit: Unit): boolean;
}

/** A target that names no task and matches no task's output. */
export interface TargetFailure {
  readonly reason: 'unknown-target';
  readonly target: string;
  readonly message: string;
}

type Matcher = (unit: Unit) => boolean;

const FILTER = /^([^[\]]+)\[(.*)\]$/s;

function parseOne(target: string, config: ResolvedConfig): Result<{ tasks: string[]; match: Matcher }, TargetFailure> {
  const spec = target.replace(/^(\.\/)+/, '');
  if (config.tasks.has(spec)) return ok({ tasks: [spec], match: (u) => u.task === spec });

  const filter = FILTER.exec(spec);
  // `name[...]` is a unit filter only when `name` is a task; otherwise it may be an output glob.
  if (filter && config.tasks.has(filter[1] ?? '')) {
    const [, task = '', body = ''] = filter;
    const conditions = parseConditions(target, task, body, config);
    if (!conditions.ok) return conditions;
    return ok({
      tasks: [task],
      // The exact unit id always selects its unit, whatever glob syntax its values hold. A
      // placeholder (units a dynamic producer will discover) may take any value it leaves
      // unbound, as an output path target selects it: its producer must run first.
      match: (u) =>
        u.task === task &&
        (u.id === spec ||
          conditions.value.every(([k, m]) => {
            const v = u.wildcards[k];
            return v === undefined ? u.placeholder : m(v);
          })),
    });
  }

  // An output path or glob: the tasks whose output patterns could produce it.
  const tasks: string[] = [];
  for (const [name, task] of config.tasks) {
    if (task.outputs.some((o) => globsIntersect(o.pattern.glob, spec))) tasks.push(name);
  }
  if (tasks.length === 0) return unknown(target, config);
  const isMatch = globMatcher(spec);
  const globTarget = isGlobPath(spec);
  return ok({
    tasks,
    match: (u) => u.outputs.some((o) => (o.isGlob ? globsIntersect(o.path, spec) : globTarget ? isMatch(o.path) : o.path === spec)),
  });
}

/**
 * The `key=glob` conditions of a unit filter's body. A comma-separated part that does not start
 * with a wildcard of the task continues the previous value, so a value holding a comma
 * (`task[n=a,b]`, the id of the unit whose `n` is `a,b`) stays one condition.
 */
function parseConditions(
  target: string,
  task: string,
  body: string,
  config: ResolvedConfig,
): Result<[string, (v: string) => boolean][], TargetFailure> {
  const wildcards = config.tasks.get(task)?.wildcards ?? [];
  const raw: { key: string; glob: string }[] = [];
  for (const part of splitTopLevel(body)) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const last = raw.at(-1);
    if (eq >= 1 && wildcards.includes(key)) raw.push({ key, glob: part.slice(eq + 1) });
    else if (last) last.glob += `,${part}`;
    else if (part.trim() !== '') {
      const known = wildcards.join(', ') || 'none';
      return err({
        reason: 'unknown-target',
        target,
        message: `${target}: "${part}" is not key=glob over a wildcard of ${task} (wildcards: ${known})`,
      });
    }
  }
  const conditions: [string, (v: string) => boolean][] = [];
  for (const { key, glob: typed } of raw) {
    // Two conditions on one wildcard would need a unit with two values for it: say so, instead
    // of "no unit makes".
    if (conditions.some(([known]) => known === key)) {
      const message = `${target}: ${key} is given twice (a unit has one value for it; ${key}={a,b} selects either)`;
      return err({ reason: 'unknown-target', target, message });
    }
    const glob = typed.trim();
    const matcher = glob === '' ? undefined : tryGlobMatcher(glob);
    if (matcher === undefined) {
      const why = glob === '' ? 'an empty glob matches nothing (use * for any value)' : `"${glob}" is not a valid glob`;
      return err({ reason: 'unknown-target', target, message: `${target}: "${key}=${typed.trim()}": ${why}` });
    }
    conditions.push([key, matcher]);
  }
  return ok(conditions);
}

/** A matcher for a user-typed glob, or undefined when picomatch cannot compile it. */
function tryGlobMatcher(glob: string): ((value: string) => boolean) | undefined {
  try {
    return globMatcher(glob);
  } catch {
    return undefined;
  }
}

/** Splits on commas outside `{}` and `[]`, so `page={001,010}` stays one condition. */
function splitTopLevel(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '{' || c === '[') depth++;
    else if ((c === '}' || c === ']') && depth > 0) depth--;
    else if (c === ',' && depth === 0) {
      parts.push(body.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(body.slice(start));
  return parts;
}

function unknown(target: string, config: ResolvedConfig): { ok: false; error: TargetFailure } {
  const names = [...config.tasks.keys()];
  const near = didYouMean(target.replace(/\[.*$/, ''), names);
  // A path-like target is compared with the output patterns it could have meant.
  const outputs = [...config.tasks.values()].flatMap((t) => t.outputs.map((o) => o.pattern.source));
  const pathHint = target.includes('/') ? ` (outputs: ${outputs.join(', ')})` : ` (tasks: ${names.join(', ')})`;
  const hint = near ? `; did you mean "${near}"?` : pathHint;
  return err({
    reason: 'unknown-target',
    target,
    message: `unknown target "${target}": not a task, and no task's output matches it${hint}`,
  });
}

/** Parses command-line targets into a selection, or names the first unknown target. */
export function parseTargets(targets: readonly string[], config: ResolvedConfig): Result<Selection, TargetFailure> {
  if (targets.length === 0) return ok({ all: true, targets: [], tasks: new Set(config.tasks.keys()), matches: () => true });
  const matchers: Matcher[] = [];
  const parsedTargets: Selection['targets'][number][] = [];
  const tasks = new Set<string>();
  for (const t of targets) {
    const parsed = parseOne(t, config);
    if (!parsed.ok) return parsed;
    matchers.push(parsed.value.match);
    parsedTargets.push({ target: t, isTask: config.tasks.has(t.replace(/^(\.\/)+/, '')), matches: parsed.value.match });
    for (const name of parsed.value.tasks) tasks.add(name);
  }
  return ok({ all: false, targets: parsedTargets, tasks, matches: (u) => matchers.some((m) => m(u)) });
}

/** Selected tasks and every task they may need (data upstream and `after`), transitively. */
export function tasksNeeded(selection: Selection, graph: TaskGraph): Set<string> {
  const needed = new Set<string>();
  const stack = [...selection.tasks];
  while (stack.length > 0) {
    const name = stack.pop() ?? '';
    if (needed.has(name)) continue;
    needed.add(name);
    stack.push(...(graph.upstream.get(name) ?? []), ...(graph.after.get(name) ?? []));
  }
  return needed;
}

/**
 * Units the selection matches, plus (unless `noDeps`) every unit they transitively depend on,
 * including all units of the tasks named in `after`.
 */
export function selectUnits(
  graph: UnitGraph,
  selection: Selection,
  options: { readonly noDeps: boolean; readonly after: ReadonlyMap<string, readonly string[]> },
): ReadonlySet<string> {
  // Everything selected: nothing upstream can be missing (the no-op path for `runcue build`).
  if (selection.all) return new KeySet(graph.units);
  const selected = new Set<string>();
  for (const unit of graph.units.values()) if (selection.matches(unit)) selected.add(unit.id);
  if (options.noDeps) return selected;
  const needed = withUpstream(graph, selected, options.after);
  // In the graph's order, as with no target, not the walk's (which reversed the upstream of
  // siblings): units due at once start in this order, so `build extract` ran split c, b, a.
  const ordered = new Set<string>();
  for (const id of graph.units.keys()) if (needed.has(id)) ordered.add(id);
  return ordered;
}

/**
 * A path, glob or filter target that no unit (not even one a dynamic producer will discover)
 * matches: Make's "No rule to make target". A task name with no units yet is fine.
 */
function unmatchedTarget(graph: UnitGraph, selection: Selection, noDeps: boolean): TargetFailure | undefined {
  for (const t of selection.targets) {
    if (t.isTask) continue;
    let found: Unit | undefined;
    for (const unit of graph.units.values()) {
      if (!t.matches(unit)) continue;
      found = unit;
      if (!unit.placeholder) break;
    }
    if (!found) {
      return {
        reason: 'unknown-target',
        target: t.target,
        message: `no unit makes "${t.target}": it fits an output pattern, but no input gives those wildcard values`,
      };
    }
    // Only units still to be discovered: with --no-deps nothing would discover them.
    if (found.placeholder && noDeps) {
      return {
        reason: 'unknown-target',
        target: t.target,
        message: `no unit makes "${t.target}" yet: ${found.id} is discovered when the dynamic producer upstream runs, and --no-deps builds no upstream`,
      };
    }
  }
  return undefined;
}

/** Two tasks claim the same output file: which one should make it is ambiguous. */
export interface OutputConflictFailure {
  readonly reason: 'output-conflict';
  readonly path: string;
  readonly message: string;
}

/** What makes a run impossible before it starts: an output two tasks claim, or an unmatched target. */
export function checkSelection(graph: UnitGraph, selection: Selection, noDeps = false): OutputConflictFailure | TargetFailure | undefined {
  const conflict = graph.conflicts?.[0];
  if (conflict) {
    const [a, b] = conflict.units;
    return {
      reason: 'output-conflict',
      path: conflict.path,
      message: `${a} and ${b} both produce ${conflict.path}: an output file belongs to one task`,
    };
  }
  return unmatchedTarget(graph, selection, noDeps);
}
