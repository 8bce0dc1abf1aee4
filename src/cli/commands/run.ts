/**
 * What `build` and `watch` share around a run: the reporter the flags ask for, the flags they
 * both take, and one sequence for the run itself (signals, last-resort handlers, closing the
 * reporter, reporting an internal error or a run that could not start).
 */
import type { ResolvedConfig } from '../../config/resolved.ts';
import type { RunEvent } from '../../runner/events.ts';
import { releaseOptimiser } from '../optimiser.ts';
import { noteReach } from '../code-reach.ts';
import type { WatchEvent } from '../../watch/events.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import type { BuildCommandOptions, CliContext, CommonOptions } from '../options.ts';
import { chooseReporterKind, createReporter, withDebugLogFromEnv, type Reporter } from '../report/index.ts';
import { withRunRecords, type AfterRun } from '../report/run-records.ts';
import { installLastResort } from './last-resort.ts';
import { describeBuildFailure, resolveTargets } from './load.ts';
import { interruptedExitCode, withSignals } from './signals.ts';
import { createStuckWatch } from '../stuck-watch.ts';
import type { StuckWatch } from '../../runner/execute/function-executor.ts';

/** True when `CI` is set to anything but empty, `0` or `false` (as CI services set it). */
function isCI(env: Readonly<Record<string, string | undefined>>): boolean {
  const ci = env['CI'];
  return ci !== undefined && ci !== '' && ci !== '0' && ci !== 'false';
}

/** The reporter a command's flags ask for (`--reporter`, `--json`), plus the debug log when set. */
async function reporterFor(options: CommonOptions, context: CliContext, cwd: string): Promise<Reporter> {
  // junit is a file report (written after the run): the display is auto's.
  const requested = options.json ? 'json' : options.reporter === 'junit' ? 'auto' : options.reporter;
  // stderr is made only for a reporter that writes there, or when there is a warning to print: a
  // silent run never makes it (for a pipe, that is the net module and a socket, and a handle
  // that keeps main.ts from exiting at once).
  const kind = requested === 'auto' ? chooseReporterKind(requested, { isTTY: context.stderr.isTTY, ci: isCI(context.env) }) : requested;
  const chosen = await createReporter(kind, {
    stdout: context.stdout,
    get stderr() {
      return context.stderr;
    },
    env: context.env,
    verbose: Boolean(options.verbose),
    cwd,
  });
  return withDebugLogFromEnv(chosen, {
    env: context.env,
    cwd: context.cwd,
    get stderr() {
      return context.stderr;
    },
  });
}

/** What a run's record says the command was, and the file reports written after it. */
export interface Recording {
  readonly command: 'build' | 'watch';
  readonly targets: readonly string[];
  readonly afterRun?: readonly AfterRun[];
}

/** `reporter`, also writing run records (and the file reports) for `recording`. */
function recorded(reporter: Reporter, recording: Recording, context: CliContext, config: ResolvedConfig): Reporter {
  return withRunRecords(reporter, {
    root: config.root,
    keep: config.keepRuns,
    command: recording.command,
    targets: recording.targets,
    pid: process.pid,
    now: () => Date.now(),
    get stderr() {
      return context.stderr;
    },
    exitCode: (status, interrupted) => interruptedExitCode(interrupted) ?? (status === 'ok' ? EXIT_CODES.ok : EXIT_CODES.failed),
    afterRun: recording.afterRun ?? [],
  });
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

/** What a run gets from `runReported`: when to stop, when to stop at once, where to send events. */
export interface RunHooks {
  readonly signal: AbortSignal;
  readonly stopNow: AbortSignal;
  readonly stuckWatch: StuckWatch;
  readonly onEvent: (event: RunEvent | WatchEvent) => void;
}

/**
 * Runs `work` reported by the reporter the flags ask for (and recorded as `recording` says),
 * stopped by signals, with the last-resort handlers installed. Resolves to the run's value, or to the exit code when an internal error
 * ended it (1) or it could not start (2, the reason on stderr).
 */
export async function runReported<T>(
  options: CommonOptions,
  context: CliContext,
  loaded: { readonly config: ResolvedConfig; readonly cwd: string },
  work: (
    hooks: RunHooks,
  ) => Promise<
    { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: { readonly reason: string; readonly message: string } }
  >,
  recording: Recording,
): Promise<{ ok: true; value: T } | { ok: false; exitCode: number }> {
  const reporter = recorded(await reporterFor(options, context, loaded.cwd), recording, context, loaded.config);
  const lastResort = installLastResort(() => context.stderr);
  const stuckWatch = createStuckWatch();
  const outcome = await withSignals(
    (signal, stopNow) =>
      work({
        signal: lastResort.bind(signal),
        stopNow,
        stuckWatch,
        onEvent: (event) => {
          releaseOptimiser(event);
          noteReach(event);
          reporter.onEvent(event);
        },
      }),
    context,
  );
  await stuckWatch.dispose();
  await reporter.close();
  lastResort.dispose();
  const fatal = lastResort.fatalMessage(Boolean(options.verbose));
  if (fatal !== undefined) {
    context.stderr.write(`${fatal}\n`);
    return { ok: false, exitCode: EXIT_CODES.failed };
  }
  if (!outcome.ok) {
    context.stderr.write(`${describeBuildFailure(outcome.error, loaded.config, loaded.cwd)}\n`);
    return { ok: false, exitCode: EXIT_CODES.usage };
  }
  return { ok: true, value: outcome.value };
}
