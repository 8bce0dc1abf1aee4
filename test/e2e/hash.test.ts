/** `freshness: 'hash'`: content fingerprints under .runcue/, for when mtimes lie. */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Rig } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

function config(command: string): string {
  return `export default { freshness: 'hash', tasks: { t: {
    input: 'src/{n}.txt', output: 'out/{n}.txt', env: { MODE: 'a' },
    run: "${command} && echo {n} >> runs.log",
  } } };`;
}

function runs(): string[] {
  return rig.exists('runs.log') ? rig.read('runs.log').trim().split('\n').filter(Boolean).sort() : [];
}

describe('hash freshness', () => {
  it('survives touching every input, rebuilds on a content, command or output change', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': config('cp {input} {output}'), 'src/a.txt': 'a', 'src/b.txt': 'b' });
    expect((await rig.run(['build'])).code).toBe(0);
    expect(runs()).toEqual(['a', 'b']);

    rig.write({ 'runs.log': '' });
    rig.touch('src/a.txt', 10_000);
    rig.touch('src/b.txt', 10_000);
    expect((await rig.run(['build'])).code).toBe(0);
    expect(runs()).toEqual([]);

    rig.write({ 'src/b.txt': 'b2' });
    const plan = await rig.run(['plan']);
    expect(plan.stdout).toContain('content of src/b.txt changed');
    expect((await rig.run(['build'])).code).toBe(0);
    expect(runs()).toEqual(['b']);
    expect(rig.read('out/b.txt')).toBe('b2');

    rig.write({ 'runs.log': '', 'out/a.txt': 'edited by hand' });
    expect((await rig.run(['build'])).code).toBe(0);
    expect(runs()).toEqual(['a']);
    expect(rig.read('out/a.txt')).toBe('a');

    rig.write({ 'runs.log': '', 'runcue.config.mjs': config('cat {input} > {output}') });
    const changed = await rig.run(['plan']);
    expect(changed.stdout).toContain('the command changed');
    expect((await rig.run(['build'])).code).toBe(0);
    expect(runs()).toEqual(['a', 'b']);
  });

  it('deleting .runcue only causes a rebuild', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': config('cp {input} {output}'), 'src/a.txt': 'a' });
    await rig.run(['build']);
    rig.write({ 'runs.log': '' });
    rmSync(rig.path('.runcue'), { recursive: true, force: true });
    expect((await rig.run(['build'])).code).toBe(0);
    expect(runs()).toEqual(['a']);
    rig.write({ 'runs.log': '' });
    expect((await rig.run(['build'])).code).toBe(0);
    expect(runs()).toEqual([]);
  });
});
