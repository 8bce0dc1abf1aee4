/**
 * `runcue init [--cwd DIR]`: writes a commented starter runcue.config.ts (creating DIR if need
 * be), and refuses (exit 2) when the directory already has a runcue config of any kind.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { SEARCH_PLACES } from '../../config/load.ts';
import type { CliContext } from '../program.ts';
import { STARTER_CONFIG, STARTER_FILE } from './init-template.ts';
import { EXIT_CODES } from './shared.ts';

/** Writes the starter config into `--cwd` (default: the working directory); exit 2 if a config exists. */
export function initCommand(options: { readonly cwd?: string }, context: CliContext): Promise<number> {
  const dir = resolve(context.cwd, options.cwd ?? '.');
  const existing = existingConfig(dir);
  if (existing !== undefined) {
    context.stderr.write(`runcue init: ${join(dir, existing)} already exists; not overwriting it\n`);
    return Promise.resolve(EXIT_CODES.usage);
  }
  try {
    mkdirSync(dir, { recursive: true });
    // 'wx': never replace a file that appeared since the check
    writeFileSync(join(dir, STARTER_FILE), STARTER_CONFIG, { flag: 'wx' });
  } catch (error) {
    context.stderr.write(`runcue init: could not write ${join(dir, STARTER_FILE)}: ${error instanceof Error ? error.message : String(error)}\n`);
    return Promise.resolve(EXIT_CODES.usage);
  }
  context.stdout.write(`wrote ${join(dir, STARTER_FILE)}\nnext: put some .txt files in input/, then run \`runcue build\`\n`);
  if (!canImportRuncue(dir)) {
    context.stderr.write("runcue init: note: 'runcue' is not installed here, so the config's import will fail; run `npm install --save-dev runcue`\n");
  }
  return Promise.resolve(EXIT_CODES.ok);
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
