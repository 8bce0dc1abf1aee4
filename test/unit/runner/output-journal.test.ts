/** The journal of output records (output-journal.ts) on a real temp dir: torn lines, two writers, compaction, the old format. */
import { spawn, spawnSync } from 'node:child_process';
import { hash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nodeFileSystem, type FileSystem } from '../../../src/runner/file-system.ts';
import { appendRecord } from '../../../src/runner/output-journal.ts';
import { allOutputRecords, readOutputRecord, type OutputRecord } from '../../../src/runner/output-record.ts';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'runcue-journal-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const DIR = '.runcue/outputs';
const record = (unit: string, files: string[] = [`out/${unit}`]): OutputRecord => ({ version: 1, unit, task: 'copy', files });
const files = (): string[] => readdirSync(join(root, DIR)).sort();

/** A pid that has exited: its segments belong to no live process. */
function deadPid(): number {
  const pid = spawnSync('true').pid;
  if (pid === undefined) throw new Error('could not run true');
  return pid;
}

/** Writes a segment as a process on this host that has exited would have left it. */
function deadSegment(lines: readonly string[], serial = 1): string {
  const name = `${deadPid()}.0.${hash('sha1', hostname(), 'hex').slice(0, 8)}.${serial}.jsonl`;
  mkdirSync(join(root, DIR), { recursive: true });
  writeFileSync(join(root, DIR, name), lines.join(''));
  return name;
}

/** A line as runcue writes it: `at` first. */
const line = ({ at, ...rest }: { readonly at: number } & Record<string, unknown>): string => `${JSON.stringify({ at, ...rest })}\n`;
const HOUR = 3_600_000;

