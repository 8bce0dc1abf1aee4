/**
 * What a run says about itself when it does not simply succeed: units stopped by Ctrl-C are
 * interrupted (not failed, their downstream not started rather than blocked), and a service's
 * push-back shows until when it pauses and is counted in the summary.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/runner/events.ts';
import { collect, parseEvents, Rig, waitFor } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

const CHAIN = `export default {
  tasks: {
    slow: { input: 'in/{n}.txt', output: 'mid/{n}.txt', run: 'echo started > started.txt; sleep 30; cp {input} {output}' },
    next: { input: 'mid/{n}.txt', output: 'out/{n}.txt', run: 'cp {input} {output}' },
  },
};`;

function events(stdout: string): RunEvent[] {
  return parseEvents(stdout) as RunEvent[];
}

/** Starts a build of CHAIN, interrupts it with SIGINT once `slow` runs, and returns its output. */
async function interruptedBuild(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  rig = new Rig();
  rig.write({ 'runcue.config.mjs': CHAIN, 'in/a.txt': 'a' });
  const child = rig.spawn(['build', ...args]);
  const done = collect(child);
  await waitFor(() => rig.exists('started.txt'), 20_000, 'the slow unit to start');
  child.kill('SIGINT');
  return done;
}

describe('Ctrl-C', () => {
  it('shows the running unit as interrupted and its downstream as not started', async () => {
    const result = await interruptedBuild([]);
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(/^■ slow\[n=a\] interrupted after \S+$/m);
    expect(result.stderr).not.toContain('✗');
    expect(result.stderr).not.toContain('⊘');
    expect(result.stderr).toMatch(
      /runcue: 0 built, 0 fresh, 0 failed, 0 blocked, 1 interrupted, 1 not started in \S+, interrupted by SIGINT$/m,
    );
  });

  it('--json: the unit:fail is aborted, counted as interrupted, and nothing is blocked', async () => {
    const result = await interruptedBuild(['--json']);
    expect(result.code).toBe(130);
    const all = events(result.stdout);
    expect(all.filter((e) => e.type === 'unit:fail')).toMatchObject([{ unit: 'slow[n=a]', error: { reason: 'aborted' } }]);
    expect(all.filter((e) => e.type === 'unit:blocked')).toEqual([]);
    expect(all.at(-1)).toMatchObject({
      type: 'run:done',
      ok: false,
      interrupted: 'SIGINT',
      notStarted: 1,
      counts: { built: 0, fresh: 0, failed: 0, blocked: 0, interrupted: 1 },
    });
  });
});

describe('push-back', () => {
  // The first attempt pushes back with Retry-After 1 (s); the second succeeds.
  const PUSH_BACK = `export default {
    services: { api: { rate: '100/s' } },
    tasks: {
      call: {
        uses: 'api',
        output: 'out.txt',
        run: 'if [ -e once ]; then echo ok > out.txt; else touch once; echo 1 > "$RUNCUE_RETRY_AFTER_FILE"; exit 75; fi',
      },
    },
  };`;

  it('says which service pauses until when, and counts push-backs in the summary', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': PUSH_BACK });
    const result = await rig.run(['build']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^↻ call pushed back by its service: api paused until \d\d:\d\d:\d\d \(1\.0s\)$/m);
    expect(result.stderr).toMatch(/runcue: 1 built, 0 fresh, 0 failed, 0 blocked in \S+, 1 push-back$/m);
  });

  it('--json: unit:retry names the paused services and run:done counts push-backs', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': PUSH_BACK });
    const result = await rig.run(['build', '--json']);
    expect(result.code).toBe(0);
    const all = events(result.stdout);
    expect(all.filter((e) => e.type === 'unit:retry')).toMatchObject([{ kind: 'push-back', delayMs: 1000, services: ['api'] }]);
    expect(all.at(-1)).toMatchObject({ type: 'run:done', ok: true, pushBacks: 1 });
  });
});

describe('output tails', () => {
  it('a failed unit that printed binary and escape sequences shows them escaped in the log', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        dump: { output: 'x.bin', run: "printf 'head\\\\033]0;title\\\\007\\\\033[2J\\\\001\\\\377\\\\376\\\\n\\\\033[31mred\\\\033[0m\\\\n'; exit 3" },
      } };`,
    });
    const result = await rig.run(['build']);
    expect(result.code).toBe(1);
    // eslint-disable-next-line no-control-regex
    expect(result.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(result.stderr).toContain('    head\\x1b]0;title\\x07\\x1b[2J\\x01\uFFFD\uFFFD\n    red\n');
  });
});
