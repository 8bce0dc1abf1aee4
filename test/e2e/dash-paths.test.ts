/**
 * A path placeholder whose value starts with `-` must not reach the command as an option: a
 * relative path is given as `./-n.txt` (the same file) in shell strings, commands run without a
 * shell, argv arrays and `{inputs_file}` lists. A wildcard's value is not a path and is given as
 * it is; a function task gets the paths unchanged.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Rig } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

describe('a path that starts with -', () => {
  it('is a file, not an option, in every command form; a wildcard and a function get it as it is', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `import { writeFileSync } from 'node:fs';
      export default { tasks: {
        shell: { input: '{n}.txt', output: 'shell/{n}.txt', run: 'cat {input} > {output}' },
        direct: { input: '{n}.txt', output: '{n}.copy', run: 'cp {input} {output}' },
        argv: { input: '{n}.txt', output: 'argv/{n}.txt', run: ['cp', '{input}', '{output}'] },
        fanin: { input: '*.txt', output: 'all.out', run: ['sh', '-c', 'cat "$@" > all.out', 'sh', '{inputs}'] },
        list: { input: '*.txt', output: 'list.out', run: 'xargs cat < {inputs_file} > {output}' },
        wildcard: { input: '{n}.txt', output: 'wild/{n}.txt', run: "printf '%s' {n} > {output}" },
        fn: { input: '{n}.txt', output: 'fn/{n}.txt', run: ({ input, output }) => writeFileSync(output, input) },
      } };`,
      '-n.txt': 'dash\n',
      'b.txt': 'b\n',
    });
    const result = await rig.run(['build']);
    expect(result.code, result.stderr).toBe(0);
    expect(rig.read('shell/-n.txt')).toBe('dash\n');
    expect(rig.read('-n.copy')).toBe('dash\n');
    expect(rig.read('argv/-n.txt')).toBe('dash\n');
    expect(rig.read('all.out')).toBe('dash\nb\n');
    expect(rig.read('list.out')).toBe('dash\nb\n');
    expect(rig.read('wild/-n.txt')).toBe('-n');
    expect(rig.read('fn/-n.txt')).toBe('-n.txt');
  });

  it('shows as ./-n.txt in the command a failure prints', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: { t: { input: '{n}.txt', output: 'out/{n}.txt', run: 'cat {input} > {output} && exit 3' } } };`,
      '-n.txt': 'dash\n',
    });
    const result = await rig.run(['build']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cat ./-n.txt > out/-n.txt && exit 3');
  });
});
