/** Fixes from the sixth audit of the built CLI: each test failed on the code before its fix. */
import { afterEach, describe, expect, it } from 'vitest';
import { collect, Rig, waitFor } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

describe('a unit that ends well but writes no output', () => {
  it('shows what it printed, as any failed unit does (command and function alike)', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        cmd: { output: 'out/cmd.txt', run: 'echo cmd-said-why' },
        fn: { output: 'out/fn.txt', run: async (unit, { log }) => { log('fn-said-why'); } },
      } };`,
    });
    const human = await rig.run(['build', '--keep-going']);
    expect(human.code).toBe(1);
    expect(human.stderr).toContain('cmd-said-why');
    expect(human.stderr).toContain('fn-said-why');
    // A function does not exit: it returns.
    expect(human.stderr).toContain('fn returned without writing out/fn.txt');
    expect(human.stderr).toContain('cmd exited 0 without writing out/cmd.txt');
    const json = await rig.run(['build', '--keep-going', '--json']);
    const fails = json.stdout
      .split('\n')
      .filter((l) => l.includes('"unit:fail"'))
      .map((l) => JSON.parse(l) as { unit: string; outputTail: string });
    expect(Object.fromEntries(fails.map((f) => [f.unit, f.outputTail]))).toEqual({ cmd: 'cmd-said-why', fn: 'fn-said-why' });
  });
});

describe('list', () => {
  it('shows the burst the limiter paces a service with several rates at: the smallest, never above N', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default {
        services: { api: { rate: ['3/2s', '5/10s'] }, big: { rate: '5/s', burst: 10 }, db: { rate: ['10/s', '100/min'] } },
        tasks: { t: { uses: ['api', 'big', 'db'], output: 'x', run: 'true' } },
      };`,
    });
    const result = await rig.run(['list', '--json']);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout) as { services: { name: string; burst: number | null }[] };
    // 3/2s goes out 2 at once, 5/10s one at a time: together, one at a time.
    expect(Object.fromEntries(doc.services.map((s) => [s.name, s.burst]))).toEqual({ api: 1, big: 5, db: 2, cpu: null });
  });
});

