/**
 * Starting commands through the spawner pool's python3 helper (spawner.ts, pooled.ts) against
 * forking them directly: the same outcomes for hostile argv, env, cwd, exit codes, signals,
 * output, timeouts; a killed helper fails its units and stops their trees; a runcue killed
 * with SIGKILL leaves no process behind.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { ExecOptions } from '../../../../src/runner/execute/exec-end.ts';
import { execProcess } from '../../../../src/runner/execute/spawn.ts';
import { spawnerFor } from '../../../../src/runner/execute/spawner.ts';
import { createProcessGroups } from '../../../../src/runner/process-groups.ts';

const dir = mkdtempSync(join(tmpdir(), 'runcue-spawner-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function options(mode: 'pool' | 'direct' | 'auto', extra: Partial<ExecOptions> = {}): ExecOptions {
  return {
    cwd: dir,
    env: { PATH: process.env['PATH'] },
    signal: new AbortController().signal,
    timeoutMs: undefined,
    killGraceMs: 300,
    spawn: mode,
    ...extra,
  };
}

const HOSTILE = ['a b', "it's", '"q"', '$(touch pwned)', '`x`', '-n', 'new\nline', '*', 'ünï', ''];

/** Whether a process with this pid is alive and not a zombie. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

describe.each(['pool', 'direct'] as const)('execProcess, %s', (mode) => {
  it('passes hostile argv exactly, without a shell', async () => {
    const out = join(dir, `argv-${mode}.json`);
    const script = `require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.argv.slice(1)))`;
    const outcome = await execProcess([process.execPath, '-e', script, ...HOSTILE], options(mode));
    expect(outcome).toEqual({ ok: true, outputTail: '' });
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(HOSTILE);
    expect(readdirSync(dir)).not.toContain('pwned');
  });

  it('gives the env and the working directory, and nothing else of its own', async () => {
    const cwd = join(dir, `a dir '$(x)' ${mode}`);
    mkdirSync(cwd, { recursive: true });
    const env = { PATH: process.env['PATH'], ODD: 'x=y $(z)\n"q"', EMPTY: '', GONE: undefined };
    const outcome = await execProcess(['sh', '-c', 'pwd; printf "%s|" "$ODD" "${EMPTY-unset}" "${GONE-unset}" "${HOME-nohome}"'], {
      ...options(mode),
      cwd,
      env,
    });
    expect(outcome).toEqual({ ok: true, outputTail: `${cwd}\nx=y $(z)\n"q"||unset|nohome|` });
  });

  it('each command gets exactly its own env, whatever the one before had (the pool sends only changes)', async () => {
    const show = ['sh', '-c', 'printf "%s|" "${A-unset}" "${B-unset}" "${C-unset}"'];
    const path = process.env['PATH'];
    const envs = [
      { PATH: path, A: '1', B: 'b=1' },
      { PATH: path, A: '1', C: 'c' },
      { PATH: path, B: '', C: 'c' },
      { PATH: path },
      { PATH: path, A: '1', B: 'b=1' },
    ];
    const tails: string[] = [];
    for (const env of envs) tails.push((await execProcess(show, { ...options(mode), env })).outputTail);
    expect(tails).toEqual(['1|b=1|unset|', '1|unset|c|', 'unset||c|', 'unset|unset|unset|', '1|b=1|unset|']);
    // Several at once, each with its own.
    const together = await Promise.all(envs.map((env) => execProcess(show, { ...options(mode), env })));
    expect(together.map((o) => o.outputTail)).toEqual(tails);
  });

  it("a background job that outlives its command keeps the group known; a failed command's is stopped at once", async () => {
    const groups = createProcessGroups({ graceMs: 300 });
    const pidOf = async (name: string, script: string): Promise<{ ok: boolean; pid: number }> => {
      const file = join(dir, `${name}-${mode}.pid`);
      const outcome = await execProcess(['sh', '-c', `sleep 30 & echo $! > '${file}'; ${script}`], { ...options(mode), groups });
      return { ok: outcome.ok, pid: Number(readFileSync(file, 'utf8')) };
    };
    const failed = await pidOf('failed', 'exit 3');
    expect(failed.ok).toBe(false);
    expect(running(failed.pid)).toBe(false);
    const lingering = await pidOf('lingering', 'exit 0');
    expect(lingering.ok).toBe(true);
    expect(running(lingering.pid)).toBe(true);
    groups.killAll('SIGKILL');
    expect(await until(() => !running(lingering.pid), 5000)).toBe(true);
    groups.close();
  });

  it('reports exit codes, signals and a missing command as forking directly does', async () => {
    const failed = await execProcess(['sh', '-c', 'echo to-out; echo to-err >&2; exit 75'], options(mode));
    expect(failed).toEqual({
      ok: false,
      failure: { reason: 'exit-non-zero', exitCode: 75, message: 'exit code 75' },
      outputTail: 'to-out\nto-err',
    });
    const killed = await execProcess(['sh', '-c', 'kill -USR1 $$'], options(mode));
    expect(killed.ok ? undefined : killed.failure).toMatchObject({ reason: 'signal', signal: 'SIGUSR1' });
    const missing = await execProcess(['no-such-command-here', 'x'], options(mode));
    expect(missing.ok ? undefined : missing.failure).toEqual({ reason: 'spawn-error', message: 'no-such-command-here: command not found' });
  });

  it('runs an executable script without a #! line with sh, as execvp does', async () => {
    const script = join(dir, `plain-${mode}.sh`);
    writeFileSync(script, 'echo "plain $1"\n', { mode: 0o755 });
    expect(await execProcess([script, 'x y'], options(mode))).toEqual({ ok: true, outputTail: 'plain x y' });
  });

  it('keeps the tail of a long output', async () => {
    const outcome = await execProcess(['sh', '-c', 'i=0; while [ $i -lt 3000 ]; do echo line $i; i=$((i+1)); done; exit 1'], options(mode));
    expect(outcome.outputTail.split('\n')).toHaveLength(40);
    expect(outcome.outputTail.endsWith('line 2999')).toBe(true);
  });

  it('a timeout stops the whole tree, also a member that ignores SIGTERM', async () => {
    const pidFile = join(dir, `tree-${mode}.pid`);
    const started = Date.now();
    const outcome = await execProcess(
      ['sh', '-c', `(trap '' TERM; sleep 30) & echo $! > '${pidFile}'; sleep 30`],
      options(mode, { timeoutMs: 500 }),
    );
    expect(outcome.ok ? undefined : outcome.failure.reason).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(await until(() => !running(Number(readFileSync(pidFile, 'utf8'))), 5000)).toBe(true);
  });

  it('an abort before the pid is known still stops the command', async () => {
    const controller = new AbortController();
    const pending = execProcess(['sleep', '30'], options(mode, { signal: controller.signal }));
    controller.abort();
    const outcome = await pending;
    expect(outcome.ok ? undefined : outcome.failure.reason).toBe('aborted');
  });
});

describe('the helper', () => {
  it('auto: forks directly until the helper is up, then starts commands through it', async () => {
    const parentOf = async (): Promise<number> => Number((await execProcess(['sh', '-c', 'echo $PPID'], options('auto'))).outputTail);
    const first = await parentOf();
    expect([process.pid, helperPid()]).toContain(first);
    const env = { PATH: process.env['PATH'] };
    expect(await until(() => spawnerFor('auto', { graceMs: 300, tmp: tmpdir(), env }) !== undefined, 10_000)).toBe(true);
    expect(await parentOf()).toBe(helperPid());
    expect(spawnerFor('direct', { graceMs: 300, tmp: tmpdir(), env })).toBeUndefined();
  });

  it('auto: the first three commands of a process are forked without starting the helper; the fourth starts it', async () => {
    // A fresh module: this file's other tests have started its helper already.
    vi.resetModules();
    const fresh = await import('../../../../src/runner/execute/spawn.ts');
    const helpers = helperPids().length;
    for (let i = 0; i < 3; i++) {
      const outcome = await fresh.execProcess(['sh', '-c', 'echo $PPID'], options('auto'));
      expect(Number(outcome.outputTail)).toBe(process.pid);
      expect(helperPids()).toHaveLength(helpers);
    }
    await fresh.execProcess(['true'], options('auto'));
    expect(helperPids()).toHaveLength(helpers + 1);
  });

  it('killed while a unit runs: the unit fails clearly, its tree is stopped, the next unit runs', async () => {
    const pidFile = join(dir, 'lost.pid');
    const pending = execProcess(['sh', '-c', `sleep 30 & echo $! > '${pidFile}'; wait`], options('pool'));
    expect(await until(() => readFileSafe(pidFile) !== '', 10_000)).toBe(true);
    const helper = helperPid();
    expect(helper).toBeDefined();
    process.kill(helper ?? 0, 'SIGKILL');
    const outcome = await pending;
    expect(outcome.ok ? undefined : outcome.failure).toMatchObject({ reason: 'spawn-error', message: expect.stringContaining('helper') });
    // It had started: the message says it was stopped, not that it could not start.
    expect(outcome.ok ? '' : outcome.failure.message).toMatch(/^sh was stopped while running: its spawner helper/);
    expect(await until(() => !running(Number(readFileSafe(pidFile))), 5000)).toBe(true);
    expect(await execProcess(['true'], options('pool'))).toEqual({ ok: true, outputTail: '' });
  });

  it('exits and stops every group it started when its parent is killed with SIGKILL', async () => {
    const pidFile = join(dir, 'orphan.pid');
    const script = `
      import { execProcess } from ${JSON.stringify(new URL('../../../../src/runner/execute/spawn.ts', import.meta.url).pathname)};
      void execProcess(['sh', '-c', "(trap '' TERM; sleep 60) & echo $! > '${pidFile}'; sleep 60"], {
        cwd: ${JSON.stringify(dir)}, env: { PATH: process.env.PATH }, signal: new AbortController().signal,
        timeoutMs: undefined, killGraceMs: 300, spawn: 'pool' });
      setInterval(() => {}, 1000);`;
    writeFileSync(join(dir, 'parent.mts'), script);
    const parent = spawn(process.execPath, [join(dir, 'parent.mts')], { stdio: 'ignore' });
    expect(await until(() => readFileSafe(pidFile) !== '', 20_000)).toBe(true);
    const grandchild = Number(readFileSafe(pidFile));
    expect(running(grandchild)).toBe(true);
    parent.kill('SIGKILL');
    expect(await until(() => !running(grandchild), 10_000)).toBe(true);
  });
});

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

/** This process's spawner helper: its python3 child started with the helper's source. */
function helperPid(): number | undefined {
  spawnerFor('pool', { graceMs: 300, tmp: tmpdir(), env: { PATH: process.env['PATH'] } });
  return helperPids()[0];
}

/** Every python3 child of this process started with the helper's source. */
function helperPids(): number[] {
  return readdirSync('/proc').flatMap((name) => {
    if (!/^\d+$/.test(name)) return [];
    const stat = readFileSafe(`/proc/${name}/stat`);
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return ppid === process.pid && running(Number(name)) && readFileSafe(`/proc/${name}/cmdline`).includes('posix_spawn')
      ? [Number(name)]
      : [];
  });
}
