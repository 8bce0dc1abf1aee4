/** Fixes from the eleventh audit of the built CLI: each test failed on the code before its fix. */
import { hash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { Rig } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

const COPY = `export default { tasks: { copy: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: 'cp {input} {output}' } } };`;

describe('sim --trace', () => {
  it('writes a relative trace file under --cwd, as report --trace and build --report-file do (it wrote it in the shell directory)', async () => {
    rig = new Rig();
    rig.write({ 'project/runcue.config.mjs': COPY, 'project/in/a.txt': 'a' });
    const result = await rig.run(['sim', '--cwd', 'project', '--trace', 'trace.json']);
    expect(result.code).toBe(0);
    expect(rig.exists('project/trace.json')).toBe(true);
    expect(rig.exists('trace.json')).toBe(false);
  });

  it('a trace file it cannot write is a usage error naming the file, exit 2 (it was an internal error, exit 1)', async () => {
    rig = new Rig();
    const result = await rig.run(['sim', '--scenario', 'single_queue', '--count', '3', '--trace', 'no-such-dir/trace.json']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`runcue sim: --trace no-such-dir/trace.json: cannot write ${rig.path('no-such-dir/trace.json')}`);
    expect(result.stderr).not.toContain('internal error');
  });
});

describe('sim, names in human text', () => {
  it('shows a control character in a unit id escaped in the -v log and the summary, as build does (it printed it raw)', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': COPY, 'in/a\nFORGED \x1b[2J.txt': 'a' });
    const result = await rig.run(['sim', '-v']);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('\x1b');
    const lines = result.stdout.split('\n').filter((l) => l.includes('FORGED'));
    // The start and done lines of the log and the critical path.
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).toContain('copy[n=a\\nFORGED \\x1b[2J]');
  });
});

describe('sim, the critical path', () => {
  it('goes back through an `after` dependency: a 10 s lint bounds the tests that run after it (it said the tests did)', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        lint: { input: 'src/*.ts', output: 'lint.ok', run: 'true' },
        test: { input: 'src/{n}.ts', output: 'test/{n}.ok', run: 'true', after: 'lint' } } };`,
    });
    const result = await rig.run(['sim', '--files', 'src/*.ts=3', '--latency', 'lint=10s,100ms', '--json']);
    expect(result.code).toBe(0);
    const { summary } = JSON.parse(result.stdout) as { summary: { criticalPath: { task: string }[]; boundingTask: string } };
    expect(summary.criticalPath.map((s) => s.task)).toEqual(['lint', 'test']);
    expect(summary.boundingTask).toBe('lint');
  });
});

describe('sim -v, a stall', () => {
  it('lists what was waiting and why under the stall line, as build does (it printed only "nothing finished")', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { stallTimeout: '2s', services: { cpu: { concurrent: 2 } }, tasks: {
        slow: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: 'sleep 60' } } };`,
      'in/1.txt': '',
      'in/2.txt': '',
      'in/3.txt': '',
    });
    const result = await rig.run(['sim', '--latency', '1m', '-v']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /^2\.000s +stall +nothing finished for 2000 ms \(stallTimeout 2000 ms\)\n2\.000s +waiting +slow +slow\[n=3\] +service_full: cpu is full \(2 running\)$/m,
    );
  });
});

describe('sim --scenario, --cwd and --config', () => {
  it('a --cwd that is no directory is a usage error, as for every command (the scenario ran and exited 0)', async () => {
    rig = new Rig();
    const result = await rig.run(['sim', '--scenario', 'single_queue', '--count', '2', '--cwd', 'no-such-dir']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('runcue sim: --cwd no-such-dir: no such directory\n');
  });

  it('--config with --scenario is a usage error (the config was silently not read)', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': COPY });
    const result = await rig.run(['sim', '--scenario', 'single_queue', '--count', '2', '--config', 'runcue.config.mjs']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--config runcue.config.mjs: a --scenario runs without your config');
  });
});

describe('sim, the units line', () => {
  it('says "1 attempt" and "1 unit planned" for one (it said "1 attempts", "1 units planned")', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': COPY, 'in/a.txt': 'a' });
    const result = await rig.run(['sim']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('units      1 run (1 attempt), 1 built, 0 failed');
    expect((await rig.run(['sim', '-v'])).stdout).toMatch(/^0\.000s +run +1 unit planned$/m);
  });
});

describe('sim, a unit an earlier run left interrupted', () => {
  it('is stale, as build finds it, and its record stays (sim called it fresh by its mtimes)', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': COPY, 'in/a.txt': 'a' });
    expect((await rig.run(['build'])).code).toBe(0);
    // The record a run leaves when it dies mid-write, here cut short: the output is newer than its input.
    const record = `.runcue/inflight/${hash('sha1', 'copy[n=a]')}.json`;
    rig.write({ [record]: '{' });
    const plan = await rig.run(['plan']);
    expect(plan.stdout).toContain('copy[n=a]  was interrupted while running in an earlier run');
    const result = await rig.run(['sim', '-v']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/start +copy +copy\[n=a\] +attempt 1: was interrupted while running in an earlier run/);
    expect(result.stdout).toContain('units      1 run (1 attempt), 1 built, 0 failed, 0 retried, 0 blocked, 0 fresh');
    expect(rig.read(record)).toBe('{');
  });
});

describe('sim with the config, --count and --concurrent', () => {
  it('are usage errors, as --rate is (they were silently ignored)', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': COPY, 'in/a.txt': 'a' });
    for (const flag of ['--count', '--concurrent']) {
      const result = await rig.run(['sim', flag, '50']);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`runcue sim: ${flag} applies to a --scenario`);
    }
  });
});

describe('sim --files outside the config directory', () => {
  it('is a usage error, as such a pattern in the config is (the files were silently added where no task reads)', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': COPY });
    for (const glob of ['/abs/*.txt=2', '../in/*.txt=2']) {
      const result = await rig.run(['sim', '--files', glob]);
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(
        `runcue sim: --files ${glob}: the glob is relative to the config directory (no leading / and no .. segment)\n`,
      );
    }
  });
});

describe('sim --files that no task reads', () => {
  it('says so (a typo in the glob added files silently to no effect)', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': COPY });
    const typo = await rig.run(['sim', '--files', 'inn/*.txt=3']);
    expect(typo.code).toBe(0);
    expect(typo.stderr).toBe('runcue sim: note: --files inn/*.txt=3: no pattern of any task matches these files\n');
    const right = await rig.run(['sim', '--files', 'in/*.txt=3']);
    expect(right.stderr).toBe('');
    expect(right.stdout).toContain('units      3 run (3 attempts), 3 built');
  });
});
