/**
 * Shell `run` strings (a task's `run` written as one string): what runs, and the text people read. Values never enter the
 * script: each is an environment variable, referenced in the form its lexical spot needs (see
 * `shell-context.ts`). A template whose own text has no shell syntax runs without a shell.
 */
import { unreachable } from '../result.ts';
import { placeholderContexts, type Layer, type PlaceholderContext, type Spot } from './shell-context.ts';
import { compileTemplate, valuesOf, type CompiledTemplate, type Placeholder, type TemplateValues } from '../patterns/template.ts';

const SAFE_WORD = /^[A-Za-z0-9_\-./=:,+@%^]+$/;

/** POSIX shell quoting, only when needed: `a.txt` stays, `it's` becomes `'it'\''s'`. */
function quoteShell(word: string): string {
  return SAFE_WORD.test(word) ? word : forceQuote(word);
}

function forceQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** A template parsed for the shell: its parts, and where each placeholder stands. */
interface ShellTemplate {
  readonly parts: CompiledTemplate;
  readonly contexts: readonly PlaceholderContext[];
  /** The words of a template with no shell syntax in its text, run without a shell. */
  readonly direct: readonly DirectWord[] | undefined;
}

const shellTemplates = new Map<string, ShellTemplate>();

function compileShell(template: string): ShellTemplate {
  const cached = shellTemplates.get(template);
  if (cached) return cached;
  const parts = compileTemplate(template);
  const contexts = placeholderContexts(parts);
  // A value inside code another shell will read (`sh -c "..."`) needs the shell's references.
  const nested = contexts.some((c) => c.through.length > 0);
  const compiledShell = { parts, contexts, direct: nested ? undefined : directWords(parts) };
  if (shellTemplates.size > 1_000) shellTemplates.clear();
  shellTemplates.set(template, compiledShell);
  return compiledShell;
}

