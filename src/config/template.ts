/**
 * `run` templates (SPEC §2): `{input}`, `{inputs}`, `{input.NAME}`, `{output}`, `{outputs}`,
 * `{output.NAME}`, `{wildcards.NAME}` and `{NAME}` (a wildcard).
 *
 * Any other brace group is literal text, so shell and awk syntax pass through (`${HOME}`,
 * `awk '{print $1}'`, `{a,b}`); a `{` right after `$` never opens a placeholder. `{{name}}` writes
 * a literal `{name}` where a bare identifier in braces is meant for the command itself.
 *
 * A template is parsed once (`compileTemplate`, cached by text); rendering runs once per unit.
 */
import { unreachable } from '../result.ts';
import { placeholderContexts, type Layer, type PlaceholderContext, type Spot } from './shell-context.ts';
import { didYouMean } from './suggest.ts';
import type { Wildcards } from './types.ts';

/** File lists by input/output name, and the unit's wildcards. */
export interface TemplateValues {
  /** Input files by input name, in declaration order (`{input}` is the first file overall). */
  readonly inputs: Readonly<Record<string, readonly string[]>>;
  readonly outputs: Readonly<Record<string, readonly string[]>>;
  readonly wildcards: Wildcards;
  /** The file `{inputs_file}` names (it lists the inputs); `{inputs_file}` itself when absent. */
  readonly inputsFile?: string;
}

/** What a placeholder stands for. `text` is its name as written (`input.image`, `page`). */
interface Placeholder {
  readonly kind: 'input' | 'inputs' | 'inputs-file' | 'output' | 'outputs' | 'named-input' | 'named-output' | 'wildcard';
  readonly name: string;
  readonly text: string;
}

/** A parsed template: literal text and placeholders, in order. */
export type CompiledTemplate = readonly (string | Placeholder)[];

const KEY = '[A-Za-z0-9_][A-Za-z0-9_-]*';
const PLACEHOLDER = new RegExp(`^(?:(input|output)s?|(input|output)\\.(${KEY})|(?:wildcards\\.)?([A-Za-z_][A-Za-z0-9_]*))$`);

function placeholderOf(text: string): Placeholder | undefined {
  if (text === 'inputs_file') return { kind: 'inputs-file', name: '', text };
  const m = PLACEHOLDER.exec(text);
  if (m === null) return undefined;
  const [, plain, namedSide, name, wildcard] = m;
  if (plain !== undefined) {
    const kind = text as 'input' | 'inputs' | 'output' | 'outputs';
    return { kind, name: '', text };
  }
  if (namedSide !== undefined && name !== undefined) {
    return { kind: namedSide === 'input' ? 'named-input' : 'named-output', name, text };
  }
  return { kind: 'wildcard', name: wildcard ?? '', text };
}

const compiled = new Map<string, CompiledTemplate>();

/** Parses a template into literal text and placeholders (cached: templates are few, renders many). */
export function compileTemplate(template: string): CompiledTemplate {
  const cached = compiled.get(template);
  if (cached) return cached;
  const parts: (string | Placeholder)[] = [];
  let literal = '';
  let j = 0;
  while (j < template.length) {
    const open = template.indexOf('{', j);
    if (open < 0) break;
    const close = template.indexOf('}', open);
    if (close < 0) break;
    const inner = template.slice(open + 1, close);
    const escaped = inner.startsWith('{') && template[close + 1] === '}' ? placeholderOf(inner.slice(1)) : undefined;
    const placeholder = template[open - 1] === '$' || escaped ? undefined : placeholderOf(inner);
    if (escaped) {
      literal += `${template.slice(j, open)}${inner}}`;
      j = close + 2;
    } else if (placeholder) {
      if (literal + template.slice(j, open) !== '') parts.push(literal + template.slice(j, open));
      parts.push(placeholder);
      literal = '';
      j = close + 1;
    } else {
      literal += template.slice(j, open + 1);
      j = open + 1;
    }
  }
  if (literal + template.slice(j) !== '') parts.push(literal + template.slice(j));
  if (compiled.size > 1_000) compiled.clear();
  compiled.set(template, parts);
  return parts;
}

