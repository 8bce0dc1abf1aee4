/**
 * Records of units in flight, under `<root>/.runcue/inflight/` (like Snakemake's incomplete
 * markers): one file per unit, named by a hash of its id, written before its command is spawned
 * or its function called and removed once it settled (after a failed unit's outputs were removed).
 *
 * A record whose owner is gone (runcue was killed, the machine lost power) means the unit was
 * interrupted: its outputs may be half-written whatever their mtimes say, so it is stale. A
 * record whose owner is alive means the unit runs in another runcue process (or another build in
 * this one): it must not run twice, and its outputs must not be called fresh while being written.
 * The file is created with O_EXCL, so it is also the unit's lock between processes.
 *
 * The owner is alive when, on this host, its pid is alive (and on Linux was started at the same
 * time, so a reused pid does not count); from another host (a shared disk), when the record was
 * touched within {@link FOREIGN_STALE_MS}: owners touch their records every {@link HEARTBEAT_MS}.
 */
import { hash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, utimesSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Unit } from '../graph/unit.ts';
import { InflightSpares } from './inflight-spares.ts';
import { processAlive, thisProcess, type ProcessIdentity } from './process-groups.ts';

/** What a record holds (JSON). */
export interface InflightRecord extends ProcessIdentity {
  readonly version: 1;
  readonly unit: string;
  readonly task: string;
  /** When the unit started, ms since the epoch. */
  readonly startedAt: number;
  readonly outputs: readonly string[];
  /**
   * The run's watchdog, which stops its commands after it died (SIGTERM, SIGKILL after the
   * grace period). While it lives, the dead run's commands may still write.
   */
  readonly watchdog?: ProcessIdentity;
}

/** What the record of a unit says. */
export type InflightState =
  | { readonly kind: 'none' }
  /** A run that died while the unit ran (pid 0: the record itself was cut short). */
  | { readonly kind: 'interrupted'; readonly record: InflightRecord }
  /**
   * The unit runs now in another runcue process, or another build of this one; `stopping`: that
   * runcue died, but its watchdog is still stopping the unit's command, which may still write.
   */
  | { readonly kind: 'elsewhere'; readonly record: InflightRecord; readonly stopping?: boolean };

export interface InflightRecords {
  /** The state of `unitId`'s record (`none` when this object holds it); one stat when there is none. */
  inspect(unitId: string): InflightState;
  /** Records that this process runs `unit`, or says who else does (the record is theirs). */
  claim(unit: Unit): { readonly ok: true } | { readonly ok: false; readonly record: InflightRecord; readonly stopping?: boolean };
  /** The unit settled: remove its record (no-op unless this object claimed it). */
  release(unitId: string): void;
  /**
   * The run ended: remove every record it still holds (units stopped before they ran again),
   * except those `keep` names (an abandoned function attempt that may still write).
   */
  releaseAll(keep?: Iterable<string>): void;
  /** Removes `unitId`'s record whoever wrote it, unless its owner is alive (`touch` marks it fresh). */
  forget(unitId: string): void;
}

const NO_RECORD: InflightState = Object.freeze({ kind: 'none' });

const HEARTBEAT_MS = 30_000;
export const FOREIGN_STALE_MS = 120_000;

/** Records this process holds, by path: process-wide, since each build or watch cycle has its own view. */
const heldHere = new Set<string>();
let heartbeat: NodeJS.Timeout | undefined;

