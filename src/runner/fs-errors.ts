/**
 * File-system errors a user causes (a file where a directory should be, a read-only checkout, a
 * full disk) as plain words with the path that failed, relative to the project: these end up in
 * unit failures and warnings, never as stack traces.
 */
import { statSync } from 'node:fs';
import { dirname, isAbsolute, relative } from 'node:path';

/** What a failed file operation could not do, and why, in words. */
export interface FsProblem {
  /** The path that failed, relative to the project root when it is inside it. */
  readonly path: string;
  /** `not a directory (out is a file)`, `permission denied`, ... */
  readonly reason: string;
}

const REASONS: Readonly<Record<string, string>> = {
  ENOTDIR: 'not a directory',
  EEXIST: 'a file is in the way',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  ENOENT: 'no such file or directory',
  ELOOP: 'too many symbolic links (a link loop?)',
  ENAMETOOLONG: 'file name too long',
  EISDIR: 'is a directory',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
};

/** The error's code (`ENOTDIR`), when it is a Node system error. */
export function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/**
 * Describes `error` from an operation on `path` (absolute, or relative to `root`). For
 * ENOTDIR/EEXIST it names the file that stands where a directory should be, which is what the
 * user has to move.
 */
export function describeFsError(error: unknown, root: string, path: string): FsProblem {
  const code = errorCode(error);
  const shown = projectPath(root, path);
  const known = code === undefined ? undefined : REASONS[code];
  if (known === undefined) return { path: shown, reason: error instanceof Error ? error.message : String(error) };
  if (code === 'ENOTDIR' || code === 'EEXIST') {
    const blocker = fileInTheWay(root, path);
    if (blocker !== undefined) return { path: shown, reason: `${known} (${projectPath(root, blocker)} is a file)` };
  }
  return { path: shown, reason: known };
}

/** The nearest ancestor of `path` (itself included) that exists and is not a directory. */
function fileInTheWay(root: string, path: string): string | undefined {
  let p = isAbsolute(path) ? path : `${root}/${path}`;
  for (;;) {
    try {
      const s = statSync(p, { throwIfNoEntry: false });
      if (s) return s.isDirectory() ? undefined : p;
    } catch {
      // ENOTDIR from a file further up: keep climbing to it.
    }
    const up = dirname(p);
    if (up === p) return undefined;
    p = up;
  }
}

/** `path` relative to the project root when it is inside it (as messages show paths). */
export function projectPath(root: string, path: string): string {
  if (!isAbsolute(path)) return path;
  const rel = relative(root, path);
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel;
}
