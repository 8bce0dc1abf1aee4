/**
 * Recent starts of rate-limited services, kept under `<root>/.runcue/rates/` so that a sliding
 * window survives restarts and is shared by every runcue process in the same project.
 *
 * One append-only file per service (`<service>.log`: one integer-millisecond start per line) and
 * one lock file for the directory (`.lock`). The limiter loads, checks and records while holding
 * the lock, so two processes never both take the last slot of a window: without the lock, two
 * processes reading the file at the same instant would each see N-1 starts and each add one.
 * The lock is `open(O_CREAT|O_EXCL)` with a short bounded spin; a lock older than `staleLockMs`
 * was left by a process that died inside the (microseconds-long) critical section and is broken.
 * Breaking it is not atomic: two waiters that judge the same lock stale at the same instant can
 * both get in. That needs a crash inside the lock first, so it is left at that.
 *
 * It is a cache: deleting `.runcue/` forgets the window and nothing else. Reads are cheap: a
 * `stat` per load, and only the bytes appended since the last load are read. A file is compacted
 * (rewritten to the starts still inside the window) when it grows past a few times that many lines.
 */
import { closeSync, mkdirSync, openSync, readSync, renameSync, statSync, unlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { err, ok, type Result } from '../result.ts';

/** Starts of rate-limited services shared between processes (see the module comment). */
export interface RateStore {
  /**
   * Runs `fn` holding the store's lock (re-entrant). Fails, without running `fn`, when another
   * process held the lock for longer than the store waits.
   */
  exclusive<T>(fn: () => T): Result<T, LockBusy>;
  /**
   * Starts of `service` at or after `sinceMs`, ascending, from every process (own ones included).
   * With `nowMs`, a recorded start later than `nowMs` plus a second (the clock stepped back,
   * another machine's clock runs ahead) counts as a start at `nowMs`: it still fills the window,
   * but cannot hold the service for the whole skew.
   */
  load(service: string, sinceMs: number, nowMs?: number): number[];
  /** Appends one start. Call it inside `exclusive`: only there may the file be compacted. */
  record(service: string, time: number): void;
}

/** The lock stayed held by someone else for the whole wait. */
export interface LockBusy {
  readonly reason: 'lock-busy';
  readonly path: string;
}

/** Tuning and error reporting for {@link createRateStore}. */
export interface RateStoreOptions {
  /** How long `exclusive` waits for a busy lock (default 500 ms). */
  readonly lockWaitMs?: number;
  /** A lock older than this is taken for a crashed holder's and removed (default 5000 ms). */
  readonly staleLockMs?: number;
  /**
   * Told once about an I/O failure other than a busy lock (read-only disk, permissions, `.runcue`
   * a file); the store then keeps the starts it could not write in memory, so limits still hold
   * within this process (and this store), but no longer across processes or restarts.
   */
  readonly onError?: (error: Error) => void;
  /** Told once per file about starts recorded in the future (by more than a second), with the largest skew seen. */
  readonly onFutureStarts?: (file: string, skewMs: number) => void;
}

/** How far in the future a recorded start may be before it is taken for clock skew. */
export const FUTURE_TOLERANCE_MS = 1000;

/** What one process knows of one service's file. */
interface Tail {
  /** Inode of the file read so far; compaction (a rename) or deletion changes it. */
  ino: number;
  /** Bytes consumed (always at a line end). */
  offset: number;
  /** Lines in the file, for deciding when to compact. */
  lines: number;
  /** Ascending, trimmed to the last `since`. */
  starts: number[];
  since: number;
  /** Own starts the file could not take (ascending): kept here so the window still holds. */
  unsaved: number[];
}

const SUBDIR = join('.runcue', 'rates');
const COMPACT_MIN_LINES = 64;
const COMPACT_FACTOR = 4;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** A store under `<root>/.runcue/rates/`; nothing is written until the first `record`. */
export function createRateStore(root: string, options: RateStoreOptions = {}): RateStore {
  const dir = join(root, SUBDIR);
  const lockPath = join(dir, '.lock');
  const lockWaitMs = options.lockWaitMs ?? 500;
  const staleLockMs = options.staleLockMs ?? 5000;
  const tails = new Map<string, Tail>();
  let held = false;
  let reported = false;

  const report = (error: unknown): void => {
    if (reported) return;
    reported = true;
    options.onError?.(error instanceof Error ? error : new Error(String(error)));
  };
  const fileOf = (service: string): string => join(dir, `${encodeURIComponent(service)}.log`);
  const tailOf = (service: string): Tail => {
    let tail = tails.get(service);
    if (!tail) tails.set(service, (tail = { ino: -1, offset: 0, lines: 0, starts: [], since: -Infinity, unsaved: [] }));
    return tail;
  };

  const skewReported = new Set<string>();
  /** Clamps ascending starts later than `now` + tolerance to `now`, and says so once per file. */
  const clampFuture = (file: string, times: number[], now: number | undefined): number[] => {
    const last = times.at(-1);
    if (now === undefined || last === undefined || last <= now + FUTURE_TOLERANCE_MS) return times;
    if (!skewReported.has(file)) {
      skewReported.add(file);
      options.onFutureStarts?.(file, last - now);
    }
    return times.map((t) => (t > now + FUTURE_TOLERANCE_MS ? now : t)).sort((a, b) => a - b);
  };

  return {
    exclusive(fn) {
      if (held) return ok(fn());
      const got = takeLock(dir, lockPath, lockWaitMs, staleLockMs, report);
      if (got === false) return err({ reason: 'lock-busy', path: lockPath });
      held = got === true;
      try {
        return ok(fn());
      } finally {
        if (held) {
          held = false;
          try {
            unlinkSync(lockPath);
          } catch (error) {
            if (codeOf(error) !== 'ENOENT') report(error);
          }
        }
      }
    },

    load(service, sinceMs, nowMs) {
      const tail = tailOf(service);
      if (sinceMs > tail.since) {
        tail.since = sinceMs;
        tail.starts = tail.starts.filter((t) => t >= sinceMs);
        tail.unsaved = tail.unsaved.filter((t) => t >= sinceMs);
      }
      syncTail(fileOf(service), tail, report);
      // Clamped where they are kept, so one start is moved once, to the first `now` that saw it.
      tail.starts = clampFuture(fileOf(service), tail.starts, nowMs);
      const starts = merge(tail.starts, tail.unsaved);
      return starts.filter((t) => t >= sinceMs);
    },

    record(service, time) {
      const file = fileOf(service);
      const tail = tailOf(service);
      if (!appendLine(file, `${time}\n`, report)) {
        tail.unsaved = merge(tail.unsaved, [time]);
        return;
      }
      syncTail(fileOf(service), tail, report);
      if (held && tail.lines > Math.max(COMPACT_MIN_LINES, COMPACT_FACTOR * tail.starts.length)) compactTail(file, tail, report);
    },
  };
}

/** Takes the lock: true, false when busy past the wait, or undefined when locking is impossible. */
function takeLock(
  dir: string,
  lockPath: string,
  lockWaitMs: number,
  staleLockMs: number,
  report: (e: unknown) => void,
): boolean | undefined {
  const deadline = Date.now() + lockWaitMs;
  for (;;) {
    try {
      closeSync(openSync(lockPath, 'wx'));
      return true;
    } catch (error) {
      const code = codeOf(error);
      if (code === 'ENOENT') {
        if (!ensureDir(dir, report)) return undefined;
        continue;
      }
      if (code !== 'EEXIST') {
        report(error);
        return undefined;
      }
    }
    const broken = breakIfStale(lockPath, staleLockMs);
    if (broken === true) continue;
    if (broken !== false) {
      // A stale lock we may not remove (a read-only checkout): waiting cannot help.
      report(broken);
      return undefined;
    }
    if (Date.now() >= deadline) return false;
    Atomics.wait(sleeper, 0, 0, 1);
  }
}

/** Reads what was appended to `file` since `tail` last saw it (from the start when it was replaced). */
function syncTail(file: string, tail: Tail, report: (e: unknown) => void): void {
  let size: number;
  let ino: number;
  try {
    const st = statSync(file);
    size = st.size;
    ino = st.ino;
  } catch (error) {
    if (codeOf(error) !== 'ENOENT') report(error);
    else Object.assign(tail, { ino: -1, offset: 0, lines: 0, starts: [] });
    return;
  }
  if (ino !== tail.ino || size < tail.offset) Object.assign(tail, { ino, offset: 0, lines: 0, starts: [] });
  if (size === tail.offset) return;
  try {
    const { consumed, times } = readLines(file, tail.offset, size - tail.offset);
    tail.offset += consumed;
    tail.lines += times.length;
    tail.starts = merge(
      tail.starts,
      times.filter((t) => t >= tail.since),
    );
  } catch (error) {
    report(error);
  }
}

/** Rewrites `file` with only the starts still in the window (under the lock). */
function compactTail(file: string, tail: Tail, report: (e: unknown) => void): void {
  const tmp = `${file}.tmp`;
  const text = tail.starts.map((t) => `${t}\n`).join('');
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, file);
    Object.assign(tail, { ino: statSync(file).ino, offset: Buffer.byteLength(text), lines: tail.starts.length });
  } catch (error) {
    report(error);
  }
}

