/**
 * Finds and loads the config file: the only caller of cosmiconfig. TypeScript configs are
 * imported by Node itself (type stripping), so they may use erasable TypeScript only.
 */
import type { CosmiconfigResult, Loader } from 'cosmiconfig';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { err, ok, type Result } from '../result.ts';
import { loadFailure } from './load-error.ts';
import type { ConfigFailure, ResolvedConfig } from './resolved.ts';
import { LOAD_PARAM, reloadLocalImports } from './reload-imports.ts';
import { resolveConfig } from './resolve.ts';

/** Where a config is looked for in each directory, first match wins. */
export const SEARCH_PLACES: readonly string[] = [
  'package.json',
  'runcue.config.ts',
  'runcue.config.mts',
  'runcue.config.js',
  'runcue.config.mjs',
  'runcue.config.cjs',
  'runcue.config.json',
  'runcue.config.yaml',
  'runcue.config.yml',
];

/** Where and how to find the config. */
export interface LoadOptions {
  /** The directory to search from (and to resolve `configPath` against); default the working directory. */
  readonly cwd?: string;
  /** An explicit config file (`--config`): no search. */
  readonly configPath?: string;
  /** Default `concurrent` of the `cpu` service (the core count when absent). */
  readonly cores?: number;
}

let importCount = 0;

/**
 * Imports a module config and returns its default export. Every load after the first gets a new
 * URL, so a reload in watch mode runs the edited file (and the edited modules it imports) instead
 * of Node's cached modules. The first is the plain file URL: that is what the config's stack
 * traces and `import.meta.url` show in every build, and the hooks reloads need cost nothing then.
 */
const importDefault: Loader = async (file) => {
  importCount += 1;
  if (importCount > 1) reloadLocalImports();
  forgetCommonJs(path.dirname(file));
  const href = pathToFileURL(file).href;
  const url = importCount === 1 ? href : `${href}?${LOAD_PARAM}=${String(importCount)}`;
  const module = (await import(/* @vite-ignore */ url)) as Readonly<Record<string, unknown>>;
  if (module['default'] === undefined || exportsNothing(module)) {
    throw new Error('the file has no default export (expected `export default defineConfig({ ... })`)');
  }
  return module['default'];
};

/**
 * Node caches CommonJS modules (a `module.exports` config, what it requires) by path, not URL:
 * the project's are dropped before each load, so a reload runs them as edited. Packages stay.
 */
function forgetCommonJs(dir: string): void {
  const cache = createRequire(path.join(dir, 'noop.js')).cache;
  for (const key of Object.keys(cache)) {
    if (key.startsWith(dir + path.sep) && !key.includes(`${path.sep}node_modules${path.sep}`)) Reflect.deleteProperty(cache, key);
  }
}

/**
 * A file without import or export statements is loaded as CommonJS, whose default export is its
 * `module.exports`: `{}` when it assigns none, which means it exports nothing.
 */
function exportsNothing(module: Readonly<Record<string, unknown>>): boolean {
  const exported = module['default'];
  return 'module.exports' in module && typeof exported === 'object' && exported !== null && Object.keys(exported).length === 0;
}

/**
 * Finds the config (`configPath`, or a search from `cwd` up to the file system root), loads
 * and resolves it. Every failure is a value: not found, not loadable, or invalid.
 */
export async function loadConfig(options: LoadOptions = {}): Promise<Result<ResolvedConfig, ConfigFailure>> {
  const cwd = path.resolve(options.cwd ?? '.');
  const resolveOptions = options.cores === undefined ? {} : { cores: options.cores };
  // The usual case, a module config found by name, needs no cosmiconfig (a tenth of a no-op build's modules).
  const direct = options.configPath === undefined ? findModuleConfig(cwd) : undefined;
  if (direct !== undefined) {
    const loaded = await loadModuleConfig(direct);
    return loaded.ok ? resolveConfig(loaded.value, direct, resolveOptions) : loaded;
  }
  const explorer = await createExplorer(cwd);
  if (!explorer.ok) return explorer;
  let found: CosmiconfigResult = null;
  if (options.configPath !== undefined) {
    const file = path.resolve(cwd, options.configPath);
    try {
      found = await explorer.value.load(file);
    } catch (error) {
      return err(loadFailure(file, error));
    }
    if (found === null) return err({ reason: 'config-load', file, message: 'no "runcue" key in package.json' });
  } else {
    for (const dir of ancestors(cwd)) {
      try {
        found = await explorer.value.search(dir);
      } catch (error) {
        return err(loadFailure(failedFile(error) ?? dir, error));
      }
      if (found !== null) break;
    }
    if (found === null) return err(notFound(cwd));
  }
  if (found.isEmpty === true) return err({ reason: 'config-load', file: found.filepath, message: 'the file is empty' });
  return resolveConfig(found.config, found.filepath, resolveOptions);
}

