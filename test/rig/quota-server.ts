/**
 * A real HTTP server on 127.0.0.1 that enforces a quota the way providers do: at most `limit`
 * accepted requests in any sliding window of `windowMs` (by arrival time), 429 with a
 * Retry-After past it. It counts what it answered, for tests that must see zero 429s.
 *
 * `slackMs` shortens the window the server enforces. runcue's guarantee is on unit start
 * times; a request reaches the server one process start later (`sh`, then `node`), and that
 * delay varies between requests by tens of milliseconds, hundreds on a loaded machine. A
 * real API user keeps the same margin. Tests check runcue's own start times exactly.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The quota to enforce. */
export interface QuotaOptions {
  readonly limit: number;
  readonly windowMs: number;
  /** Arrival jitter tolerated (see the module comment); default 0. */
  readonly slackMs?: number;
}

/** A running quota server. */
export interface QuotaServer {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Requests answered 200. */
  readonly accepted: number;
  /** Requests answered 429. */
  readonly rejected: number;
  /** Arrival times (ms since the epoch) of accepted requests, in order. */
  readonly arrivals: readonly number[];
  close(): Promise<void>;
}

/** Starts a server on a free port; the body of a 200 is `ok <path>`. */
export async function startQuotaServer(options: QuotaOptions): Promise<QuotaServer> {
  const enforcedMs = options.windowMs - (options.slackMs ?? 0);
  const arrivals: number[] = [];
  let rejected = 0;

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const now = Date.now();
    // The request `limit` places back must have arrived a whole window ago.
    const anchor = arrivals[arrivals.length - options.limit];
    if (anchor !== undefined && now - anchor < enforcedMs) {
      rejected++;
      const retryAfterS = Math.max(1, Math.ceil((anchor + enforcedMs - now) / 1000));
      res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': String(retryAfterS) });
      res.end('too many requests\n');
      return;
    }
    arrivals.push(now);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`ok ${req.url ?? ''}\n`);
  };

  const server = createServer(handle);
  // Short-lived clients: never keep their sockets (and the server's close) waiting.
  server.keepAliveTimeout = 100;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    get accepted() {
      return arrivals.length;
    },
    get rejected() {
      return rejected;
    },
    arrivals,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/**
 * The client a unit runs: `node client.mjs INPUT OUTPUT` does one GET (the input's content is
 * the path), writes the body to OUTPUT on 200, and on 429 writes Retry-After to
 * `$RUNCUE_RETRY_AFTER_FILE` (when set) and exits 75, runcue's "the service pushed back".
 */
export function clientScript(url: string): string {
  return `import { get } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
const [input, output] = process.argv.slice(2);
const name = readFileSync(input, 'utf8').trim();
get(${JSON.stringify(url)} + '/item/' + encodeURIComponent(name), (res) => {
  let body = '';
  res.setEncoding('utf8');
  res.on('data', (c) => (body += c));
  res.on('end', () => {
    if (res.statusCode === 200) {
      writeFileSync(output, body);
      return;
    }
    if (res.statusCode === 429) {
      const file = process.env.RUNCUE_RETRY_AFTER_FILE;
      if (file) writeFileSync(file, String(res.headers['retry-after'] ?? ''));
      process.exitCode = 75;
      return;
    }
    console.error('unexpected status ' + res.statusCode);
    process.exitCode = 1;
  });
}).on('error', (e) => {
  console.error(e.message);
  process.exitCode = 1;
});
`;
}
