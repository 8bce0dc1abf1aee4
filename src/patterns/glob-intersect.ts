/**
 * Glob intersection: can one path match two picomatch globs? Task-level dependency edges (an
 * output pattern of one task that could produce files an input pattern of another consumes) and
 * dynamic output sets need it. No library does glob intersection, so it is written by hand:
 * expand `{a,b}` alternations, split on `/`, let `**` match any number of segments (recursion with
 * a memo), and per segment check that the product of two small automata over tokens (literal char,
 * `?`, `*`, `[...]`) accepts a non-empty string. Exact for that syntax, including picomatch's
 * `dot: false` rules (a leading `.` is matched only explicitly). Extglobs, negation (`!glob`) and
 * brace ranges (`{1..3}`) are not supported: they are read as literal text. One picomatch quirk is
 * not copied: there, a trailing `**` segment right after a segment with a star needs one more
 * segment, while here `**` always matches zero or more, so such a pair may report an extra edge.
 *
 * Also `bindFromGlob`, which binds a pattern's wildcards from a producer's output.
 */
import { unreachable } from '../result.ts';
import type { Wildcards } from './wildcards.ts';
import { classToRegex, expandBraces, hexEscape, isGlobPath, parseClass, SLASH, type CharClass } from './glob-syntax.ts';
import type { Pattern } from './pattern.ts';

// ---- per-segment automata ----

/** Whether `code` is in the class. */
function inClass(cls: CharClass, code: number): boolean {
  let found = false;
  for (const [lo, hi] of cls.ranges) {
    if (code >= lo && code <= hi) {
      found = true;
      break;
    }
  }
  return found !== cls.negated;
}

/** One token of a path segment. */
type SegToken =
  | { readonly kind: 'lit'; readonly code: number }
  | { readonly kind: 'any' }
  | { readonly kind: 'star' }
  | { readonly kind: 'class'; readonly cls: CharClass };

const GLOBSTAR = 'globstar';
type Segment = { readonly text: string; readonly tokens: readonly SegToken[] } | typeof GLOBSTAR;

function tokenizeSegment(text: string): Segment {
  if (text === '**') return GLOBSTAR;
  const tokens: SegToken[] = [];
  let j = 0;
  while (j < text.length) {
    const c = text[j];
    if (c === '*') {
      if (tokens.at(-1)?.kind !== 'star') tokens.push({ kind: 'star' });
      j++;
    } else if (c === '?') {
      tokens.push({ kind: 'any' });
      j++;
    } else if (c === '[' && parseClass(text, j)) {
      const parsed = parseClass(text, j);
      if (parsed) tokens.push({ kind: 'class', cls: parsed.cls });
      j = parsed?.end ?? j + 1;
    } else if (c === '\\' && j + 1 < text.length) {
      tokens.push({ kind: 'lit', code: text.charCodeAt(j + 1) });
      j += 2;
    } else {
      tokens.push({ kind: 'lit', code: text.charCodeAt(j) });
      j++;
    }
  }
  return { text, tokens };
}

const DOT = 46;

/** The codes at which some token's verdict may change: one representative per equivalence class. */
function representatives(a: readonly SegToken[], b: readonly SegToken[]): number[] {
  const points = new Set<number>([0, DOT, DOT + 1, SLASH + 1]);
  for (const tok of [...a, ...b]) {
    if (tok.kind === 'lit') points.add(tok.code).add(tok.code + 1);
    else if (tok.kind === 'class') for (const [lo, hi] of tok.cls.ranges) points.add(lo).add(hi + 1);
  }
  return [...points].filter((p) => p !== SLASH && p <= 0xffff);
}

/**
 * How much of a segment has been read: nothing, `.`, `..`, or more. picomatch never matches a `.`
 * or `..` segment by a glob and normalised paths have none, so only the last state accepts.
 */
const NOTHING = 0;
const ONE_DOT = 1;
const TWO_DOTS = 2;
const MORE = 3;

function advance(read: number, code: number): number {
  if (read === NOTHING) return code === DOT ? ONE_DOT : MORE;
  if (read === ONE_DOT) return code === DOT ? TWO_DOTS : MORE;
  return MORE;
}

