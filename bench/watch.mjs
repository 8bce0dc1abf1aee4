#!/usr/bin/env node
// `runcue watch` benchmark (not part of npm test): the latency from an input write to the start
// of its unit (median and p95 over --edits edits), and resident memory over --cycles cycles
// (read from /proc/<pid>/status, so Linux only). Needs a built runcue (`npm run build`).
//
//   node bench/watch.mjs [--edits 50] [--cycles 1000] [--files 100] [--keep]
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: opts } = parseArgs({
  options: {
    edits: { type: 'string', default: '50' },
    cycles: { type: 'string', default: '1000' },
    files: { type: 'string', default: '100' },
    keep: { type: 'boolean', default: false },
  },
});
const EDITS = Number(opts.edits);
const CYCLES = Number(opts.cycles);
const FILES = Number(opts.files);
const WAIT_MS = 30_000;

/** This Node when it can run runcue (>= 22.22), else the project's node@24. */
function findNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major > 22 || (major === 22 && minor >= 22)) return process.execPath;
  const local = path.join(repo, 'node_modules', '.bin', 'node');
  return existsSync(local) ? local : process.execPath;
}

function project() {
  const dir = mkdtempSync(path.join(tmpdir(), 'runcue-bench-watch-'));
  mkdirSync(path.join(dir, 'src'));
  writeFileSync(
    path.join(dir, 'runcue.config.mjs'),
    "export default { tasks: { copy: { input: 'src/{n}.txt', output: 'out/{n}.txt', run: ['cp', '{input}', '{output}'] } } };\n",
  );
  const old = new Date(Date.now() - 60_000);
  for (let i = 0; i < FILES; i++) {
    const file = path.join(dir, 'src', `${i}.txt`);
    writeFileSync(file, String(i));
    utimesSync(file, old, old);
  }
  return dir;
}

// Preloaded into the watch process: on SIGUSR2, collect garbage and write memoryUsage() to a file,
// so heap growth is told apart from the heap merely not having been collected yet.
const MEMORY_PROBE = `import { writeFileSync } from 'node:fs';
process.on('SIGUSR2', () => {
  globalThis.gc?.();
  writeFileSync(process.env.RUNCUE_BENCH_MEM_FILE, JSON.stringify(process.memoryUsage()));
});
`;

