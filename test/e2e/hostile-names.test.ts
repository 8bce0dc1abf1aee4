/**
 * File names are data, never code (a name is never read as shell syntax): real files with hostile names, run through the
 * real binary, with the placeholder in every position a shell template can put it.
 */
import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Rig } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

const NAMES = [
  "it's",
  'a"b',
  '$(touch PWNED)',
  '`touch PWNED`',
  'semi;touch PWNED',
  "q'; touch PWNED; '",
  'new\nline',
  'tab\there',
  '-n',
  '*',
  '[ab]?',
  'sp  ace',
  'é 日本',
  '$HOME',
  'back\\slash',
];

/** Each position copies in/{n} to its own directory; one task runs them all, to keep units few. */
const POSITIONS: Record<string, string> = {
  bare: 'cat {input} > {output.bare}',
  dq: 'cat "{input}" > "{output.dq}"',
  sq: "cp '{input}' '{output.sq}'",
  sub: 'printf "%s" "$(cat {input})" > {output.sub}',
  subdq: 'printf "%s" "$(cat "{input}")" > "{output.subdq}"',
  backtick: 'printf "%s" "`cat {input}`" > {output.backtick}',
  shc: "sh -c 'cat {input} > {output.shc}'",
  shcdq: 'sh -c "cat {input} > {output.shcdq}"',
  mkdir: 'mkdir -p "$(dirname {output.mkdir})" && cat {input} > {output.mkdir}',
};

/** Where each position writes; `direct` and `quoted` have no shell syntax, so they run without sh. */
const OUTPUTS = (name: string): Record<string, string> => ({
  ...Object.fromEntries(Object.keys(POSITIONS).map((p) => [p, p === 'mkdir' ? `mkdir/${name}/x` : `${p}/${name}`])),
  direct: `direct/${name}`,
  quoted: `quoted/${name}`,
});

function config(): string {
  const outputs = JSON.stringify(OUTPUTS('{n}'));
  return `export default { tasks: {
    all: { input: 'in/{n}', output: ${outputs.replace(/,"direct".*}/, '}')}, run: ${JSON.stringify(Object.values(POSITIONS).join(' && '))} },
    direct: { input: 'in/{n}', output: 'direct/{n}', run: 'cp {input} {output}' },
    quoted: { input: 'in/{n}', output: 'quoted/{n}', run: \`cp '{input}' "{output}"\` },
  } };`;
}

describe('hostile file names', () => {
  it('reach every command as one literal word, and run nothing', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': config() });
    for (const name of NAMES) rig.write({ [`in/${name}`]: `content of ${name}` });
    const result = await rig.run(['build']);
    expect({ code: result.code, tail: result.code === 0 ? '' : result.stderr.slice(-3000) }).toEqual({ code: 0, tail: '' });
    for (const name of NAMES) {
      for (const [position, output] of Object.entries(OUTPUTS(name))) {
        const content = rig.exists(output) ? rig.read(output) : 'missing';
        expect({ position, name, content }).toEqual({ position, name, content: `content of ${name}` });
      }
    }
    expect(readdirSync(rig.dir).filter((f) => f.includes('PWNED'))).toEqual([]);
    // Everything built is fresh on the next run: the command text is stable.
    const again = await rig.run(['build', '--json']);
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain('"unit:start"');
  });

  it('a wildcard value with glob syntax is literal in a fan-in, a dynamic output and a glob input', async () => {
    rig = new Rig();
    // `c[1]` and `d*e` read as globs would also take the files of `c1` and `dXe`; `a(b)` and
    // `$(rm x)` read as picomatch groups would match nothing.
    const docs = ['a(b)', '$(rm x)', 'c[1]', 'c1', 'd*e', 'dXe', 'f{g,h}', '!z', '@(x)', 'back\\slash'];
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        sum: { input: 'w/{doc}/t/*.txt', output: 'o/{doc}.txt', run: 'cat {inputs} > {output}' },
        old: { input: 'data (old)/*.txt', output: 'old.txt', run: 'cat {inputs} > {output}' },
        split: { input: 'docs/{doc}.pdf', output: 'work/{doc}/pages/*.png', run: 'cp {input} work/{doc}/pages/p1.png && cp {input} work/{doc}/pages/p2.png' },
        page: { input: 'work/{doc}/pages/{page}.png', output: 'work/{doc}/text/{page}.txt', run: 'cp {input} {output}' },
        join: { input: 'work/{doc}/text/*.txt', output: 'out/{doc}.md', run: 'cat {inputs} > {output}' },
      } };`,
      'data (old)/1.txt': 'old\n',
    });
    for (const doc of docs) rig.write({ [`w/${doc}/t/1.txt`]: `${doc}-1\n`, [`w/${doc}/t/2.txt`]: `${doc}-2\n` });
    for (const doc of ['x(1)', '[y]']) rig.write({ [`docs/${doc}.pdf`]: `${doc}\n` });
    const result = await rig.run(['build']);
    expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ code: 0, stderr: '' });
    for (const doc of docs) expect(rig.read(`o/${doc}.txt`)).toBe(`${doc}-1\n${doc}-2\n`);
    expect(rig.read('old.txt')).toBe('old\n');
    for (const doc of ['x(1)', '[y]']) expect(rig.read(`out/${doc}.md`)).toBe(`${doc}\n${doc}\n`);
    // A change to `c1` touches only its own fan-in.
    rig.touch('w/c1/t/1.txt', 5_000);
    const plan = await rig.run(['plan', '--json']);
    expect(plan.code).toBe(0);
    const doc = JSON.parse(plan.stdout) as { units: { unit: string; verdict: string }[] };
    expect(doc.units.filter((u) => u.verdict === 'run').map((u) => u.unit)).toEqual(['sum[doc=c1]']);
  });
});
