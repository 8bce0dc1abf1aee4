/** Fixes from the ninth audit of the built CLI against SPEC.md: each test failed on the code before its fix. */
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { collect, Rig, waitFor } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

describe('RateLimited given the Retry-After header as the service sent it', () => {
  it('pauses for its delta-seconds or until its HTTP date, as the Retry-After file does (both were "unreadable")', async () => {
    rig = new Rig();
    rig.write({
      'in/seconds': '',
      'in/date': '',
      'in/none': '',
      'runcue.config.mjs': `import { RateLimited } from 'runcue';
        import { existsSync, writeFileSync } from 'node:fs';
        const header = { seconds: () => '2', date: () => new Date(Date.now() + 3_000).toUTCString(), none: () => null };
        export default { services: { api: { concurrent: 1 } }, tasks: {
          t: { uses: 'api', input: 'in/{how}', output: 'out/{how}', run: async ({ wildcards, output }) => {
            const asked = 'asked-' + wildcards.how;
            if (!existsSync(asked)) { writeFileSync(asked, ''); throw new RateLimited({ retryAfter: header[wildcards.how]() }); }
            writeFileSync(output, '');
          } },
        } };`,
    });
    const result = await rig.runJson(['build', 't[how=seconds]']);
    expect(result.code).toBe(0);
    const asked = (events: typeof result.events): unknown => events.find((e) => e.type === 'unit:retry')?.['error'];
    expect(asked(result.events)).toMatchObject({ reason: 'pushed-back', retryAfterMs: 2000 });
    expect(asked(result.events)).not.toHaveProperty('unreadableRetryAfter');
    // An HTTP date has whole seconds: the pause ends within the second before it.
    const dated = await rig.runJson(['build', 't[how=date]']);
    expect(dated.code).toBe(0);
    const { retryAfterMs } = asked(dated.events) as { retryAfterMs?: number };
    expect(retryAfterMs).toBeGreaterThan(1500);
    expect(retryAfterMs).toBeLessThanOrEqual(3000);
    // No header (fetch's headers.get gives null): the backoff, and no "unreadable" value to report.
    const none = await rig.runJson(['build', 't[how=none]']);
    expect(none.code).toBe(0);
    expect(asked(none.events)).toMatchObject({ reason: 'pushed-back' });
    expect(asked(none.events)).not.toHaveProperty('unreadableRetryAfter');
  }, 60_000);
});

describe('watch, when the config is edited after a unit failed', () => {
  it('does not retry the failed unit while its task is unchanged, and retries it when the edit changed that task (every failure was retried on any reload)', async () => {
    rig = new Rig();
    const config = (other: string, fails: string): string => `export default { tasks: {
      pay: { input: 'in/{n}.txt', output: 'paid/{n}.txt', run: 'echo {n} >> pay.log; exit ${fails}' },
      other: { input: 'in/{n}.txt', output: 'other/{n}.txt', run: 'echo ${other} >> other.log; cp {input} {output}' },
    } };`;
    rig.write({ 'runcue.config.mjs': config('v1', '1'), 'in/a.txt': 'a' });
    rig.age(['in/a.txt'], -60_000);
    const child = rig.spawn(['watch', '--json']);
    const ended = collect(child);
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const cycles = (): number => stdout.split('\n').filter((l) => l.includes('"watch:cycle"') && l.includes('"done"')).length;
    const reloads = (): number => stdout.split('\n').filter((l) => l.includes('"watch:config"') && l.includes('"ok":true')).length;
    const payRuns = (): number => (rig.exists('pay.log') ? rig.read('pay.log').trim().split('\n').length : 0);
    await waitFor(() => cycles() >= 1, 20_000, 'the initial build');
    expect(payRuns()).toBe(1);

    // An edit of another task only: the failed unit's task and inputs are as they were.
    rig.write({ 'runcue.config.mjs': config('v2', '1') });
    await waitFor(() => reloads() >= 1 && cycles() >= 2, 20_000, 'the reload cycle');
    expect(payRuns()).toBe(1);
    expect(stdout).toContain('"kind":"failed_earlier"');

    // An edit of the failed unit's own command may have fixed it: it runs again.
    rig.write({ 'runcue.config.mjs': config('v2', '0') });
    await waitFor(() => reloads() >= 2 && cycles() >= 3, 20_000, 'the second reload cycle');
    expect(payRuns()).toBe(2);
    child.kill('SIGINT');
    expect((await ended).code).toBe(130);
  }, 60_000);
});

