import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePattern, type Pattern } from '../../../src/patterns/pattern.ts';
import { createFileLister, listFiles } from '../../../src/runner/walk.ts';
import { nodeFileSystem } from '../../../src/runner/file-system.ts';

let root: string;

function write(files: Record<string, string>): void {
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), content);
  }
}

function p(source: string): Pattern {
  const parsed = parsePattern(source);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value;
}

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'runcue-'));
});

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe('listFiles', () => {
  it('lists regular files recursively as sorted POSIX paths', () => {
    write({ 'b.txt': '', 'a/z.txt': '', 'a/b/c.txt': '', 'a/B.txt': '', 'c/d/e/f.txt': '' });
    fs.mkdirSync(path.join(root, 'empty'));
    expect(listFiles(nodeFileSystem(root), '')).toEqual(['a/B.txt', 'a/b/c.txt', 'a/z.txt', 'b.txt', 'c/d/e/f.txt']);
    expect(listFiles(nodeFileSystem(root), 'a')).toEqual(['a/B.txt', 'a/b/c.txt', 'a/z.txt']);
    expect(listFiles(nodeFileSystem(root), 'a/b')).toEqual(['a/b/c.txt']);
  });

  it('skips .git, node_modules, .runcue and hidden directories, not hidden files (a pattern may spell the dot)', () => {
    write({
      'src/a.ts': '',
      '.git/HEAD': '',
      'node_modules/x/index.js': '',
      'src/node_modules/y.js': '',
      '.runcue/hashes.json': '',
      'src/.hidden': '',
      '.env': '',
      'src/.cache/z.json': '',
    });
    expect(listFiles(nodeFileSystem(root), '')).toEqual(['.env', 'src/.hidden', 'src/a.ts']);
    expect(listFiles(nodeFileSystem(root), 'src/.cache')).toEqual(['src/.cache/z.json']);
  });

  it('gives [] for a missing base or a file', () => {
    write({ 'a.txt': '' });
    expect(listFiles(nodeFileSystem(root), 'missing')).toEqual([]);
    expect(listFiles(nodeFileSystem(root), 'a.txt')).toEqual([]);
    expect(listFiles(nodeFileSystem(path.join(root, 'nope')), '')).toEqual([]);
  });

  it('follows symlinks to files and directories, skips dangling ones and cycles', () => {
    write({ 'data/real.txt': '', 'other/o.txt': '' });
    fs.symlinkSync(path.join(root, 'data/real.txt'), path.join(root, 'data/link.txt'));
    fs.symlinkSync(path.join(root, 'missing.txt'), path.join(root, 'data/dangling.txt'));
    fs.symlinkSync(path.join(root, 'other'), path.join(root, 'data/other'));
    fs.symlinkSync(path.join(root, 'data'), path.join(root, 'data/loop'));
    expect(listFiles(nodeFileSystem(root), 'data')).toEqual(['data/link.txt', 'data/other/o.txt', 'data/real.txt']);
  });
});

describe('createFileLister', () => {
  it('returns the files that match a pattern, sorted', () => {
    write({ 'docs/b.pdf': '', 'docs/a.pdf': '', 'docs/x.txt': '', 'docs/sub/c.pdf': '', 'other/d.pdf': '' });
    const lister = createFileLister(nodeFileSystem(root));
    expect(lister.list(p('docs/{doc}.pdf'))).toEqual(['docs/a.pdf', 'docs/b.pdf']);
    expect(lister.list(p('docs/**/*.pdf'))).toEqual(['docs/a.pdf', 'docs/b.pdf', 'docs/sub/c.pdf']);
    expect(lister.list(p('{dir}/{name}.pdf'))).toEqual(['docs/a.pdf', 'docs/b.pdf', 'other/d.pdf']);
  });

  it('checks a literal pattern without a walk, hidden files included', () => {
    write({ 'prompt.txt': '', '.env': '' });
    fs.mkdirSync(path.join(root, 'dir'));
    const lister = createFileLister(nodeFileSystem(root));
    expect(lister.list(p('prompt.txt'))).toEqual(['prompt.txt']);
    expect(lister.list(p('.env'))).toEqual(['.env']);
    expect(lister.list(p('missing.txt'))).toEqual([]);
    expect(lister.list(p('dir'))).toEqual([]);
  });

  it('walks each base once and serves narrower bases from a wider walk until invalidated', () => {
    write({ 'a/x.txt': '', 'a/b/y.txt': '' });
    const lister = createFileLister(nodeFileSystem(root));
    expect(lister.list(p('a/**/*.txt'))).toEqual(['a/b/y.txt', 'a/x.txt']);
    // Files created now are invisible while the cached walk of `a` serves `a` and `a/b`.
    write({ 'a/new.txt': '', 'a/b/new.txt': '' });
    expect(lister.list(p('a/{n}.txt'))).toEqual(['a/x.txt']);
    expect(lister.list(p('a/b/{n}.txt'))).toEqual(['a/b/y.txt']);
    lister.invalidate();
    expect(lister.list(p('a/b/{n}.txt'))).toEqual(['a/b/new.txt', 'a/b/y.txt']);
    expect(lister.list(p('a/{n}.txt'))).toEqual(['a/new.txt', 'a/x.txt']);
  });

  it('matches a dot the pattern spells, whichever walk came first; never with a wildcard or `*`', () => {
    write({ 'in/b.txt': '', 'in/.a.txt': '', 'in/.hid/c.txt': '' });
    const lister = createFileLister(nodeFileSystem(root));
    expect(lister.list(p('in/{n}.txt'))).toEqual(['in/b.txt']);
    expect(lister.list(p('in/*'))).toEqual(['in/b.txt']);
    expect(lister.list(p('in/.{n}.txt'))).toEqual(['in/.a.txt']);
    // The walk of `in` skipped `.hid`: it does not answer for it.
    expect(lister.list(p('in/.hid/{n}.txt'))).toEqual(['in/.hid/c.txt']);
    expect(lister.list(p('{d}/{n}.txt'))).toEqual(['in/b.txt']);
    expect(lister.list(p('in/.hid/{n}.txt'))).toEqual(['in/.hid/c.txt']);
  });

  it('replaces narrower walks by a wider one', () => {
    write({ 'a/b/y.txt': '', 'c.txt': '' });
    const lister = createFileLister(nodeFileSystem(root));
    expect(lister.list(p('a/b/{n}.txt'))).toEqual(['a/b/y.txt']);
    expect(lister.list(p('{n}.txt'))).toEqual(['c.txt']);
    write({ 'a/b/z.txt': '' });
    // Served by the root walk, taken before a/b/z.txt existed.
    expect(lister.list(p('a/b/{n}.txt'))).toEqual(['a/b/y.txt']);
  });
});
