/** Behaviour found by black-box review: each case once surprised a user of Make or Snakemake. */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, BIN, Rig, waitFor } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

describe('targets that cannot be built', () => {
  const CONFIG = `export default { tasks: {
    a: { input: 'src/{n}.txt', output: 'a/{n}.txt', run: 'cp {input} {output}' },
    b: { input: 'a/{n}.txt', output: 'b/{n}.txt', run: 'cp {input} {output}' },
  } };`;

  it("a path or filter no unit makes is a usage error, like make's 'No rule to make target'", async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': CONFIG, 'src/x.txt': 'x' });
    for (const target of ['b/zzz.txt', 'b[n=zzz]']) {
      const result = await rig.run(['build', target]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`no unit makes "${target}"`);
    }
    expect((await rig.run(['build', 'b/x.txt'])).code).toBe(0);
  });

  it('--no-deps reports a selected unit whose input is missing instead of dropping it', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': CONFIG, 'src/x.txt': 'x' });
    const result = await rig.run(['build', '--no-deps', 'b']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('b[n=x] waits for a/x.txt');
    // The producer's unit exists; it is only not built: the message says so, not "no unit".
    expect(result.stderr).toContain('task a would produce it, but --no-deps builds no upstream');
    expect(result.stderr).not.toMatch(/did not produce it|has no unit for it/);
  });

  it('two tasks claiming one output file is an error before anything runs', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: { a: { output: 'y', run: 'echo A > y' }, b: { output: 'y', run: 'echo B > y' } } };`,
    });
    const result = await rig.run(['build']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('a and b both produce y');
    expect(rig.exists('y')).toBe(false);
  });
});

describe('paths typed from elsewhere', () => {
  it('takes an absolute path, or one relative to the shell directory, as that output', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: { t: { input: 'src/{n}.txt', output: 'out/{n}.txt', run: 'cp {input} {output}' } } };`,
      'src/a.txt': 'a',
      'src/b.txt': 'b',
      'sub/keep.txt': '',
    });
    expect((await rig.run(['build', rig.path('out/a.txt')])).code).toBe(0);
    expect(rig.exists('out/a.txt')).toBe(true);
    expect(rig.exists('out/b.txt')).toBe(false);
    const fromSub = await rig.run(['build', '../out/b.txt'], { cwd: 'sub' });
    expect(fromSub.code).toBe(0);
    expect(rig.exists('out/b.txt')).toBe(true);
  });
});

describe('reporting', () => {
  it('counts the units a failure kept from starting, and blocks units that run after a failed task', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default {
        services: { cpu: { concurrent: 1 } },
        tasks: {
          step: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: "if [ {n} = 2 ]; then exit 1; fi; cp {input} {output}" },
          fin: { input: 'out/{n}.txt', output: 'fin/{n}.txt', run: 'cp {input} {output}' },
          late: { output: 'late.txt', after: ['step'], run: 'touch late.txt' },
        },
      };`,
      'in/1.txt': '1',
      'in/2.txt': '2',
      'in/3.txt': '3',
    });
    const stopped = await rig.run(['build']);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/\d+ not started/);
    const going = await rig.run(['build', '--keep-going']);
    expect(going.code).toBe(1);
    expect(going.stderr).toMatch(/late: step\[n=2\] \(of a task it runs after\) did not finish/);
    expect(rig.exists('late.txt')).toBe(false);
  });

  it('a push-back is reported as such, not as a limit reached', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { services: { api: { concurrent: 1 } }, tasks: { t: { uses: 'api', output: 'o.txt',
        run: "if [ ! -e seen ]; then touch seen; exit 75; fi; touch o.txt" } } };`,
    });
    const result = await rig.runJson(['build']);
    expect(result.code).toBe(0);
    const retry = result.events.find((e) => e.type === 'unit:retry');
    expect(retry?.error).toMatchObject({ reason: 'pushed-back', message: 'its service pushed back (once)' });
  });

  it('a hook that throws is reported with --json too (as a unit:log line with stream "hook")', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { on: { complete: () => { throw new Error('hook boom'); } }, tasks: { t: { output: 'o.txt', run: 'touch o.txt' } } };`,
    });
    const result = await rig.run(['build', '--json']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/"stream":"hook","text":"on.complete hook failed: hook boom"/);
  });

  it('fails a unit that exits 0 without writing a declared output (as Snakemake does)', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': `export default { tasks: { t: { output: 'never.txt', run: 'true' } } };` });
    const result = await rig.run(['build']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('exited 0 without writing never.txt');
  });

  it('a --cwd that does not exist says so', async () => {
    rig = new Rig();
    const result = await rig.run(['build', '--cwd', 'nowhere']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--cwd nowhere: no such directory');
  });

  it('plan names a unit whose custom check throws', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: { s: { input: 'i.txt', output: 'o.txt', run: 'cp i.txt o.txt', stale: () => { throw new Error('stale-boom'); } } } };`,
      'i.txt': 'i',
    });
    const result = await rig.run(['plan']);
    expect(result.stdout).toMatch(/would fail \(a custom check throws\) \(1\):\n\s+s\s+stale\(\) threw: stale-boom/);
  });
});