/** Writes `text` so that the quoting it passes through, innermost first, gives it back. */
function through(text: string, layers: readonly Layer[]): string {
  let out = text;
  for (const layer of layers) {
    if (out === '') return '';
    if (layer === 'dq') out = out.replace(/[\\"$`]/g, '\\$&');
    else if (layer === 'heredoc') out = out.replace(/[\\$`]/g, '\\$&');
    else if (layer === 'sq') out = out.replaceAll("'", `'\\''`);
    else if (layer === 'code') out = forceQuote(out);
  }
  return out;
}

/** A reference to environment variables `names` (holding `words`) that fits `spot`. */
function reference(spot: Spot, names: readonly string[], words: readonly string[]): string {
  const refs = names.map((n) => `\${${n}}`);
  switch (spot) {
    case 'code':
    case 'comment':
      return refs.map((r) => `"${r}"`).join(' ');
    case 'dq':
    case 'heredoc':
      return refs.join(' ');
    case 'sq':
      return refs.length === 0 ? '' : `'"${refs.join(' ')}"'`;
    case 'literal':
      // A quoted here-document expands nothing: the text is written as is, on one line.
      return words.join(' ').replaceAll('\n', ' ');
    default:
      return unreachable(spot);
  }
}

/** The values themselves, quoted for `spot`, for the command as people read it. */
function display(spot: Spot, words: readonly string[], commandStart: boolean): string {
  const joined = words.join(' ');
  switch (spot) {
    case 'code':
    case 'comment':
      // An unquoted `a=b` as the first word would be an environment assignment, not a command.
      return words.map((w, k) => (k === 0 && commandStart && w.includes('=') ? forceQuote(w) : quoteShell(w))).join(' ');
    case 'dq':
      return joined.replace(/[\\"$`]/g, '\\$&');
    case 'sq':
      return joined.replaceAll("'", `'\\''`);
    case 'heredoc':
      return joined.replace(/[\\$`]/g, '\\$&');
    case 'literal':
      return joined.replaceAll('\n', ' ');
    default:
      return unreachable(spot);
  }
}

/**
 * The command as text, each value shell-quoted for where it stands (also inside `"..."`,
 * `'...'`, `$(...)` and `sh -c '...'`). For messages and fingerprints: it is not what runs.
 */
export function renderShell(template: string, values: TemplateValues): string {
  const { parts, contexts } = compileShell(template);
  let out = '';
  let k = 0;
  for (const part of parts) {
    if (typeof part === 'string') out += part;
    else {
      const context = contexts[k++];
      if (context === undefined) throw new Error('internal error: placeholder without a shell context');
      out += through(display(context.spot, valuesOf(part, values), context.commandStart), context.through);
    }
  }
  return out;
}

/** What a shell `run` executes: an argv, and the environment variables that carry the values. */
export interface ShellInvocation {
  readonly argv: string[];
  readonly env: Readonly<Record<string, string>>;
}

/** The prefix of the environment variables that carry placeholder values into `sh -c`. */
const VALUE_VAR_PREFIX = 'RUNCUE_P_';

/**
 * What a shell `run` executes. Values never enter the script's text: each is an environment
 * variable (`RUNCUE_P_0`, ...) and the script references it in the form its spot needs, so
 * nested shells and `$(...)` inherit it and no value is parsed as code. A template whose own
 * text has no shell syntax runs without a shell, each value one word.
 */
export function shellInvocation(template: string, values: TemplateValues): ShellInvocation {
  const { parts, contexts, direct } = compileShell(template);
  if (direct) return { argv: renderDirect(direct, values), env: {} };
  const env: Record<string, string> = {};
  const namesOf = new Map<string, string[]>();
  let next = 0;
  let script = '';
  let k = 0;
  for (const part of parts) {
    if (typeof part === 'string') {
      script += part;
      continue;
    }
    const context = contexts[k++];
    if (context === undefined) throw new Error('internal error: placeholder without a shell context');
    const words = valuesOf(part, values);
    let names = namesOf.get(part.text);
    if (names === undefined) {
      names = words.map((word) => {
        const name = `${VALUE_VAR_PREFIX}${next++}`;
        env[name] = word;
        return name;
      });
      namesOf.set(part.text, names);
    }
    script += through(reference(context.spot, names, words), context.through);
  }
  return { argv: ['sh', '-c', script], env };
}

/** Builtins and keywords: as a first word they behave differently, or only exist, in a shell. */
const SHELL_WORDS = new Set(
  (
    '. : [ [[ ! { } alias bg break case cd command continue do done echo elif else esac eval exec exit ' +
    'export false fc fg fi for function getopts hash if in jobs kill let local logout newgrp printf pwd ' +
    'read readonly return select set shift source suspend test then time times trap true type typeset ' +
    'ulimit umask unalias unset until wait while'
  ).split(' '),
);

/** A word of a direct (shell-free) command: literal text and placeholders, quoted or bare. */
type DirectWord = readonly (string | { readonly placeholder: Placeholder; readonly quoted: boolean })[];

/**
 * The words of a template whose literal text has no shell syntax (safe characters, spaces,
 * `'...'`, and `"..."` without `$`, backticks or backslashes), else undefined.
 */
function directWords(parts: CompiledTemplate): DirectWord[] | undefined {
  const words: (string | { placeholder: Placeholder; quoted: boolean })[][] = [];
  let word: (string | { placeholder: Placeholder; quoted: boolean })[] | undefined;
  let quote: '' | "'" | '"' = '';
  const add = (item: string | { placeholder: Placeholder; quoted: boolean }): void => {
    if (word === undefined) words.push((word = []));
    word.push(item);
  };
  for (const part of parts) {
    if (typeof part !== 'string') {
      add({ placeholder: part, quoted: quote !== '' });
      continue;
    }
    for (const c of part) {
      if (quote === "'" ? c === "'" : quote === '"' && c === '"') quote = '';
      else if (quote === "'") add(c);
      else if (quote === '"') {
        if (c === '$' || c === '`' || c === '\\') return undefined;
        add(c);
      } else if (c === ' ' || c === '\t') word = undefined;
      else if (c === "'" || c === '"') {
        quote = c;
        add('');
      } else if (SAFE_WORD.test(c)) add(c);
      else return undefined;
    }
  }
  if (quote !== '') return undefined;
  const first = words[0];
  if (first === undefined) return undefined;
  let command = '';
  for (const item of first) {
    if (typeof item !== 'string') return undefined;
    command += item;
  }
  if (command === '' || command.includes('=') || SHELL_WORDS.has(command)) return undefined;
  return words;
}

function renderDirect(words: readonly DirectWord[], values: TemplateValues): string[] {
  const argv: string[] = [];
  for (const word of words) {
    const out: string[] = [];
    let last = '';
    // A bare list with no files adds no word, as `"$@"` does; anything else keeps the word.
    let keep = false;
    for (const item of word) {
      if (typeof item === 'string') {
        last += item;
        keep = true;
        continue;
      }
      const vs = valuesOf(item.placeholder, values);
      if (item.quoted) {
        last += vs.join(' ');
        keep = true;
      } else if (vs.length > 0) {
        out.push(last + (vs[0] ?? ''), ...vs.slice(1, -1));
        last = vs.length > 1 ? (vs.at(-1) ?? '') : (out.pop() ?? '');
        keep = true;
      }
    }
    if (keep) argv.push(...out, last);
  }
  return argv;
}
