// The benchmark scenarios. Each measures runcue and make alternately on the same workload and
// returns rows for the results table: { scenario, label, n, unit, runcue, make, target, note }.
import { spawnSync } from 'node:child_process';
import { peakRssMb, summarize, timeCommand } from './measure.mjs';
import { Workload } from './workload.mjs';

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The tools that can run here, in a fixed order. */
function available(ctx) {
  return ctx.tools.filter((tool) => !tool.missing);
}

/** A row's per-tool cell for a tool that cannot run at all. */
function missingCells(ctx) {
  return Object.fromEntries(ctx.tools.filter((t) => t.missing).map((t) => [t.name, { missing: t.missing }]));
}

/**
 * Measures each tool `reps` times, alternating which goes first, after one untimed warm-up run
 * each (page cache, Node's compile cache). A tool that fails is reported, not retried.
 */
function alternate(ctx, label, tools, measure, { reps = ctx.reps, warmup = true } = {}) {
  const samples = new Map(tools.map((tool) => [tool.name, []]));
  const cells = missingCells(ctx);
  let live = [...tools];
  const attempt = (tool, rep) => {
    try {
      const value = measure(tool, rep);
      if (rep >= 0) samples.get(tool.name).push(value);
    } catch (error) {
      cells[tool.name] = { error: error.message };
      live = live.filter((t) => t !== tool);
      ctx.log(`  ${tool.name} failed: ${error.message}`);
    }
  };
  if (warmup) for (const tool of tools) attempt(tool, -1);
  for (let rep = 0; rep < reps; rep++) {
    for (const tool of rep % 2 === 0 ? [...live] : [...live].reverse()) attempt(tool, rep);
  }
  for (const tool of live) cells[tool.name] = summarize(samples.get(tool.name));
  const shown = live.map((t) => `${t.name} ${cells[t.name].median.toFixed(1)}`).join(', ');
  ctx.log(`  ${label}: ${shown || 'no tool ran'}`);
  return cells;
}

/** Brings every output up to date (make is the quick way), so a no-op really has nothing to do. */
function upToDate(ctx, workload) {
  const question = spawnSync('make', ['-q'], { cwd: workload.dir, stdio: 'ignore' });
  if (question.status === 0) return;
  if (question.error) {
    workload.generate();
    return;
  }
  const build = spawnSync('make', ['-s', `-j${ctx.jobs}`], { cwd: workload.dir, stdio: 'ignore' });
  if (build.status !== 0) throw new Error(`make could not bring ${workload.dir} up to date`);
}

function workload(ctx, kind, n) {
  const w = new Workload(ctx.root, kind, n);
  if (!w.isGenerated) {
    ctx.log(`  generating ${kind} workload, N = ${n.toLocaleString('en-US')}`);
    w.generate();
  }
  return w;
}

/** Fails a measurement when a tool rebuilt something on what should be a no-op. */
function checkUntouched(w, before, tool) {
  const after = [w.outputMtime(0), w.outputMtime(w.n - 1)];
  if (after[0] !== before[0] || after[1] !== before[1]) {
    throw new Error(`${tool.name} rebuilt outputs on a no-op (out/0.out or out/${w.n - 1}.out changed)`);
  }
}

function noopCells(ctx, w, label) {
  upToDate(ctx, w);
  const before = [w.outputMtime(0), w.outputMtime(w.n - 1)];
  return alternate(ctx, label, available(ctx), (tool) => {
    const ms = timeCommand(tool.noop(), w.dir);
    checkUntouched(w, before, tool);
    return ms;
  });
}

function perUnit(cells, n) {
  return Object.entries(cells)
    .filter(([, c]) => c.median !== undefined)
    .map(([name, c]) => `${name} ${((c.median * 1000) / n).toFixed(1)} µs/unit`)
    .join(', ');
}

/** Everything up to date: how long does it take to find out? */
function noop(ctx, n) {
  const w = workload(ctx, 'copy', n);
  const cells = noopCells(ctx, w, `no-op N=${n}`);
  // Issue 14: <= 1.5x make at 10,000 units, <= 5x at 1,000 (where start-up weighs most).
  const target = n === 10_000 ? { ratio: 1.5 } : n === 1000 ? { ratio: 5 } : undefined;
  return [{ scenario: 'noop', label: 'no-op', n, unit: 'ms', ...cells, target, note: perUnit(cells, n) }];
}

/** One input touched: find it and rebuild exactly that unit. */
function touch(ctx, n) {
  const w = workload(ctx, 'copy', n);
  upToDate(ctx, w);
  let next = 0;
  const cells = alternate(ctx, `touch-one N=${n}`, available(ctx), (tool) => {
    // A different unit each time, spread over the range.
    const i = (next++ * 7919) % n;
    const inputMtime = w.touchInput(i);
    // Past the kernel's coarse timestamp clock, so the rebuilt output is newer than the input.
    sleep(15);
    const ms = timeCommand(tool.noop(), w.dir);
    if (!(w.outputMtime(i) >= inputMtime)) throw new Error(`${tool.name} did not rebuild ${w.output(i)}`);
    return ms;
  });
  return [{ scenario: 'touch', label: 'touch one input', n, unit: 'ms', ...cells, target: n === 10_000 ? { ratio: 1.5 } : undefined }];
}

