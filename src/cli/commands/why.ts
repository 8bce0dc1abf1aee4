/**
 * `runcue why <file|unit>`: one unit's story: its inputs and their producers, each freshness
 * comparison with the mtimes it used, and the verdict build would reach (from a dry run). The
 * story is the runner's (src/runner/why.ts); this command renders it as text or JSON.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../../config/resolved.ts';
import { parseTargets } from '../../graph/select.ts';
import type { Unit, UnitGraph } from '../../graph/unit.ts';
import type { PlanEntry } from '../../runner/events.ts';
import { findWhyTarget, unitStory, type StoryPattern, type UnitStory } from '../../runner/why.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import type { CliContext, CommonOptions } from '../options.ts';
import { describeBlocked, describeStale } from '../report/format.ts';
import { describeSchedule } from '../report/due-time.ts';
import { loadPlan, resolveTargets } from './load.ts';
import { escapedEvent, escapeName } from '../report/escape-names.ts';

/**
 * Prints the story of the unit `target` names (or the readers of a source file); exit 2 (usage)
 * if it names no unit, or several (a task, glob or filter: the message lists them).
 */
export async function whyCommand(target: string, options: CommonOptions, context: CliContext): Promise<number> {
  const loaded = await loadPlan([], options, context);
  if (!loaded.ok) return loaded.exitCode;
  const { config } = loaded;
  const spec = (resolveTargets([target], config, loaded.cwd)[0] ?? target).replace(/^(\.\/)+/, '');
  const limit = options.verbose === true ? Infinity : LIST_LIMIT;
  let found = findWhyTarget(loaded.plan.graph, spec);
  // A glob, or a path no file is at, that a fan-in's glob input matches is no source file: it is
  // what a target names (the units an output glob selects), or nothing.
  if (found.kind === 'source' && !existsSync(join(config.root, spec))) found = { kind: 'unknown' };
  if (found.kind === 'unknown') {
    // A task name, an output glob or a unit filter: the unit it selects, when it selects one.
    const selected = unitsSelected(loaded.plan.graph, config, spec);
    if (selected.length !== 1 || !selected[0]) {
      context.stderr.write(`runcue: ${notOneUnit(target, spec, selected, config)}\n`);
      return EXIT_CODES.usage;
    }
    found = { kind: 'unit', unit: selected[0] };
  }
  if (found.kind === 'source') {
    const readers = [...found.readers.slice(0, limit).map((u) => `  ${escapeName(u.id)}`), ...more(found.readers.length, limit, '  ')];
    context.stdout.write(`${escapeName(spec)} is a source file: no task produces it. Read by:\n${readers.join('\n')}\n`);
    return EXIT_CODES.ok;
  }
  const told = await unitStory(config, loaded.plan.graph, found.unit, context.env);
  if (options.json) {
    context.stdout.write(`${JSON.stringify(storyDocument(told))}\n`);
  } else {
    context.stdout.write(story(escapedEvent(told), config, limit));
  }
  return EXIT_CODES.ok;
}

