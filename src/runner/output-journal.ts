/**
 * Where output records (output-record.ts) are kept: append-only journals under `.runcue/outputs/`,
 * one line per record, instead of one file per unit. A file per unit cost an inode allocated and
 * a rename for every unit that ran, about a third of runcue's own time per unit in a clean build;
 * a line is one `write` to a file that exists.
 *
 * - Each process appends to its own segment, `PID.START.HOST.N.jsonl` (its pid, the kernel's start
 *   time of that pid, a hash of the host name and a counter), with one `write` per whole line
 *   (O_APPEND). No two processes ever write one file, so concurrent runs (queue workers, watch and
 *   build) cannot lose each other's lines, and no lock is needed.
 * - A line is `{"at":MS,"version":1,"unit":...,"task":...,"files":[...]}`, or `"deleted":true`
 *   in place of the record. For each unit the line with the greatest `at` wins (a process's `at`
 *   never decreases; among equal ones, the later line of a file). A line without its newline
 *   (runcue was killed while writing it) is ignored, and a winning line that does not parse says
 *   nothing: that unit then looks unrecorded, so stale, never fresh. After a failed write the next
 *   line starts with a newline, so a torn line never swallows the one after it. A line is parsed
 *   only when its unit's record is asked for: `at` and the unit come first, found by a scan.
 * - Compaction merges the segments no live process writes to any more (its writer died, or it is
 *   this process's own finished segment), earlier compactions (`base.ID.jsonl`) and files of the
 *   old one-file-per-unit format (`HASH.json`, read as older than every line) into one new base
 *   file written atomically, and only then removes them: a kill at any point leaves either the
 *   old files or the new one with the same records (a duplicate line is harmless). It runs when a
 *   process finds 8 or more such files, old-format files, or more than twice as many lines as
 *   live records. A deletion is dropped only when it is an hour old and no file left out of the
 *   compaction names the unit, so an older record can never come back.
 *
 * Records are read once per build (per FileSystem object) into a map; a unit about to rerun
 * reads what other processes appended since (see {@link refreshedRecord}).
 */
