#!/usr/bin/env node
// Clean builds with each way runcue starts commands (RUNCUE_SPAWN=direct, RUNCUE_SPAWN=pool)
// against make -jN, paired: every round runs all three on the same workload, alternating the
// order. Reports wall time, CPU (user + sys of the tool and its children) and the load average.
//   node bench/spawn.mjs [--reps 5] [--jobs 2] [--cases copy:1000,copy:10000,chain:1000] [--no-warmup]
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { findTools } from './lib/tools.mjs';
import { summarize } from './lib/measure.mjs';
import { Workload } from './lib/workload.mjs';

const REPO = path.resolve(import.meta.dirname, '..');
const WORK = path.join(import.meta.dirname, '.work');
const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '5' },
    jobs: { type: 'string', default: '2' },
    cases: { type: 'string', default: 'copy:1000,chain:1000,copy:10000' },
    'no-warmup': { type: 'boolean', default: false },
  },
});
const reps = Number(values.reps);
const jobs = Number(values.jobs);
const { runcue, make } = findTools(REPO);
if (runcue.missing) throw new Error(runcue.missing);

const variants = [
  { name: 'direct', command: runcue.build(jobs), env: { RUNCUE_SPAWN: 'direct' } },
  { name: 'pool', command: runcue.build(jobs), env: { RUNCUE_SPAWN: 'pool' } },
  { name: 'make', command: make.build(jobs), env: {} },
];

/**
 * Runs a command as a child subreaper (so the spawner helper, which outlives runcue by a moment
 * and is not waited for by it, and the commands it started are counted too), and prints the wall
 * time to the command's own exit and the user and sys CPU of every descendant.
 */
const TIMER = `import ctypes, os, resource, subprocess, sys, time
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)
t = time.monotonic()
code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)
wall = time.monotonic() - t
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(wall, r.ru_utime, r.ru_stime, file=sys.stderr)
sys.exit(code)`;

/** Wall seconds, user + sys CPU seconds of one run. */
function measure({ command, env }, cwd) {
  const r = spawnSync('python3', ['-c', TIMER, command.cmd, ...command.args], {
    cwd,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (r.status !== 0) throw new Error(`${command.cmd} failed: ${r.stderr}`);
  const [wall, user, sys] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return { wall, user, sys };
}

for (const spec of values.cases.split(',')) {
  const [kind, nText] = spec.split(':');
  const n = Number(nText);
  const w = new Workload(WORK, kind, n);
  if (!w.isGenerated) w.generate();
  const samples = new Map(variants.map((v) => [v.name, []]));
  const loads = [];
  for (let rep = values['no-warmup'] ? 0 : -1; rep < reps; rep++) {
    const order = rep % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      w.clean();
      const m = measure(v, w.dir);
      if (rep >= 0) samples.get(v.name).push(m);
    }
    if (rep >= 0) loads.push(loadavg()[0]);
  }
  const med = (name, key) => summarize(samples.get(name).map((m) => m[key])).median;
  const makeWall = med('make', 'wall');
  console.log(`\n${kind} N=${n} -j${jobs}, ${reps} paired rounds, load ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}`);
  for (const v of variants) {
    const wall = med(v.name, 'wall');
    const ratio = (wall / makeWall).toFixed(2);
    console.log(
      `  ${v.name.padEnd(6)} wall ${wall.toFixed(2)} s (${ratio}x make)  cpu ${med(v.name, 'user').toFixed(1)}u + ${med(v.name, 'sys').toFixed(1)}s`,
    );
  }
}
