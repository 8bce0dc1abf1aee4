import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import picomatch from 'picomatch';
import { expandBraces, isGlobPath, PICOMATCH_OPTIONS, segmentsOf, staticBase } from '../../../src/patterns/glob-syntax.ts';
import { parsePattern, type Pattern } from '../../../src/patterns/pattern.ts';

function p(source: string): Pattern {
  const parsed = parsePattern(source);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value;
}

function error(source: string): string {
  const parsed = parsePattern(source);
  if (parsed.ok) throw new Error(`expected "${source}" to be rejected`);
  return `${parsed.error.reason}: ${parsed.error.message}`;
}

describe('parsePattern: shape', () => {
  it('describes a wildcard pattern', () => {
    const pattern = p('work/{doc}/pages/{page}.png');
    expect(pattern).toMatchObject({
      source: 'work/{doc}/pages/{page}.png',
      wildcards: ['doc', 'page'],
      isGlob: false,
      glob: 'work/*/pages/*.png',
      base: 'work',
    });
  });

  it('describes a pattern mixing wildcards and globs', () => {
    expect(p('work/{doc}/pages/*.png')).toMatchObject({ wildcards: ['doc'], isGlob: true, glob: 'work/*/pages/*.png', base: 'work' });
    expect(p('src/**/{name}.ts')).toMatchObject({ isGlob: true, glob: 'src/**/*.ts', base: 'src' });
    expect(p('{a,b}/{x}.txt')).toMatchObject({ isGlob: true, glob: '{a,b}/*.txt', base: '' });
    expect(p('data/img[0-9]?.png')).toMatchObject({ wildcards: [], isGlob: true, base: 'data' });
  });

  it('normalises ./, duplicate slashes, . segments and a trailing slash', () => {
    expect(p('./docs//{doc}.pdf').source).toBe('docs/{doc}.pdf');
    expect(p('a/./b/').source).toBe('a/b');
    expect(p('././x').source).toBe('x');
  });

  it('computes the base directory', () => {
    expect(p('a/b/c.txt').base).toBe('a/b');
    expect(p('c.txt').base).toBe('');
    expect(p('{doc}/x.txt').base).toBe('');
    expect(p('a/b/x{doc}.txt').base).toBe('a/b');
    expect(p('a/b/{doc}/c/*.txt').base).toBe('a/b');
    expect(p('a/b*/c').base).toBe('a');
  });

  it('lists repeated wildcards once', () => {
    expect(p('{d}/{d}.txt').wildcards).toEqual(['d']);
  });

  it('never turns adjacent wildcards into a ** globstar', () => {
    expect(p('x/{a}{b}/y').glob).toBe('x/*/y');
    expect(p('x/{a}*/y').glob).toBe('x/*/y');
  });

  it('escapes parentheses and | in the glob so picomatch reads them literally', () => {
    const pattern = p('scans/{name} (2).pdf');
    expect(pattern.glob).toBe('scans/* \\(2\\).pdf');
    expect(picomatch.isMatch('scans/x (2).pdf', pattern.glob, PICOMATCH_OPTIONS)).toBe(true);
    expect(picomatch.isMatch('scans/x 2.pdf', pattern.glob, PICOMATCH_OPTIONS)).toBe(false);
  });
});

describe('parsePattern: errors', () => {
  it('rejects empty patterns', () => {
    expect(error('')).toMatch(/^pattern-empty/);
    expect(error('  ')).toMatch(/^pattern-empty/);
    expect(error('./')).toMatch(/^pattern-empty/);
  });

  it('rejects absolute paths, .. and backslashes', () => {
    expect(error('/etc/{x}')).toBe(
      'pattern-invalid: invalid pattern "/etc/{x}": absolute paths are not allowed (patterns are relative to the config directory)',
    );
    expect(error('a/../{x}')).toMatch(/pattern-invalid: .*"\.\." segments are not allowed/);
    expect(error('..')).toMatch(/"\.\." segments/);
    expect(error('a\\{x}')).toMatch(/backslashes are not allowed/);
  });

  it('rejects malformed brace groups', () => {
    expect(error('a/{doc')).toMatch(/unbalanced "\{"/);
    expect(error('a/doc}')).toMatch(/unbalanced "\}"/);
    expect(error('a/{doc-name}.txt')).toMatch(/"\{doc-name\}" is neither a wildcard/);
    expect(error('a/{}.txt')).toMatch(/neither a wildcard/);
    expect(error('a/{1..3}.txt')).toMatch(/neither a wildcard/);
    expect(error('{a,{w}}/x')).toMatch(/wildcard \{w\} inside an alternation/);
  });

  it('rejects negation', () => {
    expect(error('!{x}.txt')).toMatch(/negated patterns/);
  });
});