/** The watch process, its JSON events, and waiters for events to come. */
function startWatch(dir) {
  const probe = path.join(dir, '.memory-probe.mjs');
  const memFile = path.join(dir, '.memory.json');
  writeFileSync(probe, MEMORY_PROBE);
  const child = spawn(findNode(), ['--expose-gc', '--import', probe, path.join(repo, 'bin', 'runcue.js'), 'watch', '--json'], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, CI: 'true', RUNCUE_BENCH_MEM_FILE: memFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let buffer = '';
  let stderr = '';
  let waiters = [];
  let cycles = 0;
  child.stderr.on('data', (c) => (stderr += c.toString()));
  child.stdout.on('data', (chunk) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      const event = JSON.parse(line);
      if (event.type === 'watch:cycle' && event.phase === 'done') cycles = event.cycle;
      waiters = waiters.filter((w) => {
        if (!w.match(event)) return true;
        clearTimeout(w.timer);
        w.resolve(event);
        return false;
      });
    }
  });
  const exited = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    get cycles() {
      return cycles;
    },
    /** Resolves with the first event from now on that matches. */
    next(match, what) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}\n${stderr}`)), WAIT_MS);
        waiters.push({ match, resolve, timer });
      });
    },
    rssKb() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    },
    /** Heap used (kB) right after a full garbage collection in the watch process. */
    async heapAfterGcKb() {
      rmSync(memFile, { force: true });
      child.kill('SIGUSR2');
      const deadline = Date.now() + WAIT_MS;
      while (!existsSync(memFile) || readFileSync(memFile, 'utf8') === '') {
        if (Date.now() > deadline) throw new Error('the memory probe did not answer');
        await new Promise((r) => setTimeout(r, 20));
      }
      return Math.round(JSON.parse(readFileSync(memFile, 'utf8')).heapUsed / 1024);
    },
    async stop() {
      child.kill('SIGINT');
      return exited;
    },
  };
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function cycleDone(w) {
  const after = w.cycles;
  return w.next((e) => e.type === 'watch:cycle' && e.phase === 'done' && e.cycle > after, `cycle ${after + 1}`);
}

async function edit(w, dir, i) {
  const n = i % FILES;
  const unit = `copy[n=${n}]`;
  const done = cycleDone(w);
  const cycleStart = w.next((e) => e.type === 'watch:cycle' && e.phase === 'start', 'a cycle start');
  const started = w.next((e) => e.type === 'unit:start' && e.unit === unit, `${unit} to start`);
  const wrote = Date.now();
  writeFileSync(path.join(dir, 'src', `${n}.txt`), `edit ${i}`);
  const [s, u] = await Promise.all([cycleStart, started]);
  await done;
  return { toCycle: s.time - wrote, toUnit: u.time - wrote };
}

async function main() {
  if (!existsSync(path.join(repo, 'dist', 'cli', 'main.js'))) throw new Error('build runcue first: npm run build');
  const dir = project();
  const w = startWatch(dir);
  try {
    await w.next((e) => e.type === 'watch:cycle' && e.phase === 'done' && e.cycle === 1, 'the initial build');
    const toUnit = [];
    const toCycle = [];
    for (let i = 0; i < EDITS; i++) {
      const t = await edit(w, dir, i);
      toUnit.push(t.toUnit);
      toCycle.push(t.toCycle);
    }
    toUnit.sort((a, b) => a - b);
    toCycle.sort((a, b) => a - b);
    const rss = {};
    const heap = {};
    const started = Date.now();
    for (let i = EDITS; w.cycles < CYCLES; i++) {
      await edit(w, dir, i);
      if (w.cycles === 100 || w.cycles % 250 === 0 || w.cycles === CYCLES) {
        rss[w.cycles] = w.rssKb();
        heap[w.cycles] = await w.heapAfterGcKb();
      }
    }
    const cycleMs = (Date.now() - started) / Math.max(1, CYCLES - EDITS - 1);
    const code = await w.stop();
    const result = {
      edits: EDITS,
      latencyMs: { median: quantile(toUnit, 0.5), p95: quantile(toUnit, 0.95), max: toUnit.at(-1) },
      writeToCycleStartMs: { median: quantile(toCycle, 0.5), p95: quantile(toCycle, 0.95) },
      cycles: w.cycles,
      msPerCycle: Math.round(cycleMs),
      rssKb: rss,
      rssGrowthFrom100Kb: rss[CYCLES] !== undefined && rss[100] !== undefined ? rss[CYCLES] - rss[100] : undefined,
      heapAfterGcKb: heap,
      heapGrowthFrom100Kb: heap[CYCLES] !== undefined && heap[100] !== undefined ? heap[CYCLES] - heap[100] : undefined,
      exitCode: code,
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(
      `write -> unit:start over ${EDITS} edits: median ${result.latencyMs.median} ms, p95 ${result.latencyMs.p95} ms ` +
        `(includes the 100 ms debounce)\nRSS: ${Object.entries(rss)
          .map(([c, kb]) => `cycle ${c}: ${(kb / 1024).toFixed(1)} MB`)
          .join(', ')}\n` +
        `heap after GC: ${Object.entries(heap)
          .map(([c, kb]) => `cycle ${c}: ${(kb / 1024).toFixed(1)} MB`)
          .join(', ')}\n`,
    );
  } finally {
    if (w.child.exitCode === null) w.child.kill('SIGKILL');
    if (opts.keep) process.stdout.write(`kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
