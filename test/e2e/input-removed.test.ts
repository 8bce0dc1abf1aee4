/**
 * An input deleted after its unit was checked and before (or while) it ran: the command fails
 * (`cp: cannot stat`), and the failure says why: the input was removed. Not retried: another
 * attempt would fail alike.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Rig } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

// `first` starts before t's units (priority, one slot) and deletes in/a.txt once they are queued.
const CONFIG = `export default {
  services: { one: { concurrent: 1 } },
  tasks: {
    first: { uses: 'one', priority: 1, input: 'x.txt', output: 'x.out', run: 'cp x.txt x.out && rm in/a.txt' },
    t: { uses: 'one', input: 'in/{n}.txt', output: 'out/{n}.txt', run: 'cp {input} {output}', retries: 2, backoff: '10ms' },
  },
};`;

describe('an input removed between queueing and start', () => {
  it('fails the unit with a message that names the removed input, without retrying it', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': CONFIG, 'x.txt': 'x', 'in/a.txt': 'a', 'in/b.txt': 'b' });
    const result = await rig.runJson(['build', '--keep-going']);
    expect(result.code).toBe(1);
    const fail = result.events.find((e) => e.type === 'unit:fail') as { unit?: string; error?: Record<string, unknown> } | undefined;
    expect(fail?.unit).toBe('t[n=a]');
    expect(fail?.error).toEqual({
      reason: 'input-removed',
      inputs: ['in/a.txt'],
      exitCode: 1,
      message: 'input in/a.txt was removed before or while the unit ran (then: exit code 1)',
    });
    expect(result.events.filter((e) => e.type === 'unit:retry')).toEqual([]);
    expect(rig.read('out/b.txt')).toBe('b');
  });

  it('says so in the human report', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': CONFIG, 'x.txt': 'x', 'in/a.txt': 'a', 'in/b.txt': 'b' });
    const result = await rig.run(['build', '--keep-going']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/t\[n=a\] input in\/a\.txt was removed before or while the unit ran \(then: exit code 1\)/);
    expect(result.stderr).toContain('cannot stat');
  });
});
