/** Fixes from a black-box audit of config loading, watch and the inspection commands: each test failed on the code before its fix. */
import { afterEach, describe, expect, it } from 'vitest';
import { collect, Rig, waitFor } from '../rig/index.ts';

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

describe('watch: a config reload', () => {
  it('runs the edited modules the config imports too, not the first version Node cached', async () => {
    rig = new Rig();
    const helper = (version: string): string => `export const RUN: string = 'cp {input} {output}; echo ${version} >> log.txt';\n`;
    const config = (comment: string): string =>
      `import { RUN } from './tasks/run.ts';\nexport default { tasks: { c: { input: 'in/{n}', output: 'out/{n}', run: RUN } } }; // ${comment}\n`;
    rig.write({ 'tasks/run.ts': helper('v1'), 'runcue.config.ts': config('first'), 'in/a': 'a' });
    const child = rig.spawn(['watch', '--json']);
    const done = collect(child, 60_000);
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    await waitFor(() => rig.exists('log.txt'), 20_000, 'the first build');
    rig.write({ 'tasks/run.ts': helper('v2') });
    rig.write({ 'runcue.config.ts': config('edited') });
    await waitFor(() => stdout.includes('"type":"watch:config"'), 20_000, 'the reload');
    rig.write({ 'in/a': 'a changed' });
    await waitFor(() => rig.read('log.txt').split('\n').length >= 3, 20_000, 'the rebuild');
    child.kill('SIGINT');
    expect((await done).code).toBe(130);
    expect(rig.read('log.txt')).toBe('v1\nv2\n');
  });
});
