import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkTemplate,
  compileTemplate,
  operand,
  renderArgv,
  templatePlaceholders,
  type TemplateValues,
} from '../../../src/patterns/template.ts';
import { renderShell, shellInvocation } from '../../../src/config/shell-template.ts';
import { PYTHON3 } from '../../rig/index.ts';

const values: TemplateValues = {
  inputs: { image: ['pages/a 1.png'], prompt: ['prompt.txt'] },
  outputs: { text: ['out/a 1.txt'], meta: ['out/a.json'] },
  wildcards: { page: 'a 1', doc: 'x' },
};

const names = { wildcards: ['page', 'doc'], inputs: ['image', 'prompt'], outputs: ['text', 'meta'] };

describe('templatePlaceholders', () => {
  it('finds every placeholder form', () => {
    expect(templatePlaceholders('ocr {input} {inputs} {input.image} {output} {outputs} {output.text} {wildcards.page} {doc}')).toEqual([
      'input',
      'inputs',
      'input.image',
      'output',
      'outputs',
      'output.text',
      'wildcards.page',
      'doc',
    ]);
  });

  it('leaves shell and awk braces alone', () => {
    expect(templatePlaceholders("echo ${HOME} ${page} && awk '{print $1}' {a,b} {} { input }")).toEqual([]);
    expect(templatePlaceholders('echo $x{page}')).toEqual(['page']);
    expect(templatePlaceholders('echo {{page}} {x{page}}')).toEqual(['page']);
  });
});

describe('checkTemplate', () => {
  it('accepts known placeholders', () => {
    expect(checkTemplate('ocr {input.image} {input.prompt} > {output} {wildcards.doc} {page}', names)).toBeUndefined();
  });

  it('names an unknown placeholder, with a suggestion', () => {
    expect(checkTemplate('ocr {input} {pgae}', names)).toBe(
      'unknown placeholder {pgae} (did you mean {page}?); known: {input}, {inputs}, {inputs_file}, {input.image}, {input.prompt}, ' +
        '{output}, {outputs}, {output.text}, {output.meta}, {page}, {doc}',
    );
    expect(checkTemplate('{input.imgae}', names)).toMatch(/^unknown placeholder \{input\.imgae\} \(did you mean \{input\.image\}\?\)/);
    expect(checkTemplate('{wildcards.pag}', names)).toMatch(/^unknown placeholder \{wildcards\.pag\} \(did you mean \{page\}\?\)/);
    expect(checkTemplate('{zzzzzz}', names)).toMatch(/^unknown placeholder \{zzzzzz\}; known:/);
  });

  it('knows no named inputs for a task whose input is not a record', () => {
    expect(checkTemplate('{input.x}', { wildcards: [], inputs: [], outputs: [] })).toBe(
      'unknown placeholder {input.x} (input is not a record of names); known: {input}, {inputs}, {inputs_file}, {output}, {outputs}',
    );
  });
});

describe('renderShell', () => {
  it('substitutes and quotes paths only when needed', () => {
    expect(renderShell('ocr {input.image} --prompt {input.prompt} -o {output} # {page} {doc}', values)).toBe(
      "ocr 'pages/a 1.png' --prompt prompt.txt -o 'out/a 1.txt' # 'a 1' x",
    );
  });

  it('expands lists into several words', () => {
    expect(renderShell('cat {inputs} > {output.meta}', values)).toBe("cat 'pages/a 1.png' prompt.txt > out/a.json");
    expect(renderShell('touch {outputs}', values)).toBe("touch 'out/a 1.txt' out/a.json");
    expect(renderShell('cat {inputs}', { inputs: {}, outputs: {}, wildcards: {} })).toBe('cat ');
  });

  it('lists a file that two inputs hold once', () => {
    const v: TemplateValues = { inputs: { '0': ['a', 'b'], '1': ['a'] }, outputs: {}, wildcards: {} };
    expect(renderShell('cat {inputs} {input.0}', v)).toBe('cat a b a b');
  });

  it('keeps literal text and escaped braces', () => {
    expect(renderShell("awk '{print $1}' {input.prompt} ${HOME} {{page}}", values)).toBe("awk '{print $1}' prompt.txt ${HOME} {page}");
  });

  it("quotes single quotes and a leading word with '='", () => {
    const v: TemplateValues = { inputs: { a: ["it's", 'a=b'] }, outputs: {}, wildcards: {} };
    expect(renderShell('echo {inputs}', v)).toBe("echo 'it'\\''s' a=b");
    expect(renderShell('{input.a}', { ...v, inputs: { a: ['x=1'] } })).toBe("'x=1'");
  });

  it('reuses the compiled template', () => {
    expect(compileTemplate('a {input}')).toBe(compileTemplate('a {input}'));
  });

  it('round-trips through a real shell', () => {
    const words = ["it's", 'a b', '$HOME', '*', 'x"y', 'back\\slash', 'new\nline', '', '-n', 'é'];
    const v: TemplateValues = { inputs: { in: words }, outputs: {}, wildcards: {} };
    const out = execFileSync('sh', ['-c', renderShell("printf '%s\\0' {inputs}", v)], { encoding: 'utf8' });
    // A path that starts with `-` comes as `./-n`, the same file, never an option.
    expect(out.split('\0').slice(0, -1)).toEqual(words.map((w) => (w === '-n' ? './-n' : w)));
  });
});

