/** Ctrl-C and SIGTERM: every child tree stopped, partial outputs removed, exit 130 / 143. */
import { afterEach, describe, expect, it } from 'vitest';
import { functionRunningSh } from '../rig/fixtures.ts';
import { collect, Rig, runsIn, spawnForced, waitFor } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

function project(): void {
  rig = new Rig();
  rig.write({
    'runcue.config.mjs': `export default {
      tasks: {
        slow: {
          input: 'in/{n}.txt',
          output: 'out/{n}.txt',
          // The shell records its own pid and its background child's, then waits: a tree of two.
          run: "echo partial > {output}; sleep 60 & echo $$ $! >> pids.txt; wait",
        },
      },
    };`,
    'in/a.txt': 'a',
    'in/b.txt': 'b',
  });
}

function pids(): number[] {
  return rig.exists('pids.txt') ? rig.read('pids.txt').trim().split(/\s+/).filter(Boolean).map(Number) : [];
}

describe.each([
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const)('%s', (signal, code) => {
  it(`stops every child tree, removes partial outputs and exits ${code}`, async () => {
    project();
    const child = rig.spawn(['build', '--jobs', '2']);
    const done = collect(child);
    await waitFor(() => pids().length === 4, 20_000, 'both units to start');
    child.kill(signal);
    const result = await done;
    expect(result.code).toBe(code);
    // A zombie has stopped: pid 1 of a container may reap the orphaned `sleep` late.
    for (const pid of pids()) expect(runsIn(rig.dir, pid)).toBe(false);
    expect(rig.exists('out/a.txt')).toBe(false);
    expect(rig.exists('out/b.txt')).toBe(false);
    expect(rig.exists('in/a.txt')).toBe(true);
  });
});

/**
 * A function task that runs a command with node:child_process and passes its signal on, which
 * stops `sh` alone: the background job sh started would go on and append to the output after
 * runcue removed it. `extra`: more keys of the task (a timeout).
 */
function functionWithCommand(extra = ''): void {
  rig = new Rig();
  rig.write({
    'runcue.config.mjs': functionRunningSh(
      `echo partial > "$1"; [ -e fast ] && exit 0; { while [ ! -e release ]; do sleep 0.05; done; echo late >> "$1"; } & echo $$ $! >> pids.txt; wait`,
      extra,
    ),
    'in/a.txt': 'a',
  });
  rig.age(['in/a.txt'], -60_000);
}

/** The pids of pids.txt still running (killed, so that none outlives the test). */
function stillRunning(): number[] {
  const left = pids().filter((pid) => runsIn(rig.dir, pid));
  for (const pid of left) process.kill(pid, 'SIGKILL');
  return left;
}

describe.skipIf(spawnForced())('Ctrl-C while a function task runs a command of its own', () => {
  it('stops what that command left in the background before removing the partial output: nothing writes it back', async () => {
    functionWithCommand();
    const child = rig.spawn(['build']);
    const done = collect(child);
    await waitFor(() => pids().length === 2 && rig.exists('out/a.txt'), 20_000, 'the unit to start its command');
    child.kill('SIGINT');
    const result = await done;
    expect(result.code).toBe(130);
    expect(stillRunning()).toEqual([]);
    expect(rig.exists('out/a.txt')).toBe(false);
  });
});

describe.skipIf(spawnForced())('a function task that times out while a command it started left a background job', () => {
  it('stops that job before removing the output, so the next build does not call a late write fresh', async () => {
    functionWithCommand(`\n          timeout: '2s',`);
    const result = await rig.run(['build']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('timed out');
    expect(pids()).toHaveLength(2);
    expect(stillRunning()).toEqual([]);
    expect(rig.exists('out/a.txt')).toBe(false);
    rig.write({ release: '', fast: '' });
    const again = await rig.run(['build']);
    expect(again.stderr).toContain('1 built');
  });
});
