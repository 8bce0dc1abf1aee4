import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import picomatch from 'picomatch';
import { bindFromGlob } from '../../../src/patterns/glob-bind.ts';
import { globsIntersect } from '../../../src/patterns/glob-intersect.ts';
import { PICOMATCH_OPTIONS } from '../../../src/patterns/glob-syntax.ts';
import { parsePattern, type Pattern } from '../../../src/patterns/pattern.ts';

function p(source: string): Pattern {
  const parsed = parsePattern(source);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value;
}

/**
 * picomatch, reading `**` as runcue does: a globstar only as a whole segment, else `*` (picomatch's
 * own rule, which it breaks for `**` fused with a brace group: `**{a,b}` matches `b/aa` there;
 * runcue's patterns never hand it such a glob, parsePattern makes that `*{a,b}`).
 */
const isMatch = (path: string, glob: string): boolean =>
  picomatch.isMatch(
    path,
    glob
      .split('/')
      .map((seg) => (seg === '**' ? seg : seg.replace(/\*{2,}/g, '*')))
      .join('/'),
    PICOMATCH_OPTIONS,
  );

describe('globsIntersect', () => {
  it.each([
    ['work/*/pages/*.png', 'work/a/pages/p-1.png', true],
    ['work/*/pages/*.png', 'work/a/text/p-1.png', false],
    ['work/a/text/*.txt', 'work/*/text/*.txt', true],
    ['out/*.md', 'out/*.txt', false],
    ['*a', '*b', false],
    ['a*', '*b', true],
    ['a*b', 'a*c', false],
    ['?', '??', false],
    ['x/[0-9]', 'x/a', false],
    ['x/[0-9]*', 'x/[a-z]*', false],
    ['x/[!0-9]', 'x/[0-9]', false],
    ['x/[^a]', 'x/a', false],
    ['x/[[:digit:]]', 'x/7', true],
    ['{a,b}/x', 'b/*', true],
    ['{a,b}/x', 'c/*', false],
    ['a/{b,c/d}/e', 'a/c/*/e', true],
    ['a/**/b', 'a/x/y/b', true],
    ['a/**/b', 'a/b', true],
    ['a/**', 'a', true],
    ['**', 'any/thing', true],
    ['**/*.txt', 'a/b/c.md', false],
    ['**/x/**', '**/y/**', true],
    ['a/**/c', '**/b/**', true],
    ['a/**/c', 'a/*', true],
    ['a/**/c', 'a/*/*', true],
    ['a/**/c', 'b/*', false],
    ['a/*/c', 'a/**/d', false],
    ['a/b', 'a/b/c', false],
    ['a', '/a', false],
  ])('%s ∩ %s = %s', (a, b, expected) => {
    expect(globsIntersect(a, b)).toBe(expected);
    expect(globsIntersect(b, a)).toBe(expected);
  });

  it('follows picomatch dot rules', () => {
    expect(globsIntersect('*.txt', '.txt')).toBe(false);
    expect(globsIntersect('?a', '.a')).toBe(false);
    expect(globsIntersect('[.]a', '.a')).toBe(true);
    expect(globsIntersect('**/x', '.git/x')).toBe(false);
    expect(globsIntersect('**/x', '[.a]b/x')).toBe(true);
    expect(globsIntersect('**/x', '[.]b/x')).toBe(false);
    expect(globsIntersect('*', '.*')).toBe(false);
    expect(globsIntersect('a*', 'a.*')).toBe(true);
  });

  it('reads escapes and other brace groups literally', () => {
    expect(globsIntersect('scans/* \\(2\\).pdf', 'scans/x (2).pdf')).toBe(true);
    expect(globsIntersect('a{b}c', 'a{b}c')).toBe(true);
    expect(globsIntersect('a{b}c', 'abc')).toBe(false);
    expect(globsIntersect('a\\*', 'ab')).toBe(false);
  });

  it('is fast on long segments', () => {
    const a = `${'*a'.repeat(30)}*`;
    const b = `${'*b'.repeat(30)}*`;
    expect(globsIntersect(a, b)).toBe(true);
    expect(globsIntersect(`${'x/'.repeat(50)}**/y`, `${'*/'.repeat(60)}y`)).toBe(true);
  });
});

// Small alphabets so that random paths often match random globs.
const char = fc.constantFrom('a', 'b', '.');
// Normalised paths have no `.` or `..` segments.
const segmentText = fc
  .array(char, { minLength: 1, maxLength: 3 })
  .map((cs) => cs.join(''))
  .filter((s) => s !== '.' && s !== '..');
const path = fc.array(segmentText, { minLength: 1, maxLength: 3 }).map((segs) => segs.join('/'));
const globToken = fc.constantFrom('a', 'b', '.', '*', '?', '[ab]', '[!a]', '[a-b]', '{a,b}', '{b,.a}');
const globSegment = fc.oneof(
  { weight: 5, arbitrary: fc.array(globToken, { minLength: 1, maxLength: 3 }).map((ts) => ts.join('')) },
  { weight: 1, arbitrary: fc.constant('**') },
);
const glob = fc.array(globSegment, { minLength: 1, maxLength: 3 }).map((segs) => segs.join('/'));