describe('a closed stdout', () => {
  it('stops the run like SIGPIPE: no stack trace, no child left, partial outputs removed', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: { long: { input: 'src/{n}.in', output: 'o/{n}.out',
        run: "echo partial > {output}; echo $$ >> pids; while true; do echo tick; sleep 0.1; done" } } };`,
      'src/a.in': 'a',
      'src/b.in': 'b',
    });
    // The reader closes the pipe only once both units run; their ticks (--verbose) then hit it.
    const reader = `(while [ "$(cat pids 2>/dev/null | wc -l)" -lt 2 ]; do sleep 0.05; done; head -c 1 >/dev/null)`;
    const command = `"${process.execPath}" "${BIN}" build --json --verbose --jobs 2 | ${reader}`;
    const child = spawn('sh', ['-c', command], {
      cwd: rig.dir,
      env: { PATH: process.env['PATH'], CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    // The pipeline ends when runcue has exited.
    await Promise.race([
      new Promise((resolve) => child.on('close', resolve)),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`runcue did not stop: ${stderr}`)), 30_000)),
    ]);
    const pids = rig.read('pids').trim().split('\n').map(Number);
    expect(pids).toHaveLength(2);
    await waitFor(() => pids.every((p) => !alive(p)), 20_000, 'the children to be stopped');
    expect(stderr).not.toMatch(/EPIPE|Unhandled|internal error/);
    expect(rig.exists('o/a.out')).toBe(false);
    expect(rig.exists('o/b.out')).toBe(false);
  });

  it('a reader that leaves early is no error: plan, graph and a quick build print no stack trace', async () => {
    rig = new Rig();
    const files: Record<string, string> = {
      'runcue.config.mjs': `export default { tasks: { c: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: 'cp {input} {output}' } } };`,
    };
    for (let i = 0; i < 2_000; i++) files[`in/${i}.txt`] = String(i);
    rig.write(files);
    const pipe = async (args: string, lines: number): Promise<{ code: string; stderr: string }> => {
      rig.remove('rc');
      const command = `{ "${process.execPath}" "${BIN}" ${args}; echo $? > rc; } | head -${lines} >/dev/null`;
      const child = spawn('sh', ['-c', command], {
        cwd: rig.dir,
        env: { PATH: process.env['PATH'], CI: 'true' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      await new Promise((resolve) => child.on('close', resolve));
      return { code: rig.read('rc').trim(), stderr };
    };
    for (const args of ['plan', 'graph --units', 'graph --units --format json']) {
      expect({ args, ...(await pipe(args, 1)) }).toEqual({ args, code: '0', stderr: '' });
    }
    for (let i = 0; i < 2_000; i++) if (i > 0) rig.remove(`in/${i}.txt`);
    // One unit: the reader leaves while the last events are written, or just after the run.
    for (let round = 0; round < 3; round++) {
      const { code, stderr } = await pipe('build --force --json', 2);
      expect(['0', '141']).toContain(code);
      expect(stderr).not.toMatch(/EPIPE|Unhandled|internal error/);
    }
  });
});
