/**
 * The Redis a queue run uses: its URL checked, and a first connection that fails fast (an
 * unreachable or too old Redis is a clear error within seconds, never a hang: BullMQ itself
 * retries a lost connection forever, which is right for a running worker, not for a typo).
 */
import { err, ok, type Result } from '../../result.ts';

/** The oldest Redis BullMQ runs on. */
const MIN_VERSION = [6, 2, 0] as const;

/** How long the first connection may take. */
const CONNECT_TIMEOUT_MS = 3000;

/** Connection options for BullMQ (ioredis's), from a `redis://` URL. */
export interface RedisTarget {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly username?: string;
  readonly password?: string;
  readonly tls: boolean;
}

/** The target of `redis://[user:pass@]host[:port][/db]` (or `rediss://` for TLS), or why the URL is wrong. */
export function parseRedisUrl(url: string): Result<RedisTarget, string> {
  const expected = 'expected redis://host[:port][/db], e.g. redis://127.0.0.1:6379/0';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return err(`${JSON.stringify(url)} is not a URL: ${expected}`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') return err(`${JSON.stringify(url)}: ${expected}`);
  const dbText = parsed.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) return err(`${JSON.stringify(url)}: the database must be a number (/0, /1, ...): ${expected}`);
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  return ok({
    url,
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port,
    db,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    tls: parsed.protocol === 'rediss:',
  });
}

/** The options BullMQ passes to ioredis for `target` (blocking connections need no retry cap). */
export function connectionOf(target: RedisTarget): Record<string, unknown> {
  return {
    host: target.host,
    port: target.port,
    db: target.db,
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    ...(target.tls ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

/** Connects once, without retries, and checks the server's version; resolves to why not. */
export async function probeRedis(target: RedisTarget): Promise<Result<void, string>> {
  const { Redis } = await import('ioredis');
  const client = new Redis({
    ...connectionOf(target),
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return versionCheck(await client.info('server'), target.url);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return err(`cannot reach Redis at ${target.url} (${why}): is redis-server running there, and the URL right?`);
  } finally {
    client.disconnect();
  }
}

/** Whether the server of an `INFO server` reply is recent enough for BullMQ; why not. */
export function versionCheck(info: string, url: string): Result<void, string> {
  const version = /redis_version:([\d.]+)/.exec(info)?.[1];
  if (version === undefined) return err(`the server at ${url} did not say its Redis version (is it Redis?)`);
  if (olderThan(version, MIN_VERSION)) {
    return err(`Redis at ${url} is version ${version}; runcue's queue (BullMQ) needs ${MIN_VERSION.join('.')} or newer`);
  }
  return ok(undefined);
}

function olderThan(version: string, min: readonly number[]): boolean {
  const parts = version.split('.').map(Number);
  for (let i = 0; i < min.length; i++) {
    const have = parts[i] ?? 0;
    const need = min[i] ?? 0;
    if (have !== need) return have < need;
  }
  return false;
}
