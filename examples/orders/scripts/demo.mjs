#!/usr/bin/env node
// Runs the orders example in one command: starts the fake API (scripts/fake-api.mjs) on a free
// port, runs `runcue build` with $PAYMENTS_URL and $MAIL_URL pointing at it, then prints what
// the API counted. Arguments are passed to runcue build:
//
//   node scripts/demo.mjs                     from this directory
//   npm run example:orders -- --verbose       from the repository root
//
// The API keeps its counts and idempotency keys in work/fake-api.json, so runs add up.
// The first request of every session is answered 429, to show runcue's push-back handling.
// $FAKE_API_FLAGS adds flags for the API (`FAKE_API_FLAGS='--delay 5000'`: see fake-api.mjs).
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// runcue's own CLI: the package this example lives in, or the one installed next to it.
const runcue = join(dirname(createRequire(import.meta.url).resolve('runcue/package.json')), 'bin', 'runcue.js');

mkdirSync(join(root, 'work'), { recursive: true });
const flags = (process.env.FAKE_API_FLAGS ?? '').split(/\s+/).filter(Boolean);
const api = spawn(process.execPath, ['scripts/fake-api.mjs', '--state', 'work/fake-api.json', '--busy', '1', ...flags], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  // Its own process group: a Ctrl-C in the terminal stops the build, not the API we report from.
  detached: true,
});
process.on('exit', () => api.kill('SIGTERM'));
const lines = createInterface({ input: api.stdout });
const url = await new Promise((resolve, reject) => {
  api.on('exit', (code) => reject(new Error(`fake API exited with ${code}`)));
  lines.once('line', (line) => resolve(line.replace(/^listening on /, '')));
});
lines.on('line', (line) => process.stderr.write(`  [api] ${line}\n`));
process.stderr.write(`fake API on ${url}\n`);

// Ctrl-C reaches runcue through the terminal; keep this process alive to report afterwards.
process.on('SIGINT', () => {});
const build = spawn(process.execPath, [runcue, 'build', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, PAYMENTS_URL: url, MAIL_URL: url },
});
const code = await new Promise((resolve) => build.on('exit', (c, signal) => resolve(c ?? (signal === 'SIGINT' ? 130 : 1))));

const stats = await (await fetch(`${url}/stats`)).json();
process.stderr.write(
  `fake API, all sessions: ${stats.charges} charges, ${stats.emails} emails, ` +
    `${stats.replays} replayed by idempotency key, ${stats.throttled} answered 429\n`,
);
api.kill('SIGTERM');
process.exitCode = code;
