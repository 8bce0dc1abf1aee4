/**
 * `runcue init [--cwd DIR]`: writes a commented starter runcue.config.ts (creating DIR if need
 * be), and refuses (exit 2) when the directory already has a runcue config of any kind. In a
 * CommonJS package it writes runcue.config.mts, which Node loads as an ES module there. It adds
 * `.runcue/` (runcue's cache) to the directory's .gitignore, and a sample input/hello.txt unless input/ exists.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { SEARCH_PLACES } from '../../config/load.ts';
import { commonjsPackageJson } from '../../config/package-type.ts';
import { err, ok, type Result } from '../../result.ts';
import type { CliContext, InitCommandOptions } from '../options.ts';
import { STARTER_CONFIG, STARTER_FILE, STARTER_FILE_ESM } from './init-template.ts';
import { EXIT_CODES } from '../exit-codes.ts';

/** Writes the starter config into `--cwd` (default: the working directory); exit 2 if a config exists. */
export function initCommand(options: InitCommandOptions, context: CliContext): Promise<number> {
  const dir = resolve(context.cwd, options.cwd ?? '.');
  // As for every command (load.ts): an empty --cwd is not "no flag", and a file is no directory.
  const bad =
    options.cwd === ''
      ? '--cwd: expected a directory, got an empty string'
      : statSync(dir, { throwIfNoEntry: false })?.isDirectory() === false
        ? `--cwd ${options.cwd ?? dir}: not a directory`
        : undefined;
  if (bad !== undefined) {
    context.stderr.write(`runcue init: ${bad}\n`);
    return Promise.resolve(EXIT_CODES.usage);
  }
  const existing = existingConfig(dir);
  if (existing !== undefined) {
    context.stderr.write(`runcue init: ${join(dir, existing)} already exists; not overwriting it\n`);
    return Promise.resolve(EXIT_CODES.usage);
  }
  // A .ts config in a "type": "commonjs" package (npm 11's `npm init -y`) would load as CommonJS.
  const commonjs = commonjsPackageJson(dir);
  const file = join(dir, commonjs === undefined ? STARTER_FILE : STARTER_FILE_ESM);
  try {
    mkdirSync(dir, { recursive: true });
    // 'wx': never replace a file that appeared since the check
    writeFileSync(file, STARTER_CONFIG, { flag: 'wx' });
  } catch (error) {
    context.stderr.write(`runcue init: could not write ${file}: ${errorText(error)}\n`);
    return Promise.resolve(EXIT_CODES.usage);
  }
  const why = commonjs === undefined ? '' : ` (.mts: ${commonjs} says "type": "commonjs")`;
  context.stdout.write(`wrote ${file}${why}\n`);
  const ignored = ignoreStateDir(dir);
  if (ignored.ok) {
    if (ignored.value) context.stdout.write(`added .runcue/ (runcue's cache) to ${join(dir, '.gitignore')}\n`);
  } else {
    context.stderr.write(`runcue init: note: could not add .runcue/ to ${join(dir, '.gitignore')}: ${ignored.error}\n`);
  }
  const sample = writeSample(dir);
  if (!sample.ok) context.stderr.write(`runcue init: note: could not write ${join(dir, SAMPLE_INPUT)}: ${sample.error}\n`);
  if (sample.ok && sample.value) {
    context.stdout.write(`wrote ${join(dir, SAMPLE_INPUT)} (a sample input)\n`);
    context.stdout.write('next: run `runcue build`, then put your own .txt files in input/\n');
  } else {
    context.stdout.write('next: put some .txt files in input/, then run `runcue build`\n');
  }
  if (!canImportRuncue(dir)) {
    context.stderr.write(
      "runcue init: note: 'runcue' is not installed here, so the config's import will fail; run `npm install --save-dev runcue`\n",
    );
  }
  return Promise.resolve(EXIT_CODES.ok);
}

/** The sample input `init` writes, so that `runcue init && runcue build` builds something. */
const SAMPLE_INPUT = 'input/hello.txt';

/** Writes the sample input unless `dir`/input exists (the user's files are never touched); `true` when it wrote it. */
function writeSample(dir: string): Result<boolean, string> {
  if (existsSync(join(dir, 'input'))) return ok(false);
  try {
    mkdirSync(join(dir, 'input'));
    writeFileSync(join(dir, SAMPLE_INPUT), 'hello from runcue\n', { flag: 'wx' });
    return ok(true);
  } catch (error) {
    return err(errorText(error));
  }
}

/**
 * Adds `.runcue/` to `dir`/.gitignore (creating it) unless a line there already ignores it;
 * `true` when it added the line.
 */
function ignoreStateDir(dir: string): Result<boolean, string> {
  const file = join(dir, '.gitignore');
  try {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (text.split(/\r?\n/).some((line) => /^\/?\.runcue\/?\s*$/.test(line))) return ok(false);
    const separator = text === '' || text.endsWith('\n') ? '' : '\n';
    appendFileSync(file, `${separator}.runcue/\n`);
    return ok(true);
  } catch (error) {
    return err(errorText(error));
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The config file name in `dir` that loading would find, or undefined. */
function existingConfig(dir: string): string | undefined {
  for (const name of SEARCH_PLACES) {
    const file = join(dir, name);
    if (!existsSync(file)) continue;
    if (name !== 'package.json') return name;
    if (hasRuncueKey(file)) return 'package.json ("runcue" key)';
  }
  return undefined;
}

function hasRuncueKey(file: string): boolean {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return typeof parsed === 'object' && parsed !== null && 'runcue' in parsed;
  } catch {
    return false;
  }
}

function canImportRuncue(dir: string): boolean {
  try {
    createRequire(join(dir, 'noop.js')).resolve('runcue/package.json');
    return true;
  } catch {
    return false;
  }
}
