/** Fixes from an audit of the built CLI: each test failed on the code before its fix. */
import { afterEach, describe, expect, it } from 'vitest';
import { collect, Rig, waitFor } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

const COPY = `export default { tasks: {
  c: { input: 'in/{n}', output: 'out/{n}', run: 'cp {input} {output}' },
} };`;

describe('targets', () => {
  it('a unit whose wildcard value holds a comma is selectable by its id', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': COPY, 'in/a,b': 'ab', 'in/a': 'a', 'in/b': 'b' });
    const result = await rig.run(['build', 'c[n=a,b]']);
    expect(result.stderr).not.toContain('is not key=glob');
    expect(result.code).toBe(0);
    expect(rig.read('out/a,b')).toBe('ab');
    expect(rig.exists('out/a')).toBe(false);
    expect(rig.exists('out/b')).toBe(false);
  });
});

describe('--reporter json', () => {
  it('is --json for list, graph, plan, clean and touch', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': COPY, 'in/a': 'a' });
    const parsed = (stdout: string): unknown => {
      const document = JSON.parse(stdout) as Record<string, unknown>;
      delete document['time'];
      return document;
    };
    for (const args of [['list'], ['graph'], ['plan'], ['clean', '--dry-run'], ['touch']]) {
      const json = await rig.run([...args, '--json']);
      const reporter = await rig.run([...args, '--reporter', 'json']);
      expect(reporter.code, args.join(' ')).toBe(json.code);
      expect(parsed(reporter.stdout), args.join(' ')).toEqual(parsed(json.stdout));
    }
  });
});

describe('--json output', () => {
  it("keeps the config's console.log off stdout", async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `console.log('loading the config'); console.info('info too');\n${COPY}`,
      'in/a': 'a',
    });
    const build = await rig.runJson(['build']);
    expect(build.code).toBe(0);
    expect(build.events.map((e) => e.type)).toEqual(['run:start', 'unit:start', 'unit:done', 'run:done']);
    expect(build.stderr).toContain('loading the config');
    for (const args of [
      ['list', '--json'],
      ['plan', '--reporter', 'json'],
      ['graph', '--format', 'json'],
    ]) {
      const result = await rig.run(args);
      expect(result.code, args.join(' ')).toBe(0);
      expect(() => JSON.parse(result.stdout) as unknown, args.join(' ')).not.toThrow();
      expect(result.stderr, args.join(' ')).toContain('info too');
    }
  });
});

describe('input functions', () => {
  const withInput = (fn: string): string => `export default { tasks: {
    t: { input: { main: 'in/{n}', extra: ${fn} }, output: 'out/{n}', run: 'cp {input.main} {output}' },
  } };`;

  it.each([
    ['a number', '() => 42', 'its function returned 42: expected a path string'],
    ['a Proxy whose traps throw', "() => new Proxy({}, { get() { throw new Error('trap'); } })", 'expected a path string'],
    ['a revoked Proxy', '() => { const p = Proxy.revocable({}, {}); p.revoke(); return p.proxy; }', 'cannot be described'],
  ])('returning %s blocks the unit with a message, never a stack', async (_what, fn, message) => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': withInput(fn), 'in/a': 'a' });
    const result = await rig.run(['build']);
    expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(result.stderr).toContain('t[n=a] waits for input extra:');
    expect(result.stderr).not.toContain('no task produces it');
    expect(result.stderr).toContain(message);
    expect(result.code).toBe(1);
  });
});

describe('a second Ctrl-C', () => {
  // A grace period far longer than the run may take: only the second Ctrl-C can end it in time.
  const IGNORES_ABORT = `import { writeFileSync } from 'node:fs';
  export default { killGrace: '5min', tasks: {
    f: { output: 'f.txt', run: async ({ output }) => { writeFileSync(output, 'partial'); await new Promise((r) => setTimeout(r, 600_000)); } },
  } };`;

  it.each([['build'], ['watch']])('ends %s at once (130) when a function ignores its abort signal', async (command) => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': IGNORES_ABORT });
    const child = rig.spawn([command]);
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    const done = collect(child, 20_000);
    await waitFor(() => rig.exists('f.txt'), 20_000, 'the function to start');
    child.kill('SIGINT');
    await waitFor(() => stderr.includes('stopping (SIGINT)'), 20_000, 'the first stop');
    child.kill('SIGINT');
    const result = await done;
    expect(result.code).toBe(130);
    expect(rig.exists('f.txt')).toBe(false);
  });
});