describe('renderArgv', () => {
  it('expands exact list elements and substitutes inside others, unquoted', () => {
    expect(renderArgv(['node', 'ocr.mjs', '{inputs}', '--out={output}', '{page}', '{outputs}'], values)).toEqual([
      'node',
      'ocr.mjs',
      'pages/a 1.png',
      'prompt.txt',
      '--out=out/a 1.txt',
      'a 1',
      'out/a 1.txt',
      'out/a.json',
    ]);
  });

  it('expands a named input to all its files, possibly none', () => {
    const v: TemplateValues = { inputs: { pages: ['a', 'b'], none: [] }, outputs: {}, wildcards: {} };
    expect(renderArgv(['cat', '{input.pages}', '{input.none}', 'x{input.pages}'], v)).toEqual(['cat', 'a', 'b', 'xa b']);
  });

  it('keeps {input} one argument even with no inputs', () => {
    expect(renderArgv(['cmd', '{input}'], { inputs: {}, outputs: {}, wildcards: {} })).toEqual(['cmd', '']);
  });
});

describe('renderShell inside quotes the template already has', () => {
  const values = { inputs: { input0: ['src/a b.txt'] }, outputs: { output0: ['out/it\'s "x" $y.txt'] }, wildcards: { n: 'a b' } };

  it('escapes for double quotes instead of adding single quotes', () => {
    expect(renderShell('echo "name={n}" "{input}" > "{output}"', values)).toBe(
      'echo "name=a b" "src/a b.txt" > "out/it\'s \\"x\\" \\$y.txt"',
    );
  });

  it('closes and reopens single quotes around a quote in the value', () => {
    expect(renderShell("printf '%s' '{output}'", values)).toBe("printf '%s' 'out/it'\\''s \"x\" $y.txt'");
  });

  it('still quotes bare placeholders', () => {
    expect(renderShell('cp {input} {output}', values)).toBe("cp 'src/a b.txt' 'out/it'\\''s \"x\" $y.txt'");
  });

  it('round-trips through sh', () => {
    const printed = execFileSync('sh', ['-c', renderShell('printf "%s|" "{input}" {output} \'{n}\'', values)], { encoding: 'utf8' });
    expect(printed).toBe('src/a b.txt|out/it\'s "x" $y.txt|a b|');
  });
});

const one = (name: string): TemplateValues => ({ inputs: { in: [name] }, outputs: { out: ['out/x.txt'] }, wildcards: {} });

