/**
 * `runcue why`: what a target names (a unit, or a source file and its readers) and one unit's
 * story as data: its input and output files with their mtimes (glob inputs without orphans, as
 * build reads them), its upstream units, and the verdicts a dry run reaches for them all.
 */
import type { ResolvedConfig } from '../config/resolved.ts';
import type { Unit, UnitGraph, UnitPath } from '../graph/unit.ts';
import { globMatcher } from '../patterns/glob-match.ts';
import { build } from './build.ts';
import type { PlanEntry } from './events.ts';
import { filesOf, statPath } from './files.ts';
import { orphanCheck } from './orphans.ts';
import { nodeFileSystem } from './file-system.ts';
import { onlyOptionalOutputs, readOutputRecord, recordedAt } from './output-record.ts';

/** What a `why` target names: a unit (by id or by an output), a file units only read, or nothing. */
export type WhyTarget =
  | { readonly kind: 'unit'; readonly unit: Unit }
  | { readonly kind: 'source'; readonly readers: readonly Unit[] }
  | { readonly kind: 'unknown' };

/** One file of a pattern and its mtime (`null`: it vanished while being looked at). */
export interface StoryFile {
  readonly path: string;
  readonly mtimeMs: number | null;
}

/** One input or output pattern of the unit and the files it matches now. */
export interface StoryPattern {
  readonly pattern: string;
  readonly isGlob: boolean;
  readonly files: readonly StoryFile[];
}

/** A unit's story: its files, its upstream units and what a dry run would do with each. */
export interface UnitStory {
  readonly unit: Unit;
  readonly inputs: readonly StoryPattern[];
  readonly outputs: readonly StoryPattern[];
  /** The units it waits for, each with its dry-run verdict (`null`: not planned yet). */
  readonly producers: readonly { readonly unit: string; readonly plan: PlanEntry | null }[];
  /** The unit's own verdict (`null`: it waits on work whose outputs are not known yet). */
  readonly plan: PlanEntry | null;
  /** (outputs all optional, none there) When its last success, which wrote none, was recorded. */
  readonly ranWithoutOutputsAt?: number;
}

/** Resolves `spec` (a unit id, or a path relative to the config directory) in `graph`. */
export function findWhyTarget(graph: UnitGraph, spec: string): WhyTarget {
  const matches = (p: UnitPath): boolean => (p.isGlob ? globMatcher(p.path)(spec) : p.path === spec);
  const unit = graph.units.get(spec) ?? [...graph.units.values()].find((u) => u.outputs.some(matches));
  if (unit) return { kind: 'unit', unit };
  const readers = [...graph.units.values()].filter((u) => u.inputs.some(matches));
  return readers.length > 0 ? { kind: 'source', readers } : { kind: 'unknown' };
}

/** The story of `unit`, with verdicts from a dry run of its task (custom checks run, as in `plan`). */
export async function unitStory(
  config: ResolvedConfig,
  graph: UnitGraph,
  unit: Unit,
  env: Readonly<Record<string, string | undefined>>,
): Promise<UnitStory> {
  const dry = await build({ config, targets: [unit.task], dryRun: true, env });
  const byUnit = new Map((dry.ok ? dry.value.plan : []).map((e) => [e.unit, e]));
  // As build sees them: a glob input never reads an orphan (orphans.ts).
  const isOrphan = orphanCheck(nodeFileSystem(config.root), config, graph, new Set(config.tasks.keys()));
  const fs = nodeFileSystem(config.root);
  const pattern = (p: UnitPath, isInput: boolean): StoryPattern => {
    // A concrete input or output may be a directory (`input: 'assets'`, `output: 'site'`), as the staleness check takes it.
    const dir = p.isGlob ? undefined : fs.stat(p.path);
    if (dir?.isDirectory()) return { pattern: p.path, isGlob: false, files: [{ path: p.path, mtimeMs: dir.mtimeMs }] };
    const files = filesOf(fs, p).filter((f) => !(isInput && p.isGlob && isOrphan(f)));
    return { pattern: p.path, isGlob: p.isGlob, files: files.map((f) => ({ path: f, mtimeMs: statPath(fs, f)?.mtimeMs ?? null })) };
  };
  const outputs = unit.outputs.map((p) => pattern(p, false));
  // As the staleness check takes such a unit: by the time of its last success (staleness.ts).
  const wroteNone =
    onlyOptionalOutputs(unit) && outputs.every((o) => o.files.length === 0) && readOutputRecord(fs, unit.id)?.files.length === 0;
  const ranAt = wroteNone ? recordedAt(fs, unit.id) : undefined;
  return {
    unit,
    inputs: unit.inputs.map((p) => pattern(p, true)),
    outputs,
    producers: [...(graph.deps.get(unit.id) ?? [])].map((d) => ({ unit: d, plan: byUnit.get(d) ?? null })),
    plan: byUnit.get(unit.id) ?? null,
    ...(ranAt === undefined ? {} : { ranWithoutOutputsAt: ranAt }),
  };
}
