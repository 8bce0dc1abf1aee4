/**
 * SPEC §2: "A unit that exits 0 without writing every declared output fails". An output that
 * was there before and that the command did not touch was not written by it, however its mtime
 * compares with the inputs; a copy that keeps an old mtime (`cp -p`) or a rewrite with the same
 * content was.
 */
import { utimesSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Rig } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

function project(run: string, extra = ''): Record<string, string> {
  return {
    'runcue.config.mjs': `export default { ${extra} tasks: { t: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: ${JSON.stringify(run)} } } };`,
    'in/a.txt': 'new',
    'out/a.txt': 'old',
  };
}

describe('an output that existed and that the command did not touch', () => {
  it('fails the unit, naming the output, and leaves the file alone', async () => {
    rig = new Rig();
    rig.write(project('true'));
    rig.touch('out/a.txt', -60_000);
    for (let i = 0; i < 2; i++) {
      const result = await rig.run(['build']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        'exited 0 without writing out/a.txt (out/a.txt was there before and left untouched: a command that finds an output up to date must still touch it;',
      );
      expect(result.stderr).not.toMatch(/1 built/);
    }
    // Not the unit's to remove: it did not write it.
    expect(rig.read('out/a.txt')).toBe('old');
  });

  it('fails under --force when nothing is stale, and with hash freshness', async () => {
    rig = new Rig();
    rig.write(project('true', `freshness: 'hash',`));
    rig.touch('in/a.txt', -60_000);
    const result = await rig.runJson(['build', '--force']);
    expect(result.code).toBe(1);
    const fail = result.events.find((e) => e.type === 'unit:fail') as { error?: { reason: string; outputs: string[] } } | undefined;
    expect(fail?.error).toMatchObject({ reason: 'missing-output', outputs: ['out/a.txt'] });
  });
});

describe('an output the command did write counts', () => {
  it('when a copy keeps an old mtime (cp -p) or rewrites the same bytes', async () => {
    rig = new Rig();
    rig.write({ ...project('cp -p {input} {output}'), 'out/a.txt': 'new' });
    const old = new Date(Date.now() - 60_000);
    for (const f of ['in/a.txt', 'out/a.txt']) utimesSync(rig.path(f), old, old);
    // Same content, same size, same mtime as before: only its ctime says it was written.
    expect((await rig.run(['build', '--force'])).code).toBe(0);
    rig.write(project('cat {input} > {output}', `freshness: 'hash',`));
    rig.write({ 'out/a.txt': 'new' });
    expect((await rig.run(['build', '--force'])).code).toBe(0);
    expect(rig.read('out/a.txt')).toBe('new');
  });
});

describe('a failed unit', () => {
  it('removes an output it copied over keeping size and mtime (cp -p), and leaves one it did not touch', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        t: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: 'if [ {n} = a ]; then cp -p {input} {output}; fi; exit 1' },
      } };`,
      'in/a.txt': 'new',
      'out/a.txt': 'old',
      'in/b.txt': 'new',
      'out/b.txt': 'old',
    });
    const old = new Date(Date.now() - 60_000);
    for (const f of ['in/a.txt', 'out/a.txt', 'in/b.txt', 'out/b.txt']) utimesSync(rig.path(f), old, old);
    const result = await rig.runJson(['build', '--force', '--keep-going']);
    expect(result.code).toBe(1);
    const removed = result.events.filter((e) => e.type === 'unit:fail').map((e) => [e.unit, e['removed']]);
    expect(removed.sort()).toEqual([
      ['t[n=a]', ['out/a.txt']],
      ['t[n=b]', []],
    ]);
    // Same size and mtime as its input: left, it would look fresh with the failed run's content.
    expect(rig.exists('out/a.txt')).toBe(false);
    expect(rig.read('out/b.txt')).toBe('old');
  });
});

describe('a directory output', () => {
  it('counts when a file in it is copied over with the same bytes and mtime (cp -p), not when left alone', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        copy: { input: 'src.txt', output: 'site', run: 'mkdir -p site && cp -p src.txt site/index.html' },
        idle: { input: 'src2.txt', output: 'site2', run: 'true' },
      } };`,
      'src.txt': 'page',
      'src2.txt': 'page',
      'site/index.html': 'page',
      'site2/index.html': 'page',
    });
    const old = new Date(Date.now() - 60_000);
    for (const f of ['src.txt', 'site/index.html', 'site', 'site2/index.html', 'site2']) utimesSync(rig.path(f), old, old);
    const result = await rig.runJson(['build', '--force', '--keep-going']);
    expect(result.code).toBe(1);
    const failed = result.events.filter((e) => e.type === 'unit:fail').map((e) => e.unit);
    expect(failed).toEqual(['idle']);
    expect(result.events.filter((e) => e.type === 'unit:done').map((e) => e.unit)).toEqual(['copy']);
  });
});
