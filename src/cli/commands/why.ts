/**
 * `runcue why <file|unit>`: one unit's story: its inputs and their producers, each freshness
 * comparison with the mtimes it used, and the verdict build would reach (from a dry run).
 */
import { globMatcher } from '../../patterns/glob-match.ts';
import type { ResolvedConfig } from '../../config/resolved.ts';
import type { Unit } from '../../graph/unit.ts';
import { build } from '../../runner/build.ts';
import type { PlanEntry } from '../../runner/events.ts';
import { filesOf, statPath } from '../../runner/files.ts';
import { orphanCheck } from '../../runner/orphans.ts';
import type { CliContext, CommonOptions } from '../options.ts';
import { describeBlocked, describeStale } from '../report/format.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { loadPlan, resolveTargets } from './shared.ts';

export async function whyCommand(target: string, options: CommonOptions, context: CliContext): Promise<number> {
  const loaded = await loadPlan([], options, context);
  if (!loaded.ok) return loaded.exitCode;
  const { config } = loaded;
  const spec = (resolveTargets([target], config, loaded.cwd)[0] ?? target).replace(/^(\.\/)+/, '');
  const { graph } = loaded.plan;
  const unit = graph.units.get(spec) ?? [...graph.units.values()].find((u) => u.outputs.some((o) => (o.isGlob ? globMatcher(o.path)(spec) : o.path === spec)));
  if (!unit) {
    const consumers = [...graph.units.values()].filter((u) => u.inputs.some((i) => (i.isGlob ? globMatcher(i.path)(spec) : i.path === spec)));
    if (consumers.length === 0) {
      context.stderr.write(`runcue: "${target}" is neither a unit nor a file that a unit produces or reads\n`);
      return EXIT_CODES.usage;
    }
    const limit = options.verbose === true ? Infinity : LIST_LIMIT;
    const readers = [...consumers.slice(0, limit).map((u) => `  ${u.id}`), ...more(consumers.length, limit, '  ')];
    context.stdout.write(`${spec} is a source file: no task produces it. Read by:\n${readers.join('\n')}\n`);
    return EXIT_CODES.ok;
  }
  const dry = await build({ config, targets: [unit.task], dryRun: true, env: context.env });
  const plan = dry.ok ? dry.value.plan : [];
  const deps = graph.deps.get(unit.id) ?? new Set<string>();
  // As build sees them: a glob input never reads an orphan (orphans.ts).
  const isOrphan = orphanCheck(config, graph, new Set(config.tasks.keys()));
  if (options.json || options.reporter === 'json') {
    context.stdout.write(`${JSON.stringify(storyData(unit, config, plan, deps, isOrphan))}\n`);
  } else {
    context.stdout.write(story(unit, config, plan, deps, options.verbose === true ? Infinity : LIST_LIMIT, isOrphan));
  }
  return EXIT_CODES.ok;
}

/** The same story as data (`why --json`): files with their mtimes, producers and verdicts. */
function storyData(unit: Unit, config: ResolvedConfig, plan: readonly PlanEntry[], deps: ReadonlySet<string>, isOrphan: (file: string) => boolean): object {
  const byUnit = new Map(plan.map((e) => [e.unit, e]));
  const files = (paths: Unit['inputs'], skipOrphans: boolean): object[] =>
    paths.map((p) => ({ pattern: p.path, files: filesOf(config.root, p).filter((f) => !(skipOrphans && p.isGlob && isOrphan(f))).map((f) => ({ path: f, mtimeMs: statPath(config.root, f)?.mtimeMs ?? null })) }));
  return {
    version: 1,
    unit: unit.id,
    task: unit.task,
    wildcards: unit.wildcards,
    inputs: files(unit.inputs, true),
    producers: [...deps].map((d) => ({ unit: d, plan: byUnit.get(d) ?? null })),
    outputs: files(unit.outputs, false),
    plan: byUnit.get(unit.id) ?? null,
  };
}

