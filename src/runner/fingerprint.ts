/**
 * Content-hash freshness (`freshness: 'hash'`), for where mtimes lie (git checkouts, CI caches).
 * A unit's fingerprint covers its input contents, its resolved command and its declared `env`;
 * a manifest (size, mtime) of its outputs (a directory output: it and every file beneath it)
 * notices an output deleted or edited by hand. Records
 * live in `.runcue/fingerprints/`: a cache (deleting it only causes rebuilds), written
 * atomically (temp file + rename) so concurrent runcue processes never read half a record.
 */
import { createHash } from 'node:crypto';
import type { ResolvedTask } from '../config/resolved.ts';
import type { Unit, UnitPath } from '../graph/unit.ts';
import type { StaleReason } from './events.ts';
import { err, ok, type Result } from '../result.ts';
import type { FileSystem } from './file-system.ts';
import { makeDir, snapshot, statPath, type DirFailure, type FileStat } from './files.ts';
import { listFiles } from './walk.ts';
import { describeFsError } from './fs-errors.ts';

/** What a unit's fingerprint is made of, each part hashed. */
export interface FingerprintParts {
  /** Input path -> sha256 of its content. */
  readonly inputs: Readonly<Record<string, string>>;
  readonly command: string;
  readonly env: string;
}

interface FingerprintRecord {
  readonly version: 1;
  readonly unit: string;
  readonly parts: FingerprintParts;
  /** Output path -> [size, mtimeMs] when the record was written. */
  readonly outputs: Readonly<Record<string, readonly [number, number]>>;
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

function recordPath(unitId: string): string {
  return `.runcue/fingerprints/${sha256(unitId).slice(0, 32)}.json`;
}

/**
 * The fingerprint of a unit's inputs, command and env; or the input that could not be read (it
 * vanished since it was listed, or may not be read).
 */
export function fingerprintParts(
  fs: FileSystem,
  task: ResolvedTask,
  inputs: ReadonlyMap<string, FileStat>,
  command: string,
): Result<FingerprintParts, { readonly input: string }> {
  const hashed: Record<string, string> = {};
  for (const file of [...inputs.keys()].sort()) {
    const hash = contentHash(fs, file);
    if (hash === undefined) return err({ input: file });
    hashed[file] = hash;
  }
  const env = Object.entries(task.env).sort(([a], [b]) => (a < b ? -1 : 1));
  return ok({ inputs: hashed, command: sha256(command), env: sha256(JSON.stringify(env)) });
}

/**
 * The sha256 of a file's content; of a directory input (another task's directory output, `input:
 * 'site'`), of every file beneath it, path and content. Undefined when it cannot be read.
 */
function contentHash(fs: FileSystem, path: string): string | undefined {
  try {
    return sha256(fs.readFile(path));
  } catch {
    if (!fs.stat(path)?.isDirectory()) return undefined;
  }
  const all = createHash('sha256');
  for (const file of listFiles(fs, path)) {
    const hash = contentHash(fs, file);
    if (hash === undefined) return undefined;
    all.update(`${file}\u0000${hash}\u0000`);
  }
  return all.digest('hex');
}

function readRecord(fs: FileSystem, unitId: string): FingerprintRecord | undefined {
  try {
    const record = JSON.parse(fs.readText(recordPath(unitId))) as FingerprintRecord;
    return record.version === 1 && record.unit === unitId ? record : undefined;
  } catch {
    return undefined;
  }
}

/** Why the unit is stale by its fingerprint, or undefined when it matches the record. */
export function fingerprintStale(fs: FileSystem, unit: Unit, parts: FingerprintParts): StaleReason | undefined {
  const record = readRecord(fs, unit.id);
  if (!record) return { kind: 'fingerprint', part: 'new', detail: 'no fingerprint recorded yet' };
  const was = record.parts;
  for (const [file, hash] of Object.entries(parts.inputs)) {
    if (was.inputs[file] === undefined) return { kind: 'fingerprint', part: 'inputs', detail: `new input ${file}` };
    if (was.inputs[file] !== hash) return { kind: 'fingerprint', part: 'inputs', detail: `content of ${file} changed` };
  }
  for (const file of Object.keys(was.inputs)) {
    if (parts.inputs[file] === undefined) return { kind: 'fingerprint', part: 'inputs', detail: `input ${file} is gone` };
  }
  if (was.command !== parts.command) return { kind: 'fingerprint', part: 'command', detail: 'the command changed' };
  if (was.env !== parts.env) return { kind: 'fingerprint', part: 'env', detail: 'the declared env changed' };
  const now = outputManifest(fs, unit.outputs);
  for (const [file, [size, mtime]] of Object.entries(record.outputs)) {
    const s = now.get(file);
    if (!s) return { kind: 'missing-output', output: file };
    if (s.size !== size || s.mtimeMs !== mtime)
      return { kind: 'fingerprint', part: 'outputs', detail: `output ${file} was changed after it was built` };
  }
  for (const file of now.keys()) {
    if (record.outputs[file] === undefined) return { kind: 'fingerprint', part: 'outputs', detail: `unrecorded output ${file}` };
  }
  return undefined;
}

/**
 * The outputs as the manifest records them: each file, and for a directory output (`output:
 * 'site'`) the directory itself and every file beneath it, so that deleting the directory or
 * editing a page in it makes the unit stale as deleting or editing a file output does.
 */
function outputManifest(fs: FileSystem, outputs: readonly UnitPath[]): Map<string, FileStat> {
  const manifest = snapshot(fs, outputs);
  for (const o of outputs) {
    const dir = o.isGlob ? undefined : fs.stat(o.path);
    if (!dir?.isDirectory()) continue;
    manifest.set(o.path, { size: dir.size, mtimeMs: dir.mtimeMs });
    for (const file of listFiles(fs, o.path)) {
      const s = statPath(fs, file);
      if (s) manifest.set(file, s);
    }
  }
  return manifest;
}

/** Where fingerprints are kept, relative to the project root. */
export const FINGERPRINT_DIR = '.runcue/fingerprints';

/**
 * Records the unit as fresh: its fingerprint and the outputs as they are now. Says why when the
 * record cannot be written (`.runcue` is a file, a read-only checkout, a full disk).
 */
export function recordFingerprint(fs: FileSystem, unit: Unit, parts: FingerprintParts): DirFailure | undefined {
  const outputs: Record<string, readonly [number, number]> = {};
  for (const [file, s] of outputManifest(fs, unit.outputs)) outputs[file] = [s.size, s.mtimeMs];
  const record: FingerprintRecord = { version: 1, unit: unit.id, parts, outputs };
  const path = recordPath(unit.id);
  const purpose = 'to record the fingerprint of this unit';
  const noDir = makeDir(fs, FINGERPRINT_DIR, purpose);
  if (noDir) return noDir;
  try {
    fs.replaceFile(path, JSON.stringify(record));
    return undefined;
  } catch (error) {
    const problem = describeFsError(error, fs.root, path);
    return { reason: 'file-error', path: problem.path, message: `cannot write ${problem.path} ${purpose}: ${problem.reason}` };
  }
}
