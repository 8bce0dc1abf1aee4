/**
 * Did a unit write its declared outputs? A unit that exits 0 without writing every declared
 * (non-optional) output fails. A file counts as written by an attempt when the attempt created
 * it, changed it, or its ctime or mtime is not older than the attempt's start (ctime catches a
 * copy that keeps an old mtime: `cp -p`, `rsync -t`, unzip; a content-identical rewrite counts
 * too). A file that was there before and that the attempt did not touch does not count, whatever
 * its mtime says of the inputs. A glob output counts when one matching file was written (a
 * hand-written file that merely matches does not); a directory output when it was created or
 * changed (its own times, or any file beneath it).
 */
import { globMatcher } from '../patterns/glob-match.ts';
import type { Unit, UnitPath } from '../graph/unit.ts';
import type { FileSystem, FsStat } from './file-system.ts';
import { filesOf, statsOf, statsOfOne, wrote, type FileStat } from './files.ts';
import { listFiles } from './walk.ts';

/** The outputs as they were before the run. */
export interface OutputsBefore {
  /** When the attempt started (the run's clock): a file whose times are not older was written by it. */
  readonly startedMs: number;
  readonly files: ReadonlyMap<string, FileStat>;
  /** Concrete outputs that were directories: path -> a signature of the directory and its files. */
  readonly dirs: ReadonlyMap<string, string>;
}

function isDirectory(fs: FileSystem, rel: string): boolean {
  return fs.stat(rel)?.isDirectory() ?? false;
}

/** The times and size of each file beneath a directory, and its own times (ctime: see {@link wrote}). */
function directorySignature(fs: FileSystem, rel: string): string {
  const own = fs.stat(rel);
  const files = listFiles(fs, rel).map((f) => {
    const s = fs.stat(f);
    return `${f}\u0000${s?.mtimeMs ?? 0}\u0000${s?.ctimeMs ?? 0}\u0000${s?.size ?? 0}`;
  });
  return `${own?.mtimeMs ?? 0}\u0000${own?.ctimeMs ?? 0}\u0001${files.join('\u0001')}`;
}

const NO_DIRS: ReadonlyMap<string, string> = new Map();

/** The outputs as they are before an attempt: their files, and a signature of each directory output. */
export function observeOutputs(fs: FileSystem, outputs: readonly UnitPath[], startedMs: number): OutputsBefore {
  const only = outputs.length === 1 ? outputs[0] : undefined;
  if (only && !only.isGlob) {
    // One stat for a unit's one concrete output (most units), not one for a directory and one for a file.
    const s = fs.stat(only.path);
    if (!s?.isDirectory()) return { startedMs, files: statsOfOne(only.path, s), dirs: NO_DIRS };
  }
  return { startedMs, files: statsOf(fs, outputs), dirs: directoryOutputs(fs, outputs) };
}

/** What the run wrote: files it created or changed, directory outputs it created or changed. */
export interface OutputsWritten {
  /** Output files created or changed by the run (for glob outputs: the members it wrote). */
  readonly files: readonly string[];
  /** Declared, non-optional outputs the run did not write. */
  readonly missing: readonly UnitPath[];
  /** Directory outputs the run created or changed. */
  readonly dirs: readonly string[];
}

/** Compares the outputs with what they were before the attempt. */
export function outputsWritten(fs: FileSystem, outputs: readonly UnitPath[], before: OutputsBefore): OutputsWritten {
  const only = outputs.length === 1 ? outputs[0] : undefined;
  if (only && !only.isGlob) return oneWritten(fs, only, before);
  const now = fileStats(fs, outputs);
  const files = [...now].filter(([f, s]) => wrote(before.files.get(f), s, before.startedMs)).map(([f]) => f);
  const missing: UnitPath[] = [];
  const dirs: string[] = [];
  for (const o of outputs) {
    if (o.isGlob) {
      const matches = globMatcher(o.path);
      if (!files.some((f) => matches(f)) && !o.optional) missing.push(o);
    } else if (!now.has(o.path) && isDirectory(fs, o.path)) {
      if (before.dirs.get(o.path) !== directorySignature(fs, o.path)) dirs.push(o.path);
      else if (!o.optional) missing.push(o);
    } else if (!files.includes(o.path) && !o.optional) {
      missing.push(o);
    }
  }
  return { files: files.sort(), missing, dirs };
}

/** The stat of every file of the outputs that exists now (as files.ts's snapshot, but whole stats: their ctime too). */
function fileStats(fs: FileSystem, outputs: readonly UnitPath[]): Map<string, FsStat> {
  const out = new Map<string, FsStat>();
  for (const o of outputs) {
    for (const file of o.isGlob ? filesOf(fs, o) : [o.path]) {
      const s = fs.stat(file);
      if (s?.isFile()) out.set(file, s);
    }
  }
  return out;
}

/**
 * Marks directory outputs as written now: a directory's own mtime changes only when its entries
 * do, so without this a rewritten `site/index.html` would leave `site` older than its inputs.
 */
export function touchDirectories(fs: FileSystem, dirs: readonly string[], time: number): void {
  for (const dir of dirs) {
    try {
      fs.setMtime(dir, time);
    } catch {
      // Removed meanwhile: nothing to mark.
    }
  }
}

/**
 * Removes the directory outputs that a failed attempt created or changed, with everything beneath
 * them (Make's `.DELETE_ON_ERROR` for a directory: a half-written `site/` would otherwise look
 * built, its mtime newer than its inputs). `before`: the directories as they were before the
 * attempt (one absent from it did not exist). A directory that holds one of the unit's own
 * inputs is left alone: inputs are never touched. Returns the removed paths.
 */
export function removeChangedDirectories(fs: FileSystem, unit: Unit, before: ReadonlyMap<string, string>): string[] {
  const removed: string[] = [];
  for (const o of unit.outputs) {
    if (o.isGlob || o.path === '' || !isDirectory(fs, o.path)) continue;
    const was = before.get(o.path);
    if (was !== undefined && was === directorySignature(fs, o.path)) continue;
    const under = `${o.path}/`;
    if (unit.inputs.some((i) => i.path.startsWith(under))) continue;
    fs.removeTree(o.path);
    removed.push(o.path);
  }
  return removed;
}

/** The directory outputs as they are now: a signature of each (see {@link removeChangedDirectories}). */
export function directoryOutputs(fs: FileSystem, outputs: readonly UnitPath[]): ReadonlyMap<string, string> {
  let dirs: Map<string, string> | undefined;
  for (const o of outputs) if (!o.isGlob && isDirectory(fs, o.path)) (dirs ??= new Map()).set(o.path, directorySignature(fs, o.path));
  return dirs ?? NO_DIRS;
}

const NONE: readonly never[] = [];

/** {@link outputsWritten} of a unit with one concrete output (most units): no snapshot, no arrays to filter. */
function oneWritten(fs: FileSystem, output: UnitPath, before: OutputsBefore): OutputsWritten {
  const now = fs.stat(output.path);
  if (now?.isFile()) {
    if (wrote(before.files.get(output.path), now, before.startedMs)) return { files: [output.path], missing: NONE, dirs: NONE };
    return { files: [], missing: output.optional ? NONE : [output], dirs: NONE };
  }
  if (now?.isDirectory()) {
    if (before.dirs.get(output.path) !== directorySignature(fs, output.path)) return { files: [], missing: NONE, dirs: [output.path] };
    return { files: [], missing: output.optional ? NONE : [output], dirs: NONE };
  }
  return { files: [], missing: output.optional ? NONE : [output], dirs: NONE };
}
