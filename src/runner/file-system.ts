/**
 * The file system as the runner uses it: the few operations a build really performs, on paths
 * relative to the project root. A real build uses the disk (`nodeFileSystem`); `runcue sim` runs
 * the same planner and scheduler over an in-memory tree (sim/memory-file-system.ts), so a
 * rehearsal reads the project once and writes nothing.
 *
 * Synchronous on purpose: a no-op build is mostly stats, and synchronous stats are about 3x
 * faster than promise-based ones over 10,000s of files.
 */
import { randomUUID } from 'node:crypto';
import {
  appendFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';

/** A file's or directory's stat (node's `fs.Stats` is one: no copy on the hot path). */
export interface FsStat {
  readonly mtimeMs: number;
  /**
   * When the file's inode last changed: any write, rename or `utimes` sets it to now, so a copy
   * that keeps an old mtime (`cp -p`, `rsync -t`, `touch -r`) still shows when it was made.
   */
  readonly ctimeMs: number;
  readonly size: number;
  isFile(): boolean;
  isDirectory(): boolean;
}

/** A directory entry (node's `fs.Dirent` is one). */
export interface FsEntry {
  readonly name: string;
  /**
   * The entry's path as the `dir` given to `readdir` joined with its name (the name alone in the
   * root), when the file system has that string at hand (the in-memory one): a walk takes it
   * instead of making it again.
   */
  readonly relPath?: string;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

/**
 * Paths are relative to `root`, POSIX, normalised (no `.`/`..`, no leading slash); `''` is the
 * root itself. Failures throw node-style errors (with a `code`: ENOENT, ENOTDIR, ...) except
 * where a method says otherwise.
 */
export interface FileSystem {
  /** The absolute project directory the paths are relative to (messages and keys use it). */
  readonly root: string;
  /** Follows symlinks; undefined when nothing is there or it cannot be reached. */
  stat(rel: string): FsStat | undefined;
  /** The entries of a directory, in no particular order. */
  readdir(rel: string): readonly FsEntry[];
  /** The absolute path with every symlink resolved. */
  realpath(rel: string): string;
  readFile(rel: string): Buffer;
  readText(rel: string): string;
  writeFile(rel: string, data: string): void;
  /**
   * Writes a whole file so that a concurrent reader (another runcue process) sees the old
   * content or the new, never half: a temporary file renamed over it.
   */
  replaceFile(rel: string, data: string): void;
  /**
   * Appends `data` with one write to a file opened O_APPEND (created when missing), so lines that
   * several processes append never interleave.
   */
  appendFile(rel: string, data: string): void;
  rename(from: string, to: string): void;
  /** Removes a file; nothing when it is not there. */
  remove(rel: string): void;
  /** Removes a directory and everything beneath it (a symlink: the link); nothing when it is not there. */
  removeTree(rel: string): void;
  /** `mkdir -p`. */
  mkdir(rel: string): void;
  /** Sets the access and modification times. */
  setMtime(rel: string, mtimeMs: number): void;
}

/** One options object for every stat, not one per call. */
const NO_THROW = { throwIfNoEntry: false } as const;

/**
 * The disk, under `root`. `workingDirectory`: the process's, asked at each stat (Node caches it);
 * while it is `root`, stats use the relative path, which the kernel resolves faster (20-30% of a
 * stat, and a no-op build is mostly stats).
 */
export function nodeFileSystem(root: string, workingDirectory?: () => string): FileSystem {
  // Concatenation, not path.join: rel is normalised, and path.join showed up in no-op profiles.
  const abs = (rel: string): string => (rel === '' ? root : `${root}/${rel}`);
  const statted = (rel: string): string => (rel !== '' && workingDirectory?.() === root ? rel : abs(rel));
  return {
    root,
    stat(rel) {
      try {
        return statSync(statted(rel), NO_THROW);
      } catch {
        // A link loop, a name too long, a directory we may not enter: nothing we can use.
        return undefined;
      }
    },
    readdir: (rel) => readdirSync(abs(rel), { withFileTypes: true }),
    realpath: (rel) => realpathSync(abs(rel)),
    readFile: (rel) => readFileSync(abs(rel)),
    readText: (rel) => readFileSync(abs(rel), 'utf8'),
    writeFile: (rel, data) => writeFileSync(abs(rel), data),
    replaceFile(rel, data) {
      const tmp = `${abs(rel)}.${randomUUID()}.tmp`;
      try {
        writeFileSync(tmp, data);
        renameSync(tmp, abs(rel));
      } catch (error) {
        rmSync(tmp, { force: true });
        throw error;
      }
    },
    appendFile: (rel, data) => appendFileSync(abs(rel), data),
    rename: (from, to) => renameSync(abs(from), abs(to)),
    remove: (rel) => rmSync(abs(rel), { force: true }),
    removeTree: (rel) => rmSync(abs(rel), { force: true, recursive: true }),
    mkdir: (rel) => void mkdirSync(abs(rel), { recursive: true }),
    setMtime(rel, mtimeMs) {
      const t = new Date(mtimeMs);
      utimesSync(abs(rel), t, t);
    },
  };
}
