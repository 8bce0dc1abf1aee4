/**
 * The two checks of a unit: is it ready (every input exists), and is it stale (Make's
 * mtime rule, maxAge, schedule, --force)? Custom `ready`/`stale` checks are added in unit-check.ts.
 */
import type { Schedule } from '../config/schedule.ts';
import type { UnitPath } from '../graph/unit.ts';
import type { StaleReason } from './events.ts';
import type { FileSystem } from './file-system.ts';
import { filesOf, OneFile, statInput, statPath, type FileStat } from './files.ts';
import { clockExpiry } from './expiry.ts';
import { recordedFilesOf, type OutputRecord } from './output-record.ts';

/** What a freshness check needs besides the unit. */
export interface CheckContext {
  readonly fs: FileSystem;
  readonly now: number;
  readonly maxAgeMs: number | undefined;
  /** The task's `schedule`: outputs older than its most recent time at or before `now` are stale. */
  readonly schedule?: Schedule | undefined;
  readonly force: boolean;
  /**
   * The unit's output record (see output-record.ts): null when it has none, undefined when not
   * consulted (then a glob output is judged by the files that match it, as before records).
   */
  readonly record?: OutputRecord | null;
  /** When `record` was written (ms since the epoch; see {@link ranWithoutOutputs}). */
  readonly recordedAt?: number | undefined;
  /** Files a glob input must not read: outputs of units that no longer exist (orphans.ts). */
  readonly isOrphan?: (file: string) => boolean;
}

/** A unit's verdict, with its inputs as observed (what a run of it will be compared against). */
export type CheckOutcome =
  /** An input does not exist (a glob input matches no file). */
  | { readonly kind: 'missing-input'; readonly input: UnitPath }
  /** `expiresAt`: when `maxAge` or the schedule will make it stale (undefined without either). */
  | { readonly kind: 'fresh'; readonly inputs: ReadonlyMap<string, FileStat>; readonly expiresAt?: number; readonly skew?: ClockSkew }
  | { readonly kind: 'stale'; readonly reason: StaleReason; readonly inputs: ReadonlyMap<string, FileStat>; readonly skew?: ClockSkew };

/** A file dated in the future (Make's "Clock skew detected"): freshness by mtime cannot be trusted. */
export interface ClockSkew {
  readonly file: string;
  readonly aheadMs: number;
}

/** Less than this ahead of the clock is filesystem timestamp noise, not skew. */
const SKEW_TOLERANCE_MS = 1000;

/** Input files with their stats as observed now, or the first missing input. */
export function observeInputs(
  fs: FileSystem,
  inputs: readonly UnitPath[],
  isOrphan?: (file: string) => boolean,
): { missing: UnitPath } | { files: ReadonlyMap<string, FileStat> } {
  const only = inputs.length === 1 ? inputs[0] : undefined;
  if (only && !only.isGlob) {
    const s = statInput(fs, only.path);
    return s ? { files: new OneFile(only.path, s) } : { missing: only };
  }
  const files = new Map<string, FileStat>();
  for (const input of inputs) {
    if (!input.isGlob) {
      const s = statInput(fs, input.path);
      if (!s) return { missing: input };
      files.set(input.path, s);
      continue;
    }
    const found = filesOf(fs, input);
    const matched = isOrphan ? found.filter((f) => !isOrphan(f)) : found;
    if (matched.length === 0) return { missing: input };
    for (const f of matched) {
      const s = statPath(fs, f);
      if (s) files.set(f, s);
    }
  }
  return { files };
}

/** Make's rule: stale when an output is missing or older than an input; also maxAge, schedule and --force. */
export function checkUnit(inputs: readonly UnitPath[], outputs: readonly UnitPath[], ctx: CheckContext): CheckOutcome {
  const observed = observeInputs(ctx.fs, inputs, ctx.isOrphan);
  if ('missing' in observed) return { kind: 'missing-input', input: observed.missing };
  const files = observed.files;
  const verdict = staleReasonOf(files, outputs, ctx);
  const oldest = 'mtimeMs' in verdict ? verdict : undefined;
  const skew = clockSkew(files, oldest, ctx.now);
  if (!oldest)
    return skew
      ? { kind: 'stale', reason: verdict as StaleReason, inputs: files, skew }
      : { kind: 'stale', reason: verdict as StaleReason, inputs: files };
  const expiresAt = ctx.maxAgeMs === undefined && ctx.schedule === undefined ? undefined : clockExpiry(ctx, oldest.mtimeMs);
  // The common verdict (fresh, no expiry, no skew) is one small object: a no-op checks 100,000s.
  if (expiresAt === undefined) return skew ? { kind: 'fresh', inputs: files, skew } : { kind: 'fresh', inputs: files };
  return skew ? { kind: 'fresh', inputs: files, expiresAt, skew } : { kind: 'fresh', inputs: files, expiresAt };
}