describe('output journal', () => {
  it('reads back what was appended, the latest line of a unit winning', () => {
    const fs = nodeFileSystem(root);
    appendRecord(fs, 'a', record('a', ['out/1']));
    appendRecord(fs, 'a', record('a', ['out/2']));
    appendRecord(fs, 'b', record('b'));
    appendRecord(fs, 'b', null);
    expect(readOutputRecord(nodeFileSystem(root), 'a')?.files).toEqual(['out/2']);
    expect(readOutputRecord(nodeFileSystem(root), 'b')).toBeNull();
    expect(files()).toHaveLength(1);
  });

  it('finds units whose ids hold quotes, backslashes, newlines and non-ASCII characters', () => {
    const ids = ['copy[n=a"b]', 'copy[n=a\\"b]', 'copy[n=a\nb]', 'copy[n=$(rm x) é ✓]', 'copy[n=-x\\]'];
    const fs = nodeFileSystem(root);
    ids.forEach((id, i) => appendRecord(fs, id, record(id, [`out/${i}`])));
    const again = nodeFileSystem(root);
    expect(ids.map((id) => readOutputRecord(again, id)?.files)).toEqual(ids.map((_, i) => [`out/${i}`]));
    expect(readOutputRecord(again, 'copy[n=a')).toBeNull();
  });

  it('ignores a torn last line and a line that does not parse, and keeps the others', () => {
    deadSegment([
      line({ ...record('a'), at: 1 }),
      '{"at":2,"version":1,"unit":"c","task":"copy","fil\n',
      line({ ...record('d'), at: 3 }),
      // runcue was killed while writing this one: no newline.
      JSON.stringify({ ...record('b'), at: 2 }).slice(0, 30),
    ]);
    const fs = nodeFileSystem(root);
    expect(readOutputRecord(fs, 'a')?.files).toEqual(['out/a']);
    expect(readOutputRecord(fs, 'b')).toBeNull();
    expect(readOutputRecord(fs, 'c')).toBeNull();
    expect(readOutputRecord(fs, 'd')?.files).toEqual(['out/d']);
  });

  it('starts the line after a failed write on a new line, so a torn one never swallows it', () => {
    const disk = nodeFileSystem(root);
    let fail = true;
    const fs: FileSystem = {
      ...disk,
      appendFile(rel, data) {
        if (!fail) return disk.appendFile(rel, data);
        fail = false;
        disk.mkdir(DIR);
        disk.appendFile(rel, data.slice(0, 20));
        throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      },
    };
    expect(() => appendRecord(fs, 'a', record('a'))).toThrow('no space');
    appendRecord(fs, 'b', record('b'));
    expect(readOutputRecord(nodeFileSystem(root), 'a')).toBeNull();
    expect(readOutputRecord(nodeFileSystem(root), 'b')?.files).toEqual(['out/b']);
  });

  it('loses no line when two processes append at the same time', async () => {
    const module = join(import.meta.dirname, '../../../src/runner/output-journal.ts');
    const startAt = Date.now() + 500;
    const writer = (name: string) =>
      new Promise<number | null>((resolve) => {
        const script = `const { appendRecord } = await import(${JSON.stringify(module)});
          const { nodeFileSystem } = await import(${JSON.stringify(join(module, '../file-system.ts'))});
          const fs = nodeFileSystem(${JSON.stringify(root)});
          while (Date.now() < ${startAt});
          for (let i = 0; i < 400; i++) appendRecord(fs, '${name}' + i, { version: 1, unit: '${name}' + i, task: 't', files: ['out/${name}' + i] });`;
        spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' }).on('exit', resolve);
      });
    expect(await Promise.all([writer('p'), writer('q')])).toEqual([0, 0]);
    const records = allOutputRecords(nodeFileSystem(root));
    expect(records).toHaveLength(800);
    expect(readOutputRecord(nodeFileSystem(root), 'q399')?.files).toEqual(['out/q399']);
    // Each process wrote its own file.
    expect(files()).toHaveLength(2);
  });

  it('merges the files of exited processes into one, keeping every live record and the deletions that still matter', () => {
    const old = Date.now() - 2 * HOUR;
    for (let i = 0; i < 7; i++) deadSegment([line({ ...record(`u${i}`), at: old + i }), line({ ...record('x', ['out/old']), at: old })]);
    // An old deletion of x (nothing else names x any more), a recent one of y.
    deadSegment([line({ version: 1, unit: 'x', at: old + 100, deleted: true }), line({ ...record('y'), at: old })]);
    deadSegment([line({ version: 1, unit: 'y', at: Date.now(), deleted: true })]);
    // A base file a killed compaction left half-written, and one being written now.
    writeFileSync(join(root, DIR, 'base.old.jsonl.1.tmp'), '{"version":1,');
    utimesSync(join(root, DIR, 'base.old.jsonl.1.tmp'), new Date(old), new Date(old));
    writeFileSync(join(root, DIR, 'base.new.jsonl.2.tmp'), '{"version":1,');
    // This process's own segment, still being written: never merged. Its first line merges the others.
    appendRecord(nodeFileSystem(root), 'live', record('live'));
    const left = files();
    expect(left, left.join(' ')).toHaveLength(3);
    expect(left).toContain('base.new.jsonl.2.tmp');
    const base = left.find((name) => name.startsWith('base.') && name.endsWith('.jsonl'));
    if (!base) throw new Error(`no base file among ${left.join(', ')}`);
    const merged = readFileSync(join(root, DIR, base), 'utf8')
      .trim()
      .split('\n');
    // u0..u6 and y's recent deletion; x's record and old deletion are gone.
    expect(merged).toHaveLength(8);
    const again = nodeFileSystem(root);
    expect(
      allOutputRecords(again)
        .map((r) => r.unit)
        .sort(),
    ).toEqual(['live', 'u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6']);
    expect(readOutputRecord(again, 'x')).toBeNull();
    expect(readOutputRecord(again, 'y')).toBeNull();
  });

  it('reads records of the one-file-per-unit format, and moves them into the journal', () => {
    mkdirSync(join(root, DIR), { recursive: true });
    const legacy = (unit: string): string => {
      const name = `${hash('sha256', unit, 'hex').slice(0, 32)}.json`;
      writeFileSync(join(root, DIR, name), JSON.stringify(record(unit, [`old/${unit}`])));
      return name;
    };
    legacy('kept');
    legacy('replaced');
    legacy('deleted');
    const writer = nodeFileSystem(root);
    appendRecord(writer, 'replaced', record('replaced', ['new/replaced']));
    appendRecord(writer, 'deleted', null);
    const fs = nodeFileSystem(root);
    expect(readOutputRecord(fs, 'kept')?.files).toEqual(['old/kept']);
    expect(readOutputRecord(fs, 'replaced')?.files).toEqual(['new/replaced']);
    expect(readOutputRecord(fs, 'deleted')).toBeNull();
    // Moved: no file of the old format is left, and a later build reads the same.
    expect(files().filter((name) => name.endsWith('.json'))).toEqual([]);
    const again = nodeFileSystem(root);
    expect(
      allOutputRecords(again)
        .map((r) => `${r.unit}:${r.files.join()}`)
        .sort(),
    ).toEqual(['kept:old/kept', 'replaced:new/replaced']);
  });
});
