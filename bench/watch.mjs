#!/usr/bin/env node
// `runcue watch` benchmark (not part of npm test): the latency from an input write to the start
// of its unit (median and p95 over --edits edits), and resident memory over --cycles cycles
// (read from /proc/<pid>/status, so Linux only), and whether bursts of writes (an editor's save:
// write, rewrite, touch of one file a few ms apart; a "save all" of 5 files) are each one cycle,
// neither lost nor doubled. Needs a built runcue (`npm run build`).
//
//   node bench/watch.mjs [--edits 50] [--cycles 1000] [--files 100] [--bursts 20] [--keep]
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
    bursts: { type: 'string', default: '20' },
    keep: { type: 'boolean', default: false },
  },
});
const EDITS = Number(opts.edits);
const CYCLES = Number(opts.cycles);
const FILES = Number(opts.files);
const BURSTS = Number(opts.bursts);
/** Quiet time after a burst before its cycles are counted: longer than any debounce. */
const SETTLE_MS = 1500;
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
  let starts = 0;
  const observers = new Set();
  child.stderr.on('data', (c) => (stderr += c.toString()));
  child.stdout.on('data', (chunk) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      const event = JSON.parse(line);
      if (event.type === 'watch:cycle' && event.phase === 'done') cycles = event.cycle;
      if (event.type === 'watch:cycle' && event.phase === 'start') starts += 1;
      for (const observe of observers) observe(event);
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
    /** Cycles started so far. */
    get starts() {
      return starts;
    },
    /** Calls `fn` with every event from now on; returns the function that stops it. */
    observe(fn) {
      observers.add(fn);
      return () => observers.delete(fn);
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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * One burst of writes, then quiet until every cycle it caused has run: how many cycles started,
 * and how many of its units did not run or left an output that is not a copy of the last write.
 */
async function burst(w, dir, i) {
  const before = w.starts;
  const files = i % 2 === 0 ? [i % FILES] : [0, 1, 2, 3, 4].map((k) => (i * 5 + k) % FILES);
  const units = new Set(files.map((n) => `copy[n=${n}]`));
  const ran = new Set();
  const stop = w.observe((e) => {
    if (e.type === 'unit:start' && units.has(e.unit)) ran.add(e.unit);
  });
  for (const n of files) {
    const file = path.join(dir, 'src', `${n}.txt`);
    if (files.length === 1) {
      // An editor's save: write, write again, touch, a few ms apart.
      writeFileSync(file, `burst ${i} a`);
      await sleep(3);
      writeFileSync(file, `burst ${i} b`);
      await sleep(3);
      const now = new Date();
      utimesSync(file, now, now);
    } else {
      writeFileSync(file, `burst ${i}`);
      await sleep(2);
    }
  }
  await sleep(SETTLE_MS);
  while (w.cycles < w.starts) await sleep(20);
  stop();
  // Lost: a unit that did not run, or whose output is not the last version of its input.
  const stale = files.filter(
    (n) => readFileSync(path.join(dir, 'out', `${n}.txt`), 'utf8') !== readFileSync(path.join(dir, 'src', `${n}.txt`), 'utf8'),
  );
  return { cycles: w.starts - before, lost: [...units].filter((u) => !ran.has(u)).length + stale.length };
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
    const bursts = { bursts: BURSTS, cycles: 0, doubled: 0, lostUnits: 0 };
    for (let i = 0; i < BURSTS; i++) {
      const b = await burst(w, dir, i);
      bursts.cycles += b.cycles;
      if (b.cycles > 1) bursts.doubled += 1;
      bursts.lostUnits += b.lost;
    }
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
      bursts,
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
        `(includes the debounce)\n` +
        `bursts: ${bursts.bursts} bursts -> ${bursts.cycles} cycles, ${bursts.doubled} doubled, ${bursts.lostUnits} units lost\n` +
        `RSS: ${Object.entries(rss)
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
