/**
 * `runcue list`, `graph`, `clean`, `touch` and `init` end to end: the real binary in temp dirs,
 * asserting on stdout, exit codes and the files left behind.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Rig } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

const CHAIN = `export default {
  services: { api: { rate: ['60/min', '1000/hour'], concurrent: 3, burst: 10 } },
  tasks: {
    upper: {
      uses: 'api',
      input: 'src/{name}.txt',
      output: 'work/{name}.up',
      run: 'tr a-z A-Z < {input} > {output}',
    },
    wrap: {
      input: 'work/{name}.up',
      output: 'out/{name}.md',
      run: "printf '# %s' \\"$(cat {input})\\" > {output}",
    },
  },
};
`;

const SOURCES = ['src/a.txt', 'src/b.txt', 'src/c.txt'];
const WORK = ['work/a.up', 'work/b.up', 'work/c.up'];
const OUT = ['out/a.md', 'out/b.md', 'out/c.md'];

function chainProject(extra: Record<string, string> = {}): void {
  rig = new Rig();
  rig.write({ 'runcue.config.mjs': CHAIN, 'src/a.txt': 'alpha', 'src/b.txt': 'beta', 'src/c.txt': 'gamma', ...extra });
  rig.age(SOURCES, -60_000);
}

/** Builds the chain and ages everything so that later changes are clearly newer. */
async function builtChain(): Promise<void> {
  chainProject();
  const result = await rig.run(['build']);
  expect(result.code).toBe(0);
  rig.age(WORK, -50_000);
  rig.age(OUT, -40_000);
}

interface ListJson {
  version: number;
  tasks: {
    name: string;
    units: number;
    placeholders: number;
    states: Record<string, number>;
    inputs: string[];
    outputs: string[];
    uses: string[];
  }[];
  services: { name: string; concurrent: number | null; rates: string[]; tasks: string[] }[];
}

async function listJson(): Promise<ListJson> {
  const result = await rig.run(['list', '--json']);
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as ListJson;
}

describe('list', () => {
  it('shows tasks with unit counts by state, and services, as an aligned table', async () => {
    chainProject();
    const result = await rig.run(['list']);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^TASK +USES +INPUT +OUTPUT +UNITS +FRESH +STALE +WAITING +BLOCKED$/);
    expect(lines[1]).toMatch(/^upper +api +src\/\{name\}\.txt +work\/\{name\}\.up +3 +0 +3 +0 +0$/);
    expect(lines[2]).toMatch(/^wrap +cpu +work\/\{name\}\.up +out\/\{name\}\.md +3 +0 +3 +0 +0$/);
    expect(result.stdout).toMatch(/^api +3 +60\/min, 1000\/hour +10 +upper$/m);
    expect(result.stdout).not.toContain('\u001b[');
    // the state columns line up under their headers
    const header = lines[0] ?? '';
    expect((lines[1] ?? '').length).toBe(header.length);
  });

  it("shows each task's description, which is what the key is for", async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        a: { run: 'true', description: 'say yes' },
        b: { run: 'true' },
        c: { run: 'true', description: 'say yes again' },
      } };`,
    });
    const result = await rig.run(['list']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^TASK +DESCRIPTION\na +say yes\nc +say yes again\n\nSERVICE/m);
  });

  it('--json counts units by state as build would find them (a changed input makes its downstream stale too)', async () => {
    await builtChain();
    rig.touch('src/b.txt', -10_000);
    rig.remove('out/c.md');
    const doc = await listJson();
    expect(doc.version).toBe(1);
    const byName = new Map(doc.tasks.map((t) => [t.name, t]));
    expect(byName.get('upper')?.states).toEqual({ fresh: 2, stale: 1, waiting: 0, blocked: 0 });
    expect(byName.get('wrap')?.states).toEqual({ fresh: 1, stale: 2, waiting: 0, blocked: 0 });
    expect(byName.get('upper')).toMatchObject({ uses: ['api'], inputs: ['src/{name}.txt'], outputs: ['work/{name}.up'], units: 3 });
    expect(doc.services.find((s) => s.name === 'api')).toEqual({
      name: 'api',
      concurrent: 3,
      rates: ['60/min', '1000/hour'],
      burst: 10,
      tasks: ['upper'],
    });
  });

  it('a missing input that nothing produces is blocked', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': `export default { tasks: { lonely: { input: 'missing.txt', output: 'x.txt', run: 'true' } } };` });
    const doc = await listJson();
    expect(doc.tasks[0]?.states).toEqual({ fresh: 0, stale: 0, waiting: 0, blocked: 1 });
  });

  it('counts placeholders of a dynamic producer apart and marks them in the table', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        split: { input: 'docs/{doc}.txt', output: 'pages/{doc}/*.txt', run: 'mkdir -p pages/{doc} && echo 1 > pages/{doc}/p1.txt && echo 2 > pages/{doc}/p2.txt' },
        extract: { input: 'pages/{doc}/{page}.txt', output: 'text/{doc}/{page}.txt', run: 'cp {input} {output}' },
      } };`,
      'docs/a.txt': 'a',
    });
    let doc = await listJson();
    expect(doc.tasks[1]).toMatchObject({ name: 'extract', units: 0, placeholders: 1 });
    const table = await rig.run(['list']);
    expect(table.stdout).toMatch(/^extract .* 0\+ /m);
    expect((await rig.run(['build'])).code).toBe(0);
    doc = await listJson();
    expect(doc.tasks[1]).toMatchObject({
      name: 'extract',
      units: 2,
      placeholders: 0,
      states: { fresh: 2, stale: 0, waiting: 0, blocked: 0 },
    });
  });

  it('a broken config is exit 2 with the config error on stderr', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': `export default { tasks: { a: { run: 'true', uses: 'nope' } } };` });
    const result = await rig.run(['list', '--json']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('nope');
  });
});

