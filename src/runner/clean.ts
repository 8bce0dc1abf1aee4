/**
 * `runcue clean`: which output files of the selected units may be deleted, and deleting them.
 * Glob outputs are expanded to the files that exist. A file is kept, and reported, when it is
 * outside the project (through a symlink) or when no task's output pattern matches it; every
 * input that is not itself some task's output therefore stays. A directory output (`output:
 * 'site'`) goes with everything in it, unless it holds an input of its unit.
 *
 * `clean --orphans`: outputs that a unit recorded writing (`.runcue/outputs/`) when that unit no
 * longer exists (its input was removed, a re-split made fewer pages, its task was renamed or
 * deleted). Only recorded files are candidates, so nothing runcue did not write is touched; a
 * file that a current unit claims as an output or reads as an input is kept.
 */
import { lstatSync, realpathSync, rmSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import type { ResolvedConfig } from '../config/resolved.ts';
import type { UnitGraph, UnitPath } from '../graph/unit.ts';
import { describeThrown } from '../describe-thrown.ts';
import { globMatcher } from '../patterns/glob-match.ts';
import { filesOf } from './files.ts';
import { allOutputRecords, deleteOutputRecord, onlyOptionalOutputs, readOutputRecord, recordedFilesOf } from './output-record.ts';
import { nodeFileSystem, type FileSystem } from './file-system.ts';
import { createInflightRecords } from './inflight.ts';

/** A file `clean` leaves in place, and why (`no output pattern matches it`). */
export interface KeptFile {
  readonly path: string;
  readonly reason: string;
}

/** What `clean` would do: files to remove (with the unit that owns each) and files it keeps. */
export interface CleanPlan {
  readonly remove: readonly { readonly path: string; readonly unit: string }[];
  readonly kept: readonly KeptFile[];
  /**
   * Units whose outputs are all optional: their record goes even when no file does, or a unit
   * that wrote none would stay fresh by its record (staleness.ts) after a clean.
   */
  readonly forget?: readonly string[];
}

/** What `clean` did (or, in a dry run, would do). */
export interface CleanResult {
  readonly dryRun: boolean;
  /** Files removed (in a dry run: that would be), sorted. */
  readonly removed: readonly string[];
  readonly kept: readonly KeptFile[];
  /** Files whose removal failed, with the file system's reason. */
  readonly failed: readonly KeptFile[];
  /** How many units own the files the plan removes. */
  readonly units: number;
}

/** Removes the files of `plan` (with `dryRun`, only lists them) and forgets the cleaned units' output records. */
export function cleanFiles(config: ResolvedConfig, plan: CleanPlan, dryRun: boolean): CleanResult {
  const removed: string[] = [];
  const failed: KeptFile[] = [];
  const cleanedUnits = new Set<string>();
  for (const { path, unit } of plan.remove) {
    if (dryRun) {
      removed.push(path);
      continue;
    }
    try {
      // recursive: a directory output goes with what is in it (planClean).
      rmSync(join(config.root, path), { force: true, recursive: true });
      removed.push(path);
      cleanedUnits.add(unit);
    } catch (error) {
      failed.push({ path, reason: describeThrown(error) });
    }
  }
  // Its record would name files that are gone; a later build then starts from "never built".
  if (!dryRun) for (const unit of plan.forget ?? []) cleanedUnits.add(unit);
  const fs = nodeFileSystem(config.root);
  for (const unit of cleanedUnits) deleteOutputRecord(fs, unit);
  return { dryRun, removed, kept: plan.kept, failed, units: new Set(plan.remove.map((r) => r.unit)).size };
}

/** The existing outputs of `selected` units, each checked against the safety rules. */
export function planClean(config: ResolvedConfig, graph: UnitGraph, selected: ReadonlySet<string>): CleanPlan {
  const owners = new Map<string, string>();
  const kept: KeptFile[] = [];
  const forget: string[] = [];
  // One file system for the whole plan: the records are read once per FileSystem object.
  const fs = nodeFileSystem(config.root);
  const inflight = createInflightRecords({ root: config.root, now: () => Date.now() });
  for (const id of selected) {
    const unit = graph.units.get(id);
    if (!unit) continue;
    // Its command writes them now: removed halfway, what it writes next would look built.
    const state = inflight.inspect(unit.id);
    if (state.kind === 'elsewhere') {
      const why = `${unit.id} runs in another runcue process (pid ${state.record.pid}) now`;
      for (const output of unit.outputs) for (const file of existingOutput(fs, config.root, output)) kept.push({ path: file, reason: why });
      continue;
    }
    if (onlyOptionalOutputs(unit)) forget.push(unit.id);
    const record = unit.outputs.some((o) => o.isGlob) ? readOutputRecord(fs, unit.id) : null;
    const recorded = new Set(record ? recordedFilesOf(record, unit.outputs) : []);
    for (const output of unit.outputs) {
      if (!output.isGlob && isDirectory(config.root, output.path)) {
        // Removed with everything in it, as a failed attempt's directory output is; one that
        // holds an input of its unit is not runcue's to remove.
        const under = `${output.path}/`;
        if (unit.inputs.some((i) => i.path.startsWith(under))) kept.push({ path: output.path, reason: `it holds an input of ${unit.id}` });
        else if (!owners.has(output.path)) owners.set(output.path, unit.id);
        continue;
      }
      for (const file of filesOf(fs, output)) {
        // A glob output only says what a unit may write: a file it did not record writing may be the user's.
        if (output.isGlob && !recorded.has(file)) kept.push({ path: file, reason: `no record says ${unit.id} wrote it` });
        else if (!owners.has(file)) owners.set(file, unit.id);
      }
    }
  }
  const plan = checkRemovals(config, owners, kept);
  return forget.length === 0 ? plan : { ...plan, forget };
}

/** The recorded outputs of units that no longer exist (`clean --orphans`), checked against the safety rules. */
export function planOrphans(config: ResolvedConfig, graph: UnitGraph): CleanPlan {
  // A fan-in's glob input is no claim: an orphan it matches is exactly the stale member to remove.
  const inUse = new Set<string>();
  const fs = nodeFileSystem(config.root);
  for (const unit of graph.units.values()) {
    for (const p of [...unit.inputs, ...unit.outputs]) if (!p.isGlob) inUse.add(p.path);
    if (unit.placeholder || !unit.outputs.some((o) => o.isGlob)) continue;
    const record = readOutputRecord(fs, unit.id);
    for (const file of record ? recordedFilesOf(record, unit.outputs) : []) inUse.add(file);
  }
  const owners = new Map<string, string>();
  const kept: KeptFile[] = [];
  for (const record of allOutputRecords(fs)) {
    if (graph.units.has(record.unit)) continue;
    for (const file of record.files) {
      if (filesOf(fs, { name: '', path: file, isGlob: false }).length === 0) continue;
      if (inUse.has(file)) kept.push({ path: file, reason: `${record.unit} no longer exists, but a current unit reads or writes it` });
      else owners.set(file, record.unit);
    }
  }
  return checkRemovals(config, owners, kept);
}

/** Applies the safety rules to files about to be removed (file -> the unit that owns it). */
function checkRemovals(config: ResolvedConfig, owners: ReadonlyMap<string, string>, kept: KeptFile[]): CleanPlan {
  const outputMatchers = [...config.tasks.values()].flatMap((t) => t.outputs.map((o) => globMatcher(o.pattern.glob)));
  const realRoot = realpathSync(config.root);
  const remove: { path: string; unit: string }[] = [];
  for (const [path, unit] of [...owners].sort(([a], [b]) => compare(a, b))) {
    if (!outputMatchers.some((m) => m(path))) kept.push({ path, reason: 'no output pattern matches it' });
    else if (!insideRoot(realRoot, join(config.root, path))) kept.push({ path, reason: 'it is outside the project (through a symlink)' });
    else remove.push({ path, unit });
  }
  return { remove, kept: kept.sort((a, b) => compare(a.path, b.path)) };
}

/** The files (or the directory) of an output that exist now. */
function existingOutput(fs: FileSystem, root: string, output: UnitPath): string[] {
  return !output.isGlob && isDirectory(root, output.path) ? [output.path] : filesOf(fs, output);
}

/** A directory itself, not a symlink to one (whose target is not the unit's to remove). */
function isDirectory(root: string, path: string): boolean {
  try {
    return lstatSync(join(root, path)).isDirectory();
  } catch {
    return false;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
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