describe('shellInvocation without a shell', () => {
  it.each([
    ['node tool.mjs {input} -o {output}', ['node', 'tool.mjs', "it's $(x)", '-o', 'out/x.txt']],
    [`cp '{input}' "{output}"`, ['cp', "it's $(x)", 'out/x.txt']],
    ['convert {input} -resize 50% --out={output}', ['convert', "it's $(x)", '-resize', '50%', '--out=out/x.txt']],
    ["\tcat\t'a b'  {input} ''", ['cat', 'a b', "it's $(x)", '']],
  ])('runs %j directly, each value one word', (template, argv) => {
    expect(shellInvocation(template, one("it's $(x)"))).toEqual({ argv, env: {} });
  });

  it('expands a bare list to words (none for no files) and joins a quoted one', () => {
    const v: TemplateValues = { inputs: { in: ['a b', 'c'] }, outputs: {}, wildcards: {} };
    expect(shellInvocation('cat {inputs} x{inputs}.bak "{inputs}"', v).argv).toEqual(['cat', 'a b', 'c', 'xa b', 'c.bak', 'a b c']);
    expect(shellInvocation('cat {inputs} "{inputs}"', { inputs: {}, outputs: {}, wildcards: {} }).argv).toEqual(['cat', '']);
  });

  it.each([
    'cat {input} | wc',
    'a && b {input}',
    'a {input}; b',
    'a {input} > out',
    'a $HOME {input}',
    'a `b` {input}',
    'a "$x" {input}',
    'a \\b {input}',
    'a *.png {input}',
    'a {input} #comment',
    '{input} a',
    'FOO=1 node {input}',
    'echo {input}',
    'cd {input}',
    `sh -c "cat '{input}'"`,
    'eval cat {input}',
  ])('needs a shell: %j', (template) => {
    expect(shellInvocation(template, one('a')).argv[0]).toBe('sh');
  });
});

describe('shellInvocation passes values out of band', () => {
  it('references environment variables, never the value', () => {
    const { argv, env } = shellInvocation(`cat {input} "{input}" '{output}' | wc > {output}`, one('$(rm -rf x)'));
    expect(argv).toEqual(['sh', '-c', `cat "\${RUNCUE_P_0}" "\${RUNCUE_P_0}" ''"\${RUNCUE_P_1}"'' | wc > "\${RUNCUE_P_1}"`]);
    expect(env).toEqual({ RUNCUE_P_0: '$(rm -rf x)', RUNCUE_P_1: 'out/x.txt' });
  });

  it('writes references that the nested shell expands', () => {
    expect(shellInvocation(`sh -c 'cat {input}'`, one('x')).argv[2]).toBe(`sh -c 'cat "\${RUNCUE_P_0}"'`);
    expect(shellInvocation(`bash -ec "cat {input}"`, one('x')).argv[2]).toBe(`bash -ec "cat \\"\\\${RUNCUE_P_0}\\""`);
  });

  it('shows the values quoted for where they stand', () => {
    expect(renderShell(`sh -c 'cat {input}'`, one('a b'))).toBe(`sh -c 'cat '\\''a b'\\'''`);
    expect(renderShell('echo "$(cat {input})"', one('a b'))).toBe(`echo "$(cat 'a b')"`);
  });
});

/** Hostile file names: each must reach the command as one literal word, and run nothing. */
const HOSTILE = [
  "it's",
  'a"b',
  '$(touch PWNED)',
  '`touch PWNED`',
  'x;touch PWNED',
  "'; touch PWNED; '",
  '"; touch PWNED; "',
  '$(touch PWNED).txt',
  'new\nline',
  'tab\there',
  '-n',
  '--help',
  '*',
  '[a]?',
  'é ü 日本',
  'a  b',
  'back\\slash',
  '$HOME',
  '${HOME}',
  '!x',
  '~',
  'a=b',
  'EOF',
  '',
];

