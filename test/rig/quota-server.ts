/**
 * A real HTTP server on 127.0.0.1 that enforces a quota the way providers do: at most `limit`
 * accepted requests in any sliding window of `windowMs`, 429 with a Retry-After past it. It counts
 * what it answered, for tests that must see zero 429s.
 *
 * A request counts at the moment its client process started (the client sends the time it
 * started in `x-started`; without it, at its arrival): runcue's guarantee is on
 * unit starts, and a `node` client reaches the server one Node start-up later, which on two loaded
 * cores varied between requests by up to a second (load 8: 0.4 to 1.0 s), more than any margin a
 * test can allow. What is left is the time from runcue's start to the process start (exec), up to
 * a few hundred milliseconds under load: `slackMs` shortens the enforced window by that margin, as
 * a real API user keeps one. Tests also check runcue's own start times exactly.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PYTHON3 } from './index.ts';

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
  /** Start times (ms since the epoch) of the clients of accepted requests, ascending. */
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
    const started = Number(req.headers['x-started']);
    const time = Number.isFinite(started) && started > 0 && started <= now ? started : now;
    // Requests arrive out of start order: the new start must keep every window within the limit.
    let at = arrivals.length;
    while (at > 0 && (arrivals[at - 1] ?? 0) > time) at--;
    arrivals.splice(at, 0, time);
    const crowded = arrivals.findIndex(
      (t, i) => i + options.limit < arrivals.length && (arrivals[i + options.limit] ?? 0) - t < enforcedMs,
    );
    if (crowded >= 0) {
      arrivals.splice(at, 1);
      rejected++;
      const anchor = arrivals[Math.max(0, at - options.limit)] ?? time;
      const retryAfterS = Math.max(1, Math.ceil((anchor + enforcedMs - now) / 1000));
      res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': String(retryAfterS) });
      res.end('too many requests\n');
      return;
    }
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

/** A unit's client: the files to write into the project and the command that runs it. */
export interface QuotaClient {
  readonly files: Record<string, string>;
  /** Followed by INPUT OUTPUT in a task's `run`. */
  readonly command: string;
}

/**
 * The client a unit runs, `COMMAND INPUT OUTPUT`: one GET (the input's content is the path)
 * saying when its process started, the body written to OUTPUT on 200, and on 429 Retry-After
 * written to `$RUNCUE_RETRY_AFTER_FILE` (when set) and exit 75, runcue's "the service pushed
 * back". A python3 script where the system has one (PYTHON3), else a Node one: a unit's Node start-up cost ~0.1 s of CPU, two to
 * three times python3's, and the quota tests run 145 units.
 */
export function quotaClient(url: string): QuotaClient {
  if (PYTHON3 !== 'python3') return { files: { 'client.py': pythonClient(url) }, command: `${PYTHON3} -I -S client.py` };
  return { files: { 'client.mjs': nodeClient(url) }, command: 'node client.mjs' };
}

function pythonClient(url: string): string {
  const { hostname, port } = new URL(url);
  return `import http.client, os, sys, time
started = round(time.time() * 1000)
from urllib.parse import quote
with open(sys.argv[1], encoding='utf-8') as f:
    name = f.read().strip()
try:
    conn = http.client.HTTPConnection(${JSON.stringify(hostname)}, ${port}, timeout=30)
    conn.request('GET', '/item/' + quote(name, safe="!~*'()"), headers={'x-started': str(started)})
    res = conn.getresponse()
    body = res.read().decode('utf-8')
except OSError as e:
    print(e, file=sys.stderr)
    sys.exit(1)
if res.status == 200:
    with open(sys.argv[2], 'w', encoding='utf-8') as f:
        f.write(body)
elif res.status == 429:
    file = os.environ.get('RUNCUE_RETRY_AFTER_FILE')
    if file:
        with open(file, 'w', encoding='utf-8') as f:
            f.write(res.getheader('retry-after', ''))
    sys.exit(75)
else:
    print('unexpected status %d' % res.status, file=sys.stderr)
    sys.exit(1)
`;
}

function nodeClient(url: string): string {
  return `import { get } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
const [input, output] = process.argv.slice(2);
const name = readFileSync(input, 'utf8').trim();
const headers = { 'x-started': String(Math.round(performance.timeOrigin)) };
get(${JSON.stringify(url)} + '/item/' + encodeURIComponent(name), { headers }, (res) => {
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