type Explorer = ReturnType<typeof import('cosmiconfig').cosmiconfig>;

async function createExplorer(cwd: string): Promise<Result<Explorer, ConfigFailure>> {
  const { cosmiconfig } = await import('cosmiconfig');
  try {
    return ok(
      cosmiconfig('runcue', {
        searchPlaces: [...SEARCH_PLACES],
        loaders: { '.ts': importDefault, '.mts': importDefault, '.js': importDefault, '.mjs': importDefault, '.cjs': importDefault },
        // One directory per search call: the walk up is ours, so it stops at the root and never
        // falls back to a per-user config directory as cosmiconfig's 'global' strategy does.
        searchStrategy: 'none',
        // An empty runcue.config.ts is an error, not a reason to use a parent directory's config.
        ignoreEmptySearchPlaces: false,
        cache: false,
      }),
    );
  } catch (error) {
    // cosmiconfig first reads settings of its own from the shell's directory (its package.json,
    // .config/config.yaml, ...): one that does not parse throws here, and names itself.
    return err(loadFailure(failedFile(error) ?? cwd, error));
  }
}

const MODULE_CONFIG = /\.(?:ts|mts|js|mjs|cjs)$/;

/**
 * The config the search would find, when it is a module file (`runcue.config.ts`, ...); undefined
 * when the search must go through cosmiconfig: a JSON or YAML config, or a package.json that has
 * (or may have: it does not parse) a "runcue" key.
 */
export function findModuleConfig(cwd: string): string | undefined {
  for (const dir of ancestors(cwd)) {
    for (const name of SEARCH_PLACES) {
      const file = path.join(dir, name);
      if (!existsSync(file)) continue;
      if (name === 'package.json') {
        if (packageHasNoRuncueKey(file)) continue;
        return undefined;
      }
      return MODULE_CONFIG.test(name) ? file : undefined;
    }
  }
  return undefined;
}

function packageHasNoRuncueKey(file: string): boolean {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return typeof parsed === 'object' && parsed !== null && !Object.hasOwn(parsed, 'runcue');
  } catch {
    return false;
  }
}

/** Imports a module config as cosmiconfig would: an empty file is an error, a load error a failure. */
async function loadModuleConfig(file: string): Promise<Result<unknown, ConfigFailure>> {
  try {
    if (readFileSync(file, 'utf8').trim() === '') return err({ reason: 'config-load', file, message: 'the file is empty' });
    return ok(await importDefault(file, ''));
  } catch (error) {
    return err(loadFailure(file, error));
  }
}

function ancestors(dir: string): string[] {
  const dirs = [dir];
  for (let parent = path.dirname(dir); parent !== dirs.at(-1); parent = path.dirname(parent)) dirs.push(parent);
  return dirs;
}

function notFound(cwd: string): ConfigFailure {
  const names = 'runcue.config.ts (or .mts, .js, .mjs, .cjs, .json, .yaml, .yml) or a "runcue" key in package.json';
  const message = `no runcue config found in ${cwd} or any parent directory (looked for ${names}); ` + 'run `runcue init` to create one';
  return { reason: 'config-not-found', cwd, message };
}

/** cosmiconfig tags loader errors with the file they came from. */
function failedFile(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('filepath' in error)) return undefined;
  return typeof error.filepath === 'string' ? error.filepath : undefined;
}
