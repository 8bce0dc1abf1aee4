#!/usr/bin/env node
// runcue vs GNU make on generated workloads. `node bench/run.mjs --help` for the options.
// Never part of `npm test`: it takes minutes and its numbers depend on the machine.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { rssMethod } from './lib/measure.mjs';
import { describeCommit, describeMachine, LEFT_OUT, mergeResults, renderTable, writeResultsMd } from './lib/report.mjs';
import { SCENARIOS } from './lib/scenarios.mjs';
import { findTools } from './lib/tools.mjs';

const HELP = `usage: node bench/run.mjs [options]

  --only LIST     scenarios to run, comma-separated (default: all):
                  ${Object.keys(SCENARIOS).join(', ')}
  --n LIST        unit counts instead of each scenario's defaults (1000,10k,100k)
  --reps N        timed runs per tool and scenario (default 5; startup runs at least 10)
  --jobs N        parallelism of full builds: runcue --jobs N, make -jN (default 2)
  --tools LIST    runcue,make (default both)
  --rss-build     the rss scenario also measures a full build (slow at N = 100,000)
  --no-write      print the table only; leave bench/RESULTS.md and bench/results.json alone
  --clean         delete the generated workloads (bench/.work) first
  -h, --help      this text

Quick run (under a minute): node bench/run.mjs --only noop --n 1000 --reps 5`;

const HERE = import.meta.dirname;
const REPO = path.dirname(HERE);
const WORK = path.join(HERE, '.work');

function count(text) {
  const match = /^(\d+(?:\.\d+)?)(k)?$/i.exec(text.trim().replace(/[_,]/g, ''));
  if (!match) throw new Error(`not a count: ${text}`);
  return Math.round(Number(match[1]) * (match[2] ? 1000 : 1));
}

function positive(text, flag) {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} expects a positive integer, got ${text}`);
  return value;
}

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string' },
      n: { type: 'string' },
      reps: { type: 'string', default: '5' },
      jobs: { type: 'string', default: '2' },
      tools: { type: 'string', default: 'runcue,make' },
      'rss-build': { type: 'boolean', default: false },
      'no-write': { type: 'boolean', default: false },
      clean: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const only = values.only ? values.only.split(',').map((s) => s.trim()) : Object.keys(SCENARIOS);
  const unknown = only.filter((name) => !SCENARIOS[name]);
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')} (known: ${Object.keys(SCENARIOS).join(', ')})`);
  const tools = values.tools.split(',').map((s) => s.trim());
  if (tools.some((t) => t !== 'runcue' && t !== 'make')) throw new Error(`--tools takes runcue and/or make`);
  return {
    help: values.help,
    only,
    sizes: values.n ? values.n.split(',').map(count) : undefined,
    reps: positive(values.reps, '--reps'),
    jobs: positive(values.jobs, '--jobs'),
    tools,
    rssBuild: values['rss-build'],
    write: !values['no-write'],
    clean: values.clean,
  };
}

/** Records where and when each measured cell of a row was taken. */
function stamp(row, { machine, commit, date }) {
  const stamped = { ...row, machine };
  for (const tool of ['runcue', 'make']) {
    if (row[tool]?.median !== undefined) stamped[tool] = { ...row[tool], commit, date };
  }
  return stamped;
}

function log(line) {
  process.stderr.write(`${line}\n`);
}

function main() {
  const options = parseOptions(process.argv.slice(2));
  if (options.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const found = findTools(REPO);
  for (const tool of Object.values(found)) {
    if (!options.tools.includes(tool.name)) tool.missing = LEFT_OUT;
    else if (tool.missing) log(`note: ${tool.name} will not be measured: ${tool.missing}`);
  }
  if (options.clean) rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });

  const machine = describeMachine(found, rssMethod);
  const commit = describeCommit(REPO);
  const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
  log(`machine: ${machine}`);
  const ctx = { root: WORK, tools: [found.runcue, found.make], reps: options.reps, jobs: options.jobs, rssBuild: options.rssBuild, log };

  const rows = [];
  for (const name of options.only) {
    const scenario = SCENARIOS[name];
    const sizes = name === 'startup' ? scenario.sizes : (options.sizes ?? scenario.sizes);
    for (const n of sizes) {
      log(`${name}${n === undefined ? '' : ` N=${n.toLocaleString('en-US')}`}`);
      for (const row of scenario.run(ctx, n)) rows.push(stamp(row, { machine, commit, date }));
    }
  }

  process.stdout.write(`${renderTable(rows)}\n`);
  if (options.write) {
    const all = mergeResults(path.join(HERE, 'results.json'), rows);
    writeResultsMd(path.join(HERE, 'RESULTS.md'), all);
    log('wrote bench/RESULTS.md');
  }
}

if (process.argv[2] === 'workers') {
  // `npm run bench -- workers [options]`: the persistent-worker benchmark, a script of its own.
  const child = spawnSync(process.execPath, [path.join(HERE, 'workers.mjs'), ...process.argv.slice(3)], { stdio: 'inherit' });
  process.exitCode = child.status ?? 1;
} else {
  try {
    main();
  } catch (error) {
    log(`bench: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
