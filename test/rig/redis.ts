/**
 * A real Redis for the queue tests: `redis-server` on a free loopback port, persistence off, in
 * a temp dir; stopped (and its dir removed) by `stop()`. No Redis installed is a failure with the
 * fix in its message, never a silent skip: .ci/run installs Debian's `redis-server`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running redis-server of one test file. */
export interface TestRedis {
  readonly url: string;
  readonly port: number;
  /** Runs one command with redis-cli-like simplicity (inline protocol); resolves to the raw reply. */
  command(line: string): Promise<string>;
  stop(): Promise<void>;
}

/** A loopback port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Sends one inline command and resolves to the first reply chunk. */
function send(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(2000, () => socket.destroy(new Error('redis did not answer in 2 s')));
    socket.on('connect', () => socket.write(`${line}\r\n`));
    socket.once('data', (data) => {
      resolve(data.toString());
      socket.end();
    });
    socket.on('error', reject);
  });
}

/** Starts redis-server and waits until it answers PING. */
export async function startRedis(): Promise<TestRedis> {
  if (spawnSync('redis-server', ['--version']).error) {
    throw new Error('redis-server is not installed: the queue tests need it (apt-get install redis-server; .ci/run installs it)');
  }
  const dir = mkdtempSync(join(tmpdir(), 'runcue-redis-'));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  const child: ChildProcess = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (c: Buffer) => (log += c.toString()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const pong = await send(port, 'PING').catch(() => '');
    if (pong.startsWith('+PONG')) break;
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`redis-server on port ${port} did not answer PING in 10 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    command: (line) => send(port, line),
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A TCP server that speaks just enough of Redis's protocol to claim `version`: INFO says so, anything else is +OK. */
export async function startFakeRedis(version: string): Promise<{ readonly url: string; close(): Promise<void> }> {
  const info = `# Server\r\nredis_version:${version}\r\nloading:0\r\n`;
  const server = createServer((socket) => {
    let pending = '';
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      // Each command is an array of bulk strings: `*N\r\n` then N times `$len\r\nword\r\n`.
      for (;;) {
        const words = readCommand(pending);
        if (words === undefined) return;
        pending = pending.slice(words.length);
        socket.write(words.name === 'info' ? `$${info.length}\r\n${info}\r\n` : '+OK\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `redis://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The first whole command in `text`: its name (lower case) and its length in characters; undefined if incomplete. */
function readCommand(text: string): { name: string; length: number } | undefined {
  const head = /^\*(\d+)\r\n/.exec(text);
  if (!head) return undefined;
  let at = head[0].length;
  let name = '';
  for (let i = 0; i < Number(head[1]); i++) {
    const bulk = /^\$(\d+)\r\n/.exec(text.slice(at));
    if (!bulk) return undefined;
    const size = Number(bulk[1]);
    const start = at + bulk[0].length;
    if (text.length < start + size + 2) return undefined;
    if (i === 0) name = text.slice(start, start + size).toLowerCase();
    at = start + size + 2;
  }
  return { name, length: at };
}
