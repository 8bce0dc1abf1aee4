/**
 * The file system of a rehearsal: a tree in memory, so the real planner and scheduler run over
 * the project's files without a byte written to disk (and without the cost of real stats). It
 * holds names, mtimes and sizes; contents only where something wrote them (output records):
 * seeded files keep their real size but read as empty (a rehearsal judges by mtime).
 *
 * Writes are stamped with the virtual clock, as the disk stamps them with the wall clock. Stats
 * are immutable snapshots (a write replaces the file's stat), as node's are: the runner compares
 * a stat taken before an attempt with one taken after.
 */
import type { FileSystem, FsEntry, FsStat } from '../file-system.ts';
import type { Clock } from '../ports.ts';

/** A stat; a file's also carries its content (one map lookup per file, not two). */
class MemoryStat implements FsStat {
  readonly mtimeMs: number;
  /** The mtime, except after a setMtime (which, as `utimes` does, sets it to the clock's now). */
  readonly ctimeMs: number;
  readonly size: number;
  private readonly dir: boolean;
  readonly content: string;
  constructor(mtimeMs: number, size: number, dir: boolean, content = '', ctimeMs = mtimeMs) {
    this.mtimeMs = mtimeMs;
    this.ctimeMs = ctimeMs;
    this.size = size;
    this.dir = dir;
    this.content = content;
  }
  isFile(): boolean {
    return !this.dir;
  }
  isDirectory(): boolean {
    return this.dir;
  }
}

/** A file's entry: its name is cut from its path only when asked (a walk takes the path). */
class FileEntry implements FsEntry {
  readonly relPath: string;
  constructor(path: string) {
    this.relPath = path;
  }
  get name(): string {
    return nameOf(this.relPath);
  }
  isFile(): boolean {
    return true;
  }
  isDirectory(): boolean {
    return false;
  }
  isSymbolicLink(): boolean {
    return false;
  }
}

/** An entry as listed: a file's path is its `relPath` only when listed from its directory's own path. */
type Entry = MemoryEntry | FileEntry;

class MemoryEntry implements FsEntry {
  readonly name: string;
  private readonly dir: boolean;
  constructor(name: string, dir: boolean) {
    this.name = name;
    this.dir = dir;
  }
  isFile(): boolean {
    return !this.dir;
  }
  isDirectory(): boolean {
    return this.dir;
  }
  isSymbolicLink(): boolean {
    return false;
  }
}

/**
 * A directory: its stat is made when asked (rarely), not on every change of its entries. Entries
 * added are queued in `added` (a file by its path, a directory by its entry); a table of them by
 * name (`children`) is made only once something removes one. Until then a listing makes its
 * entries as it goes: a rehearsal writes 10,000s of inputs and outputs into directories that are
 * listed once or twice, and a table insert, an entry and its name kept to the end for each was a
 * visible share of a rehearsal's memory and time.
 */
interface MemoryDir {
  mtimeMs: number;
  stat: MemoryStat | undefined;
  children: Map<string, MemoryEntry> | undefined;
  readonly added: (string | MemoryEntry)[];
}

function newDir(mtimeMs: number): MemoryDir {
  return { mtimeMs, stat: undefined, children: undefined, added: [] };
}

function entryOf(added: string | MemoryEntry): MemoryEntry {
  return typeof added === 'string' ? new MemoryEntry(nameOf(added), false) : added;
}

/** As {@link entryOf}, a file's path kept as its `relPath` (see {@link listed}). */
function listedEntryOf(added: string | MemoryEntry): Entry {
  return typeof added === 'string' ? new FileEntry(added) : added;
}

/** `dir`'s entries by name, with those added since last asked, in the order they were added. */
function childrenOf(dir: MemoryDir): Map<string, MemoryEntry> {
  const children = (dir.children ??= new Map<string, MemoryEntry>());
  const { added } = dir;
  for (let i = 0; i < added.length; i++) {
    const entry = entryOf(added[i] as string | MemoryEntry);
    children.set(entry.name, entry);
  }
  added.length = 0;
  return children;
}

/**
 * `dir`'s entries in the order they were added (nothing removed from it yet: no table). `exact`:
 * listed by the directory's own path, so a file's path is that path joined with its name, and
 * its entry carries it (a walk of 10,000s of inputs then cuts no name and joins no path).
 */
function listed(dir: MemoryDir, exact: boolean): FsEntry[] {
  if (dir.children) return [...childrenOf(dir).values()];
  const { added } = dir;
  const entries = new Array<FsEntry>(added.length);
  const entry = exact ? listedEntryOf : entryOf;
  for (let i = 0; i < added.length; i++) entries[i] = entry(added[i] as string | MemoryEntry);
  return entries;
}

/** A node-style error (`code` is what fs-errors.ts and callers look at). */
function fsError(code: string, syscall: string, path: string): Error {
  const error = new Error(`${code}: ${syscall} '${path}'`) as Error & { code: string; syscall: string; path: string };
  error.code = code;
  error.syscall = syscall;
  error.path = path;
  return error;
}

