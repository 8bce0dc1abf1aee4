/**
 * Hostile names through the placeholder forms hostile-names.test.ts does not take: a wildcard's
 * value in every shell position, argv arrays (whole and inside an element), named inputs and
 * outputs, a here-document, a fan-in, and function tasks. Each value arrives as it is, once.
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
  "q'; touch PWNED; '",
  'new\nline',
  '-n',
  '*',
  'sp  ace',
  'é 日本',
  '$HOME',
  'back\\slash',
  '{input}',
  'EOF',
];

/** Task -> [run, what its output holds for a name]. Each writes `<task>/<name>`. */
const FORMS: Record<string, [string | string[], (name: string) => string]> = {
  wbare: ["printf '%s' {n} > {output}", (n) => n],
  wdq: ['printf "%s" "{n}" > "{output}"', (n) => n],
  wsq: ["printf '%s' '{wildcards.n}' > '{output}'", (n) => n],
  wsub: ['printf "%s" "$(printf "%s" {n})" > {output}', (n) => n],
  wshc: [`sh -c 'printf "%s" {n} > {output}'`, (n) => n],
  heredoc: ['cat > {output} <<EOF\n{n}\nEOF', (n) => `${n}\n`],
  argv: [['cp', '{input}', '{output}'], (n) => `content of ${n}`],
  argvw: [['sh', '-c', 'printf "%s" "$1" > "$2"', 'sh', 'x{n}x', '{output}'], (n) => `x${n}x`],
};

function config(): string {
  const tasks = Object.entries(FORMS).map(
    ([task, [run]]) => `${task}: { input: 'in/{n}', output: '${task}/{n}', run: ${JSON.stringify(run)} },`,
  );
  return `import { readFileSync, writeFileSync } from 'node:fs';
  export default { tasks: {
    ${tasks.join('\n    ')}
    rec: { input: { src: 'in/{n}' }, output: { dst: 'rec/{n}' }, run: 'cat {input.src} > {output.dst}' },
    fn: { input: 'in/{n}', output: 'fn/{n}', run: ({ input, output, wildcards }) => writeFileSync(output, readFileSync(input, 'utf8') + '|' + wildcards.n) },
    fanin: { input: 'in/*', output: 'fanin.out', run: ['sh', '-c', 'for f in "$@"; do cat "$f"; echo; done > fanin.out', 'sh', '{inputs}'] },
  } };`;
}

describe('hostile names through every placeholder form', () => {
  it('arrive as they are, and run nothing', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': config() });
    for (const name of NAMES) rig.write({ [`in/${name}`]: `content of ${name}` });
    const result = await rig.run(['build']);
    expect(result.code, result.stderr.slice(-3000)).toBe(0);
    for (const name of NAMES) {
      for (const [task, [, expected]] of Object.entries(FORMS)) {
        expect({ task, name, content: rig.read(`${task}/${name}`) }).toEqual({ task, name, content: expected(name) });
      }
      expect(rig.read(`rec/${name}`)).toBe(`content of ${name}`);
      expect(rig.read(`fn/${name}`)).toBe(`content of ${name}|${name}`);
    }
    const fanin = rig.read('fanin.out');
    for (const name of NAMES) expect(fanin).toContain(`content of ${name}\n`);
    expect(readdirSync(rig.dir).filter((f) => f.includes('PWNED'))).toEqual([]);
  });
});