export function createInflightRecords(options: {
  readonly root: string;
  readonly now: () => number;
  readonly onError?: (error: Error) => void;
  /** Starts (once) and names the watchdog of `unit`'s command, before its record is written. */
  readonly watchdog?: (unit: Unit) => ProcessIdentity | undefined;
}): InflightRecords {
  const dir = join(options.root, '.runcue', 'inflight');
  const self = thisProcess();
  /** Records this object claimed (this build's). */
  const mine = new Set<string>();
  let reported = false;
  let made = false;
  const listed = recordNames(dir);
  const spares = new InflightSpares(join(options.root, '.runcue', 'inflight-spares'), self.pid);
  const report = (error: unknown): void => {
    if (reported) return;
    reported = true;
    options.onError?.(error instanceof Error ? error : new Error(String(error)));
  };
  const pathOf = (unitId: string): string => join(dir, `${hash('sha1', unitId)}.json`);

  const inspectPath = (path: string): InflightState => inspectRecord(path, self, options.now());

  const create = (path: string, record: InflightRecord): 'ok' | 'exists' => {
    try {
      if (!made) mkdirSync(dir, { recursive: true });
      made = true;
      return spares.create(path, `${JSON.stringify(record)}\n`);
    } catch (error) {
      report(error);
      return 'ok';
    }
  };

  return {
    inspect(unitId) {
      // One shared answer: asked for every unit a build checks, and most have no record.
      if (listed.none()) return NO_RECORD;
      const path = pathOf(unitId);
      return mine.has(path) || !listed.has(path) ? NO_RECORD : inspectPath(path);
    },
    claim(unit) {
      const path = pathOf(unit.id);
      // Claimed for an earlier attempt: a unit keeps its record through retries and push-backs.
      if (mine.has(path)) return { ok: true };
      const watchdog = options.watchdog?.(unit);
      const record = newRecord(self, unit, options.now(), watchdog);
      for (let tries = 0; tries < 3; tries++) {
        if (create(path, record) === 'ok') {
          mine.add(path);
          hold(path);
          return { ok: true };
        }
        listed.add(path);
        const state = inspectPath(path);
        if (state.kind === 'elsewhere') return { ok: false, record: state.record, ...(state.stopping ? { stopping: true } : {}) };
        // Left by a run that died: take it over (it makes this unit stale, and it is about to run).
        removeFile(path);
      }
      report(new Error(`could not take over ${path}`));
      return { ok: true };
    },
    release(unitId) {
      const path = pathOf(unitId);
      if (mine.delete(path)) unhold(path, spares);
    },
    releaseAll(keep = []) {
      const kept = new Set([...keep].map(pathOf));
      for (const path of mine) if (!kept.has(path)) unhold(path, spares);
      for (const path of [...mine]) if (!kept.has(path)) mine.delete(path);
      spares.clear();
    },
    forget(unitId) {
      const path = pathOf(unitId);
      if (inspectPath(path).kind === 'interrupted') removeFile(path);
    },
  };
}

/**
 * The record files there were when first asked, plus those found since: a unit without one
 * needs no hash and no stat (a no-op build asks about every unit). A record another run writes
 * later is still seen where it matters: claiming the unit finds it.
 */
function recordNames(dir: string): { none(): boolean; has(path: string): boolean; add(path: string): void } {
  let names: Set<string> | undefined;
  const list = (): Set<string> => {
    try {
      names ??= new Set(readdirSync(dir));
    } catch {
      // No directory yet (or none readable): no records.
      names = new Set();
    }
    return names;
  };
  return {
    none: () => list().size === 0,
    has: (path) => list().has(basename(path)),
    add: (path) => void list().add(basename(path)),
  };
}

/** The record of `unit` starting now in process `self`. */
function newRecord(self: ProcessIdentity, unit: Unit, now: number, watchdog: ProcessIdentity | undefined): InflightRecord {
  const outputs = unit.outputs.map((o) => o.path);
  return { version: 1, ...self, unit: unit.id, task: unit.task, startedAt: now, outputs, ...(watchdog ? { watchdog } : {}) };
}

/** What the record at `path` says, seen by process `self` at `now`. */
function inspectRecord(path: string, self: ProcessIdentity, now: number): InflightState {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return { kind: 'none' };
  const record = readRecord(path);
  if (!record)
    return { kind: 'interrupted', record: { version: 1, pid: 0, host: '', unit: '', task: '', startedAt: st.mtimeMs, outputs: [] } };
  const alive =
    record.host !== self.host
      ? now - st.mtimeMs < FOREIGN_STALE_MS
      : record.pid === self.pid && record.started === self.started
        ? heldHere.has(path)
        : processAlive(record);
  if (alive) return { kind: 'elsewhere', record };
  // Dead owner, live watchdog: its commands get SIGTERM, then SIGKILL after the grace period.
  // A rerun now would race their late writes; once the watchdog exits, they are gone.
  const { watchdog } = record;
  if (
    record.host === self.host &&
    watchdog?.host === self.host &&
    Number.isInteger(watchdog.pid) &&
    watchdog.pid > 0 &&
    processAlive(watchdog)
  )
    return { kind: 'elsewhere', record, stopping: true };
  return { kind: 'interrupted', record };
}

function unhold(path: string, spares: InflightSpares): void {
  heldHere.delete(path);
  if (!spares.unlink(path)) removeFile(path);
  if (heldHere.size === 0 && heartbeat) {
    clearInterval(heartbeat);
    heartbeat = undefined;
  }
}

function hold(path: string): void {
  heldHere.add(path);
  if (heartbeat) return;
  heartbeat = setInterval(() => {
    const now = new Date();
    for (const p of heldHere) {
      try {
        utimesSync(p, now, now);
      } catch {
        // Removed meanwhile (released, or deleted by hand): nothing to keep alive.
      }
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();
}

function readRecord(path: string): InflightRecord | undefined {
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof value !== 'object' || value === null) return undefined;
    const r = value as Partial<InflightRecord>;
    if (typeof r.pid !== 'number' || typeof r.host !== 'string' || typeof r.unit !== 'string' || typeof r.startedAt !== 'number')
      return undefined;
    return value as InflightRecord;
  } catch {
    return undefined;
  }
}

function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