/** Templates that print the value, in every place a placeholder can stand. */
/** `value`: the input as the command gets it (a path that starts with `-`: `./-n`); `name`: the file's name. */
const POSITIONS: readonly [string, (value: string, name: string) => string][] = [
  [`printf '%s|' {input}`, (v) => `${v}|`],
  [`printf '%s|' "{input}"`, (v) => `${v}|`],
  [`printf '%s|' '{input}'`, (v) => `${v}|`],
  [`printf '%s|' "pre {input} post"`, (v) => `pre ${v} post|`],
  [`printf '%s|' "$(printf '%s.' {input})"`, (v) => `${v}.|`],
  [`printf '%s|' "$(printf '%s.' "{input}")"`, (v) => `${v}.|`],
  [`printf '%s|' $(printf '%s.' '{input}' | wc -c)`, (v) => `${Buffer.byteLength(v) + 1}|`],
  ["printf '%s|' \"`printf '%s.' {input}`\"", (v) => `${v}.|`],
  [`sh -c 'printf "%s|" {input}'`, (v) => `${v}|`],
  [`sh -c 'printf "%s|" "{input}"'`, (v) => `${v}|`],
  [`sh -c "printf '%s|' {input}"`, (v) => `${v}|`],
  [`sh -c "printf '%s|' '{input}'"`, (v) => `${v}|`],
  [`sh -c 'sh -c "printf %s\\\\| {input}"'`, (v) => `${v}|`],
  [`eval "printf '%s|' {input}"`, (v) => `${v}|`],
  [`x=$(printf '%s' {input}.); printf '%s|' "\${x%.}"`, (v) => `${v}|`],
  [`printf '%s|' "\${UNSET_VAR:-{input}}"`, (v) => `${v}|`],
  ['cat <<EOF\n{input}|\nEOF', (v) => `${v}|\n`],
  [`sh <<EOF\nprintf '%s|' {input} "{input}"\nEOF`, (v) => `${v}|${v}|`],
  [`sh <<'EOF'\nprintf '%s|' {input} "{input}"\nEOF`, (v) => `${v}|${v}|`],
  [`printf '%s|' {input} # it's {input} $(`, (v) => `${v}|`],
  [`x=abc; printf '%s|' "\${#x}" {input} $((1<<2)) {input}`, (v) => `3|${v}|4|${v}|`],
  [
    `cat <<-'EOF' && printf '%s|' {input}\n\tquoted 'x' "{output}"\n\tEOF`,
    (v, name) => `quoted 'x' "o/${name.replaceAll('/', '_').replaceAll('\n', ' ') || 'empty'}"\n${v}|`,
  ],
  [`mkdir -p "$(dirname {output})" && printf '%s' {input} > {output} && cat {output}`, (v) => v],
];

/**
 * Runs each command (argv, and environment besides PATH) in `cwd`, one after another, as one
 * python3 process starts them; returns what each printed and whether a PWNED file existed after
 * it. A spawnSync each from this worker cost ~5 ms of CPU and 10-40 ms of waiting on a loaded
 * machine, for 552 commands.
 */
function runEach(cwd: string, commands: readonly { argv: readonly string[]; env: Record<string, string> }[]): [string, boolean][] {
  const driver = `import json, os, subprocess, sys
results = []
for argv, env in json.load(sys.stdin):
    done = subprocess.run(argv, cwd=${JSON.stringify(cwd)}, env={'PATH': os.environ['PATH'], **env}, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, check=True)
    results.append([done.stdout.decode('utf-8'), os.path.exists('PWNED')])
json.dump(results, sys.stdout)`;
  const input = JSON.stringify(commands.map(({ argv, env }) => [argv, env]));
  const out = execFileSync(PYTHON3, ['-I', '-S', '-c', driver], { cwd, input, env: { PATH: process.env['PATH'] }, encoding: 'utf8' });
  return JSON.parse(out) as [string, boolean][];
}

describe('hostile names in every position (real sh)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'runcue-template-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(POSITIONS)('%j', (template, expected) => {
    const commands = HOSTILE.map((name) =>
      shellInvocation(template, {
        inputs: { in: [name] },
        outputs: { out: [`o/${name.replaceAll('/', '_') || 'empty'}`] },
        wildcards: {},
      }),
    );
    const results = runEach(dir, commands);
    expect(results).toHaveLength(HOSTILE.length);
    HOSTILE.forEach((name, i) => {
      const [out, pwned] = results[i] ?? ['', true];
      expect({ name, out, pwned }).toEqual({ name, out: expected(operand(name), name), pwned: false });
    });
  });

  it('direct commands get each value as one argument', () => {
    for (const name of HOSTILE) {
      const { argv } = shellInvocation(`printenv -0 {input} '{input}' "{input}"`, one(name));
      const path = operand(name);
      expect(argv).toEqual(['printenv', '-0', path, path, path]);
    }
  });
});
