/**
 * The runner's view of the file system: synchronous stats (3x faster than promise-based stats
 * for 10,000s of files, and a no-op build is mostly stats) and glob resolution at run time.
 */
import { dirname } from 'node:path';
import { globMatcher } from '../patterns/glob-match.ts';
import { staticBase } from '../patterns/glob-syntax.ts';
import type { UnitPath } from '../graph/unit.ts';
import type { FileSystem, FsStat } from './file-system.ts';
import { describeFsError } from './fs-errors.ts';
import { listFiles } from './walk.ts';

export interface FileStat {
  readonly mtimeMs: number;
  readonly size: number;
}

export function statPath(fs: FileSystem, rel: string): FileStat | undefined {
  const s = fs.stat(rel);
  // Only the two numbers: a stale unit keeps its inputs' stats until it ran, and an fs.Stats
  // (14 fields) for each of 100,000 units showed in peak memory.
  return s?.isFile() ? { mtimeMs: s.mtimeMs, size: s.size } : undefined;
}

/**
 * A concrete input's stat: a file, or a directory (another task's directory output, say), whose
 * own mtime and size stand for it as a directory output's do.
 */
export function statInput(fs: FileSystem, rel: string): FileStat | undefined {
  const s = fs.stat(rel);
  return s?.isFile() || s?.isDirectory() ? { mtimeMs: s.mtimeMs, size: s.size } : undefined;
}

/**
 * The inputs of a unit with one input file (most units): a read-only map of one entry, so the
 * check of each of 100,000 fresh units allocates no Map.
 */
export class OneFile implements ReadonlyMap<string, FileStat> {
  readonly size = 1;
  readonly file: string;
  readonly stat: FileStat;

  constructor(file: string, stat: FileStat) {
    this.file = file;
    this.stat = stat;
  }

  get(key: string): FileStat | undefined {
    return key === this.file ? this.stat : undefined;
  }

  has(key: string): boolean {
    return key === this.file;
  }

  forEach(fn: (value: FileStat, key: string, map: ReadonlyMap<string, FileStat>) => void): void {
    fn(this.stat, this.file, this);
  }

  // Array iterators, not generators: a generator object per loop over each unit's inputs was
  // a noticeable share of a rehearsal's garbage.
  entries(): MapIterator<[string, FileStat]> {
    return [[this.file, this.stat] as [string, FileStat]].values();
  }

  keys(): MapIterator<string> {
    return [this.file].values();
  }

  values(): MapIterator<FileStat> {
    return [this.stat].values();
  }

  [Symbol.iterator](): MapIterator<[string, FileStat]> {
    return this.entries();
  }
}

/** Files that exist now for a unit path: the path itself, or every file a glob matches. */
export function filesOf(fs: FileSystem, path: UnitPath): string[] {
  if (!path.isGlob) return statPath(fs, path.path) ? [path.path] : [];
  return listFiles(fs, staticBase(path.path)).filter(globMatcher(path.path));
}

/** Stats of every file of the given unit paths that exists now. */
export function snapshot(fs: FileSystem, paths: readonly UnitPath[]): Map<string, FileStat> {
  const out = new Map<string, FileStat>();
  for (const p of paths) {
    if (!p.isGlob) {
      // One stat, not two, for a concrete path.
      const s = statPath(fs, p.path);
      if (s) out.set(p.path, s);
      continue;
    }
    for (const file of filesOf(fs, p)) {
      const s = statPath(fs, file);
      if (s) out.set(file, s);
    }
  }
  return out;
}

const NO_FILES: ReadonlyMap<string, FileStat> = new Map();

/**
 * {@link snapshot}, read-only: for one concrete path (most units' outputs) a {@link OneFile} or
 * an empty map, not a Map per call.
 */
export function statsOf(fs: FileSystem, paths: readonly UnitPath[]): ReadonlyMap<string, FileStat> {
  const only = paths.length === 1 ? paths[0] : undefined;
  if (!only || only.isGlob) return snapshot(fs, paths);
  return statsOfOne(only.path, fs.stat(only.path));
}

/** The read-only snapshot of one concrete path whose stat `s` was just taken. */
export function statsOfOne(path: string, s: FsStat | undefined): ReadonlyMap<string, FileStat> {
  return s?.isFile() ? new OneFile(path, { mtimeMs: s.mtimeMs, size: s.size }) : NO_FILES;
}

/**
 * How far a file's times may lag the run's clock: the kernel stamps files from a coarse clock
 * (a jiffy, 4-10 ms behind the time Date.now() reads).
 */
