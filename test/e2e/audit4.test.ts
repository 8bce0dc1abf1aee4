/** Fixes from the second part of the audit of the built CLI: each test failed on the code before its fix. */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, collect, PYTHON3, Rig, runsIn, waitFor } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

describe('the first Ctrl-C', () => {
  /**
   * Runs runcue under a child subreaper that reaps only runcue, as pid 1 of a container without
   * an init does: a stopped command's orphaned children stay zombies, which kill -0 still finds.
   */
  const UNDER_A_LAZY_REAPER = `import ctypes, os, signal, subprocess, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)
child = subprocess.Popen(sys.argv[1:])
signal.signal(signal.SIGINT, lambda *a: child.send_signal(signal.SIGINT))
_, status = os.waitpid(child.pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))`;

  it.each([['direct'], ['pool']])(
    'stops shell units without waiting for the kill grace when their orphans stay zombies (%s)',
    async (mode) => {
      rig = new Rig();
      rig.write({
        'runcue.config.mjs': `export default { killGrace: '5min', services: { cpu: { concurrent: 2 } }, tasks: {
          s: { input: 'in/{n}', output: 'out/{n}', run: 'echo partial > {output}; sleep 60' },
        } };`,
        'in/a': 'a',
        'in/b': 'b',
      });
      const child = spawn(PYTHON3, ['-c', UNDER_A_LAZY_REAPER, process.execPath, BIN, 'build'], {
        cwd: rig.dir,
        env: { PATH: process.env['PATH'], HOME: process.env['HOME'], CI: 'true', RUNCUE_SPAWN: mode },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const done = collect(child, 30_000);
      await waitFor(() => rig.exists('out/a') && rig.exists('out/b'), 20_000, 'both units to start');
      child.kill('SIGINT');
      const result = await done;
      expect(result.code).toBe(130);
      expect(rig.exists('out/a')).toBe(false);
      expect(rig.exists('out/b')).toBe(false);
    },
  );
});

describe('why', () => {
  const TWO = `export default { tasks: {
    c: { input: 'in/{n}', output: 'out/{n}', run: 'cp {input} {output}' },
    none: { input: 'missing/{n}', output: 'none/{n}', run: 'cp {input} {output}' },
  } };`;

  it.each([
    ['out/*', 2, '"out/*" matches 2 units; ask about one of them: c[n=a], c[n=b]'],
    ['c[n=*]', 2, '"c[n=*]" matches 2 units; ask about one of them: c[n=a], c[n=b]'],
    ['c[n=zz]', 2, '"c[n=zz]" matches no unit'],
    ['none', 2, '"none" is a task with no units'],
    ['nothing/here', 2, '"nothing/here" is neither a unit nor a file'],
  ])('%s: exit %i and a message that says what it selects', async (target, code, message) => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': TWO, 'in/a': 'a', 'in/b': 'b' });
    const result = await rig.run(['why', target]);
    expect(result.stderr).toContain(message);
    expect(result.code).toBe(code);
  });

  it.each([['out/a*'], ['c[n=a*]']])('%s: the story of the one unit it selects', async (target) => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': TWO, 'in/a': 'a', 'in/b': 'b' });
    const result = await rig.run(['why', target]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^c\[n=a\] {2}\(task c\)/);
  });
});

