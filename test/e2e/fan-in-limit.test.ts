/** Fan-ins over the OS argument limit fail clearly; `{inputs_file}` lists the inputs instead. */
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { Rig } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

const tempLists = (): string[] => readdirSync(tmpdir()).filter((f) => f.startsWith('runcue-inputs-'));

describe('command lines over the OS limit', () => {
  it('fail the unit with a message naming E2BIG and {inputs_file}, not a crash', async () => {
    rig = new Rig();
    // 24 variables of 100 kB: arguments and environment together are over Linux's 2 MB limit.
    rig.write({
      'runcue.config.mjs': `const env = Object.fromEntries(Array.from({ length: 24 }, (_, i) => ['BIG' + i, 'x'.repeat(100000)]));
export default { tasks: {
  all: { input: 'in/*.txt', output: 'all.txt', run: 'cat {inputs} > {output}', env },
  argv: { input: 'in/*.txt', output: 'argv.txt', run: ['cat', '{inputs}'], env },
} };`,
      'in/a.txt': 'a',
    });
    const result = await rig.run(['build', '--keep-going']);
    expect(result.code).toBe(1);
    expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(result.stderr).toContain("could not start sh: its arguments and environment are over the operating system's limit (E2BIG)");
    expect(result.stderr).toContain('use the argv form of run, or pass the list as a file with {inputs_file}');
    expect(result.stderr).toContain(
      "could not start cat: its arguments and environment are over the operating system's limit (E2BIG): too many or too long paths for one command line; pass the list as a file with {inputs_file}",
    );
  });
});

describe('{inputs_file}', () => {
  it('names a temporary file listing the inputs one per line, removed after the unit', async () => {
    rig = new Rig();
    const names = ["it's", '$(touch PWNED)', 'sp ace', 'b'];
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
  shell: { input: 'in/*.txt', output: 'shell.txt', run: 'cp {inputs_file} {output} && while IFS= read -r f; do cat "$f"; done < {inputs_file} >> {output}' },
  argv: { input: 'in/*.txt', output: 'argv.txt', run: ['cp', '{inputs_file}', '{output}'] },
} };`,
      ...Object.fromEntries(names.map((n) => [`in/${n}.txt`, `<${n}>`])),
    });
    const before = tempLists();
    const result = await rig.run(['build']);
    expect(result.code).toBe(0);
    const listed = rig.read('argv.txt');
    expect(listed.endsWith('\n')).toBe(true);
    expect(listed.split('\n').slice(0, -1).sort()).toEqual(names.map((n) => `in/${n}.txt`).sort());
    for (const n of names) expect(rig.read('shell.txt')).toContain(`<${n}>`);
    expect(existsSync(rig.path('PWNED'))).toBe(false);
    expect(tempLists().filter((f) => !before.includes(f))).toEqual([]);
  });

  it('fails a unit whose input name has a newline, naming it', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: { t: { input: 'in/*', output: 'o.txt', run: 'cp {inputs_file} {output}' } } };`,
      'in/new\nline': 'x',
    });
    const result = await rig.run(['build']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('{inputs_file} lists one path per line, and "in/new\\nline" contains a newline');
  });
});