describe("a TypeScript config importing a helper as './lib.js' (tsc's nodenext habit) when lib.ts is there", () => {
  it('says to import lib.ts by its name, which then loads (it only said the module was not found)', async () => {
    rig = new Rig();
    const config = (specifier: string): string => `import { defineConfig } from 'runcue';
      import { target } from '${specifier}';
      export default defineConfig({ tasks: { t: { output: target, run: 'touch {output}' } } });`;
    rig.write({ 'runcue.config.ts': config('./lib.js'), 'lib.ts': "export const target: string = 'out.txt';" });
    const result = await rig.run(['build']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("runcue.config.ts: Cannot find module '");
    expect(result.stderr).toContain("lib.ts is there: Node imports the path as written and never swaps '.js' for '.ts'");
    rig.write({ 'runcue.config.ts': config('./lib.ts') });
    expect((await rig.run(['build'])).code).toBe(0);
    expect(rig.exists('out.txt')).toBe(true);
  });
});

describe('build and watch from code with a jobs cap below 1', () => {
  it('throw a RangeError at once instead of starting nothing and waiting for good', () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': "export default { tasks: { t: { output: 'out.txt', run: 'touch out.txt' } } };",
      'script.mjs': `import { build, watch, loadConfig } from 'runcue';
        const config = await loadConfig({ cwd: process.cwd() });
        for (const jobs of [0, 1.5]) {
          await build({ config: config.value, jobs }).then(() => console.log('build ran'), (e) => console.log('build', e.name, e.message));
        }
        await watch({ config: config.value, jobs: -1, signal: AbortSignal.timeout(5000) }).then(() => console.log('watch ran'), (e) => console.log('watch', e.name));
        const fine = await build({ config: config.value, jobs: 1 });
        console.log('jobs 1', fine.ok && fine.value.counts.built);`,
    });
    const result = spawnSync(process.execPath, ['script.mjs'], { cwd: rig.dir, encoding: 'utf8', timeout: 15_000 });
    expect(result.stdout.trim().split('\n')).toEqual([
      'build RangeError jobs: expected a positive integer, got 0',
      'build RangeError jobs: expected a positive integer, got 1.5',
      'watch RangeError',
      'jobs 1 1',
    ]);
  }, 30_000);
});

describe('a file that two input patterns of one unit match', () => {
  it("is in {inputs}, {inputs_file} and a function's inputs once, as in Make's $^ (it was there twice)", async () => {
    rig = new Rig();
    rig.write({
      'src/a.txt': 'A',
      'src/b.txt': 'B',
      'runcue.config.mjs': `import { writeFileSync } from 'node:fs';
        export default { tasks: {
          shell: { input: ['src/*.txt', 'src/a.txt'], output: 'out/shell.txt', run: 'cat {inputs} > {output}' },
          list: { input: { all: 'src/*.txt', first: 'src/a.txt' }, output: 'out/list.txt', run: 'cat {inputs_file} > {output}' },
          fn: { input: ['src/a.txt', 'src/*.txt'], output: 'out/fn.txt', run: ({ inputs, output }) => writeFileSync(output, inputs.join(',')) },
        } };`,
    });
    const result = await rig.run(['build']);
    expect(result.code).toBe(0);
    expect(rig.read('out/shell.txt')).toBe('AB');
    expect(rig.read('out/list.txt')).toBe('src/a.txt\nsrc/b.txt\n');
    expect(rig.read('out/fn.txt')).toBe('src/a.txt,src/b.txt');
  });
});
