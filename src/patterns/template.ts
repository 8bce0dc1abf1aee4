/**
 * `run` templates, the placeholders a task's command may use: `{input}`, `{inputs}`, `{input.NAME}`, `{output}`, `{outputs}`,
 * `{output.NAME}`, `{wildcards.NAME}` and `{NAME}` (a wildcard).
 *
 * Any other brace group is literal text, so shell and awk syntax pass through (`${HOME}`,
 * `awk '{print $1}'`, `{a,b}`); a `{` right after `$` never opens a placeholder. `{{name}}` writes
 * a literal `{name}` where a bare identifier in braces is meant for the command itself.
 *
 * A template is parsed once (`compileTemplate`, cached by text); rendering runs once per unit.
 * Shell strings are rendered by `shell-template.ts`.
 */
import { unreachable } from '../result.ts';
import { didYouMean } from '../suggest.ts';
import type { Wildcards } from './wildcards.ts';

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
export interface Placeholder {
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
    const hint = notRecord ? ` (${side ?? ''} is not a record of names)` : guess === undefined ? '' : ` (did you mean {${guess}}?)`;
    return `unknown placeholder {${name}}${hint}; known: ${known.map((k) => `{${k}}`).join(', ')}`;
  }
  return undefined;
}

/** Every file of every name, each once (as Make's `$^`): two input patterns may match one file. */
function all(files: Readonly<Record<string, readonly string[]>>): readonly string[] {
  const keys = Object.keys(files);
  if (keys.length === 1) return files[keys[0] ?? ''] ?? [];
  return [...new Set(keys.flatMap((key) => files[key] ?? []))];
}

/** `./-n.txt` for `-n.txt`: a relative path that starts with `-` would be read as an option. */
export function operand(path: string): string {
  return path.charCodeAt(0) === 45 ? `./${path}` : path;
}

/** {@link operand} of each path: the same array when none starts with `-` (the usual case). */
function operands(paths: readonly string[]): readonly string[] {
  return paths.some((p) => p.charCodeAt(0) === 45) ? paths.map(operand) : paths;
}

/**
 * The words a placeholder stands for (several for `{inputs}` and named fan-in inputs). A path
 * that starts with `-` is given as `./-…`, the same file, so that no command takes it for an
 * option; a wildcard's value is not a path and is given as it is.
 */
export function valuesOf(p: Placeholder, values: TemplateValues): readonly string[] {
  switch (p.kind) {
    case 'input':
      return [operand(all(values.inputs)[0] ?? '')];
    case 'inputs':
      return operands(all(values.inputs));
    case 'inputs-file':
      return [values.inputsFile ?? '{inputs_file}'];
    case 'named-input':
      return operands(values.inputs[p.name] ?? []);
    case 'output':
      return [operand(all(values.outputs)[0] ?? '')];
    case 'outputs':
      return operands(all(values.outputs));
    case 'named-output':
      return operands(values.outputs[p.name] ?? []);
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
    if (
      only !== undefined &&
      typeof only !== 'string' &&
      only.kind !== 'input' &&
      only.kind !== 'output' &&
      only.kind !== 'wildcard' &&
      only.kind !== 'inputs-file'
    ) {
      out.push(...valuesOf(only, values));
      continue;
    }
    let arg = '';
    for (const part of parts) arg += typeof part === 'string' ? part : valuesOf(part, values).join(' ');
    out.push(arg);
  }
  return out;
}
