/** Usage mistakes get a clear message and the usage exit code, never an internal error. */
import { afterEach, describe, expect, it } from 'vitest';
import { Rig } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

const COPY = `export default { tasks: {
  c: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: 'cp {input} {output}' },
} };`;

describe('usage errors', () => {
  it('a filter with an empty glob is a usage error (exit 2), not a picomatch stack', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': COPY, 'in/a.txt': 'a' });
    const result = await rig.run(['build', 'c[n=]']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('c[n=]: "n=": an empty glob matches nothing');
    expect(result.stderr).not.toMatch(/internal error|picomatch|\n\s+at /);
  });

  it('timeout: 0 is a config error naming the key', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: { c: { output: 'o', run: 'touch o', timeout: 0 } } };`,
    });
    const result = await rig.run(['build']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('tasks.c.timeout: expected a duration above 0');
    expect(rig.exists('o')).toBe(false);
  });

  it('a task name with target syntax is a config error naming it', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': `export default { tasks: { 'x[y]': { output: 'o', run: 'touch o' } } };` });
    const result = await rig.run(['build']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('tasks["x[y]"]: task name "x[y]" cannot contain "["');
  });

  it('-k is --keep-going', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        bad: { output: 'bad.txt', run: 'exit 3', priority: 1 },
        good: { output: 'good.txt', run: 'touch good.txt' },
      } };`,
    });
    const result = await rig.run(['build', '-k', '-j', '1']);
    expect(result.code).toBe(1);
    expect(rig.exists('good.txt')).toBe(true);
  });

  it('an input function returning a path outside the project blocks its unit with the reason', async () => {
    rig = new Rig();
    rig.write({
      'proj/runcue.config.mjs': `export default { tasks: {
        c: { input: { doc: 'in/{n}.txt', cfg: ({ n }) => '../outside/' + n }, output: 'out/{n}.txt', run: 'cat {input.cfg} > {output}' },
      } };`,
      'proj/in/a.txt': 'a',
      'outside/a': 'secret',
    });
    const result = await rig.run(['build'], { cwd: 'proj' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('its function returned "../outside/a": ".." segments are not allowed');
    expect(rig.exists('proj/out/a.txt')).toBe(false);
  });

  it('an input function reading a wildcard the task does not have blocks its unit naming it, not waiting for cfg/undefined.json', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        c: { input: { doc: 'in/{n}.txt', cfg: ({ name }) => 'cfg/' + name + '.json' }, output: 'out/{n}.txt', run: 'cat {input.cfg} > {output}' },
      } };`,
      'in/a.txt': 'a',
      'cfg/undefined.json': 'never read',
    });
    const result = await rig.run(['build']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('its function read wildcard "name", which task c does not have (its wildcards: n)');
    expect(rig.exists('out/a.txt')).toBe(false);
  });
});
