/**
 * A command's background job may hold its stdout long after the command exited: the unit's
 * outcome is its direct child's, so runcue stops reading the pipes shortly after that child
 * exits, and stops the background job's group with the run.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { collect, Rig, runsIn, waitFor } from '../rig/index.ts';

let rig: Rig;
const strays: number[] = [];
afterEach(() => {
  for (const pid of strays.splice(0)) if (running(pid)) process.kill(pid, 'SIGKILL');
  rig.cleanup();
});

const running = (pid: number): boolean => runsIn(rig.dir, pid);

function project(run: string, extra = ''): void {
  rig = new Rig();
  rig.write({
    'runcue.config.mjs': `export default { tasks: { t: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: ${JSON.stringify(run)}${extra} } } };`,
    'in/a.txt': 'a',
  });
}

function pidIn(file: string): number | undefined {
  if (!rig.exists(file)) return undefined;
  const pid = Number(rig.read(file).trim());
  if (pid > 0 && !strays.includes(pid)) strays.push(pid);
  return pid > 0 ? pid : undefined;
}

describe('a background job holding stdout', () => {
  it('does not make a good unit time out: `sleep 15 & echo x > {output}` is built, and the sleep stopped with the run', async () => {
    project('sleep 15 & echo $! > bg.pid; echo x > {output}', ", timeout: '5s'");
    const result = await rig.run(['build'], { timeoutMs: 30_000 });
    expect(result.stderr).toContain('1 built');
    expect(result.code).toBe(0);
    expect(rig.read('out/a.txt')).toBe('x\n');
    const bg = pidIn('bg.pid') ?? 0;
    await waitFor(() => !running(bg), 10_000, 'the background sleep to be stopped with the run');
  });

  it('does not delay Ctrl-C: a `setsid` grandchild keeps the pipe, runcue exits 130 at once', async () => {
    project('setsid sleep 30 & echo $! > grand.pid; echo partial > {output}; sleep 60');
    const child = rig.spawn(['build']);
    const done = collect(child, 15_000);
    await waitFor(() => pidIn('grand.pid') !== undefined && rig.exists('out/a.txt'), 20_000, 'the unit to start');
    child.kill('SIGINT');
    const result = await done;
    expect(result.code).toBe(130);
    expect(rig.exists('out/a.txt')).toBe(false);
  });
});
