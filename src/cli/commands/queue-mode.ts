/**
 * What `runcue build --queue`, `runcue worker` and `runcue queue status` share: the queue URL
 * from the flag, the environment (`RUNCUE_QUEUE`), the config (`queue.url`) or nowhere, and the
 * first connection to Redis, which must fail fast and clearly (exit 2) rather than hang.
 */
import { relative } from 'node:path';
import type { ResolvedConfig } from '../../config/resolved.ts';
import type { RedisTarget } from '../../runner/remote/redis.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import type { CliContext } from '../options.ts';

/** A queue URL and where it was given, for messages. */
export interface QueueUrl {
  readonly url: string;
  /** `--queue`, `RUNCUE_QUEUE` or `<config file>: queue.url`. */
  readonly from: string;
}

/** The queue URL `--queue`, `RUNCUE_QUEUE` or the config's `queue.url` names, in that order; if any. */
export function queueUrlOf(
  flag: string | undefined,
  context: CliContext,
  loaded: { readonly config: ResolvedConfig; readonly cwd: string },
): QueueUrl | undefined {
  if (flag !== undefined && flag !== '') return { url: flag, from: '--queue' };
  const env = context.env['RUNCUE_QUEUE'];
  if (env !== undefined && env !== '') return { url: env, from: 'RUNCUE_QUEUE' };
  const { config } = loaded;
  if (config.queueUrl !== undefined)
    return { url: config.queueUrl, from: `${relative(loaded.cwd, config.file) || config.file}: queue.url` };
  return undefined;
}

/** The Redis of `url`, reachable and recent enough; or the exit code (2) with the reason on stderr. */
export async function connectQueue(
  { url, from }: QueueUrl,
  context: CliContext,
): Promise<{ ok: true; target: RedisTarget } | { ok: false; exitCode: number }> {
  const { parseRedisUrl, probeRedis } = await import('../../runner/remote/redis.ts');
  const target = parseRedisUrl(url);
  if (!target.ok) {
    context.stderr.write(`runcue: ${from}: ${target.error}\n`);
    return { ok: false, exitCode: EXIT_CODES.usage };
  }
  const probed = await probeRedis(target.value);
  if (!probed.ok) {
    context.stderr.write(`runcue: ${from}: ${probed.error}\n`);
    return { ok: false, exitCode: EXIT_CODES.usage };
  }
  return { ok: true, target: target.value };
}
