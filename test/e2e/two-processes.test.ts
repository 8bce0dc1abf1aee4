/**
 * Two runcue processes on one project (watch in one terminal, build in another): a unit runs in
 * one of them only, and the other never calls its half-written output fresh. The in-flight
 * record is the unit's lock; the second process waits for it and checks the unit again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { collect, Rig, waitFor } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

/** Each unit logs that it started, then holds until the file `go-<n>` exists. */
function project(): void {
  rig = new Rig();
  rig.write({
    'runcue.config.mjs': `export default {
      tasks: {
        slow: {
          input: 'in/{n}.txt',
          output: 'out/{n}.txt',
          run: 'echo {n} >> runs.log; echo partial > {output}; while [ ! -e go-{n} ]; do sleep 0.05; done; echo complete > {output}',
        },
      },
    };`,
    'in/a.txt': 'a',
    'in/b.txt': 'b',
  });
  rig.age(['in/a.txt', 'in/b.txt'], -60_000);
}

function runs(): string[] {
  return rig.exists('runs.log') ? rig.read('runs.log').trim().split('\n').filter(Boolean).sort() : [];
}

describe('two runcue builds at once', () => {
  it('run each unit once: the second waits for the unit the first is running, then finds it fresh', async () => {
    project();
    const first = rig.spawn(['build', '--jobs', '1']);
    const firstDone = collect(first);
    await waitFor(() => runs().length === 1, 20_000, 'the first build to start a unit');
    const second = rig.spawn(['build', '--jobs', '1']);
    let secondErr = '';
    second.stderr?.on('data', (c: Buffer) => (secondErr += c.toString()));
    const secondDone = collect(second);
    await waitFor(
      () => secondErr.includes('runs in another runcue process') && runs().length === 2,
      20_000,
      'the second build to wait and run the other unit',
    );
    // The second finishes b while the first still runs a and has b queued, found stale earlier.
    rig.write({ 'go-b': '' });
    await waitFor(() => rig.exists('out/b.txt') && rig.read('out/b.txt') === 'complete\n', 20_000, 'the second build to finish b');
    rig.write({ 'go-a': '' });
    const [a, b] = await Promise.all([firstDone, secondDone]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(runs()).toEqual(['a', 'b']);
    expect(rig.read('out/a.txt')).toBe('complete\n');
    expect(rig.read('out/b.txt')).toBe('complete\n');
    expect(a.stderr).toContain('1 built, 1 fresh');
    expect(b.stderr).toContain('1 built, 1 fresh');
  });
});

describe('watch in one terminal, build in another', () => {
  it('build waits for the units watch is running and finds them fresh', async () => {
    project();
    const watch = rig.spawn(['watch']);
    const watchDone = collect(watch);
    try {
      await waitFor(() => runs().length === 2, 20_000, 'watch to start both units');
      const build = rig.spawn(['build']);
      let buildErr = '';
      build.stderr?.on('data', (c: Buffer) => (buildErr += c.toString()));
      const buildDone = collect(build);
      await waitFor(() => buildErr.includes('runs in another runcue process'), 20_000, 'build to wait for watch');
      rig.write({ 'go-a': '', 'go-b': '' });
      const result = await buildDone;
      expect(result.code).toBe(0);
      expect(result.stderr).toContain('0 built, 2 fresh');
      expect(runs()).toEqual(['a', 'b']);
      expect(rig.read('out/a.txt')).toBe('complete\n');
    } finally {
      watch.kill('SIGINT');
      await watchDone;
    }
  });
});
