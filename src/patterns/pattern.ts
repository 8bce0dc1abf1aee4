/**
 * Artifact patterns: named wildcards (`{page}`) mixed with ordinary globs (`*`, `**`, `?`,
 * `[...]`, `{a,b}`), as a task's `input` and `output` are written (the README's "Patterns").
 *
 * A `{name}` matches one or more characters within one path segment and binds `name`; glob
 * syntax binds nothing. A brace group is a wildcard only when it is a bare identifier.
 * Paths are POSIX-style and relative to the config directory, never starting with `./`.
 */
import picomatch from 'picomatch';
import { joinFlat } from '../flat-string.ts';
import { err, ok, unreachable } from '../result.ts';
import type { Result } from '../result.ts';
import { braceEnd, classToRegex, escapeGlobValue, parseClass, PICOMATCH_OPTIONS, splitAlternatives } from './glob-syntax.ts';
import type { CharClass } from './glob-syntax.ts';
import type { Wildcards } from './wildcards.ts';

/** A parsed artifact pattern: matches paths to bindings and fills bindings into paths. */
export interface Pattern {
  /** As written (normalised: no leading `./`, no duplicate slashes). */
  readonly source: string;
  /** Distinct wildcard names in order of first appearance. */
  readonly wildcards: readonly string[];
  /** True when the pattern has glob syntax besides its wildcards (so a filled pattern is a set). */
  readonly isGlob: boolean;
  /** The pattern as a picomatch glob, each wildcard replaced by `*`. */
  readonly glob: string;
  /** The static directory prefix before any wildcard or glob syntax (`''` for the root). */
  readonly base: string;
  /** Bindings when `path` (a concrete relative path) matches the whole pattern, else undefined. */
  match(path: string): Wildcards | undefined;
  /**
   * The pattern with wildcards replaced; a wildcard missing from `values` becomes `*`. When the
   * result is a glob, values and literal `(`, `)`, `|` are escaped so they match only themselves.
   */
  fill(values: Wildcards): string;
}

