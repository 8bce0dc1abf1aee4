/**
 * `runcue build --queue URL`: the coordinator. It plans, checks and judges staleness as a local
 * build does (by content hash: see hash-freshness.ts), and adds each unit to run as a job on the
 * queue of its services; `runcue worker` processes run them. Imported only in queue mode, so a
 * local build never loads BullMQ or a Redis client.
 */
import type { ResolvedConfig } from '../../config/resolved.ts';
import type { BuildOptions } from '../../runner/build.ts';
import { RemoteQueues } from '../../runner/remote/coordinator.ts';
import { withHashFreshness } from '../../runner/remote/hash-freshness.ts';
import { configHash } from '../../runner/remote/job.ts';
import type { CliContext } from '../options.ts';
import { connectQueue, type QueueUrl } from './queue-mode.ts';

/** What a queue build changes in a build: its config (hash freshness) and its executors. */
export interface QueueRun {
  readonly ok: true;
  readonly config: ResolvedConfig;
  readonly buildOptions: Pick<BuildOptions, 'executorFor' | 'remote'>;
  /** Closes the coordinator's queues (their Redis connections). */
  readonly close: () => Promise<void>;
}

/** Connects to the queue at `url` for a build of `loaded`; or the exit code (2) with the reason on stderr. */
export async function queueRun(
  url: QueueUrl,
  loaded: { readonly config: ResolvedConfig },
  context: CliContext,
): Promise<QueueRun | { readonly ok: false; readonly exitCode: number }> {
  const connected = await connectQueue(url, context);
  if (!connected.ok) return connected;
  const config = withHashFreshness(loaded.config);
  const remote = new RemoteQueues({
    target: connected.target,
    config,
    configHash: configHash(config),
    onWarning: (text) => context.stderr.write(`runcue: ${text}\n`),
  });
  return { ok: true, config, buildOptions: { executorFor: remote.executorFor, remote: true }, close: () => remote.close() };
}