function time(ms: number | undefined): string {
  return ms === undefined ? 'missing' : new Date(ms).toISOString();
}

function verdictOf(entry: PlanEntry | undefined): string {
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
function verdictTally(units: readonly string[], byUnit: ReadonlyMap<string, PlanEntry>): string {
  const tally = new Map<string, number>();
  for (const id of units) {
    const verdict = byUnit.get(id)?.verdict;
    const word = verdict === undefined ? 'not planned' : verdict === 'run' ? 'would run' : verdict;
    tally.set(word, (tally.get(word) ?? 0) + 1);
  }
  return `: ${[...tally].map(([word, n]) => `${n} ${word}`).join(', ')}`;
}

function story(unit: Unit, config: ResolvedConfig, plan: readonly PlanEntry[], deps: ReadonlySet<string>, limit: number, isOrphan: (file: string) => boolean): string {
  const byUnit = new Map(plan.map((e) => [e.unit, e]));
  const task = config.tasks.get(unit.task);
  const lines = [`${unit.id}  (task ${unit.task})`, ''];
  lines.push('inputs:');
  let newest: { file: string; mtime: number } | undefined;
  for (const input of unit.inputs) {
    const files = input.isGlob ? filesOf(config.root, input).filter((f) => !isOrphan(f)) : filesOf(config.root, input);
    if (files.length === 0) lines.push(`  ${input.path}  missing${input.isGlob ? ' (no file matches)' : ''}`);
    files.forEach((f, i) => {
      const m = statPath(config.root, f)?.mtimeMs;
      if (m !== undefined && (!newest || m > newest.mtime)) newest = { file: f, mtime: m };
      if (i < limit) lines.push(`  ${f}  ${time(m)}`);
    });
    lines.push(...more(files.length, limit, '  '));
    if (input.isGlob && files.length > 0) lines.push(`    (${files.length} files match ${input.path})`);
  }
  if (unit.inputs.length === 0) lines.push('  (none)');
  lines.push('', 'produced by:');
  if (deps.size === 0) lines.push('  (no upstream units: inputs are source files)');
  const upstream = [...deps];
  for (const d of upstream.slice(0, limit)) lines.push(`  ${d}: ${verdictOf(byUnit.get(d))}`);
  if (upstream.length > limit) lines.push(...more(upstream.length, limit, '  ', verdictTally(upstream.slice(limit), byUnit)));
  lines.push('', 'outputs:');
  let oldest: { file: string; mtime: number } | undefined;
  for (const output of unit.outputs) {
    const files = filesOf(config.root, output);
    if (files.length === 0) lines.push(`  ${output.path}  missing`);
    files.forEach((f, i) => {
      const m = statPath(config.root, f)?.mtimeMs;
      if (m !== undefined && (!oldest || m < oldest.mtime)) oldest = { file: f, mtime: m };
      if (i < limit) lines.push(`  ${f}  ${time(m)}`);
    });
    lines.push(...more(files.length, limit, '  '));
  }
  if (unit.outputs.length === 0) lines.push('  (none: the unit runs on every build)');
  lines.push('', 'checks:');
  if (newest && oldest) {
    const cmp = newest.mtime > oldest.mtime ? 'newer than' : 'not newer than';
    lines.push(`  newest input ${newest.file} (${time(newest.mtime)}) is ${cmp} oldest output ${oldest.file} (${time(oldest.mtime)})`);
  }
  if (task?.maxAgeMs !== undefined && oldest) {
    const age = Date.now() - oldest.mtime;
    lines.push(`  maxAge ${task.maxAgeMs} ms: oldest output is ${Math.round(age)} ms old${age > task.maxAgeMs ? ' (expired)' : ''}`);
  }
  if (task?.stale) lines.push('  custom stale() check: decides the verdict');
  if (task?.ready) lines.push('  custom ready() check: must return true first');
  lines.push('', `verdict: ${verdictOf(byUnit.get(unit.id))}`);
  return `${lines.join('\n')}\n`;
}
