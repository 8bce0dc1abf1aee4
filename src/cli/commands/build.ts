/** `runcue build [targets...]`. */
import { build } from '../../runner/build.ts';
import type { BuildCommandOptions, CliContext } from '../options.ts';
import { installLastResort } from './last-resort.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { describeBuildFailure, interruptedExitCode, loadForCommand, reporterFor, runFlags, withSignals } from './shared.ts';

/** Builds the targets with the chosen reporter, stopping cleanly on a signal; resolves to the exit code. */
export async function buildCommand(targets: readonly string[], options: BuildCommandOptions, context: CliContext): Promise<number> {
  if (options.dryRun) {
    const { planCommand } = await import('./plan.ts');
    return planCommand(targets, options, context);
  }
  const loaded = await loadForCommand(options, context);
  if (!loaded.ok) return loaded.exitCode;
  const { cwd } = loaded;
  const reporter = await reporterFor(options, context, cwd);

  const lastResort = installLastResort(context.stderr);
  const outcome = await withSignals(async (signal, stopNow) =>
    build({
      ...runFlags(targets, options, loaded, context),
      keepGoing: Boolean(options.keepGoing),
      signal: lastResort.bind(signal),
      stopNow,
      onEvent: (event) => reporter.onEvent(event),
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
  const result = outcome.value;
  return interruptedExitCode(result.interrupted) ?? (result.ok ? EXIT_CODES.ok : EXIT_CODES.failed);
}
