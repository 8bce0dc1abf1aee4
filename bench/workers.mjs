#!/usr/bin/env node
// Persistent workers vs a process per unit (issue 11), through runcue: N units with an instant
// handler run by one worker, then by spawning the handler per unit (Python with the runqy_python
// stand-in, Node with runcue/worker), and runcue's own share of a worker round trip. Not part of
// `npm test`: spawning python3 1,000 times takes a while. `node bench/workers.mjs --help`.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { summarize, timeCommand } from './lib/measure.mjs';
import { describeCommit, OTHER_RESULTS_MARK, otherResults } from './lib/report.mjs';
import { findTools } from './lib/tools.mjs';
import { WORKER_TASKS, workerWorkload } from './lib/worker-workload.mjs';

const HELP = `usage: node bench/workers.mjs [options]     (or: npm run bench -- workers [options])

  --units N       units per build (default 1000)
  --reps N        timed builds per task (default 3), worker and spawn alternating
  --only LIST     python, node, overhead (default all)
  --no-write      print only; leave bench/RESULTS.md alone
  -h, --help      this text

Quick run (about a minute): node bench/workers.mjs --units 200 --reps 1 --no-write`;

const HERE = import.meta.dirname;
const REPO = path.dirname(HERE);
const PAIRS = {
  python: { label: 'python3 (runqy_python)', worker: 'py-worker', spawn: 'py-spawn', target: 20 },
  node: { label: 'node (runcue/worker)', worker: 'node-worker', spawn: 'node-spawn' },
};
const OVERHEAD_TARGET_MS = 0.3;

function log(line) {
  process.stderr.write(`${line}\n`);
}

function options(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      units: { type: 'string', default: '1000' },
      reps: { type: 'string', default: '3' },
      only: { type: 'string', default: 'python,node,overhead' },
      'no-write': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const only = values.only.split(',').map((s) => s.trim());
  const unknown = only.filter((name) => name !== 'overhead' && !PAIRS[name]);
  if (unknown.length > 0) throw new Error(`unknown --only ${unknown.join(', ')} (known: python, node, overhead)`);
  const positive = (text, flag) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 2) throw new Error(`${flag} expects an integer >= 2, got ${text}`);
    return value;
  };
  return { help: values.help, units: positive(values.units, '--units'), reps: Number(values.reps) || 1, only, write: !values['no-write'] };
}

/** One full build of a task: every output removed first, so all N units run. */
function buildTask(runcue, dir, task) {
  rmSync(path.join(dir, task), { recursive: true, force: true });
  const ms = timeCommand({ cmd: runcue.node, args: [path.join(REPO, 'bin', 'runcue.js'), 'build', task, '--reporter', 'silent'] }, dir);
  const made = existsSync(path.join(dir, task, '0.json'));
  if (!made) throw new Error(`${task}: the build exited 0 but wrote no ${task}/0.json`);
  return ms;
}

/** Worker and spawn builds alternating, which goes first swapped every repetition. */
function pair(runcue, dir, spec, reps) {
  const times = { worker: [], spawn: [] };
  for (const side of ['worker', 'spawn']) buildTask(runcue, dir, spec[side]); // warm-up, untimed
  for (let rep = 0; rep < reps; rep++) {
    const order = rep % 2 === 0 ? ['worker', 'spawn'] : ['spawn', 'worker'];
    for (const side of order) {
      const ms = buildTask(runcue, dir, spec[side]);
      times[side].push(ms);
      log(`  ${spec[side]}: ${ms.toFixed(0)} ms`);
    }
  }
  return { worker: summarize(times.worker), spawn: summarize(times.spawn) };
}

/** Builds of the gap task; per build, the median and mean gap the worker measured. */
function overhead(runcue, dir, reps) {
  const medians = [];
  const means = [];
  buildTask(runcue, dir, 'gap');
  for (let rep = 0; rep < reps; rep++) {
    rmSync(path.join(dir, 'gaps.json'), { force: true });
    buildTask(runcue, dir, 'gap');
    const gaps = JSON.parse(readFileSync(path.join(dir, 'gaps.json'), 'utf8'));
    medians.push(summarize(gaps).median);
    means.push(gaps.reduce((a, b) => a + b, 0) / gaps.length);
    log(`  gap: median ${medians.at(-1).toFixed(3)} ms, mean ${means.at(-1).toFixed(3)} ms over ${gaps.length} round trips`);
  }
  return { median: summarize(medians).median, mean: summarize(means).median, runs: reps };
}

const ms = (value) => (value >= 100 ? `${value.toFixed(0)} ms` : `${value.toFixed(2)} ms`);

