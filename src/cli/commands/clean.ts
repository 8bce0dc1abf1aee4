/**
 * `runcue clean [targets...] [--dry-run]`: deletes the existing output files of the selected
 * units (never their upstream's). Glob outputs are expanded to the files that exist. A file is
 * kept, and reported, when it is outside the project (through a symlink) or when no task's
 * output pattern matches it; every input that is not itself some task's output therefore stays.
 * Directories are left in place.
 */
import { realpathSync, rmSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { globMatcher } from '../../patterns/glob-match.ts';
import type { ResolvedConfig } from '../../config/resolved.ts';
import type { UnitGraph } from '../../graph/unit.ts';
import { filesOf } from '../../runner/files.ts';
import { deleteOutputRecord, readOutputRecord, recordedFilesOf } from '../../runner/output-record.ts';
import { planOrphans } from './clean-orphans.ts';
import type { CleanCommandOptions, CliContext } from '../options.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { loadPlan } from './shared.ts';

/** What `clean` would do: files to remove (with the unit that owns each) and files it keeps. */
export interface CleanPlan {
  readonly remove: readonly { readonly path: string; readonly unit: string }[];
  readonly kept: readonly { readonly path: string; readonly reason: string }[];
}

/** Removes (or with --dry-run lists) the outputs of the selected units; exit 1 if a removal failed. */
export async function cleanCommand(
  targets: readonly string[],
  options: CleanCommandOptions,
  context: CliContext,
): Promise<number> {
  if (options.orphans && targets.length > 0) {
    context.stderr.write('runcue: clean --orphans takes no targets: orphans are outputs of units that no longer exist\n');
    return EXIT_CODES.usage;
  }
  const loaded = await loadPlan(targets, options, context, true);
  if (!loaded.ok) return loaded.exitCode;
  const { config } = loaded;
  const cleanPlan = options.orphans ? planOrphans(config, loaded.plan.graph) : planClean(config, loaded.plan.graph, loaded.plan.selected);
  const dryRun = Boolean(options.dryRun);
  const removed: string[] = [];
  const failed: { path: string; reason: string }[] = [];
  const cleanedUnits = new Set<string>();
  for (const { path, unit } of cleanPlan.remove) {
    if (dryRun) {
      removed.push(path);
      continue;
    }
    try {
      rmSync(join(config.root, path), { force: true });
      removed.push(path);
      cleanedUnits.add(unit);
    } catch (error) {
      failed.push({ path, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  // Its record would name files that are gone; a later build then starts from "never built".
  for (const unit of cleanedUnits) deleteOutputRecord(config.root, unit);
  if (options.json) {
    context.stdout.write(`${JSON.stringify({ version: 1, dryRun, removed, kept: cleanPlan.kept, failed }, null, 2)}\n`);
  } else {
    const verb = dryRun ? 'would remove' : 'removed';
    for (const path of removed) context.stdout.write(`${verb} ${path}\n`);
    for (const k of cleanPlan.kept) context.stderr.write(`runcue: kept ${k.path}: ${k.reason}\n`);
    for (const f of failed) context.stderr.write(`runcue: could not remove ${f.path}: ${f.reason}\n`);
    const units = new Set(cleanPlan.remove.map((r) => r.unit)).size;
    context.stdout.write(`runcue: ${verb} ${plural(removed.length, 'file')} of ${plural(units, 'unit')}\n`);
  }
  return failed.length > 0 ? EXIT_CODES.failed : EXIT_CODES.ok;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The existing outputs of `selected` units, each checked against the safety rules. */
export function planClean(config: ResolvedConfig, graph: UnitGraph, selected: ReadonlySet<string>): CleanPlan {
  const owners = new Map<string, string>();
  const kept: { path: string; reason: string }[] = [];
  for (const id of selected) {
    const unit = graph.units.get(id);
    if (!unit) continue;
    const record = unit.outputs.some((o) => o.isGlob) ? readOutputRecord(config.root, unit.id) : null;
    const recorded = new Set(record ? recordedFilesOf(record, unit.outputs) : []);
    for (const output of unit.outputs) {
      for (const file of filesOf(config.root, output)) {
        // A glob output only says what a unit may write: a file it did not record writing may be the user's.
        if (output.isGlob && !recorded.has(file)) kept.push({ path: file, reason: `no record says ${unit.id} wrote it` });
        else if (!owners.has(file)) owners.set(file, unit.id);
      }
    }
  }
  return checkRemovals(config, owners, kept);
}

/** Applies the safety rules to files about to be removed (file -> the unit that owns it). */
export function checkRemovals(config: ResolvedConfig, owners: ReadonlyMap<string, string>, kept: { path: string; reason: string }[] = []): CleanPlan {
  const outputMatchers = [...config.tasks.values()].flatMap((t) => t.outputs.map((o) => globMatcher(o.pattern.glob)));
  const realRoot = realpathSync(config.root);
  const remove: { path: string; unit: string }[] = [];
  for (const [path, unit] of [...owners].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!outputMatchers.some((m) => m(path))) kept.push({ path, reason: 'no output pattern matches it' });
    else if (!insideRoot(realRoot, join(config.root, path))) kept.push({ path, reason: 'it is outside the project (through a symlink)' });
    else remove.push({ path, unit });
  }
  return { remove, kept: kept.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) };
}

/** True when the file's directory, symlinks resolved, is `realRoot` or under it. */
function insideRoot(realRoot: string, file: string): boolean {
  let dir: string;
  try {
    dir = realpathSync(dirname(file));
  } catch {
    return false;
  }
  const rel = relative(realRoot, dir);
  return rel === '' || (rel.split(sep)[0] !== '..' && !isAbsolute(rel));
}
