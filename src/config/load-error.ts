/**
 * Turns an error thrown while importing a config into a `config-load` failure that names the
 * place: `runcue.config.ts:2:26: SyntaxError: ...` with the offending line beneath, never a
 * `?t=3` cache-busting query or a stack trace.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeThrown } from '../describe-thrown.ts';
import { checkSyntax } from './check-syntax.ts';
import { commonjsPackageJson } from './package-type.ts';
import type { ConfigFailure, SourcePosition } from './resolved.ts';

/** A place Node reported: the file (a path), and the position in it. */
interface Located {
  readonly file: string;
  readonly position: SourcePosition;
}

const MODULE_EXTENSIONS: ReadonlySet<string> = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']);

/** The failure for `error`, thrown while loading `file`. */
export function loadFailure(file: string, error: unknown): ConfigFailure {
  // `throw { code: 1 }` reads {"code":1}, not [object Object]; `throw Object.create(null)` does not crash String().
  if (!(error instanceof Error)) return { reason: 'config-load', file, message: describeThrown(error) };
  // The config itself is missing; a file its code reads (`readFileSync('names.json')`) is not.
  if ('code' in error && error.code === 'ENOENT' && 'path' in error && typeof error.path === 'string' && samePath(error.path, file)) {
    return { reason: 'config-load', file, message: 'no such file' };
  }
  // cosmiconfig's JSON and YAML loaders prefix the message with the file, which we print anyway.
  const message = error.message.replace(/^(JSON|YAML) Error in .*:\n/, (_, kind: string) => `${kind} error: `);
  let head = error.name === 'Error' || message.startsWith(`${error.name}:`) ? message : `${error.name}: ${message}`;
  const hint = hintFor(file, error);
  if (hint !== undefined) head += `\n${hint}`;
  let located = locate(error.stack ?? '', file);
  // V8 places a syntax error of an ES module nowhere the importer can see; `node --check` does.
  if (located === undefined && error.name === 'SyntaxError' && MODULE_EXTENSIONS.has(path.extname(file))) {
    located = locate(checkSyntax(file) ?? '', file);
  }
  if (located === undefined) return { reason: 'config-load', file, message: head };
  if (samePath(located.file, file)) return { reason: 'config-load', file, message: head, position: inSource(file, located.position) };
  // The error is in a module the config imports: say where.
  const { line, column } = located.position;
  const where = `${shortPath(located.file, file)}:${line}${column === undefined ? '' : `:${column}`}`;
  const [first = '', ...rest] = head.split('\n');
  return { reason: 'config-load', file, message: [`${first} (at ${where})`, ...rest].join('\n') };
}

/** What to do about errors a newcomer meets: runcue not installed, CommonJS packages and non-erasable TypeScript. */
function hintFor(file: string, error: Error): string | undefined {
  const code = 'code' in error ? error.code : undefined;
  if (code === 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX') {
    return (
      "runcue loads TypeScript configs with Node's type stripping, which runs erasable TypeScript only: " +
      'use a union of string literals or an `as const` object instead of an enum, and plain properties instead of namespaces or parameter properties'
    );
  }
  if (code === 'ERR_MODULE_NOT_FOUND' && error.message.startsWith("Cannot find package 'runcue' ")) {
    // The config's own `import ... from 'runcue'`: runcue on PATH (npx, a global) is not enough.
    return "the config imports 'runcue', which this project does not have: install it here (npm install --save-dev runcue, or the path of a runcue checkout)";
  }
  const typescript = code === 'ERR_MODULE_NOT_FOUND' ? typescriptSibling(error.message) : undefined;
  if (typescript !== undefined) {
    // tsc's habit for nodenext (`import './lib.js'` for lib.ts) is not Node's: it runs the .ts as named.
    return `${path.basename(typescript)} is there: Node imports the path as written and never swaps '.js' for '.ts', so name the file itself (tsc accepts that with allowImportingTsExtensions or rewriteRelativeImportExtensions)`;
  }
  const extension = path.extname(file);
  if (
    /Cannot use import statement outside a module|Unexpected token 'export'/.test(error.message) &&
    (extension === '.ts' || extension === '.js')
  ) {
    const packageJson = commonjsPackageJson(path.dirname(file));
    const why =
      packageJson === undefined
        ? 'Node loads it as CommonJS'
        : `${shortPath(packageJson, file)} says "type": "commonjs", so Node loads it as CommonJS`;
    const renamed = `${path.basename(file, extension)}.m${extension.slice(1)}`;
    return `${why}: rename it to ${renamed} (or set "type": "module" in package.json)`;
  }
  return undefined;
}

