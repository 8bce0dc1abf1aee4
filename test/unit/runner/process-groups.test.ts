/**
 * The watchdog of a run's process groups, driven by a real process that dies by SIGKILL. The gap
 * it covers cannot be hit reliably through the CLI: a command that runs before runcue has told
 * the watchdog of it (here: never told at all).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, collect, REPO, waitFor } from '../../rig/index.ts';

const started: number[] = [];
afterEach(() => {
  for (const pid of started.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

/**
 * A node process that starts the watchdog and a `sleep` command in its own group, tells the
 * watchdog of it only if `register`, prints `watchdog command` pids and waits to be killed.
 */
function owner(register: boolean) {
  return ownerProcess(`
    process.env.RUNCUE_RUN = 'outer-run';
    const groups = createProcessGroups({ graceMs: 5000 });
    const watchdog = groups.prepare();
    const command = spawn('sleep', ['60'], { detached: true, stdio: 'ignore', env: { ...process.env, ...groups.environment } });
    if (${register}) groups.add(command.pid);
  `);
}

/**
 * A Node process that runs `setup` (which defines `watchdog` and `command`), prints their pids
 * and stays alive until killed.
 */
function ownerProcess(setup: string) {
  const script = `
    import { spawn } from 'node:child_process';
    import { createProcessGroups } from ${JSON.stringify(join(REPO, 'src/runner/process-groups.ts'))};
    ${setup}
    console.log(watchdog.pid, command.pid);
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  return { child, pids: () => out.trim().split(/\s+/).filter(Boolean).map(Number) };
}

type Owner = ReturnType<typeof ownerProcess>;

/** The pids the owner printed once it is up (killed after the test if still running). */
async function ownerStarted({ pids }: Owner): Promise<{ watchdog: number; command: number }> {
  await waitFor(() => pids().length === 2, 20_000, 'the owner to start');
  const [watchdog = 0, command = 0] = pids();
  started.push(watchdog, command);
  return { watchdog, command };
}

/** Kills the owner with SIGKILL, as a kill -9 of runcue, and waits until it is gone. */
async function killOwner({ child }: Owner): Promise<void> {
  const done = collect(child);
  child.kill('SIGKILL');
  await done;
}

describe('the watchdog', () => {
  for (const register of [true, false]) {
    it(`stops a command ${register ? 'it was told of' : 'started but not yet registered'} when its owner is killed with SIGKILL`, async () => {
      const run = owner(register);
      const { watchdog, command } = await ownerStarted(run);
      // A nested runcue inherits the outer run's marker; its own watchdog must not carry it.
      expect(readFileSync(`/proc/${watchdog}/environ`, 'utf8').split('\0')).not.toContain('RUNCUE_RUN=outer-run');
      expect(
        readFileSync(`/proc/${command}/environ`, 'utf8')
          .split('\0')
          .filter((v) => v.startsWith('RUNCUE_RUN=')),
      ).toHaveLength(1);
      expect(alive(command)).toBe(true);
      await killOwner(run);
      await waitFor(() => !alive(command) || zombie(command), 30_000, 'the command to be stopped');
      await waitFor(() => !alive(watchdog) || zombie(watchdog), 30_000, 'the watchdog to exit');
    });
  }

  it('looks again once all seems gone: a command that starts a marked job in a session of its own on SIGTERM does not escape', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runcue-watchdog-'));
    const pidFile = join(dir, 'escapee');
    // On SIGTERM the command starts a job in a session of its own, carrying the marker, and exits:
    // its group is empty at once, and the job was not there when the watchdog first looked.
    const script = `trap 'setsid sleep 60 & echo $! > "$0"; exit 0' TERM; while :; do sleep 0.1; done`;
    const run = ownerProcess(`
      const groups = createProcessGroups({ graceMs: 20000 });
      const watchdog = groups.prepare();
      const command = spawn('sh', ['-c', ${JSON.stringify(script)}, ${JSON.stringify(pidFile)}], { detached: true, stdio: 'ignore', env: { ...process.env, ...groups.environment } });
      groups.add(command.pid);
    `);
    try {
      const { watchdog } = await ownerStarted(run);
      await killOwner(run);
      await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 30_000, 'the command to start its job');
      const escapee = Number(readFileSync(pidFile, 'utf8').trim());
      started.push(escapee);
      await waitFor(() => !alive(escapee) || zombie(escapee), 30_000, 'the job to be stopped');
      await waitFor(() => !alive(watchdog) || zombie(watchdog), 30_000, 'the watchdog to exit');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes over the quiet groups of a spawner helper that died, and stops them when its owner is killed with SIGKILL', async () => {
    // Without the run's marker: only the handover can tell the watchdog of it.
    const run = quietOwner(`groups.add(command.pid, true); groups.handOver();`, 500);
    const { command } = await ownerStarted(run);
    await killOwner(run);
    await waitFor(() => !alive(command) || zombie(command), 30_000, 'the command to be stopped');
  });

  it('a quiet group that ignores SIGTERM at the end of the run gets SIGKILL from the watchdog', async () => {
    const run = quietOwner(`groups.add(command.pid, true); setTimeout(() => groups.close(), 300);`, 300);
    const { command } = await ownerStarted(run);
    started.push(run.child.pid ?? 0);
    await waitFor(() => !alive(command) || zombie(command), 30_000, 'the command to be stopped');
    run.child.kill('SIGKILL');
  });
});

/** Like {@link owner}, for a command that ignores SIGTERM, has no marker, and is added by `add`. */
function quietOwner(add: string, graceMs: number) {
  return ownerProcess(`
    const groups = createProcessGroups({ graceMs: ${graceMs} });
    const watchdog = groups.prepare();
    const command = spawn('sh', ['-c', "trap '' TERM; while :; do sleep 1; done"], { detached: true, stdio: 'ignore' });
    ${add}
  `);
}

function zombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}