/** Where token `i` goes on `code`, or -1. A star stays put; skipping it is an epsilon move. */
function step(tokens: readonly SegToken[], i: number, code: number, read: number): number {
  const tok = tokens[i];
  if (tok === undefined) return -1;
  // picomatch (dot: false): a segment that starts with `*` or `?` never matches a leading `.`.
  if (read === NOTHING && code === DOT && (tokens[0]?.kind === 'star' || tokens[0]?.kind === 'any')) return -1;
  switch (tok.kind) {
    case 'lit':
      return tok.code === code ? i + 1 : -1;
    case 'any':
      return i + 1;
    case 'star':
      return i;
    case 'class':
      return inClass(tok.cls, code) ? i + 1 : -1;
    default:
      return unreachable(tok);
  }
}

function skipStars(tokens: readonly SegToken[], i: number): number {
  let k = i;
  while (tokens[k]?.kind === 'star') k++;
  return k;
}

/** Whether some segment text (not empty, `.` or `..`) matches both token lists. */
function tokensIntersect(a: readonly SegToken[], b: readonly SegToken[]): boolean {
  const reps = representatives(a, b);
  const width = b.length + 1;
  const seen = new Uint8Array((a.length + 1) * width * 4);
  const queue: number[] = [];
  const visit = (i: number, j: number, read: number): void => {
    const key = (i * width + j) * 4 + read;
    if (seen[key] === 1) return;
    seen[key] = 1;
    queue.push(key);
  };
  // Epsilon closure: any star may be skipped (it may also stay and consume, in `step`).
  const closeAndVisit = (i: number, j: number, read: number): void => {
    for (let x = i; x <= skipStars(a, i); x++) for (let y = j; y <= skipStars(b, j); y++) visit(x, y, read);
  };
  closeAndVisit(0, 0, NOTHING);
  while (queue.length > 0) {
    const key = queue.pop() ?? 0;
    const read = key % 4;
    const i = Math.floor(key / 4 / width);
    const j = Math.floor(key / 4) % width;
    if (read === MORE && i === a.length && j === b.length) return true;
    for (const code of reps) {
      const ni = step(a, i, code, read);
      const nj = ni < 0 ? -1 : step(b, j, code, read);
      if (nj >= 0) closeAndVisit(ni, nj, advance(read, code));
    }
  }
  return false;
}

const segmentMemo = new Map<string, boolean>();
const ANY_SEGMENT: readonly SegToken[] = [{ kind: 'star' }];

function segmentsIntersect(a: Exclude<Segment, typeof GLOBSTAR>, b: Exclude<Segment, typeof GLOBSTAR>): boolean {
  const key = `${a.text}\u0000${b.text}`;
  let verdict = segmentMemo.get(key);
  if (verdict === undefined) {
    verdict = tokensIntersect(a.tokens, b.tokens);
    if (segmentMemo.size > 10_000) segmentMemo.clear();
    segmentMemo.set(key, verdict);
  }
  return verdict;
}

/** Whether `**` can swallow a segment matching `seg` (it never matches a dot-segment). */
function globstarAbsorbs(seg: Segment): boolean {
  return seg === GLOBSTAR || segmentsIntersect(seg, { text: '*', tokens: ANY_SEGMENT });
}

// ---- whole paths ----

interface ParsedGlob {
  readonly absolute: boolean;
  readonly alternatives: readonly (readonly Segment[])[];
}

const globCache = new Map<string, ParsedGlob>();

/** Splits a normalised glob into segments: drops `.` and empty segments, merges `**` runs. */
function globSegments(glob: string): string[] {
  const out: string[] = [];
  for (const seg of glob.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '**' && out.at(-1) === '**') continue;
    out.push(seg);
  }
  return out;
}

function parseGlob(glob: string): ParsedGlob {
  let parsed = globCache.get(glob);
  if (parsed === undefined) {
    parsed = {
      absolute: glob.startsWith('/'),
      // An alternative with no segment left (`.`) names no file.
      alternatives: expandBraces(glob)
        .map((alt) => globSegments(alt).map(tokenizeSegment))
        .filter((segments) => segments.length > 0),
    };
    if (globCache.size > 4_096) globCache.clear();
    globCache.set(glob, parsed);
  }
  return parsed;
}

