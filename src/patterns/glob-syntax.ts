/**
 * Glob syntax shared by patterns, glob intersection and path scoping: `[...]` classes, `{a,b}`
 * alternations, segment splitting and the picomatch options every caller uses.
 */
import type picomatch from 'picomatch';

/**
 * The picomatch options every caller should use on a glob (a `Pattern.glob` too): hidden files
 * only when named, `[!a]` negation (needs `posix`), no extglobs, and `/` as the only separator on
 * every OS.
 */
export const PICOMATCH_OPTIONS: picomatch.PicomatchOptions = Object.freeze({
  dot: false,
  posix: true,
  noextglob: true,
  windows: false,
});

/** The code of `/`. */
export const SLASH = 47;

/** A `[...]` character class as inclusive UTF-16 code-unit ranges. */
export interface CharClass {
  readonly negated: boolean;
  readonly ranges: readonly (readonly [number, number])[];
}

const range = (a: string, b: string): readonly [number, number] => [a.charCodeAt(0), b.charCodeAt(0)];
const POSIX_CLASSES: Readonly<Record<string, readonly (readonly [number, number])[]>> = {
  alnum: [range('0', '9'), range('A', 'Z'), range('a', 'z')],
  alpha: [range('A', 'Z'), range('a', 'z')],
  ascii: [[0, 0x7f]],
  blank: [range(' ', ' '), range('\t', '\t')],
  cntrl: [
    [0, 0x1f],
    [0x7f, 0x7f],
  ],
  digit: [range('0', '9')],
  graph: [[0x21, 0x7e]],
  lower: [range('a', 'z')],
  print: [[0x20, 0x7e]],
  punct: [range('!', '/'), range(':', '@'), range('[', '`'), range('{', '~')],
  space: [range('\t', '\r'), range(' ', ' ')],
  upper: [range('A', 'Z')],
  word: [range('0', '9'), range('A', 'Z'), range('a', 'z'), range('_', '_')],
  xdigit: [range('0', '9'), range('A', 'F'), range('a', 'f')],
};

/**
 * Parses the class that opens at `s[start] === '['`: `!`/`^` negation, a leading `]` as a member,
 * ranges, `\` escapes and POSIX classes (`[:digit:]`). Undefined when it never closes within the
 * segment: picomatch then reads `[` literally.
 */
export function parseClass(s: string, start: number): { readonly cls: CharClass; readonly end: number } | undefined {
  let j = start + 1;
  const negated = s[j] === '!' || s[j] === '^';
  if (negated) j++;
  const ranges: (readonly [number, number])[] = [];
  let first = true;
  while (j < s.length) {
    const c = s[j];
    if (c === '/') return undefined;
    if (c === ']' && !first) return { cls: { negated, ranges }, end: j + 1 };
    first = false;
    if (c === '[' && s[j + 1] === ':') {
      const close = s.indexOf(':]', j + 2);
      const named = close < 0 ? undefined : POSIX_CLASSES[s.slice(j + 2, close)];
      if (named) {
        ranges.push(...named);
        j = close + 2;
        continue;
      }
    }
    const [lo, afterLo] = classChar(s, j);
    if (s[afterLo] === '-' && afterLo + 1 < s.length && s[afterLo + 1] !== ']') {
      const [hi, afterHi] = classChar(s, afterLo + 1);
      ranges.push([lo, hi]);
      j = afterHi;
    } else {
      ranges.push([lo, lo]);
      j = afterLo;
    }
  }
  return undefined;
}

function classChar(s: string, j: number): [number, number] {
  if (s[j] === '\\' && j + 1 < s.length) return [s.charCodeAt(j + 1), j + 2];
  return [s.charCodeAt(j), j + 1];
}

/** Index just after the `}` matching the `{` at `start`, or -1 when unbalanced. */
export function braceEnd(s: string, start: number): number {
  let depth = 0;
  let j = start;
  while (j < s.length) {
    const c = s[j];
    if (c === '\\') {
      j += 2;
      continue;
    }
    if (c === '[') {
      const cls = parseClass(s, j);
      if (cls) {
        j = cls.end;
        continue;
      }
    } else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return j + 1;
    j++;
  }
  return -1;
}

