/**
 * Binding a pattern's wildcards from a producer's output: `work/{doc}/pages/{page}.png` against
 * the dynamic output `work/a/pages/*.png` fixes `doc` to `a` (see glob-intersect.ts for whether
 * the two can meet at all).
 */
import type { Wildcards } from './wildcards.ts';
import { classToRegex, expandBraces, hexEscape, isGlobPath, parseClass } from './glob-syntax.ts';
import { globSegments, globsIntersect } from './glob-intersect.ts';
import type { Pattern } from './pattern.ts';

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
  // Each replan binds every pattern against every open dynamic output again (a build of 1,000s of
  // documents, each split into pages, replans as their producers settle): answered once per pair.
  let known = bindings.get(pattern);
  if (known === undefined) bindings.set(pattern, (known = new Map<string, Wildcards | undefined>()));
  if (known.has(pathOrGlob)) return known.get(pathOrGlob);
  const bound = bindGlob(pattern, pathOrGlob);
  if (known.size >= MAX_BINDINGS) known.clear();
  known.set(pathOrGlob, bound);
  return bound;
}

/** Answers of {@link bindFromGlob} per pattern and glob (bindings are read, never written). */
const bindings = new WeakMap<Pattern, Map<string, Wildcards | undefined>>();
const MAX_BINDINGS = 100_000;

function bindGlob(pattern: Pattern, pathOrGlob: string): Wildcards | undefined {
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
