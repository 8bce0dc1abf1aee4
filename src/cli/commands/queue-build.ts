/**
 * `runcue build --queue URL`: the coordinator. It plans, checks and judges staleness as a local
 * build does (by content hash: see hash-freshness.ts), and adds each unit to run as a job on the
 * queue of its services; `runcue worker` processes run them.
 */
import { build } from '../../runner/build.ts';
import { RemoteQueues } from '../../runner/remote/coordinator.ts';
import { withHashFreshness } from '../../runner/remote/hash-freshness.ts';
import { configHash } from '../../runner/remote/job.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import type { BuildCommandOptions, CliContext } from '../options.ts';
import { loadForCommand } from './load.ts';
import { connectQueue } from './queue-mode.ts';
import { runFlags, runReported } from './run.ts';
import { interruptedExitCode } from './signals.ts';

/** Builds the targets through the queue at `options.queue`; resolves to the exit code. */
export async function queueBuildCommand(
  targets: readonly string[],
  options: BuildCommandOptions & { readonly queue: string },
  context: CliContext,
): Promise<number> {
  const connected = await connectQueue(options.queue, options.queue === context.env['RUNCUE_QUEUE'] ? 'RUNCUE_QUEUE' : '--queue', context);
  if (!connected.ok) return connected.exitCode;
  const loaded = await loadForCommand(options, context);
  if (!loaded.ok) return loaded.exitCode;
  const config = withHashFreshness(loaded.config);
  const remote = new RemoteQueues({ target: connected.target, config, configHash: configHash(config) });
  try {
    const ran = await runReported(options, context, { ...loaded, config }, (hooks) =>
      build({
        ...runFlags(targets, options, { ...loaded, config }, context),
        keepGoing: Boolean(options.keepGoing),
        executorFor: remote.executorFor,
        remote: true,
        ...hooks,
      }),
    );
    if (!ran.ok) return ran.exitCode;
    return interruptedExitCode(ran.value.interrupted) ?? (ran.value.ok ? EXIT_CODES.ok : EXIT_CODES.failed);
  } finally {
    await remote.close();
  }
}