function pathsIntersect(a: readonly Segment[], b: readonly Segment[]): boolean {
  const width = b.length + 1;
  // 0 = unknown, 1 = false, 2 = true
  const memo = new Uint8Array((a.length + 1) * width);
  const go = (i: number, j: number): boolean => {
    const key = i * width + j;
    const known = memo[key];
    if (known !== undefined && known !== 0) return known === 2;
    const result = decide(i, j);
    memo[key] = result ? 2 : 1;
    return result;
  };
  const decide = (i: number, j: number): boolean => {
    const x = a[i];
    const y = b[j];
    if (x === undefined || y === undefined) {
      const rest = x === undefined ? b.slice(j) : a.slice(i);
      return rest.every((seg) => seg === GLOBSTAR);
    }
    if (x === GLOBSTAR) return go(i + 1, j) || (globstarAbsorbs(y) && go(i, j + 1));
    if (y === GLOBSTAR) return go(i, j + 1) || (globstarAbsorbs(x) && go(i + 1, j));
    return segmentsIntersect(x, y) && go(i + 1, j + 1);
  };
  return go(0, 0);
}

/**
 * Whether some relative path matches both globs (picomatch syntax with `dot: false`; either may be
 * a concrete path). Exact for `*`, `**`, `?`, `[...]`, `{a,b}` and `\` escapes.
 */
export function globsIntersect(a: string, b: string): boolean {
  const pa = parseGlob(a);
  const pb = parseGlob(b);
  if (pa.absolute !== pb.absolute) return false;
  return pa.alternatives.some((x) => pb.alternatives.some((y) => pathsIntersect(x, y)));
}

// ---- binding a pattern's wildcards from a producer's output ----

const WILDCARD_GROUP = /^\{([A-Za-z_][A-Za-z0-9_]*)\}/;

interface SegmentCapture {
  readonly re: RegExp;
  /** Per capture group: the wildcard it binds, or undefined for a `*` (captured for its span). */
  readonly groups: readonly (string | undefined)[];
}

const captureCache = new Map<string, SegmentCapture | undefined>();

/** A regex over one pattern segment capturing its wildcards and stars (undefined: no wildcard). */
function segmentCapture(seg: string): SegmentCapture | undefined {
  if (captureCache.has(seg)) return captureCache.get(seg);
  const groups: (string | undefined)[] = [];
  let src = '';
  let j = 0;
  while (j < seg.length) {
    const c = seg[j] ?? '';
    const wildcard = c === '{' ? WILDCARD_GROUP.exec(seg.slice(j)) : null;
    const cls = c === '[' ? parseClass(seg, j) : undefined;
    if (wildcard) {
      const name = wildcard[1] ?? '';
      const seen = groups.indexOf(name);
      src += seen >= 0 ? `\\${seen + 1}` : `${j === 0 ? '(?!\\.)' : ''}([^/]+)`;
      if (seen < 0) groups.push(name);
      j += wildcard[0].length;
    } else if (cls) {
      src += classToRegex(cls.cls);
      j = cls.end;
    } else if (c === '*') {
      src += '([^/]*)';
      groups.push(undefined);
      while (seg[j] === '*') j++;
    } else {
      src += c === '?' ? '[^/]' : hexEscape(seg.charCodeAt(j));
      j++;
    }
  }
  const capture = groups.some((g) => g !== undefined) ? { re: new RegExp(`^${src}$`, 'd'), groups } : undefined;
  if (captureCache.size > 4_096) captureCache.clear();
  captureCache.set(seg, capture);
  return capture;
}

/** A glob segment with its `\\` escapes resolved (literal text, as a filled value), and its glob tokens' spans in it. */
function literalView(seg: string): { readonly text: string; readonly spans: [number, number][] } {
  const spans: [number, number][] = [];
  let text = '';
  for (let j = 0; j < seg.length; j++) {
    const escaped = seg[j] === '\\' && j + 1 < seg.length;
    const cls = seg[j] === '[' ? parseClass(seg, j) : undefined;
    const raw = escaped ? seg.slice(++j, j + 1) : seg.slice(j, cls?.end ?? j + 1);
    if (cls || (!escaped && (raw === '*' || raw === '?'))) spans.push([text.length, text.length + raw.length]);
    text += raw;
    j += raw.length - 1;
  }
  return { text, spans };
}