/** Why a pattern could not be parsed. */
export interface PatternError {
  readonly reason: 'pattern-empty' | 'pattern-invalid';
  readonly message: string;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A parsed piece of a pattern. `lit` never contains `/`. */
type Token =
  | { readonly kind: 'lit'; readonly text: string }
  | { readonly kind: 'sep' }
  | { readonly kind: 'wild'; readonly name: string; readonly start: number; readonly end: number }
  | { readonly kind: 'star' }
  | { readonly kind: 'globstar' }
  | { readonly kind: 'qmark' }
  | { readonly kind: 'class'; readonly text: string; readonly cls: CharClass }
  | { readonly kind: 'alt'; readonly alts: readonly (readonly Token[])[] };

function invalid(source: string, why: string): { readonly ok: false; readonly error: PatternError } {
  return err({ reason: 'pattern-invalid', message: `invalid pattern "${source}": ${why}` });
}

function normalise(source: string): Result<string, PatternError> {
  if (source.trim() === '') return err({ reason: 'pattern-empty', message: 'empty pattern' });
  if (source.startsWith('/')) return invalid(source, 'absolute paths are not allowed (patterns are relative to the config directory)');
  if (source.includes('\\')) return invalid(source, 'backslashes are not allowed (use / to separate directories)');
  const segments = source.split('/').filter((seg) => seg !== '' && seg !== '.');
  if (segments.includes('..')) return invalid(source, '".." segments are not allowed (patterns stay inside the config directory)');
  if (segments.length === 0) return err({ reason: 'pattern-empty', message: `empty pattern "${source}"` });
  return ok(segments.join('/'));
}

/** Tokens of `s`, or an error message. Inside an alternation, wildcards are not allowed. */
function tokenize(s: string, inAlt: boolean): Token[] | string {
  const tokens: Token[] = [];
  const pushLit = (text: string): void => {
    const last = tokens.at(-1);
    if (last?.kind === 'lit') tokens[tokens.length - 1] = { kind: 'lit', text: last.text + text };
    else tokens.push({ kind: 'lit', text });
  };
  let j = 0;
  while (j < s.length) {
    const c = s[j] ?? '';
    if (c === '/') tokens.push({ kind: 'sep' });
    else if (c === '}') return 'unbalanced "}"';
    else if (c === '?') tokens.push({ kind: 'qmark' });
    else if (c === '{') {
      const end = braceEnd(s, j);
      if (end < 0) return 'unbalanced "{"';
      const group = braceGroup(s, j, end, inAlt);
      if (typeof group === 'string') return group;
      tokens.push(group);
      j = end;
      continue;
    } else if (c === '*') {
      let end = j;
      while (s[end] === '*') end++;
      const whole = (j === 0 || s[j - 1] === '/') && (end === s.length || s[end] === '/');
      tokens.push({ kind: end - j > 1 && whole ? 'globstar' : 'star' });
      j = end;
      continue;
    } else if (c === '[') {
      const parsed = parseClass(s, j);
      if (parsed) {
        tokens.push({ kind: 'class', text: s.slice(j, parsed.end), cls: parsed.cls });
        j = parsed.end;
        continue;
      }
      pushLit(c);
    } else pushLit(c);
    j++;
  }
  return tokens;
}

function braceGroup(s: string, open: number, close: number, inAlt: boolean): Token | string {
  const inner = s.slice(open + 1, close - 1);
  if (IDENTIFIER.test(inner)) {
    if (inAlt) return `wildcard {${inner}} inside an alternation (it would not always be bound)`;
    // A unit's wildcards are a plain object, where this name sets the prototype instead of a value.
    if (inner === '__proto__') return 'wildcard {__proto__}: every JavaScript object has a property of that name; rename it';
    return { kind: 'wild', name: inner, start: open, end: close };
  }
  const texts = splitAlternatives(s, open, close);
  if (texts.length < 2) {
    return `"{${inner}}" is neither a wildcard (a bare identifier like {page}) nor an alternation like {a,b}`;
  }
  const alts: Token[][] = [];
  for (const text of texts) {
    const tokens = tokenize(text, true);
    if (typeof tokens === 'string') return tokens;
    alts.push(tokens);
  }
  return { kind: 'alt', alts };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** Regex source for `tokens`; wildcard groups are numbered in `names` order. */
function toRegex(tokens: readonly Token[], names: string[], topLevel: boolean): string {
  let src = '';
  for (let k = 0; k < tokens.length; k++) {
    const tok = tokens[k];
    const prev = tokens[k - 1];
    const next = tokens[k + 1];
    // picomatch (dot: false): `*`, `?` and wildcards never match a leading `.` of a segment.
    const noDot = topLevel && (prev === undefined || prev.kind === 'sep') ? '(?!\\.)' : '';
    if (tok === undefined) break;
    switch (tok.kind) {
      case 'lit':
        src += escapeRegex(tok.text);
        break;
      case 'sep':
        if (next?.kind === 'globstar' && k + 2 === tokens.length && topLevel) {
          src += '(?:/(?!\\.)[^/]+)*';
          k++;
        } else src += '/';
        break;
      case 'globstar':
        if (!topLevel) src += '.*';
        else if (next?.kind === 'sep') {
          src += '(?:(?!\\.)[^/]+/)*';
          k++;
        } else src += '(?!\\.)[^/]+(?:/(?!\\.)[^/]+)*';
        break;
      case 'wild': {
        const seen = names.indexOf(tok.name);
        if (seen >= 0) src += `\\${seen + 1}`;
        else {
          names.push(tok.name);
          src += `${noDot}([^/]+)`;
        }
        break;
      }
      case 'star':
        src += `${noDot}[^/]*`;
        break;
      case 'qmark':
        src += `${noDot}[^/]`;
        break;
      case 'class':
        src += classToRegex(tok.cls);
        break;
      case 'alt':
        src += `(?:${tok.alts.map((alt) => toRegex(alt, names, false)).join('|')})`;
        break;
      default:
        return unreachable(tok);
    }
  }
  return src;
}

/** The picomatch glob: wildcards become `*` (never `**`), picomatch-special literals escaped. */
function toGlob(tokens: readonly Token[]): string {
  let out = '';
  const star = (): void => {
    if (!out.endsWith('*')) out += '*';
  };
  for (const tok of tokens) {
    switch (tok.kind) {
      case 'lit':
        // Parentheses and `|` would be regex groups to picomatch.
        out += tok.text.replace(/[()|]/g, '\\$&');
        break;
      case 'sep':
        out += '/';
        break;
      case 'wild':
      case 'star':
        star();
        break;
      case 'globstar':
        out += '**';
        break;
      case 'qmark':
        out += '?';
        break;
      case 'class':
        out += tok.text;
        break;
      case 'alt':
        out += `{${tok.alts.map(toGlob).join(',')}}`;
        break;
      default:
        return unreachable(tok);
    }
  }
  return out;
}

/** Literal text before the first wildcard or glob token. */
function literalPrefix(tokens: readonly Token[]): { readonly text: string; readonly whole: boolean } {
  let text = '';
  for (const tok of tokens) {
    if (tok.kind === 'lit') text += tok.text;
    else if (tok.kind === 'sep') text += '/';
    else return { text, whole: false };
  }
  return { text, whole: true };
}

/** `fill` parts: literal source text, or the index of a wildcard in `names`. */
function fillParts(source: string, tokens: readonly Token[], names: readonly string[]): (string | number)[] {
  const parts: (string | number)[] = [];
  let from = 0;
  for (const tok of tokens) {
    if (tok.kind !== 'wild') continue;
    parts.push(source.slice(from, tok.start), names.indexOf(tok.name));
    from = tok.end;
  }
  parts.push(source.slice(from));
  return parts.filter((part) => part !== '');
}

/** `fill` parts of a glob: the literal parts as picomatch reads them (see {@link toGlob}). */
function globFillParts(tokens: readonly Token[], names: readonly string[]): (string | number)[] {
  const parts: (string | number)[] = [];
  let run: Token[] = [];
  for (const tok of tokens) {
    if (tok.kind !== 'wild') {
      run.push(tok);
      continue;
    }
    parts.push(toGlob(run), names.indexOf(tok.name));
    run = [];
  }
  parts.push(toGlob(run));
  return parts.filter((part) => part !== '');
}

const NO_WILDCARDS: Wildcards = Object.freeze({});

/**
 * Parses an artifact pattern (a task's `input` or `output`). The matcher is built once here: `match` runs for every
 * listed file, so it is one `startsWith`, one regex and (only for glob patterns) one picomatch
 * regex test, with no allocation besides the returned bindings.
 */
export function parsePattern(source: string): Result<Pattern, PatternError> {
  const normalised = normalise(source);
  if (!normalised.ok) return normalised;
  const text = normalised.value;
  if (text.startsWith('!')) return invalid(source, 'negated patterns ("!...") are not supported');
  const tokens = tokenize(text, false);
  if (typeof tokens === 'string') return invalid(source, tokens);
  const names: string[] = [];
  const re = new RegExp(`^${toRegex(tokens, names, true)}$`);
  const isGlob = tokens.some((tok) => tok.kind !== 'lit' && tok.kind !== 'sep' && tok.kind !== 'wild');
  const glob = toGlob(tokens);
  const prefix = literalPrefix(tokens);
  const cut = prefix.whole ? text.lastIndexOf('/') : prefix.text.lastIndexOf('/');
  const parts = fillParts(text, tokens, names);
  const globParts = globFillParts(tokens, names);
  return ok({
    source: text,
    wildcards: names,
    isGlob,
    glob,
    base: cut < 0 ? '' : text.slice(0, cut),
    match: makeMatcher({
      text,
      re,
      names,
      prefix: prefix.text,
      whole: prefix.whole,
      globRe: isGlob ? picomatch.makeRe(glob, PICOMATCH_OPTIONS) : undefined,
    }),
    fill: isGlob ? (values) => fill(globParts, names, values, escapeGlobValue) : (values) => fillPlain(parts, globParts, names, values),
  });
}

interface MatcherParts {
  readonly text: string;
  readonly re: RegExp;
  readonly names: readonly string[];
  readonly prefix: string;
  readonly whole: boolean;
  readonly globRe: RegExp | undefined;
}

function makeMatcher({ text, re, names, prefix, whole, globRe }: MatcherParts): (path: string) => Wildcards | undefined {
  if (whole) return (path) => (path === text ? NO_WILDCARDS : undefined);
  return (path) => {
    if (!path.startsWith(prefix)) return undefined;
    const m = re.exec(path);
    if (m === null || (globRe !== undefined && !globRe.test(path))) return undefined;
    if (names.length === 0) return NO_WILDCARDS;
    const bindings: Record<string, string> = {};
    for (let k = 0; k < names.length; k++) bindings[names[k] ?? ''] = m[k + 1] ?? '';
    return bindings;
  };
}

/**
 * A pattern without glob syntax filled: with every wildcard bound, a path (no escaping); else a
 * glob. Index loops and no closure: two fills per unit, 100,000s of units, mostly before V8
 * optimises anything.
 */
function fillPlain(
  parts: readonly (string | number)[],
  globParts: readonly (string | number)[],
  names: readonly string[],
  values: Wildcards,
): string {
  // Flat: paths key the tables of files and outputs (see flat-string.ts).
  const out = new Array<string>(parts.length);
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string | number;
    if (typeof part === 'string') {
      out[i] = part;
      continue;
    }
    const value = values[names[part] ?? ''];
    if (value === undefined) return fill(globParts, names, values, escapeGlobValue);
    out[i] = value;
  }
  return joinFlat(out);
}

function fill(parts: readonly (string | number)[], names: readonly string[], values: Wildcards, escape: (value: string) => string): string {
  let out = '';
  // Two stars in a row would make a `**` globstar out of one segment: at most one `*` per run.
  let starred = false;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string | number;
    if (typeof part === 'string') {
      out += starred && part.startsWith('*') ? part.slice(1) : part;
      starred = false;
      continue;
    }
    const value = values[names[part] ?? ''];
    if (value !== undefined) {
      out += escape(value);
      starred = false;
    } else if (!out.endsWith('*')) {
      out += '*';
      starred = true;
    }
  }
  return out;
}