/**
 * The file furthest in the future beyond the tolerance, among the inputs (newer than any output
 * forever: a rebuild every time) and the oldest output of a fresh unit (no input ever newer: no
 * rebuild ever). Make warns and goes on; so does runcue.
 */
function clockSkew(
  inputs: ReadonlyMap<string, FileStat>,
  oldestOutput: { readonly file: string; readonly mtimeMs: number } | undefined,
  now: number,
): ClockSkew | undefined {
  const limit = now + SKEW_TOLERANCE_MS;
  // Most checks find no file in the future: no closure, no iterator, nothing allocated.
  if (newestMtime(inputs) <= limit && (!oldestOutput || oldestOutput.mtimeMs <= limit)) return undefined;
  let worst: ClockSkew | undefined;
  inputs.forEach((s, file) => {
    const aheadMs = s.mtimeMs - now;
    if (aheadMs > SKEW_TOLERANCE_MS && (!worst || aheadMs > worst.aheadMs)) worst = { file, aheadMs };
  });
  if (oldestOutput) {
    const aheadMs = oldestOutput.mtimeMs - now;
    if (aheadMs > SKEW_TOLERANCE_MS && (!worst || aheadMs > worst.aheadMs)) worst = { file: oldestOutput.file, aheadMs };
  }
  return worst;
}

/** The largest mtime among `inputs` (-Infinity for none). */
function newestMtime(inputs: ReadonlyMap<string, FileStat>): number {
  if (inputs instanceof OneFile) return inputs.stat.mtimeMs;
  let newest = -Infinity;
  for (const s of inputs.values()) if (s.mtimeMs > newest) newest = s.mtimeMs;
  return newest;
}

/** The first input (in order) newer than `mtimeMs`. */
function firstNewer(inputs: ReadonlyMap<string, FileStat>, mtimeMs: number): string | undefined {
  if (inputs instanceof OneFile) return inputs.stat.mtimeMs > mtimeMs ? inputs.file : undefined;
  for (const [file, s] of inputs) if (s.mtimeMs > mtimeMs) return file;
  return undefined;
}

/** A concrete output's stat: a file, or a directory (a directory output). */
function statOutput(fs: FileSystem, rel: string): FileStat | undefined {
  const s = fs.stat(rel);
  return s?.isFile() || s?.isDirectory() ? s : undefined;
}

/** The files a glob output stands for: recorded ones when a record is consulted. */
function globOutputFiles(out: UnitPath, ctx: CheckContext): string[] | StaleReason {
  if (ctx.record === undefined) return filesOf(ctx.fs, out);
  if (ctx.record === null) {
    // Matching files that no recorded run wrote may be hand-written: they prove nothing.
    const found = filesOf(ctx.fs, out);
    return found.length === 0 ? [] : { kind: 'unrecorded', output: out.path, files: found.length };
  }
  return recordedFilesOf(ctx.record, [out]);
}

/** A fan-in member added or removed since the unit's last success (mtime mode misses both). */
function membersChanged(inputs: ReadonlyMap<string, FileStat>, record: OutputRecord | null | undefined): StaleReason | undefined {
  if (!record?.members) return undefined;
  const was = new Set(record.members);
  for (const file of inputs.keys()) if (!was.has(file)) return { kind: 'members-changed', input: file, change: 'added' };
  for (const file of record.members) if (!inputs.has(file)) return { kind: 'members-changed', input: file, change: 'removed' };
  return undefined;
}