function buildCells(ctx, w, label, reps) {
  return alternate(
    ctx,
    label,
    available(ctx),
    (tool) => {
      w.clean();
      const ms = timeCommand(tool.build(ctx.jobs), w.dir);
      for (let i = 0; i < w.n; i++) {
        if (w.outputMtime(i) === undefined) throw new Error(`${tool.name} left ${w.output(i)} missing`);
      }
      return ms;
    },
    { reps },
  );
}

/** Every output missing: one `cp` process per unit, `--jobs N` / `make -jN`. */
function build(ctx, n) {
  const w = workload(ctx, 'copy', n);
  const cells = buildCells(ctx, w, `full build N=${n} -j${ctx.jobs}`);
  upToDate(ctx, w);
  return [{ scenario: 'build', label: `full build, -j${ctx.jobs}`, n, unit: 'ms', ...cells, target: { ratio: 1.3 } }];
}

/** Three tasks in a row (src -> a -> b -> out): full build, then no-op. */
function chain(ctx, n) {
  const w = workload(ctx, 'chain', n);
  const built = buildCells(ctx, w, `chain build N=${n}x3 -j${ctx.jobs}`);
  const fresh = noopCells(ctx, w, `chain no-op N=${n}x3`);
  return [
    { scenario: 'chain-build', label: `3-stage chain, full build, -j${ctx.jobs}`, n, unit: 'ms', ...built, note: `${3 * n} units` },
    { scenario: 'chain-noop', label: '3-stage chain, no-op', n, unit: 'ms', ...fresh, note: `${3 * n} units` },
  ];
}

/** Peak resident memory of a no-op (and with --rss-build, of a full build: slow). */
function rss(ctx, n) {
  const w = workload(ctx, 'copy', n);
  upToDate(ctx, w);
  const reps = Math.min(ctx.reps, 3);
  const measure = (command) => {
    const mb = peakRssMb(command, w.dir);
    if (mb === undefined) throw new Error('no way to measure its RSS here (install GNU time)');
    return mb;
  };
  const rows = [];
  const idle = alternate(ctx, `peak RSS no-op N=${n}`, available(ctx), (tool) => measure(tool.noop()), {
    reps,
    warmup: false,
  });
  rows.push({ scenario: 'rss-noop', label: 'peak RSS, no-op', n, unit: 'MB', ...idle, target: { runcue: 200 } });
  if (ctx.rssBuild) {
    const full = alternate(
      ctx,
      `peak RSS full build N=${n}`,
      available(ctx),
      (tool) => {
        w.clean();
        return measure(tool.build(ctx.jobs));
      },
      { reps: 1, warmup: false },
    );
    upToDate(ctx, w);
    rows.push({ scenario: 'rss-build', label: `peak RSS, full build, -j${ctx.jobs}`, n, unit: 'MB', ...full, target: { runcue: 400 } });
  }
  return rows;
}

/**
 * `runcue --version` against `make --version`, and `runcue build` on a config whose one task has
 * no units (no input file) against `make` with nothing to make: what a command costs before any
 * unit, config loading included. `node -e 0` is the floor for any Node CLI.
 */
function startup(ctx) {
  const reps = Math.max(ctx.reps * 2, 10);
  const cells = alternate(ctx, 'startup', available(ctx), (tool) => timeCommand(tool.startup(), ctx.root), {
    reps,
  });
  const empty = workload(ctx, 'copy', 0);
  const build = alternate(ctx, 'build, no units', available(ctx), (tool) => timeCommand(tool.noop(), empty.dir), { reps });
  const runcue = ctx.tools.find((t) => t.name === 'runcue');
  const floor = summarize(Array.from({ length: reps }, () => timeCommand({ cmd: runcue.node, args: ['-e', '0'] }, ctx.root)));
  const note = `node -e 0: ${floor.median.toFixed(1)} ms`;
  return [
    { scenario: 'startup', label: '`--version` (startup)', n: undefined, unit: 'ms', ...cells, target: { runcue: 35 }, note },
    { scenario: 'startup-build', label: '`build`, no units (startup)', n: undefined, unit: 'ms', ...build, target: { runcue: 50 }, note },
  ];
}

/** Scenario name -> { run(ctx, n), sizes: default N values }. */
export const SCENARIOS = {
  startup: { run: startup, sizes: [undefined] },
  noop: { run: noop, sizes: [1_000, 10_000, 100_000] },
  touch: { run: touch, sizes: [10_000] },
  build: { run: build, sizes: [1_000] },
  chain: { run: chain, sizes: [1_000] },
  rss: { run: rss, sizes: [100_000] },
};
