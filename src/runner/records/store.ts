/**
 * Run records on disk: one `<id>.json` per run under `<root>/.runcue/runs/`, written whole
 * (temp file, then rename) so a reader never sees half a record, and pruned to the newest
 * `keep`. The directory is a history, not state: deleting it loses nothing runcue needs.
 * Readers skip a record they cannot read or parse, with a warning, never failing for it.
 */
import { mkdirSync, readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { err, ok, type Result } from '../../result.ts';
import { describeFsError } from '../fs-errors.ts';
import { RECORD_VERSION, type RunRecord } from './record.ts';

/** Where the records live, relative to the project root. */
export const RUNS_DIR = '.runcue/runs';

/** Record ids: a UTC start time that sorts as text, the process and (watch) the cycle. */
const ID = /^\d{8}-\d{6}-\d{3}-p\d+(-c\d+)?$/;

/** The id of a run started at `startedAt` by process `pid` (and its watch `cycle`). */
export function recordId(startedAt: number, pid: number, cycle?: number): string {
  // From the UTC fields, not toISOString(): its first call in a process costs ~1 ms, on every build.
  const t = new Date(startedAt);
  const date = `${pad(t.getUTCFullYear(), 4)}${pad(t.getUTCMonth() + 1, 2)}${pad(t.getUTCDate(), 2)}`;
  const time = `${pad(t.getUTCHours(), 2)}${pad(t.getUTCMinutes(), 2)}${pad(t.getUTCSeconds(), 2)}`;
  return `${date}-${time}-${pad(t.getUTCMilliseconds(), 3)}-p${String(pid)}${cycle !== undefined ? `-c${String(cycle)}` : ''}`;
}

function pad(n: number, digits: number): string {
  return String(n).padStart(digits, '0');
}

/**
 * Writes `record` and removes all but the newest `keep` records. Fails (with the reason in
 * words) only when the record could not be written; pruning is best effort. Synchronous inside:
 * a few small files at the end of a run, and a no-op build need not load node:fs/promises.
 */
export function writeRunRecord(root: string, record: RunRecord, keep: number): Promise<Result<string, string>> {
  return Promise.resolve(writeNow(root, record, keep));
}

function writeNow(root: string, record: RunRecord, keep: number): Result<string, string> {
  const dir = join(root, RUNS_DIR);
  const path = join(dir, `${record.id}.json`);
  const temp = join(dir, `.${record.id}.tmp`); // the id names this process already
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(temp, `${JSON.stringify(record)}\n`);
    renameSync(temp, path);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // The write failed already; that is the error to report.
    }
    const problem = describeFsError(error, root, path);
    return err(`could not write the run record ${problem.path}: ${problem.reason}`);
  }
  pruneRunRecords(root, keep);
  return ok(path);
}

/** Removes all but the newest `keep` records; errors (a record another process removed) are ignored. */
function pruneRunRecords(root: string, keep: number): void {
  const ids = runIdsOnDisk(root);
  for (const id of ids.slice(0, Math.max(0, ids.length - keep))) {
    try {
      unlinkSync(join(root, RUNS_DIR, `${id}.json`));
    } catch {
      // Best effort: the next run prunes it.
    }
  }
}

/** Ids of the records on disk, oldest first; none when the directory does not exist. */
export function listRunIds(root: string): Promise<string[]> {
  return Promise.resolve(runIdsOnDisk(root));
}

function runIdsOnDisk(root: string): string[] {
  let names: string[];
  try {
    names = readdirSync(join(root, RUNS_DIR));
  } catch {
    return [];
  }
  return names
    .filter((name) => name.endsWith('.json'))
    .map((name) => name.slice(0, -'.json'.length))
    .filter((id) => ID.test(id))
    .sort();
}

/** The readable records, newest first, and a warning for each one skipped. */
export interface ReadRecords {
  readonly records: readonly RunRecord[];
  readonly warnings: readonly string[];
}

/** Reads every record on disk, newest first, skipping (with a warning) those that cannot be read. */
export async function readRunRecords(root: string): Promise<ReadRecords> {
  const ids = (await listRunIds(root)).reverse();
  const records: RunRecord[] = [];
  const warnings: string[] = [];
  for (const id of ids) {
    const read = await readRunRecord(root, id);
    if (read.ok) records.push(read.value);
    else warnings.push(read.error);
  }
  return { records, warnings };
}

async function readRunRecord(root: string, id: string): Promise<Result<RunRecord, string>> {
  const shown = `${RUNS_DIR}/${id}.json`;
  let text: string;
  try {
    text = await readFile(join(root, RUNS_DIR, `${id}.json`), 'utf8');
  } catch (error) {
    return err(`skipped the run record ${shown}: ${describeFsError(error, root, shown).reason}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return err(`skipped the run record ${shown}: not valid JSON (cut short or edited?)`);
  }
  return isRunRecord(value) ? ok(value) : err(`skipped the run record ${shown}: not a version ${String(RECORD_VERSION)} run record`);
}

/** Enough of the shape that readers can rely on: the fields every reader walks. */
function isRunRecord(value: unknown): value is RunRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    r['version'] === RECORD_VERSION &&
    typeof r['id'] === 'string' &&
    typeof r['startedAt'] === 'number' &&
    typeof r['durationMs'] === 'number' &&
    typeof r['counts'] === 'object' &&
    r['counts'] !== null &&
    typeof r['services'] === 'object' &&
    r['services'] !== null &&
    typeof r['uses'] === 'object' &&
    r['uses'] !== null &&
    Array.isArray(r['units']) &&
    r['units'].every((u: unknown) => typeof u === 'object' && u !== null && Array.isArray((u as Record<string, unknown>)['spans']))
  );
}

/**
 * The record `selector` names among `records` (newest first): `undefined` or `1` the newest,
 * `2` the one before, ...; otherwise an id or a prefix of exactly one id.
 */
export function selectRunRecord(records: readonly RunRecord[], selector: string | undefined): Result<RunRecord, string> {
  if (records.length === 0) return err(`no run records in ${RUNS_DIR} (runcue build and runcue watch write one per run)`);
  const which = selector ?? '1';
  if (/^\d{1,6}$/.test(which)) {
    const index = Number(which);
    const record = records[index - 1];
    if (index >= 1 && record) return ok(record);
    return err(`run ${which}: expected 1 (the latest) to ${String(records.length)} (the oldest kept run), or a run id`);
  }
  const matches = records.filter((r) => r.id === which || r.id.startsWith(which));
  const exact = matches.find((r) => r.id === which);
  if (exact) return ok(exact);
  const [only, ...more] = matches;
  if (only && more.length === 0) return ok(only);
  if (only) return err(`run "${which}" matches ${String(matches.length)} runs: ${matches.map((r) => r.id).join(', ')}`);
  return err(
    `no run "${which}" in ${RUNS_DIR}: expected 1 (the latest) to ${String(records.length)}, or one of the ids runcue report --list shows`,
  );
}
