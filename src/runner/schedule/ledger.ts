/**
 * What a run leaves behind for its caller (a watcher, mostly): the files it wrote and cleared,
 * the units that failed and on which inputs, those that rewrote their own inputs, and when the
 * first fresh unit goes stale by the clock (its `maxAge` runs out or its `schedule` comes due).
 */
import type { Unit } from '../../graph/unit.ts';
import type { FileSystem } from '../file-system.ts';
import { statsOf, type FileStat } from '../files.ts';
import { needsRecord, recordOutputs } from '../output-record.ts';
import { rewriteAfterRun, type InputRewrite } from '../self-rewrite.ts';
import { inputSignature } from '../staleness.ts';
import { listFiles } from '../walk.ts';

/** What a successful run of a unit reported about its files. */
export interface RunFiles {
  /** Outputs it wrote (a dynamic set's members). */
  readonly written: readonly string[];
  /** Its own inputs it changed. */
  readonly rewrote: readonly string[];
  readonly inputs: ReadonlyMap<string, FileStat>;
}

/** The files and units one run reports to its caller. */
export class Ledger {
  private readonly fs: FileSystem;
  /** Units that failed in this run (or earlier, unchanged), with their input signatures. */
  readonly failedInputs = new Map<string, string>();
  /** Output files this run wrote, with their mtimes. */
  readonly written = new Map<string, number>();
  /** Files of dynamic sets removed before their producer reran. */
  readonly cleared: string[] = [];
  /** Units of this run whose run changed their own inputs. */
  readonly rewrote = new Map<string, InputRewrite>();
  private expiry: number | undefined;
  private unrecordedWarned = false;

  private readonly records: 'all' | 'read-back';
  /** False: `written` stays empty (a rehearsal: no watcher reads it). */
  private readonly keepWritten: boolean;

  constructor(fs: FileSystem, records: 'all' | 'read-back' = 'all', keepWritten = true) {
    this.fs = fs;
    this.records = records;
    this.keepWritten = keepWritten;
  }

  /** The earliest time a fresh unit's `maxAge` runs out or its `schedule` comes due, if any has one. */
  get nextExpiry(): number | undefined {
    return this.expiry;
  }

  /** A fresh or built unit goes stale again at `time`. */
  expiresAt(time: number): void {
    this.expiry = Math.min(this.expiry ?? Infinity, time);
  }

  /** A unit failed on these inputs (a watcher does not rerun it until one changes). */
  failedOn(id: string, inputs: ReadonlyMap<string, FileStat> | string): void {
    this.failedInputs.set(id, typeof inputs === 'string' ? inputs : inputSignature(inputs));
  }

  /**
   * Records what a successful run wrote; returns a warning the first time the record under
   * `.runcue/` cannot be written (it fails every unit's record the same way).
   */
  succeeded(unit: Unit, files: RunFiles): string | undefined {
    if (this.keepWritten) this.noteWritten(unit);
    const rewrite = rewriteAfterRun(this.fs, unit, files.rewrote);
    if (rewrite) this.rewrote.set(unit.id, rewrite);
    if (this.records === 'read-back' && !needsRecord(unit)) return undefined;
    const unrecorded = recordOutputs(this.fs, unit, files.written, files.inputs);
    if (!unrecorded || this.unrecordedWarned) return undefined;
    this.unrecordedWarned = true;
    return unrecorded;
  }

  private noteWritten(unit: Unit): void {
    const only = unit.outputs.length === 1 ? unit.outputs[0] : undefined;
    if (only && !only.isGlob) {
      // One concrete output (most units): its stat as it is, no snapshot map and callback per unit.
      const st = this.fs.stat(only.path);
      if (st?.isFile()) this.written.set(only.path, st.mtimeMs);
      else if (st?.isDirectory()) this.noteDirectory(only.path);
      return;
    }
    const files = statsOf(this.fs, unit.outputs);
    files.forEach((st, file) => this.written.set(file, st.mtimeMs));
    for (const o of unit.outputs) if (!o.isGlob && !files.has(o.path) && this.fs.stat(o.path)?.isDirectory()) this.noteDirectory(o.path);
  }

  /** The files beneath a directory output (`site/index.html` of `site`): another task may read them. */
  private noteDirectory(dir: string): void {
    for (const file of listFiles(this.fs, dir)) {
      const st = this.fs.stat(file);
      if (st?.isFile()) this.written.set(file, st.mtimeMs);
    }
  }
}
