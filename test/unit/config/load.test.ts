import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import type { ConfigFailure, ResolvedConfig } from '../../../src/config/resolved.ts';
import { formatConfigFailure } from '../../../src/config/resolve.ts';
import type { Result } from '../../../src/result.ts';

const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp dir holding `files` (paths relative to it). */
function project(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runcue-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

describe('a config that imports runcue where it is not installed', () => {
  it('says to install runcue in the project, not only that the package is missing', async () => {
    const dir = project({
      'package.json': '{ "type": "module" }',
      'runcue.config.mjs': "import { defineConfig } from 'runcue';\nexport default defineConfig({ tasks: { a: { run: 'true' } } });\n",
    });
    const message = formatConfigFailure(failure(await loadConfig({ cwd: dir })), dir);
    expect(message).toContain("Cannot find package 'runcue'");
    expect(message).toContain("the config imports 'runcue', which this project does not have: install it here");
  });
});

function loaded(result: Result<ResolvedConfig, ConfigFailure>): ResolvedConfig {
  if (!result.ok) throw new Error(`expected a config, got ${JSON.stringify(result.error)}`);
  return result.value;
}

function failure(result: Result<ResolvedConfig, ConfigFailure>): ConfigFailure {
  if (result.ok) throw new Error('expected a failure');
  return result.error;
}

function shellCommand(config: ResolvedConfig, task: string): string | undefined {
  const run = config.tasks.get(task)?.run;
  return run?.kind === 'shell' ? run.command : undefined;
}

const TS_CONFIG = `
interface Extra { readonly n: number }
const extra: Extra = { n: 2 };
export default {
  tasks: { build: { run: 'echo ' + String(extra.n) } },
} satisfies { tasks: Record<string, { run: string }> };
`;

describe('loadConfig', () => {
  it('loads a TypeScript config with types', async () => {
    const dir = project({ 'runcue.config.ts': TS_CONFIG });
    const config = loaded(await loadConfig({ cwd: dir, cores: 2 }));
    expect(config.file).toBe(path.join(dir, 'runcue.config.ts'));
    expect(config.root).toBe(dir);
    expect(shellCommand(config, 'build')).toBe('echo 2');
    expect(config.services.get('cpu')?.concurrent).toBe(2);
  });

  it.each([
    ['runcue.config.mts', TS_CONFIG],
    ['runcue.config.mjs', `export default { tasks: { build: { run: 'echo 2' } } };`],
    ['runcue.config.js', `export default { tasks: { build: { run: 'echo 2' } } };`],
    ['runcue.config.json', `{ "tasks": { "build": { "run": "echo 2" } } }`],
    ['runcue.config.yaml', `tasks:\n  build:\n    run: echo 2\n`],
    ['runcue.config.yml', `tasks:\n  build:\n    run: echo 2\n`],
    ['package.json', `{ "name": "x", "runcue": { "tasks": { "build": { "run": "echo 2" } } } }`],
  ])('loads %s', async (name, content) => {
    const dir = project({ [name]: content });
    const config = loaded(await loadConfig({ cwd: dir }));
    expect(config.file).toBe(path.join(dir, name));
    expect(shellCommand(config, 'build')).toBe('echo 2');
  });

  it('passes over a package.json without a "runcue" key', async () => {
    const dir = project({
      'package.json': '{ "name": "x" }',
      'runcue.config.json': '{ "tasks": { "build": { "run": "echo 2" } } }',
    });
    expect(loaded(await loadConfig({ cwd: dir })).file).toBe(path.join(dir, 'runcue.config.json'));
  });

  it('takes a JSON or YAML config naming its $schema, which editors read', async () => {
    const json = project({ 'runcue.config.json': '{ "$schema": "./runcue.schema.json", "tasks": { "build": { "run": "echo 2" } } }' });
    expect(loaded(await loadConfig({ cwd: json })).tasks.has('build')).toBe(true);
    const yaml = project({ 'runcue.config.yaml': '$schema: https://example.com/runcue.json\ntasks:\n  build:\n    run: echo 2\n' });
    expect(loaded(await loadConfig({ cwd: yaml })).tasks.has('build')).toBe(true);
  });

  it('searches the working directory when called with no options', async () => {
    const dir = project({ 'runcue.config.json': '{ "tasks": { "build": { "run": "echo 2" } } }' });
    const before = process.cwd();
    process.chdir(dir);
    try {
      expect(loaded(await loadConfig()).file).toBe(path.join(fs.realpathSync(dir), 'runcue.config.json'));
    } finally {
      process.chdir(before);
    }
  });

  it('prefers runcue.config.ts over the other file types in one directory', async () => {
    const dir = project({
      'runcue.config.ts': TS_CONFIG,
      'runcue.config.json': '{ "tasks": { "json": { "run": "echo json" } } }',
    });
    expect(loaded(await loadConfig({ cwd: dir })).file).toBe(path.join(dir, 'runcue.config.ts'));
  });

  it('searches from the working directory upward, the nearest config first', async () => {
    const dir = project({
      'runcue.config.mjs': `export default { tasks: { top: { run: 'echo top' } } };`,
      'a/b/c/.keep': '',
      'a/package.json': '{ "name": "a" }',
      'near/runcue.config.json': '{ "tasks": { "near": { "run": "echo near" } } }',
      'near/deeper/.keep': '',
    });
    const top = loaded(await loadConfig({ cwd: path.join(dir, 'a/b/c') }));
    expect(top.file).toBe(path.join(dir, 'runcue.config.mjs'));
    expect(top.root).toBe(dir);
    const near = loaded(await loadConfig({ cwd: path.join(dir, 'near/deeper') }));
    expect(near.root).toBe(path.join(dir, 'near'));
  });

  it('loads --config relative to the working directory, without searching', async () => {
    const dir = project({
      'runcue.config.json': '{ "tasks": { "default": { "run": "echo default" } } }',
      'conf/custom.mjs': `export default { tasks: { custom: { run: 'echo custom' } } };`,
    });
    const config = loaded(await loadConfig({ cwd: dir, configPath: 'conf/custom.mjs' }));
    expect(config.file).toBe(path.join(dir, 'conf/custom.mjs'));
    expect(config.root).toBe(path.join(dir, 'conf'));
    expect([...config.tasks.keys()]).toEqual(['custom']);
  });

  it('reports a --config file that does not exist', async () => {
    const dir = project({});
    const error = failure(await loadConfig({ cwd: dir, configPath: 'nope.ts' }));
    expect(error).toEqual({ reason: 'config-load', file: path.join(dir, 'nope.ts'), message: 'no such file' });
  });

  it('gets fresh code when the same file is loaded again', async () => {
    const dir = project({ 'runcue.config.ts': `export default { tasks: { one: { run: 'echo 1' } } };` });
    expect(shellCommand(loaded(await loadConfig({ cwd: dir })), 'one')).toBe('echo 1');
    fs.writeFileSync(path.join(dir, 'runcue.config.ts'), `export default { tasks: { one: { run: 'echo 2' } } };`);
    expect(shellCommand(loaded(await loadConfig({ cwd: dir })), 'one')).toBe('echo 2');
  });

  it.each([
    ['runcue.config.ts', 'export default { tasks: {{ };\n'],
    ['runcue.config.mjs', 'export default {\n  tasks: {{\n};\n'],
    ['runcue.config.json', '{ "tasks": '],
    ['runcue.config.yaml', 'tasks: [\n'],
  ])('reports a syntax error in %s', async (name, content) => {
    const dir = project({ [name]: content });
    const error = failure(await loadConfig({ cwd: dir }));
    expect(error).toMatchObject({ reason: 'config-load', file: path.join(dir, name) });
    expect(formatConfigFailure(error, dir).startsWith(`${name}: `)).toBe(true);
  });

  it('reports an exception thrown by the config with its line', async () => {
    const dir = project({ 'runcue.config.mjs': `const x = 1;\nthrow new Error('boom');\nexport default {};\n` });
    const error = failure(await loadConfig({ cwd: dir }));
    expect(error).toMatchObject({ reason: 'config-load', file: path.join(dir, 'runcue.config.mjs') });
    expect(error).toHaveProperty('message', expect.stringMatching(/^boom/));
  });

  it('reports an import that fails', async () => {
    const dir = project({ 'runcue.config.mjs': `import './missing.mjs';\nexport default {};\n` });
    const error = failure(await loadConfig({ cwd: dir }));
    expect(error).toMatchObject({ reason: 'config-load', file: path.join(dir, 'runcue.config.mjs') });
    expect(error).toHaveProperty('message', expect.stringContaining('missing.mjs'));
  });

  it('reports a module without a default export', async () => {
    const dir = project({ 'runcue.config.ts': `export const tasks = {};\n` });
    expect(failure(await loadConfig({ cwd: dir }))).toEqual({
      reason: 'config-load',
      file: path.join(dir, 'runcue.config.ts'),
      message: 'the file has no default export (expected `export default defineConfig({ ... })`)',
    });
  });

  it('reports an empty config file instead of searching further up', async () => {
    const dir = project({ 'runcue.config.json': '{ "tasks": { "a": { "run": "x" } } }', 'sub/runcue.config.ts': '' });
    expect(failure(await loadConfig({ cwd: path.join(dir, 'sub') }))).toEqual({
      reason: 'config-load',
      file: path.join(dir, 'sub/runcue.config.ts'),
      message: 'the file is empty',
    });
  });

  it('reports an invalid config with its file', async () => {
    const dir = project({ 'runcue.config.yaml': 'tasks:\n  a:\n    run: x\n    retires: 2\n' });
    const error = failure(await loadConfig({ cwd: path.join(dir) }));
    expect(formatConfigFailure(error, dir)).toBe('runcue.config.yaml: tasks.a.retires: unknown key; did you mean "retries"?');
  });

  it('says how to create a config when none is found', async () => {
    const dir = project({ 'sub/.keep': '' });
    const cwd = path.join(dir, 'sub');
    const error = failure(await loadConfig({ cwd }));
    expect(error.reason).toBe('config-not-found');
    expect(formatConfigFailure(error, cwd)).toBe(
      `no runcue config found in ${cwd} or any parent directory (looked for runcue.config.ts ` +
        '(or .mts, .js, .mjs, .cjs, .json, .yaml, .yml) or a "runcue" key in package.json); ' +
        'run `runcue init` to create one',
    );
  });
});

// Under vitest, `import()` of a config goes through Vite's transform; runcue itself runs on
// Node, whose type stripping and error messages are what users see. One child process checks
// those, with the sources loaded by Node directly.
describe('loadConfig on Node itself', () => {
  it('strips types, and reports syntax errors and exceptions as file:line:col with the line', () => {
    const dir = project({
      'typed/runcue.config.ts': TS_CONFIG,
      'syntax/runcue.config.ts': 'const a: number = 1;\nexport default { tasks: {{ };\n',
      'enum/runcue.config.ts': 'const a = 1;\n\tenum Mode { Fast }\nexport default { tasks: {} };\n',
      'syntax-js/runcue.config.mjs': 'const a = 1;\nexport default { tasks: {{ };\n',
      'throws/runcue.config.ts': `const x: number = 1;\nthrow new Error('boom ' + String(x));\nexport default {};\n`,
      'helper/runcue.config.mjs': `import './lib/helper.mjs';\nexport default {};\n`,
      'helper/lib/helper.mjs': `\nthrow new TypeError('bad helper');\n`,
      'cjs/package.json': '{ "name": "x", "type": "commonjs" }',
      'cjs/runcue.config.ts': `import { defineConfig } from 'runcue';\nexport default defineConfig({ tasks: {} });\n`,
    });
    const names = ['typed', 'syntax', 'enum', 'syntax-js', 'throws', 'helper', 'cjs'];
    const load = pathToFileURL(fileURLToPath(new URL('../../../src/config/load.ts', import.meta.url))).href;
    const resolve = pathToFileURL(fileURLToPath(new URL('../../../src/config/resolve.ts', import.meta.url))).href;
    const script = `
      import { loadConfig } from ${JSON.stringify(load)};
      import { formatConfigFailure } from ${JSON.stringify(resolve)};
      const out = {};
      for (const name of ${JSON.stringify(names)}) {
        // a second load (as watch reloads) must not show its cache-busting query
        await loadConfig({ cwd: ${JSON.stringify(dir)} + '/' + name });
        const result = await loadConfig({ cwd: ${JSON.stringify(dir)} + '/' + name });
        out[name] = result.ok ? { run: result.value.tasks.get('build').run } : formatConfigFailure(result.error, ${JSON.stringify(dir)} + '/' + name);
      }
      process.stdout.write(JSON.stringify(out));
    `;
    const stdout = execFileSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    const out = JSON.parse(stdout) as Record<string, unknown>;
    expect(out['typed']).toEqual({ run: { kind: 'shell', command: 'echo 2' } });
    expect(out['syntax']).toBe(
      'runcue.config.ts:2:26: SyntaxError: Unexpected token `{`. Expected identifier, string literal, numeric literal or [ for the computed key\n' +
        '  2 | export default { tasks: {{ };\n' +
        '    |                          ^',
    );
    expect(out['enum']).toBe(
      'runcue.config.ts:2:2: SyntaxError: TypeScript enum is not supported in strip-only mode\n' +
        '  2 | \tenum Mode { Fast }\n' +
        '    | \t^\n' +
        "runcue loads TypeScript configs with Node's type stripping, which runs erasable TypeScript only: " +
        'use a union of string literals or an `as const` object instead of an enum, and plain properties instead of namespaces or parameter properties',
    );
    expect(out['syntax-js']).toBe(
      "runcue.config.mjs:2:26: SyntaxError: Unexpected token '{'\n" +
        '  2 | export default { tasks: {{ };\n' +
        '    |                          ^',
    );
    expect(out['throws']).toBe('runcue.config.ts:2:7: boom 1');
    expect(out['helper']).toBe('runcue.config.mjs: TypeError: bad helper (at lib/helper.mjs:2:7)');
    expect(out['cjs']).toBe(
      'runcue.config.ts:1:1: SyntaxError: Cannot use import statement outside a module\n' +
        "  1 | import { defineConfig } from 'runcue';\n" +
        '    | ^\n' +
        'package.json says "type": "commonjs", so Node loads it as CommonJS: rename it to runcue.config.mts (or set "type": "module" in package.json)',
    );
  });
});