/** Appends `line`, creating the directory when it is gone; false (reported) when it cannot. */
function appendLine(file: string, line: string, report: (e: unknown) => void): boolean {
  for (let attempt = 0; ; attempt++) {
    try {
      appendFileSync(file, line);
      return true;
    } catch (error) {
      if (codeOf(error) !== 'ENOENT' || attempt > 0) {
        report(error);
        return false;
      }
      if (!ensureDir(join(file, '..'), report)) return false;
    }
  }
}

/** Whole lines in `length` bytes from `offset`; a torn last line is left for the next read. */
function readLines(file: string, offset: number, length: number): { consumed: number; times: number[] } {
  const buffer = Buffer.alloc(length);
  const fd = openSync(file, 'r');
  let got = 0;
  try {
    while (got < length) {
      const n = readSync(fd, buffer, got, length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
  } finally {
    closeSync(fd);
  }
  const end = buffer.lastIndexOf(0x0a, got - 1);
  if (end < 0) return { consumed: 0, times: [] };
  const times: number[] = [];
  for (const line of buffer.toString('latin1', 0, end).split('\n')) {
    const t = Number(line);
    if (line !== '' && Number.isSafeInteger(t)) times.push(t);
  }
  return { consumed: end + 1, times };
}

/** Merges ascending `b` (in any order) into ascending `a`. */
function merge(a: number[], b: number[]): number[] {
  if (b.length === 0) return a;
  const sorted = b.every((t, i) => i === 0 || (b[i - 1] ?? t) <= t) ? b : [...b].sort((x, y) => x - y);
  if (a.length === 0 || (a.at(-1) ?? 0) <= (sorted[0] ?? 0)) return a.concat(sorted);
  return a.concat(sorted).sort((x, y) => x - y);
}

/** Removes a lock older than `staleLockMs`: true when it is gone, the error when it cannot be removed. */
function breakIfStale(lockPath: string, staleLockMs: number): boolean | Error {
  try {
    if (Date.now() - statSync(lockPath).mtimeMs < staleLockMs) return false;
    unlinkSync(lockPath);
    return true;
  } catch (error) {
    // Released between our open and our stat: try again at once.
    if (codeOf(error) === 'ENOENT') return true;
    return error instanceof Error ? error : new Error(String(error));
  }
}

function ensureDir(dir: string, report: (e: unknown) => void): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    return true;
  } catch (error) {
    report(error);
    return false;
  }
}

function codeOf(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}
