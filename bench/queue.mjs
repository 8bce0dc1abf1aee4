#!/usr/bin/env node
// Queue builds (issue 12) on a local redis-server: throughput of N instant units built locally
// and through the queue with 1 and 3 `runcue worker` processes, the latency a queue adds to a
// unit, and how precisely the global rate limit is held. Not part of `npm test`.
// `node bench/queue.mjs --help`.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { describeCommit, OTHER_RESULTS_MARK } from './lib/report.mjs';
import { findTools } from './lib/tools.mjs';

const HELP = `usage: node bench/queue.mjs [options]

  --units N       instant units per throughput build (default 2000)
  --latency N     units of the latency run, one at a time (default 200)
  --rate N        the rate run's limit, N/s (default 50), over 5 s of units
  --rate-only     only the rate run (printed; RESULTS.md left alone)
  --latency-only  only latency runs, alternating a service of one queue and one shared by two
                  (held by a Redis slot), 3 pairs (printed; RESULTS.md left alone)
  --no-write      print only; leave bench/RESULTS.md alone
  -h, --help      this text

Needs redis-server on PATH (apt-get install redis-server) and a build (npm run build).`;

const HERE = import.meta.dirname;
const REPO = path.dirname(HERE);
const SECTION_START = '<!-- bench/queue.mjs: start -->';
const SECTION_END = '<!-- bench/queue.mjs: end -->';
const LATENCY_TARGET_MS = 5;

const log = (line) => process.stderr.write(`${line}\n`);

function options(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      units: { type: 'string', default: '2000' },
      latency: { type: 'string', default: '200' },
      rate: { type: 'string', default: '50' },
      'rate-only': { type: 'boolean', default: false },
      'latency-only': { type: 'boolean', default: false },
      'no-write': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  return {
    help: values.help,
    units: Number(values.units),
    latency: Number(values.latency),
    rate: Number(values.rate),
    rateOnly: values['rate-only'],
    latencyOnly: values['latency-only'],
    write: !values['no-write'] && !values['rate-only'] && !values['latency-only'],
  };
}

// ---- redis ---------------------------------------------------------------------------------

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function ping(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => {
      resolve(d.toString().startsWith('+PONG'));
      socket.end();
    });
    socket.on('error', () => resolve(false));
  });
}

function send(port, line) {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.on('connect', () => socket.write(`${line}\r\n`));
    socket.once('data', (d) => {
      resolve(d.toString());
      socket.end();
    });
    socket.on('error', reject);
  });
}

async function startRedis(dir) {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  });
  for (let i = 0; i < 200 && !(await ping(port)); i++) await new Promise((r) => setTimeout(r, 50));
  return { url: `redis://127.0.0.1:${port}`, flush: () => send(port, 'FLUSHALL'), stop: () => child.kill('SIGTERM') };
}

// ---- runs ----------------------------------------------------------------------------------

/**
 * A project of `n` inputs and one task `make` of the service `svc`. With `stamp`, each output is
 * the time its function started (the real start, as against the start the worker records).
 */
function project(root, name, n, service, stamp = false, shared = false) {
  const dir = path.join(root, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'in'), { recursive: true });
  for (let i = 0; i < n; i++) writeFileSync(path.join(dir, 'in', `${String(i).padStart(5, '0')}.txt`), `${i}\n`);
  // An instant unit: a function writing its output, so the numbers are runcue's and the queue's.
  writeFileSync(
    path.join(dir, 'runcue.config.mjs'),
    `import { writeFileSync } from 'node:fs';
export default {
  services: { svc: ${JSON.stringify(service)}${shared ? ', aux: {}' : ''} },
  tasks: { make: { input: 'in/{n}.txt', output: 'out/{n}.txt', uses: 'svc', run: ({ input, output }) => writeFileSync(output, ${stamp ? 'String(Date.now())' : 'input'}) }${
    // A second queue using svc (with no units): svc's concurrent is then held by its Redis slots.
    shared ? `, other: { input: 'none/{n}.txt', output: 'none/{n}.out', uses: ['svc', 'aux'], run: () => {} }` : ''
  } },
};\n`,
  );
  return dir;
}

function startWorkers(runcue, dir, url, count, concurrency) {
  return Array.from({ length: count }, () => {
    const child = spawn(
      runcue.node,
      [path.join(REPO, 'bin', 'runcue.js'), 'worker', '--queue', url, '--json', '--concurrency', String(concurrency)],
      {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const w = { child, out: '', err: '' };
    child.stdout.on('data', (c) => (w.out += c));
    child.stderr.on('data', (c) => (w.err += c));
    return w;
  });
}

async function ready(workers) {
  for (let i = 0; i < 600 && !workers.every((w) => w.err.includes('taking jobs')); i++) await new Promise((r) => setTimeout(r, 50));
}

async function stop(workers) {
  await Promise.all(
    workers.map(
      (w) =>
        new Promise((resolve) => {
          w.child.once('close', resolve);
          w.child.kill('SIGTERM');
        }),
    ),
  );
  return workers.flatMap((w) =>
    w.out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l)),
  );
}