function parentOf(rel: string): string {
  const slash = rel.lastIndexOf('/');
  return slash < 0 ? '' : rel.slice(0, slash);
}

function nameOf(rel: string): string {
  return rel.slice(rel.lastIndexOf('/') + 1);
}

/** `.` is the root; a trailing slash names the same directory. */
function normal(rel: string): string {
  if (rel === '.') return '';
  return rel.endsWith('/') ? rel.slice(0, -1) : rel;
}

/** A tree in memory under the (virtual) directory `root`; writes are stamped with `clock`. */
export class MemoryFileSystem implements FileSystem {
  /** Each file's stat and content (replaced, never changed, by a write). */
  private readonly files = new Map<string, MemoryStat>();
  private readonly dirs = new Map<string, MemoryDir>();
  readonly root: string;
  private readonly clock: Clock;
  /**
   * The directory a path last named, and that path: a rehearsal writes 10,000s of files into one
   * directory, and the parent path sliced off each name is a new string to hash for a lookup.
   * Comparing it with the last one is cheaper. Only directories that exist are kept.
   */
  private lastDirPath: string | undefined;
  private lastDir: MemoryDir | undefined;
  /**
   * The last file stat made: stats are immutable, so files written alike (seeded inputs, and
   * the empty outputs of attempts that end at one virtual instant) share one, not one each to
   * the end of the rehearsal.
   */
  private lastStat: MemoryStat | undefined;

  constructor(root: string, clock: Clock) {
    this.root = root;
    this.clock = clock;
    this.dirs.set('', newDir(clock.now()));
  }

  /** Adds (or replaces) a file with the given mtime, making its directories: seeding, not a write of the run. */
  put(rel: string, mtimeMs: number, content = '', size = content === '' ? 0 : Buffer.byteLength(content)): void {
    let dir = this.parentDirOf(rel);
    if (!dir) {
      const parent = parentOf(rel);
      this.makeDirs(parent, mtimeMs);
      dir = this.dirAt(parent);
    }
    this.setFile(rel, this.fileStat(mtimeMs, size, content), mtimeMs, dir);
  }

  stat(rel: string): FsStat | undefined {
    const file = this.files.get(rel);
    if (file) return file;
    const dir = this.dirs.get(normal(rel));
    if (!dir) return undefined;
    if (dir.stat?.mtimeMs !== dir.mtimeMs) dir.stat = new MemoryStat(dir.mtimeMs, 0, true);
    return dir.stat;
  }

  readdir(rel: string): readonly FsEntry[] {
    const path = normal(rel);
    const dir = this.dirs.get(path);
    if (!dir) throw fsError(this.files.has(rel) ? 'ENOTDIR' : 'ENOENT', 'scandir', this.abs(rel));
    return listed(dir, path === rel);
  }

  realpath(rel: string): string {
    const path = normal(rel);
    if (!this.files.has(path) && !this.dirs.has(path)) throw fsError('ENOENT', 'realpath', this.abs(path));
    return this.abs(path);
  }

  readFile(rel: string): Buffer {
    return Buffer.from(this.readText(rel));
  }

  readText(rel: string): string {
    const file = this.files.get(rel);
    if (!file) throw fsError(this.dirs.has(normal(rel)) ? 'EISDIR' : 'ENOENT', 'open', this.abs(rel));
    return file.content;
  }

  writeFile(rel: string, data: string, size = data === '' ? 0 : Buffer.byteLength(data)): void {
    if (this.dirs.has(rel)) throw fsError('EISDIR', 'open', this.abs(rel));
    const parent = this.parentDirOf(rel);
    if (!parent) this.needDir(parentOf(rel), 'open', rel);
    const now = this.clock.now();
    this.setFile(rel, this.fileStat(now, size, data), now, parent);
  }

  /** Nothing reads a rehearsal's files concurrently: a plain write. */
  replaceFile(rel: string, data: string): void {
    this.writeFile(rel, data);
  }

  appendFile(rel: string, data: string): void {
    const file = this.files.get(rel);
    if (!file) {
      this.writeFile(rel, data);
      return;
    }
    // The size grows by what is added: measuring the whole file again flattened it at every
    // append, and a rehearsal appends a journal line per unit (quadratic: 20,000 pages spent
    // 8 of 14 s there).
    this.writeFile(rel, file.content + data, file.size + Buffer.byteLength(data));
  }

  rename(from: string, to: string): void {
    const file = this.files.get(from);
    if (!file) throw fsError('ENOENT', 'rename', this.abs(from));
    if (this.dirs.has(to)) throw fsError('EISDIR', 'rename', this.abs(to));
    this.needDir(parentOf(to), 'rename', to);
    const now = this.clock.now();
    this.unlink(from, now);
    // A rename keeps the file's own mtime.
    this.setFile(to, file, now);
  }

