/** Fixes from a black-box audit of config loading, watch and the inspection commands: each test failed on the code before its fix. */
import { afterEach, describe, expect, it } from 'vitest';
import { Rig } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

describe('config discovery', () => {
  const JSON_CONFIG = JSON.stringify({ tasks: { c: { input: 'in/{n}', output: 'out/{n}', run: 'cp {input} {output}' } } });

  it.each([
    ['a package.json that does not parse', 'package.json', '{"name": "x",,}', 'package.json: SyntaxError: JSON error: '],
    ['a .config/config.yaml that does not parse', '.config/config.yaml', 'a: [\n', '.config/config.yaml: YAMLException: YAML error: '],
  ])('%s in the shell directory is a config error naming it, not an internal error', async (_, file, text, message) => {
    rig = new Rig();
    rig.write({ 'runcue.config.json': JSON_CONFIG, 'in/a': 'a', [file]: text });
    const result = await rig.run(['build']);
    expect(result.stderr).not.toContain('internal error');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stderr.split('\n')[0]).toContain(message);
    expect(result.code).toBe(2);
  });
});

describe('init', () => {
  it('then build works at once: init writes a sample input, so `runcue init && runcue build` exits 0', async () => {
    rig = new Rig();
    expect((await rig.run(['init'])).code).toBe(0);
    const build = await rig.run(['build']);
    expect(build.stderr).toContain('2 built, 0 fresh, 0 failed, 0 blocked');
    expect(build.code).toBe(0);
    expect(rig.read('out/combined.txt')).toBe('HELLO FROM RUNCUE\n');
  });

  it('writes no sample into an input/ that exists', async () => {
    rig = new Rig();
    rig.write({ 'input/mine.txt': 'mine\n' });
    const result = await rig.run(['init']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('next: put some .txt files in input/');
    expect(rig.exists('input/hello.txt')).toBe(false);
    expect((await rig.run(['build'])).code).toBe(0);
    expect(rig.read('out/combined.txt')).toBe('MINE\n');
  });
});
