/**
 * Loading for every command that reads the config: the config itself (and the move into its
 * directory), targets typed from any directory, the static plan, and the line for a run that
 * could not start.
 */
import { statSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { findModuleConfig, loadConfig } from '../../config/load.ts';
import { formatConfigFailure } from '../../config/resolve.ts';
import type { ResolvedConfig } from '../../config/resolved.ts';
import { parseTargets } from '../../graph/select.ts';
import { staticPlan, type StaticPlan } from '../../runner/inspect.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import type { CliContext, CommonOptions } from '../options.ts';

/**
 * Loads the config `--config`/`--cwd` name and moves the process into its directory. On failure
 * the message is on stderr and the value is the exit code (2).
 */
export async function loadForCommand(
  options: Pick<CommonOptions, 'config' | 'cwd'>,
  context: CliContext,
): Promise<{ ok: true; config: ResolvedConfig; cwd: string } | { ok: false; exitCode: number }> {
  const cwd = resolve(context.cwd, options.cwd ?? '.');
  const bad = badPlace(options, cwd);
  if (bad !== undefined) {
    context.stderr.write(`runcue: ${bad}\n`);
    return { ok: false, exitCode: EXIT_CODES.usage };
  }
  // A config's code may read files relative to its directory as it is imported
  // (`readFileSync('names.json')`): it runs there, as every command does, wherever runcue started.
  const moduleConfig = options.config !== undefined ? resolve(cwd, options.config) : findModuleConfig(cwd);
  if (moduleConfig !== undefined) enter(dirname(moduleConfig));
  const loading = loadConfig({ cwd, ...(options.config !== undefined ? { configPath: options.config } : {}) });
  const loaded = await untilSettledOrIdle(loading);
  if (loaded === undefined) {
    const name = moduleConfig === undefined ? 'the config' : relative(cwd, moduleConfig) || moduleConfig;
    context.stderr.write(`runcue: ${name} never finished loading: a top-level await in it (or in a module it imports) never settled\n`);
    return { ok: false, exitCode: EXIT_CODES.usage };
  }
  if (!loaded.ok) {
    context.stderr.write(`${formatConfigFailure(loaded.error, cwd)}\n`);
    return { ok: false, exitCode: EXIT_CODES.usage };
  }
  // The config directory is every command's working directory; function tasks get
  // paths relative to it, so the process works from there too.
  process.chdir(loaded.value.root);
  return { ok: true, config: loaded.value, cwd };
}

/**
 * The config's import, or undefined once nothing else is left to wait for: a top-level `await`
 * that never settles would otherwise end Node with exit 13 and a warning that points at runcue's
 * own entry file.
 */
async function untilSettledOrIdle<T>(loading: Promise<T>): Promise<T | undefined> {
  let idle: () => void = () => undefined;
  const stalled = new Promise<undefined>((settle) => {
    idle = () => settle(undefined);
  });
  process.once('beforeExit', idle);
  try {
    return await Promise.race([loading, stalled]);
  } finally {
    process.off('beforeExit', idle);
  }
}

/** Moves into `dir` if it exists; a `--config` in a directory that does not is reported by loading. */
function enter(dir: string): void {
  try {
    process.chdir(dir);
  } catch {
    // loadConfig says what is missing.
  }
}

/**
 * What is wrong with `--cwd` or `--config`, if anything: an empty value was taken as no flag at
 * all, a file as `--cwd` searched its directory, and a directory as `--config` failed with EISDIR.
 */
/** Why `--cwd` (resolved: `cwd`) or `--config` cannot be used, or undefined when they can. */
export function badPlace(options: Pick<CommonOptions, 'config' | 'cwd'>, cwd: string): string | undefined {
  if (options.cwd === '') return '--cwd: expected a directory, got an empty string';
  const dir = statSync(cwd, { throwIfNoEntry: false });
  if (!dir) return `--cwd ${options.cwd ?? cwd}: no such directory`;
  if (!dir.isDirectory()) return `--cwd ${options.cwd ?? cwd}: not a directory`;
  if (options.config === undefined) return undefined;
  if (options.config === '') return '--config: expected a config file, got an empty string';
  if (statSync(resolve(cwd, options.config), { throwIfNoEntry: false })?.isDirectory() === true)
    return `--config ${options.config}: a directory, not a config file`;
  return undefined;
}

/**
 * Loads the config and plans the targets without running anything (list, graph, clean, touch,
 * why). On failure the message is on stderr and the value is the exit code.
 */
export async function loadPlan(
  targets: readonly string[],
  options: Pick<CommonOptions, 'config' | 'cwd'>,
  context: CliContext,
  noDeps = false,
): Promise<{ ok: true; config: ResolvedConfig; cwd: string; plan: StaticPlan } | { ok: false; exitCode: number }> {
  const loaded = await loadForCommand(options, context);
  if (!loaded.ok) return loaded;
  const plan = staticPlan(loaded.config, resolveTargets(targets, loaded.config, loaded.cwd), noDeps);
  if (!plan.ok) {
    context.stderr.write(`${describeBuildFailure(plan.error, loaded.config, loaded.cwd)}\n`);
    return { ok: false, exitCode: EXIT_CODES.usage };
  }
  return { ...loaded, plan: plan.value };
}

/**
 * Targets are relative to the config directory, as every path in the config is. A path typed from elsewhere, absolute
 * or relative to the shell's directory (`../out/a.txt` from a subdirectory), is taken as that
 * file when the config-relative reading names nothing.
 */
export function resolveTargets(targets: readonly string[], config: ResolvedConfig, cwd: string): string[] {
  return targets.map((target) => {
    const inRoot = (abs: string): string | undefined => {
      const rel = relative(config.root, abs).split('\\').join('/');
      return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : undefined;
    };
    if (isAbsolute(target)) return inRoot(target) ?? target;
    if (cwd === config.root || parseTargets([target], config).ok) return target;
    const fromCwd = inRoot(resolve(cwd, target));
    return fromCwd !== undefined && parseTargets([fromCwd], config).ok ? fromCwd : target;
  });
}

/**
 * The line for a run that could not start: a problem of the config itself (a cycle, two tasks
 * claiming one output) names the config file, as every config error does; a bad target does not.
 */
export function describeBuildFailure(
  error: { readonly reason: string; readonly message: string },
  config: ResolvedConfig,
  cwd: string,
): string {
  const inConfig = error.reason === 'cycle' || error.reason === 'output-conflict';
  return inConfig ? `${relative(cwd, config.file) || config.file}: ${error.message}` : `runcue: ${error.message}`;
}