const CLOCK_SLACK_MS = 20;

/**
 * Is `t` (a file time) not older than `since` (the attempt's start)? A time of whole seconds may
 * come from a file system that keeps no more (FAT, some network mounts): compared by the second.
 */
export function notOlder(t: number, since: number): boolean {
  const from = since - CLOCK_SLACK_MS;
  return t % 1000 === 0 ? t >= from - (from % 1000) : t >= from;
}

/** Did the attempt that started at `since` write this file? `was`: its stat before the attempt. */
export function wrote(was: FileStat | undefined, now: FsStat, since: number): boolean {
  return !was || was.mtimeMs !== now.mtimeMs || was.size !== now.size || notOlder(now.ctimeMs, since) || notOlder(now.mtimeMs, since);
}

/** A directory a unit needs could not be created (a file in the way, a read-only disk). */
export interface DirFailure {
  readonly reason: 'file-error';
  readonly path: string;
  readonly message: string;
}

/**
 * Creates the directories a unit writes into: each output's parent, a glob's static base.
 * Says which one could not be created, and why, instead of throwing.
 */
export function makeOutputDirs(fs: FileSystem, outputs: readonly UnitPath[]): DirFailure | undefined {
  // An index loop: this runs before every attempt.
  for (let i = 0; i < outputs.length; i++) {
    const o = outputs[i] as UnitPath;
    const dir = o.isGlob ? staticBase(o.path) : parentDir(o.path);
    if (dir === '' || dir === '.') continue;
    const failure = makeDir(fs, dir, `for output ${o.path}`);
    if (failure) return failure;
  }
  return undefined;
}

/** `dirname(path)` of a relative path: cut at its last slash (before every attempt: no node:path checks). */
function parentDir(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 || slash === path.length - 1 ? dirname(path) : path.slice(0, slash);
}

/** `mkdir -p root/dir`; a failure names the directory, what it was `for`, and the reason. */
export function makeDir(fs: FileSystem, dir: string, purpose: string): DirFailure | undefined {
  try {
    fs.mkdir(dir);
    return undefined;
  } catch (error) {
    const problem = describeFsError(error, fs.root, dir);
    return { reason: 'file-error', path: dir, message: `cannot create directory ${dir} ${purpose}: ${problem.reason}` };
  }
}

/**
 * The output files an attempt created or changed, comparing with the snapshot taken before it
 * started; with `since` (its start), also those it wrote back alike ({@link wrote}: a `cp -p`
 * that kept size and mtime). A failure's cost: a file whose size and mtime are unchanged takes
 * one more stat.
 */
function changedOutputs(fs: FileSystem, outputs: readonly UnitPath[], before: ReadonlyMap<string, FileStat>, since?: number): string[] {
  const changed: string[] = [];
  for (const [file, now] of snapshot(fs, outputs)) {
    const was = before.get(file);
    if (!was || was.mtimeMs !== now.mtimeMs || was.size !== now.size) changed.push(file);
    else if (since !== undefined) {
      const s = fs.stat(file);
      if (s?.isFile() && wrote(was, s, since)) changed.push(file);
    }
  }
  return changed;
}

/**
 * Removes outputs a failed unit created or changed (Make's .DELETE_ON_ERROR), comparing with the
 * snapshot taken before it started (`since`: when it started, see {@link changedOutputs}).
 * Returns the removed paths.
 */
export function removeChangedOutputs(
  fs: FileSystem,
  outputs: readonly UnitPath[],
  before: ReadonlyMap<string, FileStat>,
  since?: number,
): string[] {
  const removed = changedOutputs(fs, outputs, before, since);
  for (const file of removed) fs.remove(file);
  return removed.sort();
}

/**
 * Dates the outputs a failed attempt created or changed back to the epoch, for a task that keeps
 * them (`keepFailedOutputs`): kept for a look, they must not look fresh to the next run.
 */
export function dateBackChangedOutputs(
  fs: FileSystem,
  outputs: readonly UnitPath[],
  before: ReadonlyMap<string, FileStat>,
  since: number,
): void {
  setMtime(fs, changedOutputs(fs, outputs, before, since), 0);
}

/** Sets files' mtime (used to keep outputs older than an input that changed during the run). */
export function setMtime(fs: FileSystem, files: Iterable<string>, mtimeMs: number): void {
  for (const f of files) {
    try {
      fs.setMtime(f, mtimeMs);
    } catch {
      // The output vanished meanwhile: nothing to mark.
    }
  }
}
