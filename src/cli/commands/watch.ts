/**
 * `runcue watch [targets...]`: build, then rebuild what file changes touch, until Ctrl-C.
 * Watching never ends on its own: a failure is reported and watching goes on (`--keep-going` is
 * implied); only a signal (exit 130/143) or a bad config or target at startup (exit 2) end it.
 */
import { watch } from '../../watch/session.ts';
import type { BuildCommandOptions, CliContext } from '../options.ts';
import { installLastResort } from './last-resort.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { describeBuildFailure, interruptedExitCode, loadForCommand, reporterFor, runFlags, withSignals } from './shared.ts';

/** Builds, then rebuilds on changes until a signal; resolves to 130/143 (or 2 when it cannot start). */
export async function watchCommand(targets: readonly string[], options: BuildCommandOptions, context: CliContext): Promise<number> {
  const loaded = await loadForCommand(options, context);
  if (!loaded.ok) return loaded.exitCode;
  const { cwd } = loaded;
  const reporter = await reporterFor(options, context, cwd);

  const lastResort = installLastResort(context.stderr);
  const outcome = await withSignals((signal, stopNow) =>
    watch({
      ...runFlags(targets, options, loaded, context),
      signal: lastResort.bind(signal),
      stopNow,
      onEvent: (event) => reporter.onEvent(event),
      onWarning: (message) => context.stderr.write(`runcue: ${message}\n`),
    }),
    context,
  );
  await reporter.close();
  lastResort.dispose();
  const fatal = lastResort.fatalMessage(Boolean(options.verbose));
  if (fatal !== undefined) {
    context.stderr.write(`${fatal}\n`);
    return EXIT_CODES.failed;
  }
  if (!outcome.ok) {
    context.stderr.write(`${describeBuildFailure(outcome.error, loaded.config, loaded.cwd)}\n`);
    return EXIT_CODES.usage;
  }
  return interruptedExitCode(outcome.value.interrupted) ?? EXIT_CODES.sigint;
}