/** The placeholder names in a template, as written (`input`, `input.image`, `page`). */
export function templatePlaceholders(template: string): string[] {
  return compileTemplate(template).flatMap((part) => (typeof part === 'string' ? [] : [part.text]));
}

/**
 * An error message for the first placeholder that names nothing the task has, else undefined.
 * `names` are the task's wildcards and its input/output record keys.
 */
export function checkTemplate(
  template: string,
  names: { readonly wildcards: readonly string[]; readonly inputs: readonly string[]; readonly outputs: readonly string[] },
): string | undefined {
  const known = [
    'input',
    'inputs',
    'inputs_file',
    ...names.inputs.map((n) => `input.${n}`),
    'output',
    'outputs',
    ...names.outputs.map((n) => `output.${n}`),
    ...names.wildcards,
  ];
  const accepted = new Set([...known, ...names.wildcards.map((w) => `wildcards.${w}`)]);
  for (const name of templatePlaceholders(template)) {
    if (accepted.has(name)) continue;
    const side = /^(input|output)\./.exec(name)?.[1];
    const notRecord = side !== undefined && (side === 'input' ? names.inputs : names.outputs).length === 0;
    const guess = notRecord ? undefined : didYouMean(name.replace(/^wildcards\./, ''), known);
    const hint = notRecord
      ? ` (${side ?? ''} is not a record of names)`
      : guess === undefined
        ? ''
        : ` (did you mean {${guess}}?)`;
    return `unknown placeholder {${name}}${hint}; known: ${known.map((k) => `{${k}}`).join(', ')}`;
  }
  return undefined;
}

function all(files: Readonly<Record<string, readonly string[]>>): readonly string[] {
  const keys = Object.keys(files);
  if (keys.length === 1) return files[keys[0] ?? ''] ?? [];
  return keys.flatMap((key) => files[key] ?? []);
}

/** The words a placeholder stands for (several for `{inputs}` and named fan-in inputs). */
function valuesOf(p: Placeholder, values: TemplateValues): readonly string[] {
  switch (p.kind) {
    case 'input':
      return [all(values.inputs)[0] ?? ''];
    case 'inputs':
      return all(values.inputs);
    case 'inputs-file':
      return [values.inputsFile ?? '{inputs_file}'];
    case 'named-input':
      return values.inputs[p.name] ?? [];
    case 'output':
      return [all(values.outputs)[0] ?? ''];
    case 'outputs':
      return all(values.outputs);
    case 'named-output':
      return values.outputs[p.name] ?? [];
    case 'wildcard': {
      const value = values.wildcards[p.name];
      // checkTemplate rejects unknown wildcards at config time, so this is a bug.
      if (value === undefined) throw new Error(`internal error: no value for {${p.text}}`);
      return [value];
    }
    default:
      return unreachable(p.kind);
  }
}

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
export const VALUE_VAR_PREFIX = 'RUNCUE_P_';

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
        last = vs.length > 1 ? (vs.at(-1) ?? '') : out.pop() ?? '';
        keep = true;
      }
    }
    if (keep) argv.push(...out, last);
  }
  return argv;
}

/**
 * Renders an argv `run`: an element that is exactly `{inputs}`, `{outputs}` or a named input or
 * output expands to one argument per file (possibly none); other placeholders are substituted
 * inside their element, unquoted.
 */
export function renderArgv(argv: readonly string[], values: TemplateValues): string[] {
  const out: string[] = [];
  for (const element of argv) {
    const parts = compileTemplate(element);
    const only = parts.length === 1 ? parts[0] : undefined;
    if (only !== undefined && typeof only !== 'string' && only.kind !== 'input' && only.kind !== 'output' && only.kind !== 'wildcard' && only.kind !== 'inputs-file') {
      out.push(...valuesOf(only, values));
      continue;
    }
    let arg = '';
    for (const part of parts) arg += typeof part === 'string' ? part : valuesOf(part, values).join(' ');
    out.push(arg);
  }
  return out;
}