/** The texts between the top-level commas of the brace group `s[open..close)` (without braces). */
export function splitAlternatives(s: string, open: number, close: number): string[] {
  const parts: string[] = [];
  let from = open + 1;
  let j = from;
  while (j < close - 1) {
    const c = s[j];
    if (c === '\\') {
      j += 2;
      continue;
    }
    if (c === '{' || c === '[') {
      const end = c === '{' ? braceEnd(s, j) : (parseClass(s, j)?.end ?? -1);
      j = end < 0 ? j + 1 : end;
      continue;
    }
    if (c === ',') {
      parts.push(s.slice(from, j));
      from = j + 1;
    }
    j++;
  }
  parts.push(s.slice(from, close - 1));
  return parts;
}

/** Finds the first brace group with a top-level comma: `[open, close)` or undefined. */
function firstAlternation(s: string): readonly [number, number] | undefined {
  for (let j = 0; j < s.length; j++) {
    const c = s[j];
    if (c === '\\') j++;
    else if (c === '[') {
      const cls = parseClass(s, j);
      if (cls) j = cls.end - 1;
    } else if (c === '{') {
      const close = braceEnd(s, j);
      if (close > 0 && splitAlternatives(s, j, close).length > 1) return [j, close];
    }
  }
  return undefined;
}

/** Expands `{a,b}` alternations (nested too) into plain globs; other brace groups stay literal. */
export function expandBraces(glob: string): string[] {
  const group = firstAlternation(glob);
  if (!group) return [glob];
  const [open, close] = group;
  const head = glob.slice(0, open);
  const tail = glob.slice(close);
  return splitAlternatives(glob, open, close).flatMap((alt) => expandBraces(head + alt + tail));
}

/** Whether `s` has glob syntax: `*`, `?`, `[`, or a brace group with a comma (not `\`-escaped). */
export function isGlobPath(s: string): boolean {
  for (let j = 0; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === 92 /* \ */) j++;
    else if (c === 42 /* * */ || c === 63 /* ? */ || c === 91 /* [ */) return true;
  }
  return s.includes('{') && s.includes(',') && firstAlternation(s) !== undefined;
}

/**
 * `value` (a file name's part bound to a wildcard) as literal text inside a picomatch glob: a
 * fan-in over `work/{doc}/*.txt` with `doc` = `a(b)` or `c[1]` must match that directory only.
 */
export function escapeGlobValue(value: string): string {
  return value.replace(/[\\*?[\]{}()|!+@]/g, '\\$&');
}

/** `s` with its `\` escapes resolved (for the literal parts of a glob). */
function unescapeGlob(s: string): string {
  return s.includes('\\') ? s.replace(/\\(.)/gs, '$1') : s;
}

/** `code` as a regex escape (`\\u002e`), safe anywhere in a pattern, in a class too. */
export function hexEscape(code: number): string {
  return `\\u${code.toString(16).padStart(4, '0')}`;
}

/** A JS regex class for `cls` that never matches `/` (a class matches one char of one segment). */
export function classToRegex(cls: CharClass): string {
  const parts: string[] = [];
  for (const [lo, hi] of cls.ranges) {
    if (lo > hi) continue;
    if (cls.negated) parts.push(`${hexEscape(lo)}-${hexEscape(hi)}`);
    else if (lo <= SLASH && hi >= SLASH) {
      if (lo < SLASH) parts.push(`${hexEscape(lo)}-${hexEscape(SLASH - 1)}`);
      if (hi > SLASH) parts.push(`${hexEscape(SLASH + 1)}-${hexEscape(hi)}`);
    } else parts.push(`${hexEscape(lo)}-${hexEscape(hi)}`);
  }
  if (cls.negated) return `[^/${parts.join('')}]`;
  return parts.length === 0 ? '(?!)' : `[${parts.join('')}]`;
}

/** The `/`-separated segments of a pattern or glob; a `/` inside a brace group does not split. */
export function segmentsOf(source: string): string[] {
  const out: string[] = [];
  let from = 0;
  for (let j = 0; j < source.length; j++) {
    const c = source[j];
    if (c === '{') {
      const end = braceEnd(source, j);
      if (end > 0) j = end - 1;
    } else if (c === '/') {
      out.push(source.slice(from, j));
      from = j + 1;
    }
  }
  out.push(source.slice(from));
  return out;
}

/** The directory prefix of a glob before its first segment with glob syntax. */
export function staticBase(glob: string): string {
  const segments = glob.split('/');
  const fixed: string[] = [];
  for (const s of segments.slice(0, -1)) {
    if (isGlobPath(s)) break;
    fixed.push(unescapeGlob(s));
  }
  return fixed.join('/');
}
