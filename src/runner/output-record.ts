/**
 * Which files each unit wrote on its last success, kept in `.runcue/outputs/` (one line per
 * record in append-only journals: output-journal.ts). A glob output only says which
 * files a unit *may* write; the record says which it *did*, so a hand-written file that happens
 * to match the glob never makes the producer look fresh, is never cleared before a rerun and is
 * never deleted by `clean`. For a unit with glob inputs (a fan-in) it also keeps the input files
 * it was built from, so a member removed, or added with an old mtime, makes it stale in mtime
 * mode too. Records are read only for units with a glob input or output, so a no-op build of
 * many concrete units reads none.
 */
import { posix } from 'node:path';
import type { FileSystem } from './file-system.ts';
import { appendRecord, journalRecord, journalRecordedAt, journalRecords, refreshedRecord } from './output-journal.ts';
import { globMatcher } from '../patterns/glob-match.ts';
import type { Unit, UnitPath } from '../graph/unit.ts';

/** What a unit wrote on its last success. */
export interface OutputRecord {
  readonly version: 1;
  readonly unit: string;
  readonly task: string;
  /** Output files it wrote (concrete outputs that exist, and the files of its glob outputs it created or changed). */
  readonly files: readonly string[];
  /** Input files it was built from; present for units with a glob input. */
  readonly members?: readonly string[];
}

/** True when a unit's freshness or cleaning depends on its record. */
export function needsRecord(unit: Unit): boolean {
  // Loops, not some(): asked for every unit a build checks.
  for (let i = 0; i < unit.outputs.length; i++) if ((unit.outputs[i] as UnitPath).isGlob) return true;
  for (let i = 0; i < unit.inputs.length; i++) if ((unit.inputs[i] as UnitPath).isGlob) return true;
  return onlyOptionalOutputs(unit);
}

/** Every output optional: with none there, its record says whether (and when) it last ran. */
export function onlyOptionalOutputs(unit: Unit): boolean {
  if (unit.outputs.length === 0) return false;
  for (let i = 0; i < unit.outputs.length; i++) if ((unit.outputs[i] as UnitPath).optional !== true) return false;
  return true;
}

/** When the unit's record was written (ms since the epoch), if there is one. */
export function recordedAt(fs: FileSystem, unitId: string): number | undefined {
  try {
    return journalRecordedAt(fs, unitId);
  } catch {
    return undefined;
  }
}

/**
 * The unit's record, or null when none was written (or it cannot be read), as this build first
 * read the records (one read per FileSystem object, so one per build).
 */
export function readOutputRecord(fs: FileSystem, unitId: string): OutputRecord | null {
  try {
    return journalRecord(fs, unitId);
  } catch {
    return null;
  }
}

function writeOutputRecord(fs: FileSystem, unit: Unit, files: readonly string[], members: readonly string[] | undefined): void {
  const record: OutputRecord = {
    version: 1,
    unit: unit.id,
    task: unit.task,
    files: [...files].sort(),
    ...(members ? { members: [...members].sort() } : {}),
  };
  appendRecord(fs, unit.id, record);
}

/** Forgets the unit's record (throws when that cannot be written). */
export function deleteOutputRecord(fs: FileSystem, unitId: string): void {
  appendRecord(fs, unitId, null);
}

/** Every record on disk (for `clean --orphans`). */
export function allOutputRecords(fs: FileSystem): OutputRecord[] {
  try {
    return journalRecords(fs);
  } catch {
    return [];
  }
}

/** Recorded files that one of `outputs` still claims (a record never reaches outside them). */
export function recordedFilesOf(record: OutputRecord, outputs: readonly UnitPath[]): string[] {
  const claims = outputs.map((o) => (o.isGlob ? globMatcher(o.path) : (file: string) => file === o.path));
  return record.files.filter((file) => claims.some((claim) => claim(file)));
}

/**
 * Before a unit with a glob output reruns, removes the files it recorded last time, so a shorter
 * run leaves no stale members of its set behind (files it did not write stay). Returns them.
 */
export function clearRecordedOutputs(fs: FileSystem, unit: Unit): readonly string[] {
  // Asked before every attempt, and most units have no glob output: no closure, no array.
  if (!hasGlob(unit.outputs)) return NOTHING_CLEARED;
  // What another process recorded since this build read the records counts: the unit is ours now.
  const record = refreshedRecord(fs, unit.id);
  if (!record) return NOTHING_CLEARED;
  const globs = unit.outputs.filter((o) => o.isGlob);
  const realRoot = fs.realpath('');
  // A directory replaced by a symlink since the record was written must not lead outside.
  const files = recordedFilesOf(record, globs).filter((file) => insideRoot(fs, realRoot, file));
  for (const file of files) fs.remove(file);
  deleteOutputRecord(fs, unit.id);
  return files;
}

const NOTHING_CLEARED: readonly string[] = Object.freeze([]);

function hasGlob(paths: readonly UnitPath[]): boolean {
  for (let i = 0; i < paths.length; i++) if ((paths[i] as UnitPath).isGlob) return true;
  return false;
}

function insideRoot(fs: FileSystem, realRoot: string, file: string): boolean {
  try {
    const dir = posix.dirname(posix.normalize(file));
    const rel = posix.relative(realRoot, fs.realpath(dir === '.' ? '' : dir));
    return rel === '' || (rel.split('/')[0] !== '..' && !posix.isAbsolute(rel));
  } catch {
    return false;
  }
}

/**
 * After a success: what the unit wrote and, for a fan-in, the input files it was built from.
 * Returns why it could not be recorded (the unit then looks unrecorded, so stale, next time).
 */
export function recordOutputs(
  fs: FileSystem,
  unit: Unit,
  written: readonly string[],
  inputs: ReadonlyMap<string, unknown>,
): string | undefined {
  const members = unit.inputs.some((i) => i.isGlob) ? [...inputs.keys()] : undefined;
  // A task without outputs (it runs on every build) has nothing to record.
  if (unit.outputs.length === 0) return undefined;
  try {
    writeOutputRecord(fs, unit, written, members);
    return undefined;
  } catch (error) {
    return `could not record its outputs under .runcue/outputs: ${error instanceof Error ? error.message : String(error)}`;
  }
}
