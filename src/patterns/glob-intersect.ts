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
 */
import { unreachable } from '../result.ts';
import { expandBraces, parseClass, SLASH, type CharClass } from './glob-syntax.ts';

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
/** `literal`: the one name it matches, when it has no glob syntax (most segments of most paths). */
type Segment = { readonly text: string; readonly tokens: readonly SegToken[]; readonly literal?: string } | typeof GLOBSTAR;

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
  let literal = '';
  for (const token of tokens) {
    if (token.kind !== 'lit') return { text, tokens };
    literal += String.fromCharCode(token.code);
  }
  return { text, tokens, literal };
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
    for (let r = 0; r < reps.length; r++) {
      const code = reps[r] as number;
      const ni = step(a, i, code, read);
      const nj = ni < 0 ? -1 : step(b, j, code, read);
      if (nj >= 0) closeAndVisit(ni, nj, advance(read, code));
    }
  }
  return false;
}

/**
 * Entries kept by each table below before it starts again: a build of 1,000s of documents, each
 * split into pages, has a few distinct globs per document, and replans ask about them again and
 * again (a smaller table, cleared over and over, made most of that build's garbage).
 */
const MAX_MEMO = 100_000;
const segmentMemo = new Map<string, boolean>();
const ANY_SEGMENT: readonly SegToken[] = [{ kind: 'star' }];

function segmentsIntersect(a: Exclude<Segment, typeof GLOBSTAR>, b: Exclude<Segment, typeof GLOBSTAR>): boolean {
  // Two names: the same name or none (no automaton, and no memo entry for each pair of documents).
  if (a.literal !== undefined && b.literal !== undefined) return a.literal === b.literal;
  const key = `${a.text}\u0000${b.text}`;
  let verdict = segmentMemo.get(key);
  if (verdict === undefined) {
    verdict = tokensIntersect(a.tokens, b.tokens);
    if (segmentMemo.size > MAX_MEMO) segmentMemo.clear();
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
export function globSegments(glob: string): string[] {
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
    if (globCache.size > MAX_MEMO) globCache.clear();
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
