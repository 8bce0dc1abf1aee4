/** Ctrl-C and SIGTERM: every child tree stopped, partial outputs removed, exit 130 / 143. */
import { afterEach, describe, expect, it } from 'vitest';
import { collect, Rig, runsIn, waitFor } from '../rig/index.ts';

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