describe('names every JavaScript object has', () => {
  const named = (name: string): string => `export default { services: { ${name}: { concurrent: 1 } }, tasks: {
    ${name}: { uses: '${name}', input: 'in/{n}', output: 'out/{n}', run: 'cp {input} {output}' },
  } };`;

  it.each([['constructor'], ['prototype']])('a task and a service named %s are a config error (they vanished)', async (name) => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': named(name), 'in/a': 'a' });
    const result = await rig.run(['build']);
    expect(result.stderr).toContain(`runcue.config.mjs: tasks.${name}: "${name}" cannot be a name here`);
    expect(result.stderr).toContain(`runcue.config.mjs: services.${name}: "${name}" cannot be a name here`);
    expect(result.code).toBe(2);
  });

  it('a task named __proto__ in a JSON config is a config error', async () => {
    rig = new Rig();
    rig.write({
      // Written as text: `__proto__` in an object literal sets the prototype, and JSON.stringify omits it.
      'runcue.config.json': '{ "tasks": { "__proto__": { "input": "in/{n}", "output": "out/{n}", "run": "cp {input} {output}" } } }',
      'in/a': 'a',
    });
    const result = await rig.run(['build']);
    expect(result.stderr).toContain('runcue.config.json: tasks.__proto__: "__proto__" cannot be a name here');
    expect(result.code).toBe(2);
  });

  it('a wildcard named __proto__ is a config error (its units were named [object Object])', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: { t: { input: 'in/{__proto__}', output: 'out/{__proto__}', run: 'cp {input} {output}' } } };`,
      'in/a': 'a',
    });
    const result = await rig.run(['build']);
    expect(result.stderr).toContain('tasks.t.input: invalid pattern "in/{__proto__}": wildcard {__proto__}');
    expect(result.stderr).not.toContain('[object Object]');
    expect(result.code).toBe(2);
  });

  it('a task, service and wildcard named toString work', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { services: { toString: { concurrent: 1 } }, tasks: {
        toString: { uses: 'toString', input: 'in/{toString}', output: 'out/{toString}', run: 'cp {input} {output}' },
      } };`,
      'in/a': 'a',
    });
    const result = await rig.run(['build', 'toString[toString=a]']);
    expect(result.code).toBe(0);
    expect(rig.read('out/a')).toBe('a');
  });
});

describe('a directory output of a failed unit', () => {
  const SITE = (run: string, extra = ''): string => `export default { tasks: {
    site: { input: 'src.txt', output: 'site', run: ${JSON.stringify(run)}${extra} },
  } };`;

  it('is removed when the attempt created it, and the unit stays stale', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': SITE('mkdir -p site/sub && echo x > site/sub/page.html && exit 1'), 'src.txt': 'a' });
    const result = await rig.runJson(['build']);
    expect(result.code).toBe(1);
    expect(rig.exists('site')).toBe(false);
    expect(result.events.find((e) => e.type === 'unit:fail')?.['removed']).toEqual(['site']);
    const plan = await rig.run(['plan']);
    expect(plan.stderr + plan.stdout).toContain('1 to run');
  });

  it('is removed when the attempt changed it, as a changed file output is', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': SITE('echo changed > site/old.html; exit 1'), 'src.txt': 'a', 'site/old.html': 'old' });
    rig.age(['site/old.html', 'site'], -60_000);
    const result = await rig.run(['build']);
    expect(result.code).toBe(1);
    expect(rig.exists('site')).toBe(false);
    expect(rig.exists('src.txt')).toBe(true);
  });

  it('stays when the attempt did not touch it, or with keepFailedOutputs', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': SITE('exit 1'), 'src.txt': 'a', 'site/old.html': 'old' });
    rig.age(['site/old.html', 'site'], -60_000);
    expect((await rig.run(['build'])).code).toBe(1);
    expect(rig.read('site/old.html')).toBe('old');
    rig.write({ 'runcue.config.mjs': SITE('echo new > site/new.html; exit 1', ', keepFailedOutputs: true') });
    expect((await rig.run(['build'])).code).toBe(1);
    expect(rig.read('site/new.html')).toBe('new\n');
  });
});

