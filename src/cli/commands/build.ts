/** `runcue build [targets...]`. */
import { build } from '../../runner/build.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import type { BuildCommandOptions, CliContext } from '../options.ts';
import { loadForCommand } from './load.ts';
import { queueUrlOf } from './queue-mode.ts';
import { runFlags, runReported } from './run.ts';
import { interruptedExitCode } from './signals.ts';

/** Builds the targets with the chosen reporter, stopping cleanly on a signal; resolves to the exit code. */
export async function buildCommand(targets: readonly string[], options: BuildCommandOptions, context: CliContext): Promise<number> {
  if (options.dryRun) {
    const { planCommand } = await import('./plan.ts');
    return planCommand(targets, options, context);
  }
  const queueUrl = queueUrlOf(options.queue, context);
  if (queueUrl !== undefined) {
    const { queueBuildCommand } = await import('./queue-build.ts');
    return queueBuildCommand(targets, { ...options, queue: queueUrl }, context);
  }
  const loaded = await loadForCommand(options, context);
  if (!loaded.ok) return loaded.exitCode;
  const ran = await runReported(options, context, loaded, (hooks) =>
    build({ ...runFlags(targets, options, loaded, context), keepGoing: Boolean(options.keepGoing), ...hooks }),
  );
  if (!ran.ok) return ran.exitCode;
  return interruptedExitCode(ran.value.interrupted) ?? (ran.value.ok ? EXIT_CODES.ok : EXIT_CODES.failed);
}