describe('globsIntersect properties', () => {
  it('is symmetric', () => {
    fc.assert(
      fc.property(glob, glob, (a, b) => globsIntersect(a, b) === globsIntersect(b, a)),
      { numRuns: 500 },
    );
  });

  it('is true when some path matches both globs (`**{a,b}`: see isMatch)', () => {
    const fused = '**{a,b}';
    expect(picomatch.isMatch('b/aa', fused, PICOMATCH_OPTIONS)).toBe(true);
    expect(isMatch('b/aa', fused)).toBe(false);
    expect(globsIntersect(fused, 'b/aa')).toBe(false);
    expect(parsePattern(fused).ok && p(fused).glob).toBe('*{a,b}');
    fc.assert(
      fc.property(fc.array(path, { minLength: 1, maxLength: 20 }), glob, glob, (paths, a, b) => {
        const both = paths.find((x) => isMatch(x, a) && isMatch(x, b));
        if (both !== undefined) expect(globsIntersect(a, b), `${both} matches ${a} and ${b}`).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('is exact on single segments (checked against every short string)', () => {
    const strings: string[] = [''];
    for (let len = 1; len <= 5; len++) {
      for (const s of strings.filter((x) => x.length === len - 1)) for (const c of ['a', 'b', '.', 'z']) strings.push(s + c);
    }
    // Under `x/`: picomatch special-cases some globs at the very start (`*.*` does not match `a.`).
    const segment = fc
      .array(fc.constantFrom('a', 'b', '.', '*', '?', '[ab]', '[!a]', '[.z]', '[a-z]'), { minLength: 1, maxLength: 3 })
      .map((ts) => `x/${ts.join('')}`)
      .filter((g) => g !== 'x/.' && g !== 'x/..');
    fc.assert(
      fc.property(segment, segment, (a, b) => {
        const [ma, mb] = [picomatch(a, PICOMATCH_OPTIONS), picomatch(b, PICOMATCH_OPTIONS)];
        // Paths never have empty, `.` or `..` segments (picomatch is inconsistent about them).
        const witness = strings.find((s) => s !== '' && s !== '.' && s !== '..' && ma(`x/${s}`) && mb(`x/${s}`));
        expect(globsIntersect(a, b), `${a} ∩ ${b}, witness ${String(witness)}`).toBe(witness !== undefined);
      }),
      { numRuns: 300 },
    );
  });
});

describe('bindFromGlob', () => {
  const pages = p('work/{doc}/pages/{page}.png');

  it('binds the wildcards a glob output determines', () => {
    expect(bindFromGlob(pages, 'work/a/pages/*.png')).toEqual({ doc: 'a' });
    expect(bindFromGlob(pages, pages.fill({ doc: 'a(b)[1]' }))).toEqual({ doc: 'a(b)[1]' });
    expect(bindFromGlob(pages, 'work/*/pages/*.png')).toEqual({});
    expect(bindFromGlob(pages, 'work/a/pages/p[0-9].png')).toEqual({ doc: 'a' });
  });

  it('is pattern.match for a concrete path', () => {
    expect(bindFromGlob(pages, 'work/a/pages/1.png')).toEqual({ doc: 'a', page: '1' });
    expect(bindFromGlob(pages, 'work/a/text/1.png')).toBeUndefined();
  });

  it('is undefined when nothing can match both', () => {
    expect(bindFromGlob(pages, 'work/a/text/*.png')).toBeUndefined();
    expect(bindFromGlob(pages, 'work/a/pages/*.jpg')).toBeUndefined();
    expect(bindFromGlob(p('x/p{n}.png'), 'x/p*')).toEqual({});
    expect(bindFromGlob(p('{d}/{d}.txt'), 'a/b.*')).toBeUndefined();
  });

  it('binds from the literal end of a mixed segment only', () => {
    const mixed = p('work/{doc}-p{page}.png');
    // `a-p1-p2.png` matches `a-p*.png` with doc = `a-p1`: doc is not determined.
    expect(bindFromGlob(mixed, 'work/a-p*.png')).toEqual({});
    expect(bindFromGlob(mixed, 'work/*-p7.png')).toEqual({ page: '7' });
  });

  it('aligns segments around **', () => {
    expect(bindFromGlob(p('src/{pkg}/**/{name}.ts'), 'src/core/**/index.ts')).toEqual({ pkg: 'core', name: 'index' });
    expect(bindFromGlob(p('**/{name}.ts'), 'a/*/b.ts')).toEqual({ name: 'b' });
  });

  it('keeps only bindings every alternative agrees on', () => {
    expect(bindFromGlob(pages, 'work/{a,b}/pages/*.png')).toEqual({});
    expect(bindFromGlob(pages, 'work/a/pages/{1,2}*.png')).toEqual({ doc: 'a' });
    expect(bindFromGlob(pages, 'work/{a,c}/{pages,text}/*.png')).toEqual({});
    expect(bindFromGlob(pages, 'work/a/{pages,text}/*.png')).toEqual({ doc: 'a' });
  });

  it('never binds a value that some matching path contradicts', () => {
    const part = fc.constantFrom('{v}', '{w}', 'a', '-', '*', '?', '[ab]');
    const gpart = fc.constantFrom('a', 'b', '-', '*', '?', '[ab]', '[!a]');
    const strings: string[] = [''];
    for (let len = 1; len <= 5; len++) {
      for (const s of strings.filter((x) => x.length === len - 1)) for (const c of ['a', 'b', '-']) strings.push(s + c);
    }
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 4 }), fc.array(gpart, { minLength: 1, maxLength: 4 }), (ps, gs) => {
        const parsed = parsePattern(`x/${ps.join('')}`);
        if (!parsed.ok) return;
        const pattern = parsed.value;
        const g = `x/${gs.join('')}`;
        const bound = bindFromGlob(pattern, g);
        const matcher = picomatch(g, PICOMATCH_OPTIONS);
        for (const s of strings) {
          const m = s === '' ? undefined : pattern.match(`x/${s}`);
          if (m === undefined || !matcher(`x/${s}`)) continue;
          expect(bound, `x/${s} matches ${pattern.source} and ${g}`).toBeDefined();
          for (const [name, value] of Object.entries(bound ?? {})) expect(m[name], `${name} for x/${s}`).toBe(value);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
