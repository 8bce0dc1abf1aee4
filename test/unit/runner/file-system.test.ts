/**
 * The two file systems the runner works on, the disk and a rehearsal's memory, behave the same
 * on every operation the runner uses: the same answers, the same error codes.
 */
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeFileSystem, type FileSystem } from '../../../src/runner/file-system.ts';
import { errorCode } from '../../../src/runner/fs-errors.ts';
import { MemoryFileSystem } from '../../../src/runner/sim/memory-file-system.ts';
import { listFiles } from '../../../src/runner/walk.ts';

const T = 1_700_000_000_000;
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function disk(): FileSystem {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'runcue-fs-')));
  dirs.push(dir);
  return nodeFileSystem(dir);
}

function memory(): FileSystem {
  let now = T;
  return new MemoryFileSystem('/virtual/project', { now: () => (now += 1000) });
}

/** The code of the error `fn` throws, or `'none'`. */
function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'none';
  } catch (error) {
    return errorCode(error) ?? 'no code';
  }
}

/** What one run of every operation observes: equal for both file systems. */
function observe(fs: FileSystem): unknown {
  const seen: Record<string, unknown> = {};
  seen['missing'] = fs.stat('a.txt');
  fs.writeFile('a.txt', 'hello');
  const first = fs.stat('a.txt');
  seen['file'] = { isFile: first?.isFile(), isDirectory: first?.isDirectory(), size: first?.size };
  seen['text'] = fs.readText('a.txt');
  seen['bytes'] = fs.readFile('a.txt').toString('hex');
  fs.mkdir('d/e/f');
  fs.mkdir('d/e');
  seen['dir'] = fs.stat('d/e')?.isDirectory();
  fs.writeFile('d/e/f/g.txt', '');
  fs.writeFile('d/e/h.txt', 'x');
  fs.writeFile('.hidden', '');
  seen['entries'] = fs
    .readdir('d/e')
    .map((e) => `${e.name}:${e.isFile() ? 'file' : e.isDirectory() ? 'dir' : 'other'}:${e.isSymbolicLink()}`)
    .sort();
  seen['listed'] = listFiles(fs, '');
  seen['listedUnder'] = listFiles(fs, 'd/e/f');
  seen['listedMissing'] = listFiles(fs, 'nope');
  fs.setMtime('a.txt', T - 5000);
  seen['mtime'] = fs.stat('a.txt')?.mtimeMs;
  seen['snapshotKept'] = first?.size;
  fs.rename('a.txt', 'd/moved.txt');
  seen['renamed'] = [fs.stat('a.txt'), fs.stat('d/moved.txt')?.mtimeMs, fs.readText('d/moved.txt')];
  fs.writeFile('d/moved.txt', 'rewritten, longer');
  seen['rewritten'] = fs.stat('d/moved.txt')?.size;
  fs.remove('d/moved.txt');
  fs.remove('d/moved.txt');
  seen['removed'] = fs.stat('d/moved.txt');
  fs.appendFile('d/log.txt', 'one\n');
  fs.appendFile('d/log.txt', 'zwei – drei\n');
  seen['appended'] = [fs.stat('d/log.txt')?.size, fs.readText('d/log.txt')];
  seen['realpath'] = [fs.realpath(''), fs.realpath('d/e'), fs.realpath('d/e/h.txt')].map((p) => p.slice(fs.root.length));
  seen['errors'] = {
    readdirMissing: codeOf(() => fs.readdir('nope')),
    readdirFile: codeOf(() => fs.readdir('d/e/h.txt')),
    readMissing: codeOf(() => fs.readText('nope.txt')),
    readDir: codeOf(() => fs.readText('d')),
    writeNoParent: codeOf(() => fs.writeFile('nope/x.txt', '')),
    writeUnderFile: codeOf(() => fs.writeFile('d/e/h.txt/x.txt', '')),
    writeDir: codeOf(() => fs.writeFile('d/e', '')),
    mkdirOverFile: codeOf(() => fs.mkdir('d/e/h.txt')),
    mkdirUnderFile: codeOf(() => fs.mkdir('d/e/h.txt/deeper')),
    renameMissing: codeOf(() => fs.rename('nope.txt', 'x.txt')),
    setMtimeMissing: codeOf(() => fs.setMtime('nope.txt', T)),
    realpathMissing: codeOf(() => fs.realpath('nope')),
    removeMissing: codeOf(() => fs.remove('nope.txt')),
  };
  seen['statUnderFile'] = fs.stat('d/e/h.txt/x');
  // A listing after removals and re-adds, and a directory removed right after it was made.
  const names = (dir: string): string[] =>
    fs
      .readdir(dir)
      .map((e) => e.name)
      .sort();
  fs.mkdir('r/gone');
  fs.mkdir('r/kept');
  fs.writeFile('r/1.txt', '');
  fs.writeFile('r/2.txt', '');
  fs.removeTree('r/gone');
  seen['listedBefore'] = names('r');
  fs.remove('r/1.txt');
  fs.writeFile('r/3.txt', '');
  fs.writeFile('r/1.txt', '');
  seen['listedAfter'] = names('r');
  return seen;
}

describe('FileSystem: the disk and memory', () => {
  it('answer every operation the runner uses the same way', () => {
    const onDisk = observe(disk());
    expect(observe(memory())).toEqual(onDisk);
    expect(onDisk).toMatchObject({
      missing: undefined,
      file: { isFile: true, isDirectory: false, size: 5 },
      listed: ['.hidden', 'a.txt', 'd/e/f/g.txt', 'd/e/h.txt'],
      listedBefore: ['1.txt', '2.txt', 'kept'],
      listedAfter: ['1.txt', '2.txt', '3.txt', 'kept'],
      mtime: T - 5000,
      renamed: [undefined, T - 5000, 'hello'],
      appended: [18, 'one\nzwei – drei\n'],
      errors: { readdirMissing: 'ENOENT', writeNoParent: 'ENOENT', removeMissing: 'none' },
    });
  });

  it('stamps a write with its clock and keeps earlier stats as they were (memory)', () => {
    const fs = memory();
    fs.writeFile('x.txt', '');
    const before = fs.stat('x.txt');
    fs.writeFile('x.txt', 'more');
    expect(before).toMatchObject({ size: 0, mtimeMs: T + 2000 });
    expect(fs.stat('x.txt')).toMatchObject({ size: 4, mtimeMs: T + 3000 });
  });

  it('lists a directory by its own path with each file path a walk would join (memory)', () => {
    const fs = memory();
    for (const dir of ['', 'in', 'in/deep']) fs.mkdir(dir);
    for (const file of ['top.txt', 'in/a.txt', 'in/b.txt', 'in/deep/c.txt']) fs.writeFile(file, '');
    const entries = (dir: string) => fs.readdir(dir).map((e) => [e.name, e.relPath]);
    expect(entries('in')).toEqual([
      ['deep', undefined],
      ['a.txt', 'in/a.txt'],
      ['b.txt', 'in/b.txt'],
    ]);
    expect(entries('')).toEqual([
      ['in', undefined],
      ['top.txt', 'top.txt'],
    ]);
    // Not the directory's own path: the joined path would differ from the file's.
    expect(entries('in/')).toEqual([
      ['deep', undefined],
      ['a.txt', undefined],
      ['b.txt', undefined],
    ]);
    expect(listFiles(fs, 'in')).toEqual(['in/a.txt', 'in/b.txt', 'in/deep/c.txt']);
    expect(listFiles(fs, '')).toEqual(['in/a.txt', 'in/b.txt', 'in/deep/c.txt', 'top.txt']);
  });
});
