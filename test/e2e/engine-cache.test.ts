/**
 * The engine's own code cache (src/cli/engine-script.ts): a command writes it to Node's compile
 * cache directory at exit, the next run starts from it, and a cache that does not fit is never
 * trusted. The directory is the rig's own (NODE_COMPILE_CACHE), so runs elsewhere do not meet.
 */
import { readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO, Rig } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

const CONFIG = `export default { tasks: { copy: { input: 'src/{n}.in', output: 'out/{n}.out', run: 'cp {input} {output}' } } };`;

function project(): void {
  rig = new Rig();
  rig.write({ 'runcue.config.mjs': CONFIG, 'src/1.in': 'one', 'src/2.in': 'two', 'cache/.keep': '' });
  rig.age(['src/1.in', 'src/2.in'], -60_000);
}

/** The engine cache files under the rig's compile cache directory (Node adds a per-version folder). */
function engineCaches(): string[] {
  const root = rig.path('cache');
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((rel) => /(^|\/)runcue-[^/]*\.bin$/.test(rel))
    .map((rel) => join(root, rel))
    .sort();
}

const env = (): Record<string, string> => ({ NODE_COMPILE_CACHE: rig.path('cache') });

describe('the engine code cache', () => {
  it('is written by the first run of a command and read, not rewritten, by the next', async () => {
    project();
    const first = await rig.run(['build', '--reporter', 'silent'], { env: env() });
    expect(first.code).toBe(0);
    expect(rig.read('out/2.out')).toBe('two');
    const [cache, ...others] = engineCaches();
    expect(others).toEqual([]);
    expect(cache).toMatch(/\/runcue-build-\d+-\d+-\d+\.bin$/);
    const written = readFileSync(cache ?? '');
    expect(written.length).toBeGreaterThan(10_000);

    // The first run started units (the header byte says so): it compiled all a no-op needs.
    expect(written[0]).toBe(3);
    // The header is 8 bytes (the rest of it zeros), so V8's data after it is 8-byte aligned as
    // read: V8 copies cache data that is not before using it.
    expect([...written.subarray(1, 8)]).toEqual([0, 0, 0, 0, 0, 0, 0]);
    const outputs = ['out/1.out', 'out/2.out'].map((f) => rig.mtime(f));
    const second = await rig.run(['build', '--reporter', 'silent'], { env: env() });
    expect(second.code).toBe(0);
    expect(['out/1.out', 'out/2.out'].map((f) => rig.mtime(f))).toEqual(outputs);
    expect(readFileSync(cache ?? '').equals(written)).toBe(true);

    const plan = await rig.run(['plan'], { env: env() });
    expect(plan.code).toBe(0);
    expect(engineCaches().map((f) => /\/runcue-(\w+)-\d[^/]*$/.exec(f)?.[1])).toEqual(['build', 'plan']);
  });

  it('is written again by a run that goes further than the one that wrote it, and only then', async () => {
    project();
    rig.write({ 'out/1.out': 'one', 'out/2.out': 'two' });
    const header = (): number | undefined => {
      const [cache] = engineCaches();
      return cache === undefined ? undefined : readFileSync(cache)[0];
    };
    // No unit at all (a task whose input matches nothing), then a no-op, then a unit that runs.
    const build = async (config: string): Promise<void> => {
      rig.write({ 'runcue.config.mjs': config });
      expect((await rig.run(['build', '--reporter', 'silent'], { env: env() })).code).toBe(0);
    };
    await build(CONFIG.replace('src/{n}.in', 'none/{n}.in'));
    expect(header()).toBe(1);
    await build(CONFIG);
    expect(header()).toBe(2);
    const [cache] = engineCaches();
    const noop = readFileSync(cache ?? '');
    await build(CONFIG.replace('src/{n}.in', 'none/{n}.in'));
    expect(readFileSync(cache ?? '').equals(noop)).toBe(true);
    rig.touch('src/1.in', 60_000);
    await build(CONFIG);
    expect(header()).toBe(3);
    expect(rig.read('out/1.out')).toBe('one');
  });

  it('is replaced when V8 rejects it, and the run is as without one', async () => {
    project();
    expect((await rig.run(['build', '--reporter', 'silent'], { env: env() })).code).toBe(0);
    const [cache] = engineCaches();
    const size = statSync(cache ?? '').size;
    writeFileSync(cache ?? '', Buffer.alloc(size, 7));
    rig.touch('src/2.in');
    const run = await rig.runJson(['build'], { env: env() });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.events.filter((e) => e.type === 'unit:start').map((e) => e.unit)).toEqual(['copy[n=2]']);
    const rewritten = readFileSync(cache ?? '');
    expect(rewritten.subarray(0, 16).equals(Buffer.alloc(16, 7))).toBe(false);
    expect(rewritten[0]).toBe(3);
  });

  it('is what a command runs: the ES module build of the engine is not loaded', async () => {
    project();
    // Lists every file: module Node loads, at exit.
    const hook = [
      "import { registerHooks } from 'node:module';",
      'const seen = new Set();',
      "registerHooks({ load(url, context, next) { if (url.startsWith('file:')) seen.add(url); return next(url, context); } });",
      "process.on('exit', () => process.stderr.write('loaded: ' + [...seen].join(' ') + '\\n'));",
    ].join('\n');
    const options = `--import data:text/javascript,${encodeURIComponent(hook)}`;
    const run = await rig.run(['build', '--reporter', 'silent'], { env: { ...env(), NODE_OPTIONS: options } });
    expect(run.code).toBe(0);
    expect(rig.read('out/1.out')).toBe('one');
    // dist/ files, without the chunks' content hashes.
    const loaded = (/loaded: (.*)/.exec(run.stderr)?.[1] ?? '')
      .split(' ')
      .map((url) => url.replace(/^.*\/dist\//, 'dist/').replace(/-[\w-]{8}\.js$/, '.js'));
    expect(loaded).toContain('dist/cli/main.js');
    expect(loaded.filter((url) => url.startsWith('dist/')).sort()).toEqual(['dist/chunks/start.js', 'dist/cli/main.js']);
  });

  it('is of a script that the build writes as the function it runs, in ASCII (so latin1 reads it as it is)', () => {
    const script = readFileSync(join(REPO, 'dist', 'cli', 'engine.cjs'));
    const head = '(function (exports, require, module, __filename, __dirname, __runcueImport) {';
    expect(script.subarray(0, head.length).toString('latin1')).toBe(head);
    expect(script.subarray(-3).toString('latin1')).toBe('\n})');
    expect(script.findIndex((byte) => byte > 0x7f)).toBe(-1);
  });

  it('is not written when Node’s compile cache is off, nor under a name the command word chose', async () => {
    project();
    const off = await rig.run(['build', '--reporter', 'silent'], { env: { ...env(), NODE_DISABLE_COMPILE_CACHE: '1' } });
    expect(off.code).toBe(0);
    expect(engineCaches()).toEqual([]);

    const hostile = await rig.run(['../../x'], { env: env() });
    expect(hostile.code).toBe(2);
    expect(engineCaches().map((f) => /\/runcue-(\w+)-\d[^/]*$/.exec(f)?.[1])).toEqual(['other']);
  });

  it('removes the caches other builds of runcue left for the command, keeping the two newest, when it writes its own', async () => {
    project();
    // Where Node keeps this version's caches: the folder the first run writes into.
    expect((await rig.run(['plan'], { env: env() })).code).toBe(0);
    const [planCache] = engineCaches();
    const dir = join(planCache ?? '', '..');
    const hoursAgo = (hours: number): Date => new Date(Date.now() - hours * 3_600_000);
    const leftBehind = (name: string, hours: number): void => {
      writeFileSync(join(dir, name), 'old');
      utimesSync(join(dir, name), hoursAgo(hours), hoursAgo(hours));
    };
    for (let build = 1; build <= 4; build++)
      leftBehind(`runcue-build-${String(build)}-1796000000000000000-${String(build)}.bin`, 10 - build);
    leftBehind('runcue-build-9-1-9.bin.4242.tmp', 2);
    leftBehind('runcue-build-8-1-8.bin.4343.tmp', 0);
    leftBehind('runcue-watch-1-1796000000000000000-1.bin', 50);
    leftBehind('unrelated.bin', 50);

    expect((await rig.run(['build', '--reporter', 'silent'], { env: env() })).code).toBe(0);
    const names = readdirSync(dir).sort();
    const builds = names.filter((n) => n.startsWith('runcue-build-'));
    // Its own cache, the two newest of the others (builds 3 and 4), and the temporary file too young to be abandoned.
    expect(builds.filter((n) => !/^runcue-build-[34]-|\.tmp$/.test(n))).toHaveLength(1);
    expect(builds.filter((n) => /^runcue-build-[34]-/.test(n))).toHaveLength(2);
    expect(builds.filter((n) => n.endsWith('.tmp'))).toEqual(['runcue-build-8-1-8.bin.4343.tmp']);
    // Other commands' caches and files that are not runcue's stay.
    expect(names).toContain('runcue-watch-1-1796000000000000000-1.bin');
    expect(names).toContain('unrelated.bin');
    expect(names.some((n) => n.startsWith('runcue-plan-'))).toBe(true);
  });
});