/** A reason to run, or the oldest output when the unit is fresh. */
function staleReasonOf(
  inputs: ReadonlyMap<string, FileStat>,
  outputs: readonly UnitPath[],
  ctx: CheckContext,
): StaleReason | { file: string; mtimeMs: number } {
  if (ctx.force) return { kind: 'forced' };
  if (outputs.length === 0) return { kind: 'no-outputs' };
  let oldest: { file: string; mtimeMs: number } | undefined;
  // An index loop: no iterator result per output of each of 100,000s of units.
  for (let o = 0; o < outputs.length; o++) {
    const out = outputs[o] as UnitPath;
    if (!out.isGlob) {
      // One stat per concrete output: this loop is most of a no-op build.
      const s = statOutput(ctx.fs, out.path);
      if (!s) {
        if (out.optional) continue;
        return { kind: 'missing-output', output: out.path };
      }
      if (!oldest || s.mtimeMs < oldest.mtimeMs) oldest = { file: out.path, mtimeMs: s.mtimeMs };
      continue;
    }
    const files = globOutputFiles(out, ctx);
    if (!Array.isArray(files)) return files;
    if (files.length === 0) {
      if (out.optional) continue;
      return { kind: 'missing-output', output: out.path };
    }
    for (const f of files) {
      const s = statPath(ctx.fs, f);
      if (!s) return { kind: 'missing-output', output: f };
      if (!oldest || s.mtimeMs < oldest.mtimeMs) oldest = { file: f, mtimeMs: s.mtimeMs };
    }
  }
  if (!oldest) {
    const ran = ranWithoutOutputs(ctx);
    if (typeof ran !== 'number') return ran;
    oldest = { file: (outputs[0] as UnitPath).path, mtimeMs: ran };
  }
  const members = membersChanged(inputs, ctx.record);
  if (members) return members;
  const newer = firstNewer(inputs, oldest.mtimeMs);
  if (newer !== undefined) return { kind: 'input-newer', input: newer, output: oldest.file };
  if (ctx.maxAgeMs !== undefined && ctx.now - oldest.mtimeMs > ctx.maxAgeMs) {
    return { kind: 'max-age', output: oldest.file, ageMs: ctx.now - oldest.mtimeMs };
  }
  const due = ctx.schedule?.latest(ctx.now);
  if (due !== undefined && oldest.mtimeMs < due) return { kind: 'scheduled', output: oldest.file, due };
  return oldest;
}

/**
 * A unit whose outputs are all optional and none there: when its last success wrote none of
 * them, the time of that success stands for its outputs' (Make would run it on every build, as
 * runcue did: an API call each time for a check that found nothing to report). Stale when it
 * never succeeded (or no record says when), or when a file it wrote then is gone.
 */
function ranWithoutOutputs(ctx: CheckContext): number | StaleReason {
  // Reached only when no output is there: every output is optional (a missing required one was the verdict).
  const { record, recordedAt } = ctx;
  if (!record || recordedAt === undefined || recordedAt <= 0) return { kind: 'no-outputs' };
  const gone = record.files[0];
  return gone === undefined ? recordedAt : { kind: 'missing-output', output: gone };
}

/**
 * Inputs whose stats differ from what was observed when the unit started, plus files that
 * appeared meanwhile in a glob input (pass `inputs` to look for those).
 */
export function changedInputs(
  fs: FileSystem,
  observed: ReadonlyMap<string, FileStat>,
  inputs: readonly UnitPath[] = [],
  isOrphan?: (file: string) => boolean,
): readonly string[] {
  // Asked after every attempt, and most units have one input that did not change: no closure,
  // no iterator, and no array unless something changed.
  let changed: string[] | undefined;
  if (observed instanceof OneFile) {
    if (statChanged(fs, observed.file, observed.stat)) changed = [observed.file];
  } else {
    observed.forEach((was, file) => {
      if (statChanged(fs, file, was)) (changed ??= []).push(file);
    });
  }
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i] as UnitPath;
    if (!input.isGlob) continue;
    for (const file of filesOf(fs, input)) if (!observed.has(file) && !isOrphan?.(file)) (changed ??= []).push(file);
  }
  return changed ?? NOTHING_CHANGED;
}

const NOTHING_CHANGED: readonly string[] = Object.freeze([]);

/** Whether `file` (or a directory input) is no longer what `was` describes (gone, or another mtime or size). */
function statChanged(fs: FileSystem, file: string, was: FileStat): boolean {
  const now = statInput(fs, file);
  return now === undefined || now.mtimeMs !== was.mtimeMs || now.size !== was.size;
}

/** What a unit's inputs looked like: changes when any input is added, removed or modified. */
export function inputSignature(inputs: ReadonlyMap<string, FileStat>): string {
  return JSON.stringify([...inputs].sort(([a], [b]) => (a < b ? -1 : 1)).map(([f, s]) => [f, s.mtimeMs, s.size]));
}