function build(runcue, dir, args) {
  const started = performance.now();
  const result = spawnSync(runcue.node, [path.join(REPO, 'bin', 'runcue.js'), 'build', ...args], {
    cwd: dir,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (result.status !== 0) throw new Error(`runcue build ${args.join(' ')} failed in ${dir}:\n${result.stderr.slice(-2000)}`);
  return { ms: performance.now() - started, stdout: result.stdout };
}

async function throughput(runcue, root, redis, n) {
  const local = build(runcue, project(root, 'local', n, {}), ['--reporter', 'silent']).ms;
  const queued = {};
  for (const count of [1, 3]) {
    await redis.flush();
    const dir = project(root, `queue-${count}`, n, {});
    const workers = startWorkers(runcue, dir, redis.url, count, os.availableParallelism());
    await ready(workers);
    queued[count] = build(runcue, dir, ['--queue', redis.url, '--reporter', 'silent']).ms;
    await stop(workers);
  }
  return { local, one: queued[1], three: queued[3] };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** One unit at a time: the coordinator's start-to-done minus the worker's, per unit. */
async function latency(runcue, root, redis, n, service = {}, shared = false) {
  await redis.flush();
  const dir = project(root, 'latency', n, service, false, shared);
  const workers = startWorkers(runcue, dir, redis.url, 1, 1);
  await ready(workers);
  const { stdout } = build(runcue, dir, ['--queue', redis.url, '--json', '--jobs', '1']);
  const remote = await stop(workers);
  const events = stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  // The coordinator's span starts when it queued the unit; the worker's when it started it.
  const span = (list, from) => {
    const start = new Map(list.filter((e) => e.type === from).map((e) => [e.unit, e.time]));
    return new Map(list.filter((e) => e.type === 'unit:done').map((e) => [e.unit, e.time - start.get(e.unit)]));
  };
  const here = span(events, 'unit:queued');
  const there = span(remote, 'unit:start');
  return median([...here].map(([unit, ms]) => ms - (there.get(unit) ?? 0)));
}

/** The most of `times` in any window of `windowMs`. */
function mostInWindow(times, windowMs) {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let lo = 0, hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi] - sorted[lo] >= windowMs) lo++;
    most = Math.max(most, hi - lo + 1);
  }
  return most;
}

/** The share of `rate`/s that `times` used, from their first to their last. */
function utilisation(times, rate) {
  const sorted = [...times].sort((a, b) => a - b);
  return (sorted.length - 1) / ((sorted.at(-1) - sorted[0]) / 1000) / rate;
}

/**
 * 5 s of units at `rate`/s over 3 workers: the most starts in any 1 s window and the share of
 * the rate used, for the starts the workers record (the gate's admissions, Redis's clock) and
 * for the real starts of the functions (their own clock reading, on the same machine).
 */
async function ratePrecision(runcue, root, redis, rate) {
  await redis.flush();
  const n = rate * 5;
  const dir = project(root, 'rate', n, { rate: `${rate}/s` }, true);
  const workers = startWorkers(runcue, dir, redis.url, 3, 4);
  await ready(workers);
  build(runcue, dir, ['--queue', redis.url, '--reporter', 'silent']);
  const starts = (await stop(workers)).filter((e) => e.type === 'unit:start');
  const recorded = starts.map((e) => e.time);
  const recordedOf = new Map(starts.map((e) => [e.unit, e.time]));
  const outputs = readdirSync(path.join(dir, 'out'));
  const real = outputs.map((f) => Number(readFileSync(path.join(dir, 'out', f), 'utf8')));
  // From the admission to the function's start, per unit (one machine: one clock).
  const delays = outputs.map((f, i) => real[i] - recordedOf.get(`make[n=${f.slice(0, -'.txt'.length)}]`)).sort((a, b) => a - b);
  const at = (q) => delays[Math.min(delays.length - 1, Math.floor(delays.length * q))];
  return {
    n,
    delay: { p50: at(0.5), p99: at(0.99), max: delays.at(-1) },
    most: mostInWindow(recorded, 1000),
    utilisation: utilisation(recorded, rate),
    realMost: mostInWindow(real, 1000),
    realUtilisation: utilisation(real, rate),
  };
}

function render({ n, tp, lat, rate, machine, commit, date, opts, load }) {
  const perUnit = (ms) => `${((ms / n) * 1000).toFixed(0)} µs`;
  return [
    SECTION_START,
    '',
    '## Queue builds (BullMQ on a local Redis)',
    '',
    `Written by \`node bench/queue.mjs\` (${date}, commit ${commit}; ${machine}; load average ${load}). Redis on`,
    'loopback, the workers on the same machine as the coordinator (they share its cores, and, being',
    'one host, its `cpu` slots). Units are instant function tasks, so the numbers are what runcue and',
    'the queue add.',
    '',
    `| build of ${n.toLocaleString('en-US')} instant units | wall time | per unit |`,
    '| --- | ---: | ---: |',
    `| local (\`runcue build\`) | ${tp.local.toFixed(0)} ms | ${perUnit(tp.local)} |`,
    `| queue, 1 worker | ${tp.one.toFixed(0)} ms | ${perUnit(tp.one)} |`,
    `| queue, 3 workers | ${tp.three.toFixed(0)} ms | ${perUnit(tp.three)} |`,
    '',
    `**Added latency per unit**: median ${lat.toFixed(2)} ms (target ≤ ${LATENCY_TARGET_MS} ms: ${lat <= LATENCY_TARGET_MS ? 'met' : 'not met'}) over`,
    `${opts.latency} units run one at a time (\`--jobs 1\`, one worker): the coordinator's time from`,
    "adding a unit to its end, minus the worker's from its start to reporting it.",
    '',
    ...rateLines(rate, opts),
    '',
    `Run it: \`npm run build && node bench/queue.mjs --units ${n}\` (\`--rate-only\` for the last part alone).`,
    '',
    SECTION_END,
  ].join('\n');
}

