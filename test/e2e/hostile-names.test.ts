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
});