function render({ pairs, gap, units, reps, machine, commit, date }) {
  const lines = [
    OTHER_RESULTS_MARK,
    '',
    '## Persistent workers vs a process per unit',
    '',
    `Written by \`node bench/workers.mjs\` (${date}, commit ${commit}; ${machine}). ${units.toLocaleString('en-US')} units`,
    `with an instant handler through a service with \`concurrent: 1\` (so one worker process), each`,
    `cell the median of ${reps} full builds (\`runcue build TASK --reporter silent\`, every output removed`,
    'first), worker and spawn builds alternating, after one untimed build of each. The wall time is',
    "the whole build: runcue's start, planning, and the worker's own start and load.",
    '',
    '| handler | one worker | spawned per unit | per unit: worker / spawned | speed-up | target | met |',
    '| --- | ---: | ---: | ---: | ---: | --- | --- |',
  ];
  for (const [name, result] of Object.entries(pairs)) {
    const spec = PAIRS[name];
    const speedUp = result.spawn.median / result.worker.median;
    lines.push(
      `| ${spec.label} | ${ms(result.worker.median)} | ${ms(result.spawn.median)} | ` +
        `${ms(result.worker.median / units)} / ${ms(result.spawn.median / units)} | ${speedUp.toFixed(1)}x | ` +
        `${spec.target ? `≥ ${spec.target}x` : ''} | ${spec.target ? (speedUp >= spec.target ? 'yes' : 'no') : ''} |`,
    );
  }
  if (gap) {
    lines.push(
      '',
      "**runcue's side of a worker round trip**: median " +
        `${gap.median.toFixed(3)} ms, mean ${gap.mean.toFixed(3)} ms per unit (target ≤ ${OVERHEAD_TARGET_MS} ms: ` +
        `${gap.median <= OVERHEAD_TARGET_MS ? 'met' : 'not met'}; median over ${gap.runs} builds of ${units.toLocaleString('en-US')} units).`,
      'Measured by the worker itself (task `gap`, a raw Node worker with no handler work): for each',
      'task line, the time from handing its previous answer to the pipe to receiving that line, on',
      "the worker's monotonic clock. That gap is everything runcue does per unit: read and parse the",
      'answer, write the result to the output (temp file + rename), check the output, record and',
      'settle the unit, pick the next one, and write its task line, plus two pipe hops.',
    );
  }
  lines.push('', `Run it: \`npm run build && node bench/workers.mjs --units ${units} --reps ${reps}\`.`, '');
  return lines.join('\n');
}

function main() {
  const opts = options(process.argv.slice(2));
  if (opts.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const { runcue } = findTools(REPO);
  if (runcue.missing) throw new Error(`runcue cannot run: ${runcue.missing} (npm run build)`);
  const dir = workerWorkload({ root: path.join(HERE, '.work'), repo: REPO, node: runcue.node, n: opts.units });
  log(`workload: ${path.relative(REPO, dir)} (${Object.keys(WORKER_TASKS).join(', ')})`);
  const pairs = {};
  for (const name of Object.keys(PAIRS).filter((n) => opts.only.includes(n))) {
    log(`${name}: worker vs spawn, ${opts.units} units`);
    pairs[name] = pair(runcue, dir, PAIRS[name], opts.reps);
  }
  let gap;
  if (opts.only.includes('overhead')) {
    log(`overhead: ${opts.units} round trips`);
    gap = overhead(runcue, dir, opts.reps);
  }
  const python = spawnSync('python3', ['--version'], { encoding: 'utf8' }).stdout.trim();
  const machine = `${os.availableParallelism()} cores, Node ${runcue.nodeVersion}, ${python}, runcue ${runcue.version}`;
  const section = render({
    pairs,
    gap,
    units: opts.units,
    reps: opts.reps,
    machine,
    commit: describeCommit(REPO),
    date: new Date().toISOString().slice(0, 16).replace('T', ' '),
  });
  process.stdout.write(`${section}\n`);
  if (opts.write) {
    const file = path.join(HERE, 'RESULTS.md');
    const text = readFileSync(file, 'utf8');
    const above = otherResults(file) === '' ? text : text.slice(0, text.indexOf(OTHER_RESULTS_MARK));
    // bench/queue.mjs's section is its own: kept as it is.
    const queue = /<!-- bench\/queue\.mjs: start -->[\s\S]*<!-- bench\/queue\.mjs: end -->/.exec(text)?.[0];
    writeFileSync(file, `${above.trimEnd()}\n\n${section}${queue ? `\n${queue}\n` : ''}`);
    log('wrote bench/RESULTS.md');
  }
}

try {
  main();
} catch (error) {
  log(`bench: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
