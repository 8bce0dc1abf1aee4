/**
 * Spare files for in-flight records (inflight.ts). Creating a file is the costly part of a record:
 * an inode allocated and, on removal, freed again, ~0.3 ms of system time each on ext4 here, as
 * much as forking the `cp` a unit may run, for a record that lives one attempt. So a record is a
 * second name (a hard link) of one of a few files this process keeps under
 * `.runcue/inflight-spares/`, one per unit running at once: written in place, then linked as the
 * record (a link fails with EEXIST as an O_EXCL create does, so the record is still the unit's
 * lock between processes), and unlinked from the record's name on release, which frees nothing.
 * Where hard links are not supported the caller creates each record itself.
 */
import { closeSync, ftruncateSync, linkSync, mkdirSync, openSync, readdirSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive } from './process-groups.ts';

/** Spares of one process are named `PID-N`; N counts across every build of the process. */
let serial = 0;

export class InflightSpares {
  private readonly dir: string;
  private readonly free: string[] = [];
  /** Record path -> the spare it is a link of. */
  private readonly linked = new Map<string, string>();
  private unsupported = false;
  private swept = false;
  /** The build is over: a record released from now on (an abandoned attempt's) keeps no spare. */
  private closed = false;

  private readonly pid: number;
  /**
   * The spares' open files and the length of what each holds: a record is then a write and a
   * link, without an open and a close per unit. Only this process names a spare `PID-N` (N
   * never repeats), so a spare's path is always this file or gone (the link then fails).
   */
  private readonly files = new Map<string, { readonly fd: number; length: number }>();

  constructor(dir: string, pid: number) {
    this.dir = dir;
    this.pid = pid;
  }

  /** Writes `text` as the record at `path` unless a record is there; throws what else fails. */
  create(path: string, text: string): 'ok' | 'exists' {
    const linked = this.link(path, text);
    if (linked !== undefined) return linked;
    try {
      writeFileSync(path, text, { flag: 'wx' });
      return 'ok';
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
      throw error;
    }
  }

  /** {@link create} with a spare; undefined when none can serve. */
  private link(path: string, text: string): 'ok' | 'exists' | undefined {
    if (this.unsupported) return undefined;
    const spare = this.free.pop() ?? this.fresh();
    if (spare === undefined) return undefined;
    try {
      this.rewrite(spare, text);
      linkSync(spare, path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        this.free.push(spare);
        return 'exists';
      }
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EXDEV' || code === 'EMLINK') this.unsupported = true;
      this.remove(spare);
      return undefined;
    }
    this.linked.set(path, spare);
    return 'ok';
  }

  /** Removes the record at `path` when it is a link of a spare (true), which then serves again. */
  unlink(path: string): boolean {
    const spare = this.linked.get(path);
    if (spare === undefined) return false;
    this.linked.delete(path);
    try {
      unlinkSync(path);
    } catch (error) {
      // Still linked (or unknown): never rewrite it.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.remove(spare);
        return true;
      }
    }
    if (this.closed) this.remove(spare);
    else this.free.push(spare);
    return true;
  }

  /** Removes the free spares: the build is over. */
  clear(): void {
    this.closed = true;
    for (const spare of this.free.splice(0)) this.remove(spare);
  }

  /**
   * Writes `text` over the spare. Free spares have one name: rewriting one changes no record. Cut
   * to length only when the text is shorter, never to 0 first: ext4 flushes a file truncated to
   * 0 and written again when it is closed (auto_da_alloc), which blocked runcue on the disk for
   * every unit.
   */
  private rewrite(spare: string, text: string): void {
    const data = Buffer.from(text);
    let file = this.files.get(spare);
    if (!file) {
      // Cut the first time: a spare an earlier process with this pid left (pid reuse: it was
      // not swept) may hold a longer text, whose end would spoil the record.
      file = { fd: openSpare(spare), length: Number.POSITIVE_INFINITY };
      this.files.set(spare, file);
    }
    writeSync(file.fd, data, 0, data.length, 0);
    if (data.length < file.length) ftruncateSync(file.fd, data.length);
    file.length = data.length;
  }

  /** Closes the spare and removes it. */
  private remove(spare: string): void {
    const file = this.files.get(spare);
    if (file) {
      this.files.delete(spare);
      try {
        closeSync(file.fd);
      } catch {
        // Closed already: nothing held.
      }
    }
    remove(spare);
  }

  private fresh(): string | undefined {
    try {
      if (!this.swept) this.sweep();
      return join(this.dir, `${this.pid}-${++serial}`);
    } catch {
      this.unsupported = true;
      return undefined;
    }
  }

  /** Makes the directory and removes the spares of processes that are gone (killed runs). */
  private sweep(): void {
    mkdirSync(this.dir, { recursive: true });
    this.swept = true;
    for (const name of readdirSync(this.dir)) {
      const pid = Number(name.split('-')[0]);
      if (Number.isInteger(pid) && pid > 0 && !processAlive({ pid, host: '' })) remove(join(this.dir, name));
    }
  }
}

/** Opens the spare to write, making it when it is not there yet. */
function openSpare(spare: string): number {
  try {
    return openSync(spare, 'r+');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return openSync(spare, 'wx+');
  }
}

function remove(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
