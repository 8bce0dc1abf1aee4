/**
 * The task graph: which tasks may consume what other tasks produce. An edge `a -> b` exists when
 * an output pattern of `a` could match an input pattern of `b` (pattern intersection, so it is
 * known before any file exists), or a directory above it, or `b` lists `a` in `after`. Pure.
 */
import { globsIntersect } from '../patterns/glob-intersect.ts';
import type { ResolvedConfig, ResolvedInput, ResolvedTask } from '../config/resolved.ts';
import { err, ok, type Result } from '../result.ts';

/** Tasks ordered producers first, with their data and `after` edges both ways. */
export interface TaskGraph {
  /** Task names, every producer before its consumers; ties in declaration order. */
  readonly order: readonly string[];
  /** Task -> the tasks it consumes from (data edges only). */
  readonly upstream: ReadonlyMap<string, readonly string[]>;
  /** Task -> the tasks named in its `after`. */
  readonly after: ReadonlyMap<string, readonly string[]>;
  /** Task -> tasks that consume from it or run after it. */
  readonly downstream: ReadonlyMap<string, readonly string[]>;
}

/** The tasks depend on each other in a circle, so no order exists. */
export interface CycleFailure {
  readonly reason: 'cycle';
  /** Task names along the cycle, first repeated at the end: `['extract', 'summarize', 'extract']`. */
  readonly cycle: readonly string[];
  readonly message: string;
}

/** The glob an input could take for any wildcard values (a function input is asked with `*`). */
export function inputGlob(input: ResolvedInput, wildcards: readonly string[]): string | undefined {
  if (input.kind === 'pattern') return input.pattern.glob;
  try {
    const anyValues = Object.fromEntries(wildcards.map((name) => [name, '*']));
    const glob: unknown = input.fn(anyValues);
    // A function that returns no path here is reported per unit, where expansion asks it again.
    return typeof glob === 'string' && glob !== '' ? glob : undefined;
  } catch {
    // A function that cannot handle '*' gives no task-level edge; unit-level edges still apply.
    return undefined;
  }
}

function consumes(consumer: ResolvedTask, producer: ResolvedTask): boolean {
  for (const input of consumer.inputs) {
    const glob = inputGlob(input, consumer.wildcards);
    if (glob === undefined) continue;
    for (const output of producer.outputs) {
      if (globsIntersect(output.pattern.glob, glob)) return true;
      // A concrete output may be a directory above the input (`site` for `site/index.html`), as
      // unit edges have it (output-index.ts); a task never waits for itself.
      if (!output.pattern.isGlob && producer !== consumer && dirsAbove(glob).some((dir) => globsIntersect(output.pattern.glob, dir)))
        return true;
    }
  }
  return false;
}

/** The directories above what `glob` names: `site`, `site/a` for `site/a/index.html`. */
export function dirsAbove(glob: string): string[] {
  const dirs: string[] = [];
  for (let cut = glob.indexOf('/'); cut > 0; cut = glob.indexOf('/', cut + 1)) dirs.push(glob.slice(0, cut));
  return dirs;
}

/** Orders the tasks and finds their edges, or the first cycle among them. */
export function buildTaskGraph(config: ResolvedConfig): Result<TaskGraph, CycleFailure> {
  const names = [...config.tasks.keys()];
  const upstream = new Map<string, string[]>();
  const after = new Map<string, string[]>();
  const downstream = new Map<string, string[]>(names.map((n) => [n, []]));
  for (const [name, task] of config.tasks) {
    const producers = names.filter((other) => {
      const producer = config.tasks.get(other);
      return producer !== undefined && consumes(task, producer);
    });
    upstream.set(name, producers);
    after.set(name, [...task.after]);
    for (const p of new Set([...producers, ...task.after])) downstream.get(p)?.push(name);
  }
  const cycle = findCycle(names, (n) => [...(upstream.get(n) ?? []), ...(after.get(n) ?? [])]);
  if (cycle) {
    return err({ reason: 'cycle', cycle, message: `dependency cycle: ${cycle.join(' -> ')}` });
  }
  return ok({ order: topoOrder(names, (n) => [...(upstream.get(n) ?? []), ...(after.get(n) ?? [])]), upstream, after, downstream });
}

/** A cycle in producer -> consumer direction from its first-declared task, or undefined. Deterministic. */
function findCycle(names: readonly string[], depsOf: (n: string) => readonly string[]): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === 'done') return undefined;
    if (state.get(n) === 'visiting') {
      // stack holds consumers after their producers' discovery: reverse to read producer -> consumer
      const from = stack.indexOf(n);
      const loop = startAtFirstDeclared(stack.slice(from).reverse(), names);
      return [...loop, loop[0] ?? n];
    }
    state.set(n, 'visiting');
    stack.push(n);
    for (const d of depsOf(n)) {
      const found = visit(d);
      if (found) return found;
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of names) {
    const found = visit(n);
    if (found) return found;
  }
  return undefined;
}

/** The loop rotated to start at its first-declared task, as SPEC prints it (`extract -> summarize -> extract`). */
function startAtFirstDeclared(loop: readonly string[], names: readonly string[]): string[] {
  const first = loop.reduce((best, n, i) => (names.indexOf(n) < names.indexOf(loop[best] ?? n) ? i : best), 0);
  return [...loop.slice(first), ...loop.slice(0, first)];
}

function topoOrder(names: readonly string[], depsOf: (n: string) => readonly string[]): string[] {
  const seen = new Set<string>();
  const order: string[] = [];
  const visit = (n: string): void => {
    if (seen.has(n)) return;
    seen.add(n);
    for (const d of depsOf(n)) visit(d);
    order.push(n);
  };
  for (const n of names) visit(n);
  return order;
}