interface GraphJson {
  version: number;
  kind: 'tasks' | 'units';
  nodes: { id: string; task: string }[];
  edges: { from: string; to: string; kind: 'data' | 'after' }[];
}

const hasDot = spawnSync('dot', ['-V']).status === 0;

describe('graph', () => {
  it('prints the task graph as DOT by default', async () => {
    chainProject();
    const result = await rig.run(['graph']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^digraph runcue \{/);
    expect(result.stdout).toContain('"upper" -> "wrap";');
  });

  it('--format json parses back: nodes are tasks, edges data and after', async () => {
    chainProject();
    rig.write({
      'runcue.config.mjs': CHAIN.replace('tasks: {\n', "tasks: {\n    setup: { output: 'setup.done', run: 'touch setup.done' },\n").replace(
        "input: 'work/{name}.up',",
        "input: 'work/{name}.up', after: ['setup'],",
      ),
    });
    const result = await rig.run(['graph', '--format', 'json']);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout) as GraphJson;
    expect(doc.version).toBe(1);
    expect(doc.kind).toBe('tasks');
    expect(doc.nodes.map((n) => n.id)).toEqual(['setup', 'upper', 'wrap']);
    expect(doc.edges).toEqual([
      { from: 'upper', to: 'wrap', kind: 'data' },
      { from: 'setup', to: 'wrap', kind: 'after' },
    ]);
  });

  it('--units gives the unit graph of the selected targets and what they need', async () => {
    chainProject();
    const result = await rig.run(['graph', '--units', '--json', 'out/b.md']);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout) as GraphJson;
    expect(doc.kind).toBe('units');
    expect(doc.nodes.map((n) => n.id)).toEqual(['upper[name=b]', 'wrap[name=b]']);
    expect(doc.edges).toEqual([{ from: 'upper[name=b]', to: 'wrap[name=b]', kind: 'data' }]);
  });

  it('--format mermaid prints a flowchart', async () => {
    chainProject();
    const result = await rig.run(['graph', '--format', 'mermaid', '--units']);
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')[0]).toBe('flowchart LR');
    expect(result.stdout).toContain('n0["name=a"]');
  });

  it.skipIf(!hasDot)('the DOT of both graphs renders with Graphviz', async () => {
    chainProject();
    for (const args of [['graph'], ['graph', '--units']]) {
      const result = await rig.run(args);
      expect(result.code).toBe(0);
      const svg = execFileSync('dot', ['-Tsvg'], { input: result.stdout, encoding: 'utf8' });
      expect(svg).toContain('<svg');
    }
  });

  it('an unknown target is exit 2 with the same message as build', async () => {
    chainProject();
    const result = await rig.run(['graph', 'wrapp']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('runcue: unknown target "wrapp"');
    expect(result.stderr).toContain('did you mean "wrap"?');
  });
});