describe('why', () => {
  it('shows a directory output as built, with its time, not as missing (build takes it as fresh)', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: { site: { input: 'src.txt', output: 'site', run: 'mkdir -p site && cp src.txt site/index.html' } } };`,
      'src.txt': 's',
    });
    expect((await rig.run(['build'])).code).toBe(0);
    const result = await rig.run(['why', 'site']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/outputs:\n {2}site {2}\d{4}-/);
    expect(result.stdout).toMatch(/newest input src\.txt \(.*\) is not newer than oldest output site/);
    expect(result.stdout).toContain('verdict: fresh');
  });
});

describe('durations longer than a timer holds (about 24.8 days)', () => {
  it('a timeout of 30 days does not fire at once (it timed out every unit after 1 ms)', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        cmd: { output: 'cmd.txt', timeout: '30d', run: 'sleep 0.3; touch cmd.txt' },
        fn: { output: 'fn.txt', timeout: '30d', run: async () => { await new Promise((r) => setTimeout(r, 300)); (await import('node:fs')).writeFileSync('fn.txt', 'x'); } },
      } };`,
    });
    const result = await rig.run(['build']);
    expect(result.stderr).not.toContain('TimeoutOverflowWarning');
    expect(result.code).toBe(0);
    expect(rig.exists('cmd.txt') && rig.exists('fn.txt')).toBe(true);
  });

  it('watch does not cycle without end when a maxAge of 30 days is due far ahead', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: { t: { input: 'in.txt', output: 'out.txt', maxAge: '30d', run: 'cp in.txt out.txt' } } };`,
      'in.txt': 'a',
    });
    const child = rig.spawn(['watch', '--json']);
    const done = collect(child, 30_000);
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const cycles = (): number => stdout.split('\n').filter((l) => l.includes('"watch:cycle"') && l.includes('"done"')).length;
    try {
      await waitFor(() => cycles() >= 1, 20_000, 'the first build');
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      child.kill('SIGINT');
    }
    const result = await done;
    expect(result.stderr).not.toContain('TimeoutOverflowWarning');
    expect(cycles()).toBe(1);
  });
});

describe('--json', () => {
  it('keeps stdout to events when a function task writes to process.stdout directly', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `import { writeFileSync } from 'node:fs';
        export default { tasks: { f: { output: 'x', run: async () => { process.stdout.write('raw-from-fn\\n'); writeFileSync('x', 'x'); } } } };`,
    });
    const result = await rig.run(['build', '--json']);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines.filter((l) => !l.startsWith('{"type":'))).toEqual([]);
    expect(lines.at(-1)).toContain('"run:done"');
    expect(result.stderr).toContain('raw-from-fn');
  });
});

describe('patterns that spell a leading dot', () => {
  it('match hidden files and directories, whatever other tasks walk (they matched nothing, or only alone)', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        plain: { input: 'in/{n}.txt', output: 'out/plain-{n}.txt', run: 'cp {input} {output}' },
        dotfile: { input: 'in/.{n}.txt', output: 'out/dotfile-{n}.txt', run: 'cp {input} {output}' },
        dotdir: { input: 'in/.hid/{n}.txt', output: 'out/dotdir-{n}.txt', run: 'cp {input} {output}' },
      } };`,
      'in/b.txt': 'b',
      'in/.a.txt': 'a',
      'in/.hid/c.txt': 'c',
    });
    const result = await rig.run(['plan', '--json']);
    expect(result.code).toBe(0);
    const units = (JSON.parse(result.stdout) as { units: { unit: string }[] }).units.map((u) => u.unit).sort();
    expect(units).toEqual(['dotdir[n=c]', 'dotfile[n=a]', 'plain[n=b]']);
  });
});

describe('push-back', () => {
  it('of several units in flight at once does not stack the backoff (the sixth paused the service for up to 32 backoffs)', async () => {
    rig = new Rig();
    const names = ['1', '2', '3', '4', '5', '6'];
    rig.write({
      'runcue.config.mjs': `export default {
        services: { api: { rate: '100/s', burst: 100 } },
        tasks: { t: { uses: 'api', backoff: '300ms', input: 'in/{n}.txt', output: 'out/{n}.txt',
          run: 'sleep 0.3; if [ ! -e flag{n} ]; then touch flag{n}; exit 75; fi; cp {input} {output}' } },
      };`,
      ...Object.fromEntries(names.map((n) => [`in/${n}.txt`, n])),
    });
    const result = await rig.run(['build', '--json']);
    expect(result.code).toBe(0);
    const retries = result.stdout
      .split('\n')
      .filter((l) => l.includes('"unit:retry"'))
      .map((l) => JSON.parse(l) as { delayMs: number; kind: string });
    expect(retries).toHaveLength(6);
    // All six started together and were pushed back together: one step of backoff, [0, 300 ms).
    for (const r of retries) expect(r.delayMs).toBeLessThan(300);
  });
});

describe('keepFailedOutputs', () => {
  it('keeps what a failed unit wrote, but not looking fresh (the next build skipped the unit)', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: { t: { input: 'in.txt', output: 'out.txt', keepFailedOutputs: true,
        run: 'echo run >> log.txt; echo partial > out.txt; [ -e ok ] || exit 1' } } };`,
      'in.txt': 'a',
    });
    expect((await rig.run(['build'])).code).toBe(1);
    expect(rig.read('out.txt')).toBe('partial\n');
    const plan = await rig.run(['plan']);
    expect(plan.stdout).toContain('would run');
    rig.write({ ok: '' });
    expect((await rig.run(['build'])).code).toBe(0);
    expect(rig.read('log.txt')).toBe('run\nrun\n');
  });
});
