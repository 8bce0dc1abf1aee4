#!/usr/bin/env node
// The largest source files and the longest functions, to watch the size limits the lint sets
// (`max-lines`, `max-lines-per-function` in eslint.config.js). `node bench/sizes.mjs --help`.
// Lines are counted as the lint counts them: every line, blank lines and comments included.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import ts from 'typescript';

const HELP = `usage: node bench/sizes.mjs [options] [dir]

  dir             the directory to measure (default: src)
  --top N         how many files and functions to list (default 10)
  -h, --help      this text`;

const REPO = path.dirname(import.meta.dirname);

/** Every .ts file under `dir`, relative to the repo, sorted. */
function sourceFiles(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.relative(REPO, path.join(entry.parentPath, entry.name)))
    .sort();
}

/** The name a reader would search for: declared, or the variable or property it is assigned to. */
function functionName(node) {
  if (node.name) return node.name.getText();
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) return parent.name.getText();
  return '<anonymous>';
}

/** Each function with a body in `file`: its name, first line and length in lines. */
function functionsIn(file, text) {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found = [];
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.end).line;
      found.push({ where: `${file}:${first + 1}`, name: functionName(node), lines: last - first + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Lines of a text as an editor numbers them (a final newline ends the last line, not a new one). */
function lineCount(text) {
  return text === '' ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

function table(rows) {
  const width = Math.max(...rows.map(([n]) => String(n).length));
  return rows.map(([n, what]) => `  ${String(n).padStart(width)}  ${what}`).join('\n');
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '10' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const top = Number(values.top);
if (!Number.isInteger(top) || top < 1) {
  console.error(`--top: expected a positive integer, got ${values.top}\n\n${HELP}`);
  process.exit(2);
}

const dir = path.resolve(REPO, positionals[0] ?? 'src');
const files = [];
const functions = [];
for (const file of sourceFiles(dir)) {
  const text = readFileSync(path.join(REPO, file), 'utf8');
  files.push({ file, lines: lineCount(text) });
  functions.push(...functionsIn(file, text));
}
files.sort((a, b) => b.lines - a.lines || a.file.localeCompare(b.file));
functions.sort((a, b) => b.lines - a.lines || a.where.localeCompare(b.where));

const total = files.reduce((sum, f) => sum + f.lines, 0);
console.log(`${path.relative(REPO, dir) || '.'}: ${files.length} files, ${total} lines, ${functions.length} functions\n`);
console.log(`Largest files (lines; the lint's limit is 400):`);
console.log(table(files.slice(0, top).map((f) => [f.lines, f.file])));
console.log(`\nLongest functions (lines; the lint's limit is 80):`);
console.log(table(functions.slice(0, top).map((f) => [f.lines, `${f.where} ${f.name}`])));
