/** Pieces every command shares: exit codes and the signal handling around a run. */
import { existsSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { parseTargets } from '../../graph/select.ts';
import { loadConfig } from '../../config/load.ts';
import type { ResolvedConfig } from '../../config/resolved.ts';
import { staticPlan, type StaticPlan } from '../../runner/inspect.ts';
import { formatConfigFailure } from '../../config/resolve.ts';
import type { BuildCommandOptions, CliContext, CommonOptions } from '../options.ts';
import { chooseReporterKind, createReporter, withDebugLogFromEnv, type Reporter } from '../report/index.ts';
import { EXIT_CODES } from '../exit-codes.ts';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Runs `work` with an AbortSignal that SIGINT, SIGTERM and SIGHUP (a closed terminal or SSH
 * session) abort: the runner then stops every child tree and removes partial outputs. A second
 * signal aborts `stopNow`: the grace period ends and every tree gets SIGKILL, but cleanup still
 * happens. A third exits at once (the watchdog still stops the trees, and the in-flight records
 * make the next run redo the units). A closed stdout (`runcue build --json | head -1`) stops the
 * run as the first signal does, as SIGPIPE would stop make.
 */
export async function withSignals<T>(
  work: (signal: AbortSignal, stopNow: AbortSignal) => Promise<T>,
  streams: { readonly stdout: NodeJS.WritableStream; readonly stderr: NodeJS.WritableStream },
): Promise<T> {
  const { stdout, stderr } = streams;
  const controller = new AbortController();
  const now = new AbortController();
  let received = 0;
  const say = (text: string): void => {
    stderr.write(`runcue: ${text}\n`);
  };
  const onSignal = (name: NodeJS.Signals): void => {
    received++;
    if (name === 'SIGHUP') {
      // The terminal is gone: writing to it fails (EIO), which must not end the cleanup.
      stdout.on('error', () => undefined);
      stderr.on('error', () => undefined);
    }
    if (received === 1 && !controller.signal.aborted) {
      say(`stopping (${name}): waiting for running commands to stop; again to kill them at once`);
      controller.abort(name);
    } else if (!now.signal.aborted) {
      say('killing running commands now');
      if (!controller.signal.aborted) controller.abort(name);
      now.abort(name);
    } else {
      say('exiting at once: the watchdog kills what still runs; interrupted units rerun next time');
      process.exit(interruptedExitCode(String(controller.signal.reason)) ?? EXIT_CODES.sigint);
    }
  };
  const onStdoutError = (error: NodeJS.ErrnoException): void => {
    if (error.code === 'EPIPE' && !controller.signal.aborted) controller.abort('SIGPIPE');
  };
  for (const name of STOP_SIGNALS) process.on(name, onSignal);
  stdout.on('error', onStdoutError);
  try {
    return await work(controller.signal, now.signal);
  } finally {
    for (const name of STOP_SIGNALS) process.off(name, onSignal);
    // Later writes to a broken pipe must not crash the process either.
    if (controller.signal.reason === 'SIGPIPE') stdout.on('error', () => undefined);
    stdout.off('error', onStdoutError);
  }
}

/** The exit code for a run stopped by `reason` (a signal name), or undefined. */
export function interruptedExitCode(reason: string | undefined): number | undefined {
  if (reason === 'SIGINT') return EXIT_CODES.sigint;
  if (reason === 'SIGTERM') return EXIT_CODES.sigterm;
  if (reason === 'SIGHUP') return EXIT_CODES.sighup;
  if (reason === 'SIGPIPE') return EXIT_CODES.sigpipe;
  return undefined;
}

/**
 * Loads the config `--config`/`--cwd` name and moves the process into its directory. On failure
 * the message is on stderr and the value is the exit code (2).
 */
export async function loadForCommand(
  options: Pick<CommonOptions, 'config' | 'cwd'>,
  context: CliContext,
): Promise<{ ok: true; config: ResolvedConfig; cwd: string } | { ok: false; exitCode: number }> {
  const cwd = resolve(context.cwd, options.cwd ?? '.');
  if (!existsSync(cwd)) {
    context.stderr.write(`runcue: --cwd ${options.cwd ?? cwd}: no such directory\n`);
    return { ok: false, exitCode: EXIT_CODES.usage };
  }
  const loaded = await loadConfig({ cwd, ...(options.config ? { configPath: options.config } : {}) });
  if (!loaded.ok) {
    context.stderr.write(`${formatConfigFailure(loaded.error, cwd)}\n`);
    return { ok: false, exitCode: EXIT_CODES.usage };
  }
  // The config directory is every command's working directory; function tasks get
  // paths relative to it, so the process works from there too.
  process.chdir(loaded.value.root);
  return { ok: true, config: loaded.value, cwd };
}

/** True when `CI` is set to anything but empty, `0` or `false` (as CI services set it). */
export function isCI(env: Readonly<Record<string, string | undefined>>): boolean {
  const ci = env['CI'];
  return ci !== undefined && ci !== '' && ci !== '0' && ci !== 'false';
}

/** The reporter a command's flags ask for (`--reporter`, `--json`), plus the debug log when set. */
export async function reporterFor(options: CommonOptions, context: CliContext, cwd: string): Promise<Reporter> {
  const requested = options.json ? 'json' : options.reporter;
  const kind = chooseReporterKind(requested, { isTTY: context.stderr.isTTY, ci: isCI(context.env) });
  const chosen = await createReporter(kind, { stdout: context.stdout, stderr: context.stderr, env: context.env, verbose: Boolean(options.verbose), cwd });
  return withDebugLogFromEnv(chosen, { env: context.env, cwd: context.cwd, stderr: context.stderr });
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
export function describeBuildFailure(error: { readonly reason: string; readonly message: string }, config: ResolvedConfig, cwd: string): string {
  const inConfig = error.reason === 'cycle' || error.reason === 'output-conflict';
  return inConfig ? `${relative(cwd, config.file) || config.file}: ${error.message}` : `runcue: ${error.message}`;
}

/** What build and watch take from the command line alike. */
export function runFlags(
  targets: readonly string[],
  options: BuildCommandOptions,
  loaded: { readonly config: ResolvedConfig; readonly cwd: string },
  context: CliContext,
): {
  config: ResolvedConfig;
  targets: string[];
  force: boolean;
  jobs?: number;
  noDeps: boolean;
  verbose: boolean;
  env: Readonly<Record<string, string | undefined>>;
} {
  return {
    config: loaded.config,
    targets: resolveTargets(targets, loaded.config, loaded.cwd),
    force: Boolean(options.force),
    ...(options.jobs ? { jobs: options.jobs } : {}),
    noDeps: !options.deps,
    verbose: Boolean(options.verbose),
    env: context.env,
  };
}