describe('clean', () => {
  it('removes the outputs of the selected units only: never upstream, never inputs', async () => {
    await builtChain();
    const result = await rig.run(['clean', 'wrap']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('removed out/a.md\nremoved out/b.md\nremoved out/c.md\n');
    expect(result.stdout).toContain('removed 3 files of 3 units');
    expect(OUT.filter((f) => rig.exists(f))).toEqual([]);
    expect(WORK.every((f) => rig.exists(f))).toBe(true);
    expect(SOURCES.every((f) => rig.exists(f))).toBe(true);
  });

  it("an upstream task's outputs go, its inputs and the downstream outputs stay", async () => {
    await builtChain();
    const result = await rig.run(['clean', 'upper']);
    expect(result.code).toBe(0);
    expect(WORK.filter((f) => rig.exists(f))).toEqual([]);
    expect(OUT.every((f) => rig.exists(f))).toBe(true);
    expect(SOURCES.every((f) => rig.exists(f))).toBe(true);
  });

  it('--dry-run lists what it would remove and removes nothing', async () => {
    await builtChain();
    const result = await rig.run(['clean', '--dry-run', 'out/b.md', 'upper[name=a]']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('would remove out/b.md\nwould remove work/a.up\nruncue: would remove 2 files of 2 units\n');
    expect([...WORK, ...OUT].every((f) => rig.exists(f))).toBe(true);
  });

  it('no target cleans every task; a second clean has nothing to do', async () => {
    await builtChain();
    expect((await rig.run(['clean'])).code).toBe(0);
    expect([...WORK, ...OUT].filter((f) => rig.exists(f))).toEqual([]);
    expect(SOURCES.every((f) => rig.exists(f))).toBe(true);
    const again = await rig.run(['clean']);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('runcue: removed 0 files of 0 units\n');
  });

  it('expands a glob output to the files it matches, keeping other files in its directory', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        split: { input: 'docs/{doc}.txt', output: 'work/{doc}/pages/*.txt', run: 'mkdir -p work/{doc}/pages && echo 1 > work/{doc}/pages/p1.txt && echo 2 > work/{doc}/pages/p2.txt' },
        extract: { input: 'work/{doc}/pages/{page}.txt', output: 'work/{doc}/text/{page}.txt', run: 'cp {input} {output}' },
      } };`,
      'docs/a.txt': 'a',
    });
    expect((await rig.run(['build'])).code).toBe(0);
    rig.write({ 'work/a/pages/notes.md': 'mine' });

    // extract's inputs are split's outputs: cleaning extract leaves them
    let result = await rig.run(['clean', 'extract']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('removed work/a/text/p1.txt\nremoved work/a/text/p2.txt\n');
    expect(rig.exists('work/a/pages/p1.txt')).toBe(true);

    result = await rig.run(['clean', 'split']);
    expect(result.code).toBe(0);
    expect(rig.exists('work/a/pages/p1.txt')).toBe(false);
    expect(rig.exists('work/a/pages/p2.txt')).toBe(false);
    expect(rig.read('work/a/pages/notes.md')).toBe('mine');
    expect(rig.read('docs/a.txt')).toBe('a');
  });

  it('never removes a file outside the project, even through a symlinked output directory', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'runcue-outside-'));
    try {
      chainProject();
      symlinkSync(outside, rig.path('out'), 'dir');
      expect((await rig.run(['build'])).code).toBe(0);
      expect(existsSync(join(outside, 'a.md'))).toBe(true);
      const result = await rig.run(['clean', 'wrap']);
      expect(result.code).toBe(0);
      expect(result.stderr).toContain('kept out/a.md: it is outside the project');
      expect(existsSync(join(outside, 'a.md'))).toBe(true);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('an unknown target is exit 2 and removes nothing', async () => {
    await builtChain();
    const result = await rig.run(['clean', 'out/nothing.txt']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('runcue: unknown target "out/nothing.txt"');
    expect([...WORK, ...OUT].every((f) => rig.exists(f))).toBe(true);
  });
});

describe('touch', () => {
  it('marks stale units fresh without running them; inputs keep their mtimes', async () => {
    await builtChain();
    rig.write({ 'runs.log': '' });
    rig.touch('src/b.txt', -10_000);
    const inputMtime = rig.mtime('src/b.txt');
    const result = await rig.run(['touch']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('runcue: touched 6 units (6 files)\n');
    expect(rig.mtime('src/b.txt')).toBe(inputMtime);
    expect(rig.mtime('out/b.md')).toBe(rig.mtime('work/b.up'));
    const build = await rig.run(['build']);
    expect(build.code).toBe(0);
    expect(build.stderr).toContain('0 built, 6 fresh');
    expect(rig.read('work/b.up')).toBe('BETA');
  });

  it('touches the selected units only, never their upstream', async () => {
    await builtChain();
    const before = WORK.map((f) => rig.mtime(f));
    const result = await rig.run(['touch', 'wrap']);
    expect(result.code).toBe(0);
    expect(WORK.map((f) => rig.mtime(f))).toEqual(before);
    expect(OUT.every((f) => rig.mtime(f) > (before[0] ?? 0))).toBe(true);
  });

  it('skips a unit with a missing output (creating nothing) and exits 1', async () => {
    await builtChain();
    rig.remove('out/b.md');
    const result = await rig.run(['touch', 'wrap']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('skipped wrap[name=b]: output missing: out/b.md');
    expect(result.stdout).toBe('runcue: touched 2 units (2 files), 1 skipped\n');
    expect(rig.exists('out/b.md')).toBe(false);
  });

  it("with freshness: 'hash', records the fingerprint: a cosmetic input edit then rebuilds nothing", async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { freshness: 'hash', tasks: {
        t: { input: 'src/{n}.txt', output: 'out/{n}.txt', run: 'cp {input} {output} && echo {n} >> runs.log' },
      } };`,
      'src/a.txt': 'a',
      'src/b.txt': 'b',
    });
    expect((await rig.run(['build'])).code).toBe(0);
    rig.write({ 'src/a.txt': 'a, reworded', 'runs.log': '' });
    expect((await rig.run(['plan'])).stdout).toContain('content of src/a.txt changed');
    const result = await rig.run(['touch', 't[n=a]']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('runcue: touched 1 unit (1 file)\n');
    const build = await rig.run(['build']);
    expect(build.code).toBe(0);
    expect(rig.read('runs.log')).toBe('');
    expect(rig.read('out/a.txt')).toBe('a');
  });

  it('an unknown target is exit 2', async () => {
    chainProject();
    const result = await rig.run(['touch', 'nope[x=1]']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('runcue: unknown target "nope[x=1]"');
  });
});