import { hash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { FileSystem } from './file-system.ts';
import type { OutputRecord } from './output-record.ts';
import { processAlive, thisProcess } from './process-groups.ts';

const RECORDS_DIR = '.runcue/outputs';

/** Compact when this many finished files (or more) are found. */
const COMPACT_FILES = 8;
/** A process starts a new segment after this many lines, so a long watch's lines can be compacted. */
const SEGMENT_LINES = 50_000;
/** A deletion younger than this is kept by compaction (see the module comment); also the age of a forgotten temporary file. */
const DELETION_KEPT_MS = 3_600_000;

/**
 * The winning line of a unit. Lines are parsed only when asked for (a build reads thousands and
 * needs a few): `line` is its text, `record` what it says once parsed (null: deleted).
 */
interface Entry {
  readonly at: number;
  /** The file the line is in. */
  readonly file: string;
  readonly line?: string;
  record?: OutputRecord | null;
}

/** Old-format records are older than every journal line. */
const LEGACY_AT = -1;
/** An old-format record file: a hash of the unit's id. */
const LEGACY = /^[0-9a-f]{32}\.json$/;

/** This process's segment per project root (every build of the process appends to it). */
interface Writer {
  readonly name: string;
  lines: number;
  /** Bytes this process appended (NaN once a write failed part way). */
  bytes: number;
  /** The last write failed: it may have left a line without its newline. */
  torn: boolean;
}

const writers = new Map<string, Writer>();
/** Names of segments this process still appends to. */
const open = new Set<string>();
let serial = 0;
let lastAt = 0;

let tag: { readonly prefix: string; readonly host: string } | undefined;
function selfTag(): { readonly prefix: string; readonly host: string } {
  if (tag) return tag;
  const self = thisProcess();
  const host = hash('sha1', hostname(), 'hex').slice(0, 8);
  tag = { prefix: `${self.pid}.${self.started ?? '0'}.${host}`, host };
  return tag;
}

type Kind = 'live' | 'finished' | 'legacy' | 'other';

/** What a file under RECORDS_DIR is, as far as compaction goes. */
function kindOf(name: string): Kind {
  if (LEGACY.test(name)) return 'legacy';
  if (!name.endsWith('.jsonl')) return 'other';
  const parts = name.split('.');
  if (parts[0] === 'base') return 'finished';
  if (parts.length !== 5) return 'other';
  const [pid, started, host] = parts as [string, string, string];
  const self = selfTag();
  if (`${pid}.${started}.${host}` === self.prefix) return open.has(name) ? 'live' : 'finished';
  // Another host's process cannot be asked whether it still writes.
  if (host !== self.host) return 'live';
  const owner = { pid: Number(pid), host: '', ...(started === '0' ? {} : { started }) };
  return processAlive(owner) ? 'live' : 'finished';
}

/** A line: `at` and the unit first, so a reader finds both without parsing the rest. */
function lineOf(unit: string, at: number, record: OutputRecord | null): string {
  return JSON.stringify(record ? { at, ...record } : { at, version: 1, unit, deleted: true });
}

const HEAD = '{"at":';
const UNIT = '"version":1,"unit":"';
const DELETED = ',"deleted":true}';

/** A unit's id as it is written inside a line's quotes (the key of the view's map). */
function keyOf(unit: string): string {
  return JSON.stringify(unit).slice(1, -1);
}

/** The `at` and unit key of a line, read without parsing it; undefined for a line not so written. */
function scanLine(text: string): { key: string; at: number } | undefined {
  if (!text.startsWith(HEAD)) return undefined;
  const comma = text.indexOf(',', HEAD.length);
  if (comma < 0 || !text.startsWith(UNIT, comma + 1)) return undefined;
  const at = Number(text.slice(HEAD.length, comma));
  if (!Number.isFinite(at)) return undefined;
  const start = comma + 1 + UNIT.length;
  let i = start;
  while (i < text.length && text.charCodeAt(i) !== 34) i += text.charCodeAt(i) === 92 ? 2 : 1;
  return i < text.length ? { key: text.slice(start, i), at } : undefined;
}

/** What an entry says; a line that does not parse as a record says nothing (unrecorded). */
function recordOf(entry: Entry): OutputRecord | null {
  if (entry.record !== undefined) return entry.record;
  let record: OutputRecord | null = null;
  try {
    const line = JSON.parse(entry.line ?? '') as Partial<OutputRecord> & { deleted?: unknown };
    const ok = line.version === 1 && typeof line.unit === 'string' && typeof line.task === 'string' && Array.isArray(line.files);
    if (ok && line.deleted !== true) record = line as OutputRecord;
  } catch {
    // Cut short or garbled: unrecorded, so stale.
  }
  entry.record = record;
  return record;
}

function isDeletion(entry: Entry): boolean {
  return entry.line === undefined ? entry.record === null : entry.line.endsWith(DELETED);
}

/** The records of one directory as one process sees them. */
class JournalView {
  readonly entries = new Map<string, Entry>();
  /** Bytes of each journal file read so far (up to its last whole line). */
  readonly offsets = new Map<string, number>();
  /**
   * What each file is, as first seen: a process that died since still counts as live, and
   * compaction leaves its file for a later build (safe; it only saves space).
   */
  readonly kinds = new Map<string, Kind>();
  /** Units the live files name (a deletion they may predate must be kept). */
  readonly namedLive = new Set<string>();
  /** Lines read from finished files, and the unit of each old-format file. */
  finishedLines = 0;
  readonly legacyUnits = new Map<string, string>();
  private readonly fs: FileSystem;

  constructor(fs: FileSystem) {
    this.fs = fs;
  }

  apply(unit: string, entry: Entry): void {
    const known = this.entries.get(unit);
    if (!known || entry.at >= known.at) this.entries.set(unit, entry);
  }

  kindOf(name: string): Kind {
    let kind = this.kinds.get(name);
    if (kind === undefined) this.kinds.set(name, (kind = kindOf(name)));
    return kind;
  }

  /**
   * Reads what was appended since the last call; returns the files there are. A file removed
   * between the listing and its reading was compacted into a new one: the listing is taken again.
   */
  refresh(): string[] {
    for (let attempt = 0; ; attempt++) {
      let names: string[];
      try {
        names = this.fs.readdir(RECORDS_DIR).flatMap((e) => (e.isFile() ? [e.name] : []));
      } catch {
        return [];
      }
      let vanished = false;
      for (const name of names) {
        const kind = this.kindOf(name);
        if (kind === 'live' || kind === 'finished') vanished = !this.readSegment(name, kind === 'live') || vanished;
        else if (kind === 'legacy' && !this.offsets.has(name)) this.readLegacy(name);
      }
      if (!vanished || attempt === 2) return names;
    }
  }

  /** False when the file is gone. */
  private readSegment(name: string, live: boolean): boolean {
    const rel = `${RECORDS_DIR}/${name}`;
    const from = this.offsets.get(name) ?? 0;
    const size = this.fs.stat(rel)?.size;
    if (size === undefined) return false;
    if (size === from) return true;
    let bytes: Buffer;
    try {
      bytes = this.fs.readFile(rel);
    } catch {
      return false;
    }
    // Only whole lines: one without its newline is being written, or was cut short by a kill.
    const end = bytes.lastIndexOf(10) + 1;
    if (end <= from) return true;
    for (const text of bytes.toString('utf8', from, end).split('\n')) {
      const scanned = text === '' ? undefined : scanLine(text);
      if (!scanned) continue;
      this.apply(scanned.key, { at: scanned.at, file: name, line: text });
      if (live) this.namedLive.add(scanned.key);
      else this.finishedLines++;
    }
    this.offsets.set(name, end);
    return true;
  }

  private readLegacy(name: string): void {
    this.offsets.set(name, 0);
    try {
      const record = JSON.parse(this.fs.readText(`${RECORDS_DIR}/${name}`)) as Partial<OutputRecord>;
      if (record.version === 1 && typeof record.unit === 'string' && typeof record.task === 'string' && Array.isArray(record.files)) {
        const key = keyOf(record.unit);
        this.apply(key, { at: LEGACY_AT, record: record as OutputRecord, file: name });
        this.legacyUnits.set(name, key);
      }
    } catch {
      // Unreadable: that unit looks unrecorded, as it did before.
    }
  }
}

const views = new WeakMap<FileSystem, JournalView>();

/** The records as this FileSystem object (one per build) first read them; compacts when worth it. */
function viewOf(fs: FileSystem): JournalView {
  let view = views.get(fs);
  if (view) return view;
  view = new JournalView(fs);
  views.set(fs, view);
  const names = view.refresh();
  const finished = names.filter((name) => view.kindOf(name) === 'finished' || view.kindOf(name) === 'legacy');
  let fromFinished = 0;
  for (const entry of view.entries.values()) if (view.kinds.get(entry.file) !== 'live') fromFinished++;
  if (finished.length >= COMPACT_FILES || view.legacyUnits.size > 0 || view.finishedLines > 2 * fromFinished + 1000)
    compact(fs, view, finished);
  return view;
}

/** The unit's record as this build first read it; null when there is none. */
export function journalRecord(fs: FileSystem, unit: string): OutputRecord | null {
  const entry = viewOf(fs).entries.get(keyOf(unit));
  return entry ? recordOf(entry) : null;
}

/** When the unit's record was written (ms since the epoch); undefined without one, or for a record of the old format. */
export function journalRecordedAt(fs: FileSystem, unit: string): number | undefined {
  const entry = viewOf(fs).entries.get(keyOf(unit));
  return entry && entry.at > 0 && recordOf(entry) !== null ? entry.at : undefined;
}

/** The unit's record with what other processes appended since this build read them. */
export function refreshedRecord(fs: FileSystem, unit: string): OutputRecord | null {
  const known = views.get(fs);
  if (known) known.refresh();
  return journalRecord(fs, unit);
}

/** Every live record. */
export function journalRecords(fs: FileSystem): OutputRecord[] {
  return [...viewOf(fs).entries.values()].flatMap((entry) => recordOf(entry) ?? []);
}

/** Appends the unit's record, or that it has none (`null`); throws when it cannot be written. */
export function appendRecord(fs: FileSystem, unit: string, record: OutputRecord | null): void {
  const writer = writerFor(fs);
  lastAt = Math.max(lastAt, Date.now());
  const at = lastAt;
  const text = `${writer.torn ? '\n' : ''}${lineOf(unit, at, record)}\n`;
  const before = writer.bytes;
  try {
    write(fs, `${RECORDS_DIR}/${writer.name}`, text);
  } catch (error) {
    writer.torn = true;
    writer.bytes = NaN;
    throw error;
  }
  writer.torn = false;
  writer.lines++;
  writer.bytes += Buffer.byteLength(text);
  const view = views.get(fs);
  if (!view) return;
  const key = keyOf(unit);
  view.apply(key, { at, record, file: writer.name });
  view.kinds.set(writer.name, 'live');
  view.namedLive.add(key);
  // This process alone writes the segment: what it wrote needs no reading back.
  if ((view.offsets.get(writer.name) ?? 0) === before) view.offsets.set(writer.name, writer.bytes);
}

/** This process's segment under `fs.root`; the first of a process compacts when worth it. */
function writerFor(fs: FileSystem): Writer {
  const writer = writers.get(fs.root);
  if (writer && writer.lines < SEGMENT_LINES) return writer;
  if (writer) open.delete(writer.name);
  const next = { name: `${selfTag().prefix}.${++serial}.jsonl`, lines: 0, bytes: 0, torn: false };
  writers.set(fs.root, next);
  open.add(next.name);
  if (!writer && worthCompacting(fs)) viewOf(fs);
  return next;
}

/** Whether there are enough finished files to merge, listed without reading them. */
function worthCompacting(fs: FileSystem): boolean {
  try {
    const kinds = fs.readdir(RECORDS_DIR).map((e) => kindOf(e.name));
    return kinds.includes('legacy') || kinds.filter((k) => k === 'finished').length >= COMPACT_FILES;
  } catch {
    return false;
  }
}

function write(fs: FileSystem, rel: string, text: string): void {
  // The directory is made only when the append finds it missing: a mkdir per unit is two
  // system calls on a path that exists after the first unit.
  try {
    fs.appendFile(rel, text);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    fs.mkdir(RECORDS_DIR);
    fs.appendFile(rel, text);
  }
}

/**
 * Merges the finished files into one base file (see the module comment). Failures leave the
 * files as they were: compaction only saves space.
 */
function compact(fs: FileSystem, view: JournalView, finished: readonly string[]): void {
  const included = new Set(finished);
  const now = Date.now();
  const lines: string[] = [];
  for (const [key, entry] of view.entries) {
    // A unit whose latest line is in a live file keeps it there.
    if (!included.has(entry.file)) continue;
    if (isDeletion(entry) && !view.namedLive.has(key) && now - entry.at >= DELETION_KEPT_MS) continue;
    // Old-format records keep their place, older than every line.
    lines.push(entry.line ?? lineOf(JSON.parse(`"${key}"`) as string, entry.at, recordOf(entry)));
  }
  try {
    // An old-format file whose unit has a newer line must go first: were it left after a kill,
    // with that line compacted away, it would come back.
    for (const [name, unit] of view.legacyUnits) if (view.entries.get(unit)?.file !== name) fs.remove(`${RECORDS_DIR}/${name}`);
    if (lines.length > 0) {
      const base = `base.${randomUUID()}.jsonl`;
      const text = `${lines.join('\n')}\n`;
      fs.replaceFile(`${RECORDS_DIR}/${base}`, text);
      view.offsets.set(base, Buffer.byteLength(text));
      view.kinds.set(base, 'finished');
    }
    for (const name of finished) fs.remove(`${RECORDS_DIR}/${name}`);
    // A base file being written is a temporary file until renamed; one an hour old was left by a kill.
    for (const [name, kind] of view.kinds) {
      const rel = `${RECORDS_DIR}/${name}`;
      if (kind === 'other' && name.endsWith('.tmp') && now - (fs.stat(rel)?.mtimeMs ?? now) > DELETION_KEPT_MS) fs.remove(rel);
    }
  } catch {
    // Left as it was, or partly merged: every record is still in some file.
  }
}