/** The TypeScript file beside a module Node did not find (`lib.js` or `lib` when `lib.ts` exists). */
function typescriptSibling(message: string): string | undefined {
  const missing = /^Cannot find module '([^']+)' imported from /.exec(message)?.[1];
  if (missing === undefined || !path.isAbsolute(missing)) return undefined;
  const extension = path.extname(missing);
  const stem = extension === '.js' || extension === '.mjs' || extension === '.cjs' ? missing.slice(0, -extension.length) : missing;
  const candidates = extension === '.mjs' ? ['.mts'] : extension === '.cjs' ? ['.cts'] : ['.ts', '.mts'];
  return candidates.map((ts) => stem + ts).find((candidate) => existsSync(candidate));
}

/**
 * Where `stack` points. Node decorates a syntax error's stack with `path:line`, the source and a
 * caret line; an exception thrown while the config runs has it in a stack frame instead: the
 * innermost frame in `file`, else the innermost one in a project module it imports (never Node's,
 * a dependency's or runcue's own).
 */
function locate(stack: string, file: string): Located | undefined {
  const lines = stack.split('\n');
  const decorated = /^(\S.*):(\d+)$/.exec(lines[0] ?? '');
  if (decorated !== null) {
    const [, where = '', line = ''] = decorated;
    return { file: filePath(where), position: { line: Number(line), ...caretAt(lines) } };
  }
  let first: Located | undefined;
  for (const frame of stack.matchAll(/^\s+at (?:.*\()?(\S+?):(\d+):(\d+)\)?$/gm)) {
    const [, where = '', line = '', column = ''] = frame;
    if (where.startsWith('node:') || where === '<anonymous>') continue;
    const located = { file: filePath(where), position: { line: Number(line), column: Number(column) } };
    if (samePath(located.file, file)) return located;
    if (isProjectModule(located.file, file)) first ??= located;
  }
  return first;
}

/** The column of the first `^` under the source excerpt, with the line it points into. */
function caretAt(lines: readonly string[]): { column?: number; text?: string } {
  for (let i = 2; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.trim() === '') return {};
    if (/^\s*\^+\s*$/.test(line)) return { column: line.indexOf('^') + 1, text: lines[i - 1] ?? '' };
  }
  return {};
}

/**
 * The position against the file's own line: Node's TypeScript excerpt shows a tab as four
 * spaces, so its caret column counts those; the column reported counts characters.
 */
function inSource(file: string, position: SourcePosition): SourcePosition {
  const { line, column, text } = position;
  if (column === undefined || text === undefined) return position;
  let source: string | undefined;
  try {
    source = readFileSync(file, 'utf8').split(/\r?\n/)[line - 1];
  } catch {
    return position;
  }
  if (source === undefined || source === text || source.replaceAll('\t', '    ') !== text) return position;
  let shown = 0;
  let index = 0;
  while (index < source.length && shown + (source[index] === '\t' ? 4 : 1) < column) {
    shown += source[index] === '\t' ? 4 : 1;
    index += 1;
  }
  return { line, column: index + 1, text: source };
}

/** A path from a stack: file URLs become paths, and reload queries (`?t=3`) go. */
function filePath(where: string): string {
  if (where.startsWith('file:')) {
    try {
      const url = new URL(where);
      url.search = '';
      return fileURLToPath(url);
    } catch {
      return where;
    }
  }
  return where.replace(/\?t=\d+$/, '');
}

/** `module` relative to the config's directory when it is inside it. */
function shortPath(module: string, configFile: string): string {
  return isProjectModule(module, configFile) ? path.relative(path.dirname(configFile), module) : module;
}

function isProjectModule(module: string, configFile: string): boolean {
  const shown = path.relative(path.dirname(configFile), module);
  return !shown.startsWith('..') && !path.isAbsolute(shown) && !shown.split(path.sep).includes('node_modules');
}

function samePath(a: string, b: string): boolean {
  return path.resolve(a) === path.resolve(b);
}