describe('Pattern.match', () => {
  it('binds wildcards of a concrete path', () => {
    const pattern = p('work/{doc}/pages/{page}.png');
    expect(pattern.match('work/a/pages/001.png')).toEqual({ doc: 'a', page: '001' });
    expect(pattern.match('work/a/pages/sub/001.png')).toBeUndefined();
    expect(pattern.match('work/a/pages/001.jpg')).toBeUndefined();
    expect(pattern.match('other/a/pages/001.png')).toBeUndefined();
    expect(pattern.match('work//pages/001.png')).toBeUndefined();
  });

  it('is greedy like Snakemake', () => {
    expect(p('{a}-{b}').match('x-y-z')).toEqual({ a: 'x-y', b: 'z' });
    expect(p('{name}.{ext}').match('archive.tar.gz')).toEqual({ name: 'archive.tar', ext: 'gz' });
  });

  it('needs one character or more per wildcard', () => {
    expect(p('p{n}.png').match('p.png')).toBeUndefined();
  });

  it('requires repeated wildcards to be equal', () => {
    const pattern = p('{d}/{d}.txt');
    expect(pattern.match('x/x.txt')).toEqual({ d: 'x' });
    expect(pattern.match('x/y.txt')).toBeUndefined();
  });

  it('matches a literal pattern exactly', () => {
    const pattern = p('prompt.txt');
    expect(pattern.match('prompt.txt')).toEqual({});
    expect(pattern.match('prompt.txt2')).toBeUndefined();
  });

  it('checks glob parts exactly', () => {
    const pattern = p('work/{doc}/pages/*.png');
    expect(pattern.match('work/a/pages/p-1.png')).toEqual({ doc: 'a' });
    expect(pattern.match('work/a/pages/x/p-1.png')).toBeUndefined();
    expect(p('{a}[0-9]{b}').match('x1yz')).toEqual({ a: 'x', b: 'yz' });
    expect(p('img[!0-9].png').match('img5.png')).toBeUndefined();
    expect(p('img[!0-9].png').match('imgx.png')).toEqual({});
    expect(p('{x}.{png,jpg}').match('a.jpg')).toEqual({ x: 'a' });
    expect(p('{x}.{png,jpg}').match('a.gif')).toBeUndefined();
  });

  it('lets ** match any depth, including none', () => {
    const pattern = p('src/**/{name}.ts');
    expect(pattern.match('src/a.ts')).toEqual({ name: 'a' });
    expect(pattern.match('src/x/y/a.ts')).toEqual({ name: 'a' });
    expect(p('out/**').match('out/a/b')).toEqual({});
    expect(p('**').match('a/b/c')).toEqual({});
  });

  it('does not match hidden files unless named (picomatch dot: false)', () => {
    expect(p('docs/{doc}.pdf').match('docs/.x.pdf')).toBeUndefined();
    expect(p('docs/*.pdf').match('docs/.x.pdf')).toBeUndefined();
    expect(p('**/{x}.txt').match('.git/a.txt')).toBeUndefined();
    expect(p('docs/.{doc}.pdf').match('docs/.x.pdf')).toEqual({ doc: 'x' });
    expect(p('docs/a{doc}.pdf').match('docs/a.x.pdf')).toEqual({ doc: '.x' });
  });

  it('treats regex and picomatch-special characters literally', () => {
    expect(p('a+b/(1) {x}.$').match('a+b/(1) y.$')).toEqual({ x: 'y' });
    expect(p('a+b/(1) *.$').match('a+b/(1) y.$')).toEqual({});
    expect(p('a|b/*').match('a|b/c')).toEqual({});
  });

  it('agrees with picomatch on the glob form', () => {
    const globs = ['*.txt', 'a/*/c', 'a/**/c', '?b', '[ab]*', '{a,b}/*', 'a*b?c'];
    const paths = ['x.txt', '.x.txt', 'a/b/c', 'a/c', 'a/b/d/c', 'ab', 'bb', 'b/x', 'axbyc', 'a/.b/c'];
    for (const glob of globs) {
      const pattern = p(glob);
      for (const path of paths) {
        expect(pattern.match(path) !== undefined, `${glob} ~ ${path}`).toBe(picomatch.isMatch(path, glob, PICOMATCH_OPTIONS));
      }
    }
  });
});

