/**
 * What `runcue build --queue` and `runcue worker` share: the queue URL from the flag, the
 * environment (`RUNCUE_QUEUE`) or nowhere, and the first connection to Redis, which must fail
 * fast and clearly (exit 2) rather than hang.
 */
import type { RedisTarget } from '../../runner/remote/redis.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import type { CliContext } from '../options.ts';

/** The queue URL `--queue` or `RUNCUE_QUEUE` names, if any. */
export function queueUrlOf(flag: string | undefined, context: CliContext): string | undefined {
  const url = flag ?? context.env['RUNCUE_QUEUE'];
  return url === undefined || url === '' ? undefined : url;
}

/** The Redis of `url`, reachable and recent enough; or the exit code (2) with the reason on stderr. */
export async function connectQueue(
  url: string,
  from: string,
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
