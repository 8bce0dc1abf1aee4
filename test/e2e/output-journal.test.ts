/**
 * Output records kept in journals (output-journal.ts) through the real CLI: each run appends to
 * its own file, and once enough runs have left theirs, one run merges them; what the records
 * say (fresh glob outputs, what `clean` may delete, orphans) is the same afterwards.
 */
import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Rig } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

const SPLIT = `export default { tasks: {
  split: { input: 'src/{d}.txt', output: 'pages/{d}/*.p', run: 'mkdir -p pages/{d} && echo {d} > pages/{d}/1.p' },
} };`;

describe('output record journals', () => {
  it('merges the files of finished runs, and the records still make the same units fresh, cleanable and orphaned', async () => {
    rig = new Rig();
    const docs = Array.from({ length: 9 }, (_, i) => `d${i}`);
    rig.write({ 'runcue.config.mjs': SPLIT, ...Object.fromEntries(docs.map((d) => [`src/${d}.txt`, d])) });
    // One runcue process per unit: each leaves its own journal file.
    for (const d of docs) expect((await rig.run(['build', `split[d=${d}]`])).code).toBe(0);
    const left = readdirSync(rig.path('.runcue/outputs'));
    expect(left.filter((name) => name.startsWith('base.'))).toHaveLength(1);
    expect(left.length).toBeLessThan(docs.length);

    const noop = await rig.runJson(['build']);
    expect(noop.code).toBe(0);
    expect(noop.events.filter((e) => e.type === 'unit:start')).toEqual([]);
    // A file no record names stays; a recorded one goes.
    rig.write({ 'pages/d0/mine.p': 'mine' });
    const clean = await rig.run(['clean', 'split[d=d0]']);
    expect(clean.code).toBe(0);
    expect(rig.exists('pages/d0/1.p')).toBe(false);
    expect(rig.read('pages/d0/mine.p')).toBe('mine');
    rig.remove('src/d1.txt');
    expect((await rig.run(['clean', '--orphans', '--dry-run'])).stdout).toContain('would remove pages/d1/1.p\n');
  });
});
