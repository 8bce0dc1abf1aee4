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

describe('a config that is not an object', () => {
  it.each([
    ['runcue.config.json', '[1]', 'runcue.config.json: expected the file to be a config object, got an array'],
    ['runcue.config.yaml', '- a\n', 'runcue.config.yaml: expected the file to be a config object, got an array'],
    ['package.json', '{ "name": "x", "runcue": "build" }', 'package.json: expected its "runcue" key to be a config object, got "build"'],
    ['runcue.config.mjs', 'export default 42;', 'runcue.config.mjs: expected the default export to be a config object, got 42'],
  ])('%s says what was expected of that kind of file (a JSON file has no default export)', async (file, text, message) => {
    rig = new Rig();
    rig.write({ [file]: text });
    const result = await rig.run(['list']);
    expect(result.stderr.trim()).toBe(message);
    expect(result.code).toBe(2);
  });
});

describe('a CommonJS config', () => {
  it('is found as runcue.config.cjs, which Node tells a "type": "module" package to rename its runcue.config.js to', async () => {
    rig = new Rig();
    const config = 'module.exports = { tasks: { c: { input: "in/{n}", output: "out/{n}", run: "cp {input} {output}" } } };\n';
    rig.write({ 'package.json': '{ "type": "module" }', 'runcue.config.js': config, 'in/a': 'a', 'sub/.keep': '' });
    const wrong = await rig.run(['build']);
    expect(wrong.stderr).toContain("rename it to use the '.cjs' file extension");
    expect(wrong.code).toBe(2);
    rig.write({ 'runcue.config.cjs': config });
    rig.remove('runcue.config.js');
    const result = await rig.run(['build'], { cwd: 'sub' });
    expect(result.stderr).toContain('1 built');
    expect(result.code).toBe(0);
    expect(rig.read('out/a')).toBe('a');
    expect((await rig.run(['init'])).stderr).toContain('runcue.config.cjs already exists');
  });
});

describe('a config that exports nothing', () => {
  it.each([['runcue.config.ts'], ['runcue.config.js']])(
    '(%s without import or export, which Node loads as CommonJS) says it has no default export',
    async (file) => {
      rig = new Rig();
      rig.write({ [file]: 'const tasks = { c: { run: "true" } };\n' });
      const result = await rig.run(['list']);
      expect(result.stderr.trim()).toBe(`${file}: the file has no default export (expected \`export default defineConfig({ ... })\`)`);
      expect(result.code).toBe(2);
    },
  );
});

describe('a config that throws a value that is not an Error as it loads', () => {
  it.each([
    ['{ code: 1 }', 'runcue.config.mjs: {"code":1}'],
    ['Object.create(null)', 'runcue.config.mjs: {}'],
  ])('throw %s is a config error that shows the value (exit 2)', async (value, message) => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': `throw ${value};\nexport default {};\n` });
    const result = await rig.run(['list']);
    expect(result.stderr.trim()).toBe(message);
    expect(result.code).toBe(2);
  });
});

describe('a config whose code reads a file as it loads', () => {
  const READS_NAMES = `import { readFileSync } from 'node:fs';
const names: string[] = JSON.parse(readFileSync('names.json', 'utf8'));
export default { tasks: Object.fromEntries(names.map((n) => [n, { output: \`out/\${n}.txt\`, run: \`echo \${n} > {output}\` }])) };
`;

  it.each([
    ['from a subdirectory', ['build'], 'sub'],
    ['with --config from elsewhere', ['build', '--config', '../project/runcue.config.ts'], 'elsewhere'],
    ['with --cwd', ['build', '--cwd', 'project'], '.'],
  ])('reads it relative to the config directory (%s), as every command runs there', async (_, args, from) => {
    rig = new Rig();
    rig.write({ 'project/runcue.config.ts': READS_NAMES, 'project/names.json': '["x"]', 'project/sub/.keep': '', 'elsewhere/.keep': '' });
    const result = await rig.run(args, { cwd: from === 'sub' ? 'project/sub' : from });
    expect(result.stderr).toContain('1 built');
    expect(result.code).toBe(0);
    expect(rig.read('project/out/x.txt')).toBe('x\n');
  });

  it('that is missing is named, at the line that reads it, not taken for the config file', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.ts': READS_NAMES });
    const result = await rig.run(['build']);
    expect(result.stderr).toContain("runcue.config.ts:2:36: ENOENT: no such file or directory, open 'names.json'");
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

/**
 * Watches a project whose command logs v1, writes `edits` in turn (the module the config uses,
 * then the config), waits for the reload and changes in/a: the rebuild must log the edited v2.
 */
async function expectReloadRuns(edits: readonly Record<string, string>[]): Promise<void> {
  const child = rig.spawn(['watch', '--json']);
  const done = collect(child, 60_000);
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  await waitFor(() => rig.exists('log.txt'), 20_000, 'the first build');
  for (const edit of edits) rig.write(edit);
  await waitFor(() => stdout.includes('"type":"watch:config"'), 20_000, 'the reload');
  rig.write({ 'in/a': 'a changed' });
  await waitFor(() => rig.read('log.txt').split('\n').length >= 3, 20_000, 'the rebuild');
  child.kill('SIGINT');
  expect((await done).code).toBe(130);
  expect(rig.read('log.txt')).toBe('v1\nv2\n');
}

describe('watch: a config reload', () => {
  it('runs the edited modules the config imports too, not the first version Node cached', async () => {
    rig = new Rig();
    const helper = (version: string): string => `export const RUN: string = 'cp {input} {output}; echo ${version} >> log.txt';\n`;
    const config = (comment: string): string =>
      `import { RUN } from './tasks/run.ts';\nexport default { tasks: { c: { input: 'in/{n}', output: 'out/{n}', run: RUN } } }; // ${comment}\n`;
    rig.write({ 'tasks/run.ts': helper('v1'), 'runcue.config.ts': config('first'), 'in/a': 'a' });
    await expectReloadRuns([{ 'tasks/run.ts': helper('v2') }, { 'runcue.config.ts': config('edited') }]);
  });
});

describe('watch: a CommonJS config', () => {
  it.each([['runcue.config.cjs'], ['runcue.config.js']])('(%s) reloads as edited, not as Node cached it by path', async (file) => {
    rig = new Rig();
    const config = (version: string): string =>
      `const run = require('./run.cjs');\nmodule.exports = { tasks: { c: { input: 'in/{n}', output: 'out/{n}', run: run + ' ${version}' } } };\n`;
    const run = (version: string): string => `module.exports = 'cp {input} {output}; echo ${version} >> log.txt; echo';\n`;
    rig.write({ 'package.json': '{ "type": "commonjs" }', [file]: config('a'), 'run.cjs': run('v1'), 'in/a': 'a' });
    await expectReloadRuns([{ 'run.cjs': run('v2') }, { [file]: config('b') }]);
  });
});