describe('Pattern.fill', () => {
  it('substitutes wildcards', () => {
    expect(p('work/{doc}/text/{page}.txt').fill({ doc: 'a', page: '1' })).toBe('work/a/text/1.txt');
    expect(p('{d}/{d}.txt').fill({ d: 'x' })).toBe('x/x.txt');
    expect(p('x[{]/{a}').fill({ a: 'v' })).toBe('x[{]/v');
  });

  it('turns missing wildcards into * and keeps globs', () => {
    expect(p('work/{doc}/text/{page}.txt').fill({ doc: 'a' })).toBe('work/a/text/*.txt');
    expect(p('work/{doc}/pages/*.png').fill({ doc: 'a' })).toBe('work/a/pages/*.png');
    expect(p('x/{a}{b}*/y').fill({})).toBe('x/*/y');
  });

  it('escapes values (and literal parentheses) when the result is a glob, so they match only themselves', () => {
    const glob = p('w/{doc}/t/*.txt').fill({ doc: 'c[1](x)' });
    expect(glob).toBe('w/c\\[1\\]\\(x\\)/t/*.txt');
    expect(picomatch(glob, PICOMATCH_OPTIONS)('w/c[1](x)/t/a.txt')).toBe(true);
    expect(picomatch(glob, PICOMATCH_OPTIONS)('w/c1x/t/a.txt')).toBe(false);
    expect(staticBase(glob)).toBe('w/c[1](x)/t');
    expect(p('data (old)/*.txt').fill({})).toBe('data \\(old\\)/*.txt');
    // A concrete path stays as it is.
    expect(p('w/{doc}.txt').fill({ doc: 'c[1](x)' })).toBe('w/c[1](x).txt');
  });
});

describe('helpers', () => {
  it('isGlobPath', () => {
    expect(isGlobPath('a/b.txt')).toBe(false);
    expect(isGlobPath('a/*.txt')).toBe(true);
    expect(isGlobPath('a/?.txt')).toBe(true);
    expect(isGlobPath('a/[ab].txt')).toBe(true);
    expect(isGlobPath('a/{b,c}.txt')).toBe(true);
    expect(isGlobPath('a/{b}.txt')).toBe(false);
    expect(isGlobPath('a/{b,c.txt')).toBe(false);
    expect(isGlobPath('a,b/{x}')).toBe(false);
  });

  it('segmentsOf keeps brace groups whole', () => {
    expect(segmentsOf('a/{b,c/d}/e')).toEqual(['a', '{b,c/d}', 'e']);
    expect(segmentsOf('a')).toEqual(['a']);
  });

  it('expandBraces expands nested alternations only', () => {
    expect(expandBraces('a{b,c{d,e}}f')).toEqual(['abf', 'acdf', 'acef']);
    expect(expandBraces('{x}/{a,}')).toEqual(['{x}/a', '{x}/']);
    expect(expandBraces('[{,}]{a,b}')).toEqual(['[{,}]a', '[{,}]b']);
  });
});

describe('properties', () => {
  const value = fc.stringMatching(/^[a-z0-9]{1,6}$/);
  const separator = fc.constantFrom('-', '.', '_', '/', '--', '/x-', '.tar.', '/p_');

  it('match(fill(values)) gives the values back when wildcards are separated by literal text', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(value, separator), { minLength: 1, maxLength: 4 }),
        fc.constantFrom('', 'pre/', 'x-'),
        fc.constantFrom('', '.txt', '/end'),
        (pieces, head, tail) => {
          const source = head + pieces.map(([, sep], i) => `{w${i}}${i < pieces.length - 1 ? sep : ''}`).join('') + tail;
          const values = Object.fromEntries(pieces.map(([v], i) => [`w${i}`, v]));
          const pattern = p(source);
          expect(pattern.match(pattern.fill(values))).toEqual(values);
        },
      ),
    );
  });

  it('a pattern of one wildcard matches what picomatch does, with a value of one non-empty segment', () => {
    // Hostile shapes too: dots at segment starts, slashes in the value, the affixes overlapping.
    const affix = fc.constantFrom('', 'in/', 'a/b-', '.x/', 'p.', 'in/.', 'x');
    const path = fc
      .array(fc.constantFrom('a', '.', '/', '-', 'x', 'in', 'p', '.txt', '/out', ' '), { maxLength: 8 })
      .map((parts) => parts.join(''));
    const tail = fc.constantFrom('', '.txt', '/out', '-', 'x', '.tar.gz');
    fc.assert(
      fc.property(affix, tail, path, fc.boolean(), (head, end, middle, wrap) => {
        const pattern = p(`${head}{w}${end}`);
        const candidate = wrap ? head + middle + end : middle;
        // A listing never gives `.`, `..` or an empty segment (which picomatch never matches).
        fc.pre(candidate.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..'));
        const value = candidate.slice(head.length, candidate.length - end.length);
        // picomatch lets `*` take a trailing slash (`/` ~ `*`); a listed file's path has none.
        const oneSegment = value !== '' && !value.includes('/');
        const expected = oneSegment && picomatch.isMatch(candidate, pattern.glob, PICOMATCH_OPTIONS) ? { w: value } : undefined;
        expect(pattern.match(candidate), candidate).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('a concrete match also matches the glob form', () => {
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 3 }), (values) => {
        const pattern = p(values.map((_, i) => `d${i}/{w${i}}.x`).join('/'));
        const path = pattern.fill(Object.fromEntries(values.map((v, i) => [`w${i}`, v])));
        expect(picomatch.isMatch(path, pattern.glob, PICOMATCH_OPTIONS)).toBe(true);
      }),
    );
  });
});