/** The units `spec` selects as a target of build would (without their upstream), in id order. */
function unitsSelected(graph: UnitGraph, config: ResolvedConfig, spec: string): Unit[] {
  const selection = parseTargets([spec], config);
  if (!selection.ok) return [];
  return [...graph.units.values()].filter((u) => selection.value.matches(u)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Why `target` gets no story: it names several units, or none. */
function notOneUnit(target: string, spec: string, selected: readonly Unit[], config: ResolvedConfig): string {
  const quoted = JSON.stringify(target);
  const isTask = config.tasks.has(spec);
  if (selected.length > 1) {
    const listed = selected.slice(0, 5).map((u) => escapeName(u.id));
    if (selected.length > 5) listed.push('...');
    const what = isTask ? `is a task of ${selected.length} units` : `matches ${selected.length} units`;
    return `${quoted} ${what}; ask about one of them: ${listed.join(', ')}`;
  }
  if (isTask) return `${quoted} is a task with no units: no file matches its input patterns (runcue plan says more)`;
  if (parseTargets([spec], config).ok) return `${quoted} matches no unit: no input gives those wildcard values`;
  return `${quoted} is neither a unit nor a file that a unit produces or reads`;
}

/** The story as `why --json` prints it: files with their mtimes, producers and verdicts. */
function storyDocument(s: UnitStory): object {
  const files = (patterns: readonly StoryPattern[]): object[] => patterns.map((p) => ({ pattern: p.pattern, files: p.files }));
  return {
    version: 1,
    unit: s.unit.id,
    task: s.unit.task,
    wildcards: s.unit.wildcards,
    inputs: files(s.inputs),
    producers: s.producers,
    outputs: files(s.outputs),
    plan: s.plan,
  };
}

function time(ms: number | null): string {
  return ms === null ? 'missing' : new Date(ms).toISOString();
}

function verdictOf(entry: PlanEntry | null): string {
  if (!entry) return 'not planned (waits on work whose outputs are not known yet)';
  switch (entry.verdict) {
    case 'run':
      return `stale: would run (${describeStale(entry.reason)})`;
    case 'fresh':
      return 'fresh: would be skipped';
    case 'blocked':
      return `blocked: ${describeBlocked(entry.reason)}`;
    case 'waiting':
      return `waiting: ${describeBlocked(entry.reason)}`;
    case 'fails':
      return `fails: ${entry.error.message}`;
  }
}

/** How many files of one pattern, or upstream units, the story lists before `... and N more`. */
const LIST_LIMIT = 10;

/** `    ... and 290 more (--verbose lists all)` when `total` exceeds `limit`. */
function more(total: number, limit: number, indent: string, detail = ''): string[] {
  return total > limit ? [`${indent}... and ${total - limit} more${detail} (--verbose lists all)`] : [];
}

/** `: 280 fresh, 10 would run` over the verdicts of units not listed. */
function verdictTally(producers: UnitStory['producers']): string {
  const tally = new Map<string, number>();
  for (const { plan } of producers) {
    const word = plan === null ? 'not planned' : plan.verdict === 'run' ? 'would run' : plan.verdict;
    tally.set(word, (tally.get(word) ?? 0) + 1);
  }
  return `: ${[...tally].map(([word, n]) => `${n} ${word}`).join(', ')}`;
}

/** A file and its mtime: the newest input or the oldest output. */
interface Dated {
  readonly file: string;
  readonly mtime: number;
}

/** The file lines of one pattern (its first `limit` files), and the file whose mtime `better` prefers. */
function patternLines(
  p: StoryPattern,
  limit: number,
  missing: string,
  better: (a: number, b: number) => boolean,
): { lines: string[]; extreme: Dated | undefined } {
  const lines: string[] = [];
  if (p.files.length === 0) lines.push(`  ${p.pattern}  ${missing}`);
  let extreme: Dated | undefined;
  p.files.forEach((f, i) => {
    if (f.mtimeMs !== null && (!extreme || better(f.mtimeMs, extreme.mtime))) extreme = { file: f.path, mtime: f.mtimeMs };
    if (i < limit) lines.push(`  ${f.path}  ${time(f.mtimeMs)}`);
  });
  lines.push(...more(p.files.length, limit, '  '));
  return { lines, extreme };
}

/** Of several patterns' extremes, the one `better` prefers (the first of equals). */
function pick(dated: readonly (Dated | undefined)[], better: (a: number, b: number) => boolean): Dated | undefined {
  let found: Dated | undefined;
  for (const d of dated) if (d && (!found || better(d.mtime, found.mtime))) found = d;
  return found;
}

function story(s: UnitStory, config: ResolvedConfig, limit: number): string {
  const newer = (a: number, b: number): boolean => a > b;
  const older = (a: number, b: number): boolean => a < b;
  const { unit } = s;
  const task = config.tasks.get(unit.task);
  const lines = [`${unit.id}  (task ${unit.task})`, '', 'inputs:'];
  const newestOf: (Dated | undefined)[] = [];
  for (const input of s.inputs) {
    const shown = patternLines(input, limit, `missing${input.isGlob ? ' (no file matches)' : ''}`, newer);
    lines.push(...shown.lines);
    newestOf.push(shown.extreme);
    const n = input.files.length;
    if (input.isGlob && n > 0) lines.push(`    (${n === 1 ? '1 file matches' : `${n} files match`} ${input.pattern})`);
  }
  if (s.inputs.length === 0) lines.push('  (none)');
  lines.push('', 'produced by:');
  if (s.producers.length === 0) lines.push('  (no upstream units: inputs are source files)');
  for (const p of s.producers.slice(0, limit)) lines.push(`  ${p.unit}: ${verdictOf(p.plan)}`);
  if (s.producers.length > limit) lines.push(...more(s.producers.length, limit, '  ', verdictTally(s.producers.slice(limit))));
  lines.push('', 'outputs:');
  const oldestOf: (Dated | undefined)[] = [];
  for (const output of s.outputs) {
    const shown = patternLines(output, limit, 'missing', older);
    lines.push(...shown.lines);
    oldestOf.push(shown.extreme);
  }
  if (s.outputs.length === 0) lines.push('  (none: the unit runs on every build)');
  lines.push('', 'checks:');
  const newest = pick(newestOf, newer);
  const oldest = pick(oldestOf, older);
  if (newest && oldest) {
    const cmp = newest.mtime > oldest.mtime ? 'newer than' : 'not newer than';
    lines.push(`  newest input ${newest.file} (${time(newest.mtime)}) is ${cmp} oldest output ${oldest.file} (${time(oldest.mtime)})`);
  }
  const ranAt = s.ranWithoutOutputsAt;
  if (newest && !oldest && ranAt !== undefined) {
    const cmp = newest.mtime > ranAt ? 'newer than' : 'not newer than';
    lines.push(
      `  newest input ${newest.file} (${time(newest.mtime)}) is ${cmp} its last run (${time(ranAt)}), which wrote none of its optional outputs`,
    );
  }
  if (task?.maxAgeMs !== undefined && oldest) {
    const age = Date.now() - oldest.mtime;
    lines.push(`  maxAge ${task.maxAgeMs} ms: oldest output is ${Math.round(age)} ms old${age > task.maxAgeMs ? ' (expired)' : ''}`);
  }
  if (task?.schedule && oldest) lines.push(`  ${describeSchedule(task.schedule, oldest.mtime, Date.now())}`);
  if (task?.stale) lines.push('  custom stale() check: decides the verdict');
  if (task?.ready) lines.push('  custom ready() check: must return true first');
  lines.push('', `verdict: ${verdictOf(s.plan)}`);
  return `${lines.join('\n')}\n`;
}
