/** Fixes from the tenth audit of the built CLI: each test failed on the code before its fix. */
import { afterEach, describe, expect, it } from 'vitest';
import { Rig } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

describe('why, a directory input', () => {
  it('shows the directory with its time and compares it, not as missing (why said "missing" and "fresh" at once)', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: { pack: { input: 'assets', output: 'assets.tar', run: 'tar cf {output} {input}' } } };`,
      'assets/css/site.css': 'body {}',
    });
    expect((await rig.run(['build'])).code).toBe(0);
    const result = await rig.run(['why', 'assets.tar']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/inputs:\n {2}assets {2}\d{4}-/);
    expect(result.stdout).toMatch(/newest input assets \(.*\) is not newer than oldest output assets\.tar/);
    expect(result.stdout).toContain('verdict: fresh');
    const json = JSON.parse((await rig.run(['why', 'assets.tar', '--json'])).stdout) as { inputs: { files: { path: string }[] }[] };
    expect(json.inputs[0]?.files.map((f) => f.path)).toEqual(['assets']);
  });
});

describe('why, a glob input that one file matches', () => {
  it('says "1 file matches" (it said "1 files match")', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: { t: { input: ['src/{n}.txt', 'docs/{n}.{md,txt}'], output: 'out/{n}.txt', run: 'cat {inputs} > {output}' } } };`,
      'src/a.txt': 'a',
      'docs/a.md': 'd',
    });
    const result = await rig.run(['why', 'out/a.txt']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('    (1 file matches docs/a.{md,txt})');
  });
});