/** Index pairs of the segments that must face each other: from both ends up to a `**`. */
function alignedSegments(p: readonly string[], g: readonly string[]): [number, number][] {
  const pairs: [number, number][] = [];
  let front = 0;
  while (front < p.length && front < g.length && p[front] !== '**' && g[front] !== '**') {
    pairs.push([front, front]);
    front++;
  }
  for (let back = 1; back <= Math.min(p.length, g.length) - front; back++) {
    const pi = p.length - back;
    const gi = g.length - back;
    if (p[pi] === '**' || g[gi] === '**') break;
    pairs.push([pi, gi]);
  }
  return pairs;
}

/**
 * Wildcards of one pattern alternative fixed by one glob alternative; null when two occurrences
 * of a wildcard are fixed to different values (then no path matches both).
 *
 * Each pattern segment is matched against the glob segment's text. A capture counts when that is
 * exact: the glob segment is literal, or every glob token in it falls inside what a wildcard or
 * `*` of the pattern captured (greedy, they absorb whatever the token matches in a real path)
 * and the capture lies after the last glob token (literal text in every matching path).
 */
function bindAligned(patternAlt: string, globAlt: string): Record<string, string> | null {
  const p = globSegments(patternAlt);
  const g = globSegments(globAlt);
  const bound: Record<string, string> = {};
  for (const [pi, gi] of alignedSegments(p, g)) {
    const capture = segmentCapture(p[pi] ?? '');
    const { text, spans: tokens } = literalView(g[gi] ?? '');
    const m = capture?.re.exec(text);
    if (!capture || !m?.indices) continue;
    const spans = m.indices;
    const absorbed = tokens.every(([from, to]) => spans.some((span, k) => k > 0 && span !== undefined && span[0] <= from && to <= span[1]));
    if (!absorbed) continue;
    const literalFrom = tokens.at(-1)?.[1] ?? 0;
    for (let k = 0; k < capture.groups.length; k++) {
      const name = capture.groups[k];
      const span = spans[k + 1];
      if (name === undefined || !span || span[0] < literalFrom) continue;
      const value = text.slice(span[0], span[1]);
      if (bound[name] !== undefined && bound[name] !== value) return null;
      bound[name] = value;
    }
  }
  return bound;
}

/**
 * A pattern alternative as a glob: bound wildcards as escaped literals, the others as `?*` (one
 * character or more, and no leading `.` at a segment start, like a wildcard).
 */
function strictGlob(patternAlt: string, bound: Readonly<Record<string, string>>): string {
  return patternAlt.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const value = bound[name];
    return value === undefined ? '?*' : value.replace(/[*?[\]{}\\]/g, '\\$&');
  });
}

function agreeing(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(a)) if (b[name] === value) out[name] = value;
  return out;
}

/**
 * When a producer output (a concrete path, or a glob such as `work/a/pages/*.png`) may match
 * `pattern` (`work/{doc}/pages/{page}.png`), the wildcards it determines (`{ doc: 'a' }`; `page`
 * stays open); undefined when no path can match both. For a concrete path: `pattern.match(path)`.
 */
export function bindFromGlob(pattern: Pattern, pathOrGlob: string): Wildcards | undefined {
  if (!isGlobPath(pathOrGlob)) return pattern.match(pathOrGlob);
  let common: Record<string, string> | undefined;
  for (const patternAlt of expandBraces(pattern.source)) {
    for (const globAlt of expandBraces(pathOrGlob)) {
      if (!globsIntersect(strictGlob(patternAlt, {}), globAlt)) continue;
      const bound = bindAligned(patternAlt, globAlt);
      // With the bound values in, repeated wildcards must still fit (`{d}/{d}.txt` vs `a/b.*`).
      if (bound === null || !globsIntersect(strictGlob(patternAlt, bound), globAlt)) continue;
      common = common === undefined ? bound : agreeing(common, bound);
    }
  }
  return common;
}
