#!/usr/bin/env node
// Rate precision and utilisation: many instant units through one rate-limited service, read
// back from `runcue build --json` unit:start events. Reports the most starts seen in any window
// (must equal the limit, never more) and the achieved rate as a share of what the rules allow.
// Not part of `npm test`: at 600/min, 2,000 units take over 3 minutes (`--scale` for a quick run).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const HELP = `usage: node bench/rate.mjs [options]

  --units N       instant units to run (default 2000)
  --rate R        the service's rate (default 600/min)
  --scale K       run K times faster: the window divided by K, the count kept (600 per 6 s
                  with --scale 10), so the window still fills several times (a quick check)
  --burst B       the service's burst (default: runcue's, max(1, ceil(N per second)))
  --kind fn|sh    function tasks (default) or shell commands (': > {output}': one sh each)
  --bin PATH      the runcue to measure (default: this repo's bin/runcue.js)
  --json          print the numbers as one JSON object
  -h, --help      this text

Quick check (about 20 s): node bench/rate.mjs --scale 10`;

const HERE = import.meta.dirname;
const REPO = path.dirname(HERE);
const UNITS = { s: 1000, sec: 1000, second: 1000, m: 60_000, min: 60_000, minute: 60_000, h: 3_600_000, hour: 3_600_000 };

function parseRate(text) {
  const match = /^(\d+)\/(\d*)\s*([a-z]+)$/.exec(text.trim());
  const unit = match && UNITS[match[3]];
  if (!match || !unit) throw new Error(`not a rate: ${text} (try 600/min, 10/s, 100/10s)`);
  return { count: Number(match[1]), windowMs: (match[2] === '' ? 1 : Number(match[2])) * unit };
}

function findNode() {
  const [major, minor] = process.version.replace(/^v/, '').split('.').map(Number);
  if (major * 1000 + minor >= 22022) return process.execPath;
  const local = path.join(REPO, 'node_modules', '.bin', 'node');
  return existsSync(local) ? local : process.execPath;
}

/** The exact schedule the rules allow for `k` units all ready at 0 (at most `count` starts in any `windowMs`, and no more than `burst` at once). */
function idealStarts(k, count, windowMs, burst) {
  const windows = [{ count, windowMs }];
  if (burst < count) windows.push({ count: burst, windowMs: Math.ceil((burst * windowMs) / count) });
  const s = [];
  for (let i = 0; i < k; i++) {
    let t = s[i - 1] ?? 0;
    for (const w of windows) if (i >= w.count) t = Math.max(t, s[i - w.count] + w.windowMs);
    s.push(t);
  }
  return s;
}

/** The most starts in any half-open window [t, t + windowMs). */
function busiest(times, windowMs) {
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < times.length; hi++) {
    while (times[hi] - times[lo] >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function workload(dir, units, rate, burst, kind) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'in'), { recursive: true });
  for (let i = 0; i < units; i++) writeFileSync(path.join(dir, 'in', `${i}.txt`), '');
  const run = kind === 'sh' ? `': > {output}'` : `async ({ output }) => { await writeFile(output, ''); }`;
  const service = `{ rate: '${rate}'${burst === undefined ? '' : `, burst: ${burst}`} }`;
  writeFileSync(
    path.join(dir, 'runcue.config.mjs'),
    `import { writeFile } from 'node:fs/promises';
export default {
  services: { api: ${service} },
  tasks: { go: { uses: 'api', input: 'in/{n}.txt', output: 'out/{n}.txt', run: ${run} } },
};
`,
  );
}

function runBuild(node, bin, dir) {
  return new Promise((resolve, reject) => {
    // cwd rather than --cwd: function tasks get paths relative to the project.
    const child = spawn(node, [bin, 'build', '--json'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`runcue exited ${code}\n${stderr.slice(-2000)}${stdout.slice(-2000)}`)),
    );
  });
}

async function main() {
  const { values } = parseArgs({
    options: {
      units: { type: 'string', default: '2000' },
      rate: { type: 'string', default: '600/min' },
      scale: { type: 'string', default: '1' },
      burst: { type: 'string' },
      kind: { type: 'string', default: 'fn' },
      bin: { type: 'string', default: path.join(REPO, 'bin', 'runcue.js') },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const units = Number(values.units);
  const scale = Number(values.scale);
  if (!Number.isInteger(units) || units < 1 || !Number.isInteger(scale) || scale < 1)
    throw new Error('--units and --scale take positive integers');
  if (values.kind !== 'fn' && values.kind !== 'sh') throw new Error('--kind is fn or sh');
  const base = parseRate(values.rate);
  const { count } = base;
  const windowMs = Math.round(base.windowMs / scale);
  const rate = `${count}/${windowMs}ms`;
  const burst = values.burst === undefined ? undefined : Number(values.burst);
  const effectiveBurst = burst ?? Math.max(1, Math.ceil((count * 1000) / windowMs));

  const dir = path.join(HERE, '.work', `rate-${count}-${windowMs}-${units}-${values.kind}`);
  workload(dir, units, rate, burst, values.kind);
  const node = findNode();
  const wallStart = Date.now();
  const stdout = await runBuild(node, path.resolve(values.bin), dir);
  const wallMs = Date.now() - wallStart;

  const starts = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .filter((e) => e.type === 'unit:start')
    .map((e) => e.time)
    .sort((a, b) => a - b);
  if (starts.length !== units) throw new Error(`expected ${units} unit:start events, got ${starts.length}`);
  const first = starts[0];
  const ideal = idealStarts(units, count, windowMs, effectiveBurst);
  const spanMs = starts.at(-1) - first;
  const idealSpanMs = ideal.at(-1);
  const lateness = starts.map((t, i) => t - first - ideal[i]).sort((a, b) => a - b);
  const result = {
    rate: `${count} per ${windowMs} ms`,
    burst: effectiveBurst,
    kind: values.kind,
    units,
    maxStartsInWindow: busiest(starts, windowMs),
    limit: count,
    // Long-run throughput: the span the rules allow for these starts over the span taken.
    utilisation: spanMs === 0 ? 1 : idealSpanMs / spanMs,
    spanMs,
    idealSpanMs,
    latenessMs: { median: percentile(lateness, 50), p99: percentile(lateness, 99), max: lateness.at(-1) },
    maxStartsInPaceWindow: effectiveBurst < count ? busiest(starts, Math.ceil((effectiveBurst * windowMs) / count)) : undefined,
    wallMs,
  };
  if (values.json) {
    console.log(JSON.stringify(result));
    return;
  }
  const pct = (x) => `${(x * 100).toFixed(2)}%`;
  console.log(`rate ${result.rate} (burst ${result.burst}), ${units} instant ${values.kind === 'fn' ? 'function' : 'shell'} units`);
  console.log(
    `  max starts in any ${windowMs} ms window: ${result.maxStartsInWindow} (limit ${count})${result.maxStartsInWindow > count ? '  <-- OVER THE LIMIT' : ''}`,
  );
  if (result.maxStartsInPaceWindow !== undefined) {
    console.log(`  max starts in any pacing window: ${result.maxStartsInPaceWindow} (burst ${effectiveBurst})`);
  }
  console.log(
    `  achieved rate: ${pct(result.utilisation)} of the limit (${(spanMs / 1000).toFixed(2)} s for what the rules allow in ${(idealSpanMs / 1000).toFixed(2)} s)`,
  );
  console.log(
    `  lateness vs the ideal schedule: median ${result.latenessMs.median} ms, p99 ${result.latenessMs.p99} ms, max ${result.latenessMs.max} ms`,
  );
  console.log(`  wall time: ${(wallMs / 1000).toFixed(1)} s`);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