describe('init', () => {
  it('writes a starter config that builds once an input exists', async () => {
    rig = new Rig();
    const result = await rig.run(['init']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('wrote ');
    const config = rig.read('runcue.config.ts');
    expect(config).toContain("import { defineConfig } from 'runcue';");
    expect(config).toContain("rate: '60/min'");
    expect(config).toContain('{name}');

    rig.write({ 'input/hello.txt': 'hello\n' });
    const build = await rig.run(['build']);
    expect(build.stderr).toContain('2 built');
    expect(build.code).toBe(0);
    expect(rig.read('out/combined.txt')).toBe('HELLO\n');
    expect((await rig.run(['build'])).stderr).toContain('0 built, 2 fresh');
  });

  it('in a "type": "commonjs" package writes runcue.config.mts, which builds', async () => {
    rig = new Rig();
    // what `npm init -y` writes with npm 11
    rig.write({ 'package.json': '{ "name": "x", "version": "1.0.0", "type": "commonjs" }\n' });
    const result = await rig.run(['init']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('runcue.config.mts (.mts: ');
    expect(rig.exists('runcue.config.ts')).toBe(false);
    rig.write({ 'input/hello.txt': 'hello\n' });
    const build = await rig.run(['build']);
    expect(build.stderr).toContain('2 built');
    expect(build.code).toBe(0);
  });

  it.each([
    ['no .gitignore', undefined, '.runcue/\n', true],
    ['one without a final newline', 'node_modules', 'node_modules\n.runcue/\n', true],
    ['one that already ignores it', 'dist/\n/.runcue\n', 'dist/\n/.runcue\n', false],
  ])('adds .runcue/ to .gitignore (%s)', async (_, before, after, added) => {
    rig = new Rig();
    if (before !== undefined) rig.write({ '.gitignore': before });
    const result = await rig.run(['init']);
    expect(result.code).toBe(0);
    expect(result.stdout.includes('added .runcue/')).toBe(added);
    expect(rig.read('.gitignore')).toBe(after);
  });

  it('refuses to overwrite an existing config of any kind (exit 2)', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.ts': '// mine\n' });
    let result = await rig.run(['init']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('runcue.config.ts already exists');
    expect(rig.read('runcue.config.ts')).toBe('// mine\n');

    rig.remove('runcue.config.ts');
    rig.write({ 'runcue.config.yaml': 'tasks: {}\n' });
    result = await rig.run(['init']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('runcue.config.yaml already exists');
    expect(rig.exists('runcue.config.ts')).toBe(false);
  });

  it('--cwd writes into another directory, creating it if need be', async () => {
    rig = new Rig();
    mkdirSync(rig.path('sub'));
    writeFileSync(rig.path('sub/keep.txt'), 'x');
    let result = await rig.run(['init', '--cwd', 'sub']);
    expect(result.code).toBe(0);
    expect(rig.exists('sub/runcue.config.ts')).toBe(true);
    expect(rig.read('sub/keep.txt')).toBe('x');
    expect(rig.exists('runcue.config.ts')).toBe(false);
    result = await rig.run(['init', '--cwd', 'new/project']);
    expect(result.code).toBe(0);
    expect(rig.exists('new/project/runcue.config.ts')).toBe(true);
  });

  it('refuses a package.json with a "runcue" key, but not one without', async () => {
    rig = new Rig();
    rig.write({ 'package.json': '{ "name": "x" }' });
    expect((await rig.run(['init'])).code).toBe(0);
    rig.remove('runcue.config.ts');
    rig.write({ 'package.json': '{ "name": "x", "runcue": { "tasks": {} } }' });
    const result = await rig.run(['init']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('package.json ("runcue" key) already exists');
  });
});