  remove(rel: string): void {
    if (this.dirs.has(normal(rel))) throw fsError('EISDIR', 'rm', this.abs(rel));
    if (this.files.has(rel)) this.unlink(rel, this.clock.now());
  }

  removeTree(rel: string): void {
    const path = normal(rel);
    if (!this.dirs.has(path)) return this.remove(path);
    const under = `${path}/`;
    for (const file of [...this.files.keys()]) if (file.startsWith(under)) this.files.delete(file);
    for (const dir of [...this.dirs.keys()]) if (dir.startsWith(under)) this.dirs.delete(dir);
    this.dirs.delete(path);
    this.lastDirPath = undefined;
    this.lastDir = undefined;
    const parent = this.dirs.get(parentOf(path));
    if (!parent) return;
    childrenOf(parent).delete(nameOf(path));
    parent.mtimeMs = this.clock.now();
  }

  mkdir(rel: string): void {
    this.makeDirs(normal(rel), this.clock.now());
  }

  setMtime(rel: string, mtimeMs: number): void {
    const file = this.files.get(rel);
    if (file) {
      this.files.set(rel, new MemoryStat(mtimeMs, file.size, false, file.content, this.clock.now()));
      return;
    }
    const dir = this.dirs.get(normal(rel));
    if (!dir) throw fsError('ENOENT', 'utime', this.abs(rel));
    dir.mtimeMs = mtimeMs;
  }

  private fileStat(mtimeMs: number, size: number, content: string): MemoryStat {
    const last = this.lastStat;
    if (last?.mtimeMs === mtimeMs && last.size === size && last.content === content) return last;
    return (this.lastStat = new MemoryStat(mtimeMs, size, false, content));
  }

  private abs(rel: string): string {
    return rel === '' ? this.root : `${this.root}/${rel}`;
  }

  /** The directory at `path`, if there is one. */
  private dirAt(path: string): MemoryDir | undefined {
    if (path === this.lastDirPath) return this.lastDir;
    const dir = this.dirs.get(path);
    if (dir) {
      this.lastDirPath = path;
      this.lastDir = dir;
    }
    return dir;
  }

  /**
   * The directory of `rel`, if there is one. A path in the directory named last is told by
   * comparing, not by cutting its directory's path out of it: a rehearsal writes 10,000s of
   * files into one directory.
   */
  private parentDirOf(rel: string): MemoryDir | undefined {
    const last = this.lastDirPath;
    if (last !== undefined) {
      const n = last.length;
      const inLast =
        n === 0
          ? rel.indexOf('/') < 0
          : rel.length > n + 1 && rel.charCodeAt(n) === 47 && rel.startsWith(last) && rel.indexOf('/', n + 1) < 0;
      if (inLast) return this.lastDir;
    }
    return this.dirAt(parentOf(rel));
  }

  /** Throws as the disk would when `dir` (the parent of `rel`) is missing or a file. */
  private needDir(dir: string, syscall: string, rel: string): void {
    if (this.dirs.has(dir)) return;
    let up = dir;
    while (up !== '' && !this.files.has(up)) up = parentOf(up);
    throw fsError(up === '' ? 'ENOENT' : 'ENOTDIR', syscall, this.abs(rel));
  }

  /** `dir`: the directory of `rel`, when the caller looked it up already. */
  private setFile(rel: string, stat: MemoryStat, now: number, dir?: MemoryDir): void {
    // A new file grows the table: one lookup, not a `has` before the `set`.
    const size = this.files.size;
    this.files.set(rel, stat);
    if (this.files.size === size) return;
    const parent = dir ?? this.dirAt(parentOf(rel));
    if (!parent) throw fsError('ENOENT', 'open', this.abs(rel));
    parent.added.push(rel);
    parent.mtimeMs = now;
  }

  private unlink(rel: string, now: number): void {
    this.files.delete(rel);
    const parent = this.dirs.get(parentOf(rel));
    if (!parent) return;
    childrenOf(parent).delete(nameOf(rel));
    parent.mtimeMs = now;
  }

  /** `mkdir -p`: EEXIST for a file at `rel`, ENOTDIR for a file further up. */
  private makeDirs(rel: string, now: number): void {
    if (this.dirAt(rel)) return;
    if (this.files.has(rel)) throw fsError('EEXIST', 'mkdir', this.abs(rel));
    const parent = parentOf(rel);
    if (!this.dirs.has(parent)) {
      if (this.files.has(parent)) throw fsError('ENOTDIR', 'mkdir', this.abs(rel));
      this.makeDirs(parent, now);
    }
    this.dirs.set(rel, newDir(now));
    const up = this.dirs.get(parent);
    if (!up) return;
    up.added.push(new MemoryEntry(nameOf(rel), true));
    up.mtimeMs = now;
  }
}
