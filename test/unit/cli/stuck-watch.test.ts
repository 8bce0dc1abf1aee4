/**
 * The stuck watch (src/cli/stuck-watch.ts) ends the process when a user's code holds the thread
 * past an armed deadline, and never when runcue's own code does (a long planning pass). Each
 * case runs in a child process, since the watch ends its process with SIGKILL.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** After `prepare`, arms a deadline already past, then holds the thread for `holdMs` with `hold`. */
function holdWith(
  holdMs: number,
  hold: string,
  prepare = '',
): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const script = `
    import { createStuckWatch } from ${JSON.stringify(`${ROOT}src/cli/stuck-watch.ts`)};
    import { inputSignature } from ${JSON.stringify(`${ROOT}src/runner/staleness.ts`)};
    ${prepare}
    const watch = createStuckWatch();
    watch.arm('t', 'function', 10, Date.now() - 1);
    const until = Date.now() + ${holdMs};
    ${hold}
    console.log('survived');
    await watch.dispose();
  `;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, signal: run.signal, stdout: run.stdout, stderr: run.stderr };
}

describe('the stuck watch', () => {
  it("ends the process when the user's code holds the thread past the deadline", () => {
    // Ended within about 1.5 s; the hold is long so that a loaded machine cannot outlast it.
    const run = holdWith(10_000, 'while (Date.now() < until) {}');
    expect(run.signal).toBe('SIGKILL');
    expect(run.stdout).not.toContain('survived');
    expect(run.stderr).toContain('runcue: t: its function has held the JavaScript thread for');
  });

  it("leaves runcue's own code alone however long it holds the thread", () => {
    // Sorting a big map's entries with runcue's comparator: the thread is held in src/runner.
    const run = holdWith(
      3000,
      'while (Date.now() < until) inputSignature(inputs);',
      `const inputs = new Map();
      for (let i = 0; i < 400_000; i++) inputs.set(String((i * 7919) % 400_000).padStart(7, '0'), { mtimeMs: i, size: i });`,
    );
    expect(run.stderr).toBe('');
    expect(run.signal).toBe(null);
    expect(run.stdout).toContain('survived');
  });
});
