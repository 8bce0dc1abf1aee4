import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  checkTemplate,
  compileTemplate,
  quoteShell,
  renderArgv,
  renderShell,
  splitSimpleCommand,
  templatePlaceholders,
  type TemplateValues,
} from '../src/config/template.ts';

const values: TemplateValues = {
  inputs: { image: ['pages/a 1.png'], prompt: ['prompt.txt'] },
  outputs: { text: ['out/a 1.txt'], meta: ['out/a.json'] },
  wildcards: { page: 'a 1', doc: 'x' },
};

const names = { wildcards: ['page', 'doc'], inputs: ['image', 'prompt'], outputs: ['text', 'meta'] };

describe('templatePlaceholders', () => {
  it('finds every placeholder form', () => {
    expect(
      templatePlaceholders('ocr {input} {inputs} {input.image} {output} {outputs} {output.text} {wildcards.page} {doc}'),
    ).toEqual(['input', 'inputs', 'input.image', 'output', 'outputs', 'output.text', 'wildcards.page', 'doc']);
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
      'unknown placeholder {pgae} (did you mean {page}?); known: {input}, {inputs}, {input.image}, {input.prompt}, ' +
        '{output}, {outputs}, {output.text}, {output.meta}, {page}, {doc}',
    );
    expect(checkTemplate('{input.imgae}', names)).toMatch(/^unknown placeholder \{input\.imgae\} \(did you mean \{input\.image\}\?\)/);
    expect(checkTemplate('{wildcards.pag}', names)).toMatch(/^unknown placeholder \{wildcards\.pag\} \(did you mean \{page\}\?\)/);
    expect(checkTemplate('{zzzzzz}', names)).toMatch(/^unknown placeholder \{zzzzzz\}; known:/);
  });

  it('knows no named inputs for a task whose input is not a record', () => {
    expect(checkTemplate('{input.x}', { wildcards: [], inputs: [], outputs: [] })).toBe(
      'unknown placeholder {input.x} (input is not a record of names); known: {input}, {inputs}, {output}, {outputs}',
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
    expect(renderShell(compileTemplate('a {input}'), values)).toBe("a 'pages/a 1.png'");
  });

  it('round-trips through a real shell', () => {
    const words = ["it's", 'a b', '$HOME', '*', 'x"y', 'back\\slash', 'new\nline', '', '-n', 'é'];
    const v: TemplateValues = { inputs: { in: words }, outputs: {}, wildcards: {} };
    const out = execFileSync('sh', ['-c', renderShell("printf '%s\\0' {inputs}", v)], { encoding: 'utf8' });
    expect(out.split('\0').slice(0, -1)).toEqual(words);
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

describe('splitSimpleCommand', () => {
  it('splits plain words and single-quoted strings', () => {
    expect(splitSimpleCommand('node scripts/ocr.mjs pages/1.png  out/1.txt')).toEqual(['node', 'scripts/ocr.mjs', 'pages/1.png', 'out/1.txt']);
    expect(splitSimpleCommand("convert 'a b.png' -resize 50% out/a'b'c.png")).toEqual(['convert', 'a b.png', '-resize', '50%', 'out/abc.png']);
    expect(splitSimpleCommand("echo 'it'\\''s' ''")).toBeUndefined(); // echo is a builtin
    expect(splitSimpleCommand("cat 'it'\\''s' ''")).toEqual(['cat', "it's", '']);
    expect(splitSimpleCommand("\tcat\ta ")).toEqual(['cat', 'a']);
  });

  it.each([
    'cat a | wc',
    'a && b',
    'a; b',
    'a > out',
    'a < in',
    'a $HOME',
    'a `b`',
    'a "b"',
    'a \\b',
    'a *.png',
    'a b?',
    'a [x]',
    'a {b,c}',
    '~/bin/x',
    'a #comment',
    '!a',
    'a (b)',
    'a\nb',
    "a 'unclosed",
    'FOO=1 node x.js',
    "'A=1' x",
    'cd dir',
    'exit 1',
    'export A',
    'if',
    'true',
    'time sleep 1',
    '',
    '   ',
    "'' a",
    'é',
  ])('needs a shell: %j', (command) => {
    expect(splitSimpleCommand(command)).toBeUndefined();
  });

  it('gives back quoted words (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary' }), { maxLength: 6 }), (words) => {
        const command = ['cat', ...words].map(quoteShell).join(' ');
        expect(splitSimpleCommand(command)).toEqual(['cat', ...words]);
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with renderShell output (property)', () => {
    const path = fc.stringMatching(/^[a-z0-9 ._'()$-]{1,12}$/);
    fc.assert(
      fc.property(fc.array(path, { minLength: 1, maxLength: 4 }), path, (inputs, output) => {
        const command = renderShell('node tool.mjs {inputs} -o {output}', { inputs: { in: inputs }, outputs: { out: [output] }, wildcards: {} });
        expect(splitSimpleCommand(command)).toEqual(['node', 'tool.mjs', ...inputs, '-o', output]);
      }),
    );
  });
});

describe('renderShell inside quotes the template already has', () => {
  const values = { inputs: { input0: ['src/a b.txt'] }, outputs: { output0: ['out/it\'s "x" $y.txt'] }, wildcards: { n: 'a b' } };

  it('escapes for double quotes instead of adding single quotes', () => {
    expect(renderShell('echo "name={n}" "{input}" > "{output}"', values)).toBe('echo "name=a b" "src/a b.txt" > "out/it\'s \\"x\\" \\$y.txt"');
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