describe('--cwd and --config', () => {
  it.each([
    [['build', '--cwd', 'in/a'], 'runcue: --cwd in/a: not a directory'],
    [['watch', '--cwd', 'in/a'], 'runcue: --cwd in/a: not a directory'],
    [['build', '--cwd', ''], 'runcue: --cwd: expected a directory, got an empty string'],
    [['build', '--config', ''], 'runcue: --config: expected a config file, got an empty string'],
    [['plan', '--config='], 'runcue: --config: expected a config file, got an empty string'],
    [['build', '--config', 'in'], 'runcue: --config in: a directory, not a config file'],
    [['build', '--config', 'missing.ts'], 'missing.ts: no such file'],
    [['init', '--cwd', 'in/a'], 'runcue init: --cwd in/a: not a directory'],
    [['init', '--cwd', ''], 'runcue init: --cwd: expected a directory, got an empty string'],
  ])('%j is a usage error (exit 2) that says what is wrong', async (args, message) => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: { c: { input: 'in/{n}', output: 'out/{n}', run: 'cp {input} {output}' } } };`,
      'in/a': 'a',
    });
    const result = await rig.run(args, { timeoutMs: 20_000 });
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toMatch(/internal error|EISDIR|\n\s+at /);
    expect(result.code).toBe(2);
    expect(rig.exists('out')).toBe(false);
  });
});

describe('file names with control characters in human output', () => {
  const FORGED = 'a\n✓ forged[n=z] 1ms\nb';
  const COLOURED = 'tab\there\x1b[31mred';
  const CONFIG = `export default { tasks: {
    c: { input: 'in/{n}', output: 'out/{n}', run: 'cp {input} {output}' },
    f: { input: 'in/{n}', output: 'bad/{n}', run: 'exit 1' },
  } };`;
  const forgedLine = (text: string): boolean => text.split('\n').some((line) => line.startsWith('✓ forged'));

  it('are escaped, so no name forges a line; JSON keeps them exact', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': CONFIG, [`in/${FORGED}`]: 'x', [`in/${COLOURED}`]: 'y' });
    for (const args of [['plan'], ['build', '--keep-going'], ['clean', '--dry-run'], ['why', `out/${FORGED}`]]) {
      const result = await rig.run(args);
      const text = result.stdout + result.stderr;
      expect(forgedLine(text), args.join(' ')).toBe(false);
      expect(text, args.join(' ')).not.toContain('\x1b[31m');
      expect(text, args.join(' ')).toContain('a\\n✓ forged[n=z] 1ms\\nb');
    }
    const json = await rig.runJson(['build', '--force', 'c']);
    expect(json.events.filter((e) => e.type === 'unit:done').map((e) => e.unit)).toContain(`c[n=${FORGED}]`);
    expect(rig.read(`out/${FORGED}`)).toBe('x');
  });
});

describe('temporary files of a failed or stopped command', () => {
  it('leaves no retry-after file in TMPDIR when the command wrote one and failed or timed out', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        failed: { output: 'a.txt', run: 'echo 30 > "$RUNCUE_RETRY_AFTER_FILE"; exit 1' },
        stopped: { output: 'b.txt', timeout: '1s', run: 'echo 30 > "$RUNCUE_RETRY_AFTER_FILE"; sleep 30' },
      } };`,
      'tmp/.keep': '',
    });
    const result = await rig.run(['build', '--keep-going'], { env: { TMPDIR: rig.path('tmp') } });
    expect(result.code).toBe(1);
    expect(readdirSync(rig.path('tmp')).filter((f) => f.startsWith('runcue-'))).toEqual([]);
  });
});

describe('a stopped or failed command whose child left its process group', () => {
  const ESCAPED = 'setsid sh -c "echo \\\\$\\\\$ > escaped.pid; sleep 2; echo late > late.txt" &';
  it.each([
    ['the timeout', 'direct', `timeout: '1s', run: '${ESCAPED} sleep 30'`, 'timed out'],
    ['the timeout', 'pool', `timeout: '1s', run: '${ESCAPED} sleep 30'`, 'timed out'],
    ['a plain failure', 'direct', `run: '${ESCAPED} sleep 0.5; exit 3'`, 'exit 3'],
    ['a plain failure', 'pool', `run: '${ESCAPED} sleep 0.5; exit 3'`, 'exit 3'],
  ])('cannot write the output after %s (%s)', async (_, mode, task, message) => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': `export default { killGrace: '1s', tasks: { t: { output: 'late.txt', ${task} } } };` });
    const result = await rig.run(['build'], { env: { RUNCUE_SPAWN: mode } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(message);
    const pid = Number(rig.read('escaped.pid'));
    await waitFor(() => !runsIn(rig.dir, pid), 20_000, 'the escaped child to end');
    expect(rig.exists('late.txt')).toBe(false);
  });
});