function rateLines(rate, opts) {
  const pct = (x) => `${(x * 100).toFixed(1)}%`;
  return [
    `**Global rate**: ${rate.n} units through \`rate: '${opts.rate}/s'\` on 3 workers. Starts as the workers record them`,
    `(the start gate's admissions, Redis's clock): at most ${rate.most} in any 1 s window (limit ${opts.rate}), utilisation`,
    `${pct(rate.utilisation)} of the rate (target ≥ 98%: ${rate.utilisation >= 0.98 ? 'met' : 'not met'}). The functions' own start times: at most`,
    `${rate.realMost} in any 1 s window, ${pct(rate.realUtilisation)}. The gate hands out start slots 1010/N ms apart`,
    '(Lua on `TIME`), a worker sleeps until its slot, then a second atomic check against the log of',
    'the last 1.01 s of starts admits it: a timer that fires late cannot bunch starts, and an',
    'admission whose reply took longer than 10 ms is given back and asked for again. Between an',
    `admission and the function's start (the reply's way back, the attempt's preparation): median`,
    `${rate.delay.p50} ms, p99 ${rate.delay.p99} ms, max ${rate.delay.max} ms. The 1% slack keeps the functions' starts within N as`,
    'long as that delay varies by less than 10 ms; a process descheduled longer between the two',
    '(a loaded machine) can let one more start into a window.',
  ];
}

/** Puts the section in RESULTS.md: in place of its last version, else at the end (after other scripts' marks). */
function writeSection(file, section) {
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(SECTION_START);
  const end = text.indexOf(SECTION_END);
  const next =
    start !== -1 && end > start
      ? `${text.slice(0, start)}${section}${text.slice(end + SECTION_END.length)}`
      : `${text.trimEnd()}\n\n${text.includes(OTHER_RESULTS_MARK) ? '' : `${OTHER_RESULTS_MARK}\n\n`}${section}\n`;
  writeFileSync(file, next);
}

const loadNow = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

async function main() {
  const opts = options(process.argv.slice(2));
  if (opts.help) return void process.stdout.write(`${HELP}\n`);
  const { runcue } = findTools(REPO);
  if (runcue.missing) throw new Error(`runcue cannot run: ${runcue.missing} (npm run build)`);
  if (spawnSync('redis-server', ['--version']).error) throw new Error('redis-server is not on PATH (apt-get install redis-server)');
  const root = mkdtempSync(path.join(os.tmpdir(), 'runcue-bench-queue-'));
  const redis = await startRedis(root);
  try {
    if (opts.latencyOnly) {
      // Paired and alternating: the machine's load drifts between runs.
      for (let pair = 0; pair < 3; pair++) {
        for (const shared of [false, true]) {
          const ms = await latency(runcue, root, redis, opts.latency, { concurrent: 4 }, shared);
          process.stdout.write(
            `latency, svc concurrent 4${shared ? ', shared by 2 queues (Redis slot)' : ''}: median ${ms.toFixed(2)} ms (load ${loadNow()})\n`,
          );
        }
      }
      return;
    }
    if (opts.rateOnly) {
      log(`rate: ${opts.rate}/s for 5 s (load ${loadNow()})`);
      const rate = await ratePrecision(runcue, root, redis, opts.rate);
      process.stdout.write(`${rateLines(rate, opts).join('\n')}\n`);
      return;
    }
    log(`throughput: ${opts.units} units, local then 1 and 3 workers`);
    const tp = await throughput(runcue, root, redis, opts.units);
    log(`latency: ${opts.latency} units one at a time`);
    const lat = await latency(runcue, root, redis, opts.latency);
    log(`rate: ${opts.rate}/s for 5 s`);
    const rate = await ratePrecision(runcue, root, redis, opts.rate);
    const redisVersion = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.match(/v=([\d.]+)/)?.[1];
    const machine = `${os.availableParallelism()} cores, Node ${runcue.nodeVersion}, Redis ${redisVersion}, runcue ${runcue.version}`;
    const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
    const section = render({ n: opts.units, tp, lat, rate, machine, commit: describeCommit(REPO), date, opts, load: loadNow() });
    process.stdout.write(`${section}\n`);
    if (opts.write) {
      writeSection(path.join(HERE, 'RESULTS.md'), section);
      log('wrote bench/RESULTS.md');
    }
  } finally {
    redis.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error) => {
  log(`bench/queue.mjs: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
