#!/usr/bin/env node
// Randomised crash check: makes small random projects (seeded), starts `runcue build` (or
// `watch`, `clean`, `touch`) in each, kills it at a random moment within the time a clean build
// takes (SIGKILL of runcue alone or of its process group, SIGINT one to three times, SIGINT then
// SIGKILL, SIGTERM, SIGHUP), then checks what SPEC §2 promises:
//   1. no process of the run survives a short grace (spawner helper, watchdog, workers, every
//      command and grandchild: found by a marker in PATH that each of them inherits, or a working
//      directory inside the project);
//   2. inputs are byte-identical to before;
//   3. after `runcue plan --json` and `runcue build --keep-going`, the tree equals that of a clean
//      build of the same project in another directory (same files, same bytes; .runcue/ ignored):
//      no half-written output was taken as fresh and nothing was lost;
//   4. exit codes: 130 on SIGINT, 143 on SIGTERM, 129 on SIGHUP (or what a run that finished
//      before the signal says), and the build after it exits 0 (1 with a deliberately failing unit).
// Not part of `npm test`.
//
//   npm run build && node scripts/crashcheck.mjs [--seed N] [--runs N] [--only I] [--keep] [--mode M]
//
// (RUNCUE_BIN=path/to/bin/runcue.js runs another build of runcue.) --mode picks the scenario of
// every run: build (the default mix is mostly build), watch, clean, touch, again (kill -9 and at
// once a second build), chain (one to three more builds, each killed too), rebuild (built once,
// some inputs changed, then the killed build). Exit code 1 when something was found; each finding is printed with the
// project directory (kept).
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BIN, commonFlags, flag, rng } from './lib/check-cli.mjs';

const { SEED, RUNS, ONLY, KEEP } = commonFlags(30);
const MODE = flag('--mode', undefined);

const pick = (r, list) => list[Math.floor(r() * list.length)];
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
const timeout = (ms) => new Promise((res) => setTimeout(res, ms).unref());

// The pool of tasks: `needs` are the tasks whose outputs they read (always chosen with them).
// 0.0D (seconds) and DD (ms, or 0.DD seconds) are short random delays; every output is deterministic.
const POOL = {
  // Writes its output in two pieces.
  A: { src: `{ input: 'in/{n}.txt', output: 'a/{n}.txt', run: "printf 'A:' > {output}; sleep 0.0D; cat {input} >> {output}" }` },
  // A grandchild in the command's group writes the second piece.
  B: {
    needs: ['A'],
    src: `{ input: 'a/{n}.txt', output: 'b/{n}.txt', run: "printf 'B:' > {output}; ( sleep 0.0D; cat {input} >> {output} ) & wait" }`,
  },
  // Fan-in, written file by file.
  C: {
    needs: ['A'],
    src: `{ input: 'a/*.txt', output: 'c/all.txt', run: ": > {output}; for f in {inputs}; do cat \\"$f\\" >> {output}; sleep 0.0D; done" }`,
  },
  // A directory output, filled file by file.
  S: {
    needs: ['A'],
    src: `{ input: 'a/*.txt', output: 'site', run: "mkdir -p site; for f in {inputs}; do cp \\"$f\\" site/; sleep 0.0D; done; echo done > site/index.html" }`,
  },
  // A dynamic glob output: as many parts as the input's first digit, one by one.
  E: {
    src: `{ input: 'in/{n}.txt', output: 'parts/{n}/*.txt', run: "mkdir -p parts/{n}; k=$(head -c1 {input}); i=0; while [ $i -lt $k ]; do i=$((i+1)); printf 'p' > parts/{n}/p$i.txt; sleep 0.0D; echo $i >> parts/{n}/p$i.txt; done" }`,
  },
  F: {
    needs: ['E'],
    src: `{ input: 'parts/{n}/{p}.txt', output: 'f/{n}/{p}.txt', run: "printf 'F:' > {output}; sleep 0.0D; cat {input} >> {output}" }`,
  },
  G: {
    needs: ['E'],
    src: `{ input: 'parts/{n}/*.txt', output: 'g/{n}.txt', run: "cat {inputs} > {output}; sleep 0.0D; echo end >> {output}" }`,
  },
  // A function task that honours its signal.
  H: {
    src: `{ input: 'in/{n}.txt', output: 'h/{n}.txt', run: async ({ input, output }, { signal }) => { const o = resolve(import.meta.dirname, output); await writeFile(o, 'H:'); await delay(DD, undefined, { signal }); await appendFile(o, await readFile(resolve(import.meta.dirname, input))); } }`,
  },
  // A function task that ignores its signal.
  Y: {
    src: `{ input: 'in/{n}.txt', output: 'y/{n}.txt', run: async ({ input, output }) => { const o = resolve(import.meta.dirname, output); await writeFile(o, 'Y:'); await delay(DD); await appendFile(o, await readFile(resolve(import.meta.dirname, input))); } }`,
  },
  // A function task that runs a command of its own (child_process), passing its signal.
  Z: {
    src: `{ input: 'in/{n}.txt', output: 'z/{n}.txt', run: async ({ input, output }, { signal }) => { await execFileP('sh', ['-c', 'printf Z: > "$1"; sleep 0.DD; cat "$2" >> "$1"', 'sh', output, input], { cwd: import.meta.dirname, signal }); } }`,
  },
  // The same, whose command leaves a background job that writes the second piece.
  Q: {
    src: `{ input: 'in/{n}.txt', output: 'q/{n}.txt', run: async ({ input, output }, { signal }) => { await execFileP('sh', ['-c', 'printf Q: > "$1"; (sleep 0.DD; cat "$2" >> "$1") & wait', 'sh', output, input], { cwd: import.meta.dirname, signal }); } }`,
  },
  // Ignores SIGTERM (so does its sleep).
  I: {
    src: `{ input: 'in/{n}.txt', output: 'i/{n}.txt', run: "trap '' TERM; printf 'I:' > {output}; sleep 0.DD; cat {input} >> {output}" }`,
  },
  // Fails its first attempt after writing a piece; retried.
  J: {
    needs: ['A'],
    src: `{ input: 'a/{n}.txt', output: 'j/{n}.txt', retries: 2, backoff: '50ms', run: "printf 'J:' > {output}; sleep 0.0D; [ \\"$RUNCUE_ATTEMPT\\" -gt 1 ] || exit 3; cat {input} >> {output}" }`,
  },
  // A grandchild that leaves the command's process group (keeps its environment), waited for.
  K: {
    src: `{ input: 'in/{n}.txt', output: 'k/{n}.txt', run: "printf 'K:' > {output}; setsid sh -c 'sleep 0.DD; cat \\"$1\\" >> \\"$2\\"' _ {input} {output} & wait" }`,
  },
  // Hash freshness, downstream of the fan-in.
  L: {
    needs: ['C'],
    src: `{ input: 'c/all.txt', output: 'l.txt', freshness: 'hash', run: "printf 'L:' > {output}; sleep 0.0D; cat {input} >> {output}" }`,
  },
  // Fails (deliberately) for n=y, after writing a piece.
  X: {
    needs: ['A'],
    src: `{ input: 'a/{n}.txt', output: 'x/{n}.txt', run: "printf 'X:' > {output}; sleep 0.0D; [ {n} != y ] || exit 1; cat {input} >> {output}" }`,
    fails: true,
  },
  // A persistent worker that writes its output in two pieces.
  W: { src: `{ input: 'in/{n}.txt', output: 'w/{n}.txt', worker: ['python3', 'worker.py'] }` },
  // Keeps what it wrote when it fails or is stopped (dated back to 1970, so never fresh).
  P: {
    src: `{ input: 'in/{n}.txt', output: 'p/{n}.txt', keepFailedOutputs: true, run: "printf 'P:' > {output}; sleep 0.0D; cat {input} >> {output}" }`,
  },
  // Two outputs, written one after the other.
  M: {
    needs: ['A'],
    src: `{ input: 'a/{n}.txt', output: ['m/{n}.a', 'm/{n}.b'], run: "cat {input} > m/{n}.a; sleep 0.0D; cat {input} > m/{n}.b" }`,
  },
  // Rate-limited (services.api): each start is logged (log/ is not compared) to check the window.
  R: {
    src: `{ uses: 'api', input: 'in/{n}.txt', output: 'r/{n}.txt', run: "date +%s%N >> log/api.starts; printf 'R:' > {output}; sleep 0.0D; cat {input} >> {output}" }`,
  },
  // An argv command (no shell) that writes slowly through a shell it starts itself.
  V: {
    needs: ['A'],
    src: `{ input: 'a/{n}.txt', output: 'v/{n}.txt', run: ['sh', '-c', 'printf V: > "$2"; sleep 0.0D; cat "$1" >> "$2"', 'sh', '{input}', '{output}'] }`,
  },
};

const WORKER = `import json, sys, time
print(json.dumps({"status": "ready"}), flush=True)
for line in sys.stdin:
    t = json.loads(line)
    p = t["payload"]
    with open(p["output"], "w") as f:
        f.write("W:")
        f.flush()
        time.sleep(0.15)
        f.write(open(p["input"]).read())
    print(json.dumps({"task_id": t["task_id"], "result": None, "error": None, "retry": False}), flush=True)
`;

const NAMES = ['x', 'y', 'z', 'w'];
const RATE = 2;

/** The first RATE + 1 starts within `windowMs` of each other, as [first, last]; undefined when none. */
function crowded(starts, windowMs) {
  for (let i = RATE; i < starts.length; i++) if (starts[i] - starts[i - RATE] < windowMs) return [starts[i - RATE], starts[i]];
  return undefined;
}

/** Sorted numbers, one per line of `path` (`div`: a divisor, as a BigInt); undefined without the file. */
function timesIn(path, div = 1n) {
  if (!existsSync(path)) return undefined;
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((t) => Number(BigInt(t) / div))
    .sort((a, b) => a - b);
}

/**
 * More than RATE starts of the api service within 600 ms, by the commands' own clocks (a 1 s
 * window less the jitter of a loaded machine between runcue starting a command and its `date`):
 * a breach, unless runcue's own record of its starts (.runcue/rates) keeps to the exact 1 s
 * window and has them all, so that the gap was the command's start-up (seen at load 10: 550 ms).
 */
function rateBreach(dir) {
  const starts = timesIn(join(dir, 'log', 'api.starts'), 1_000_000n);
  const seen = starts && crowded(starts, 600);
  if (!seen) return undefined;
  const own = timesIn(join(dir, '.runcue', 'rates', 'api.log'));
  if (own && own.length >= starts.length && !crowded(own, 1000)) return undefined;
  const [first, last] = seen;
  return `${RATE + 1} starts of api (rate ${RATE}/s) within ${last - first} ms: ${starts.join(' ')}${own ? `; runcue's own: ${own.join(' ')}` : ''}`;
}

function makeProject(r) {
  const keys = Object.keys(POOL);
  const chosen = new Set();
  const count = 2 + Math.floor(r() * 3);
  while (chosen.size < count) chosen.add(pick(r, keys));
  for (let grew = true; grew;) {
    grew = false;
    for (const t of [...chosen])
      for (const need of POOL[t].needs ?? [])
        if (!chosen.has(need)) {
          chosen.add(need);
          grew = true;
        }
  }
  const tasks = [...chosen].sort();
  const hash = r() < 0.3;
  const grace = pick(r, [undefined, "'500ms'", "'1s'"]);
  const body = tasks
    .map((t) =>
      POOL[t].src.replaceAll('DD', () => String(10 + Math.floor(r() * 60))).replaceAll('0.0D', () => (0.01 + r() * 0.25).toFixed(2)),
    )
    .map((src, i) => `    ${tasks[i]}: ${src},`)
    .join('\n');
  const config =
    `import { execFile } from 'node:child_process';\nimport { promisify } from 'node:util';\nconst execFileP = promisify(execFile);\n` +
    `import { appendFile, readFile, writeFile } from 'node:fs/promises';\nimport { resolve } from 'node:path';\nimport { setTimeout as delay } from 'node:timers/promises';\n` +
    `export default {${hash ? " freshness: 'hash'," : ''}${grace ? ` killGrace: ${grace},` : ''}\n  services: { api: { rate: '${RATE}/s' } },\n  tasks: {\n${body}\n  },\n};\n`;
  const files = { 'runcue.config.mjs': config };
  if (chosen.has('W')) files['worker.py'] = WORKER;
  files['log/.keep'] = '';
  const names = NAMES.slice(0, 2 + Math.floor(r() * 3));
  for (const n of names) files[`in/${n}.txt`] = `${1 + Math.floor(r() * 3)}${n}\n`;
  return { tasks, files, fails: tasks.some((t) => POOL[t].fails) };
}

function write(dir, files) {
  const past = Date.now() / 1000 - 1000;
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
    utimesSync(join(dir, path), past, past);
  }
}

/** Every file under `dir` (not .runcue/), path -> contents. */
function tree(dir, rel = '', into = new Map()) {
  for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const path = rel ? `${rel}/${entry.name}` : entry.name;
    if (path === '.runcue' || path === '__pycache__' || path === 'log') continue;
    if (entry.isDirectory()) tree(dir, path, into);
    else into.set(path, entry.isSymbolicLink() ? `-> ${readlinkSync(join(dir, path))}` : readFileSync(join(dir, path), 'latin1'));
  }
  return into;
}

function diff(want, got) {
  const out = [];
  for (const [path, text] of want) {
    if (!got.has(path)) out.push(`missing ${path}`);
    else if (got.get(path) !== text) out.push(`${path}: ${JSON.stringify(got.get(path))} (want ${JSON.stringify(text)})`);
  }
  for (const path of got.keys()) if (!want.has(path)) out.push(`extra ${path}: ${JSON.stringify(got.get(path))}`);
  return out;
}

function env(marker) {
  return { PATH: `${marker}:${process.env.PATH}`, HOME: process.env.HOME, CI: 'true' };
}

function cli(dir, argv, marker) {
  const res = spawnSync(process.execPath, [BIN, ...argv], { cwd: dir, encoding: 'utf8', env: env(marker), timeout: 90_000 });
  return { code: res.status, signal: res.signal, stdout: res.stdout, stderr: res.stderr };
}

/** Live processes of a run: the marker in their environment, or their working directory in `dir`. */
function survivors(dir, marker) {
  const real = realpathSync(dir);
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') continue;
      let ours = false;
      try {
        ours = readFileSync(`/proc/${entry}/environ`, 'latin1').includes(marker);
      } catch {
        // Gone, or not ours.
      }
      if (!ours) {
        const cwd = readlinkSync(`/proc/${entry}/cwd`);
        ours = cwd === real || cwd.startsWith(`${real}/`);
      }
      if (ours) found.push(`${entry} ${readFileSync(`/proc/${entry}/cmdline`, 'latin1').replaceAll('\0', ' ').trim()}`);
    } catch {
      // Gone, or not ours.
    }
  }
  return found;
}

/** Starts runcue in its own process group (as a shell starts a job) and collects its output. */
function start(dir, argv, marker) {
  const child = spawn(process.execPath, [BIN, ...argv], { cwd: dir, env: env(marker), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const run = { child, stdout: '', stderr: '', exited: false };
  child.stdout.on('data', (c) => (run.stdout += c));
  child.stderr.on('data', (c) => (run.stderr += c));
  run.done = new Promise((res) =>
    child.on('close', (code, signal) => {
      run.exited = true;
      res({ code, signal });
    }),
  );
  return run;
}

/** Whether runcue's record of the run of `pid` says it ended, with exit code `code`, before being interrupted. */
function recordedEnd(dir, pid, code) {
  const runs = join(dir, '.runcue', 'runs');
  if (!existsSync(runs)) return false;
  return readdirSync(runs)
    .filter((f) => f.endsWith(`-p${pid}.json`))
    .some((f) => {
      const record = JSON.parse(readFileSync(join(runs, f), 'utf8'));
      return record.exitCode === code && record.status !== 'interrupted';
    });
}

const SIGNAL_CODES = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/** Sends the kill; returns the signal whose exit code is expected (undefined for SIGKILL). */
async function kill(run, how) {
  const pid = run.child.pid;
  const send = (target, sig) => {
    try {
      process.kill(target, sig);
    } catch {
      // Gone, or not ours.
    }
  };
  switch (how) {
    case 'kill9':
      send(pid, 'SIGKILL');
      return undefined;
    case 'kill9group':
      send(-pid, 'SIGKILL');
      return undefined;
    case 'int':
      send(pid, 'SIGINT');
      return 'SIGINT';
    case 'intgroup':
      send(-pid, 'SIGINT');
      return 'SIGINT';
    case 'int2':
      send(pid, 'SIGINT');
      await sleep(30 + Math.random() * 200);
      send(pid, 'SIGINT');
      return 'SIGINT';
    case 'int3':
      // A third Ctrl-C exits at once: the watchdog stops what is left, as after kill -9.
      for (let i = 0; i < 3; i++) {
        send(pid, 'SIGINT');
        await sleep(20 + Math.random() * 150);
      }
      return 'SIGINT';
    case 'int-kill9':
      // Ctrl-C, then kill -9 while runcue stops its units and removes their partial outputs.
      send(pid, 'SIGINT');
      await sleep(Math.random() * 600);
      send(pid, 'SIGKILL');
      return undefined;
    case 'term':
      send(pid, 'SIGTERM');
      return 'SIGTERM';
    case 'hup':
      send(pid, 'SIGHUP');
      return 'SIGHUP';
  }
  throw new Error(how);
}

async function waitGone(dir, marker, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = survivors(dir, marker);
    if (left.length === 0 || Date.now() > deadline) return left;
    await sleep(100);
  }
}

/** A finished run's exit code against the signal sent: `finished` codes are allowed when it ended first. */
function exitProblem(result, sig, finished, endedBefore) {
  if (sig === undefined)
    return result.signal === 'SIGKILL' || endedBefore ? undefined : `exit ${result.code}/${result.signal} after SIGKILL`;
  const want = SIGNAL_CODES[sig];
  // Killed by the signal itself (before runcue's handler was installed): a shell says 128 + n too.
  if (result.code === want || result.signal === sig) return undefined;
  if (endedBefore && finished.includes(result.code)) return undefined;
  return `exit ${result.code}/${result.signal} after ${sig} (want ${want})`;
}

const KILLS = ['kill9', 'kill9', 'kill9group', 'int', 'intgroup', 'int2', 'term', 'hup', 'int-kill9', 'int-kill9', 'int3'];
const MODES = ['build', 'build', 'build', 'build', 'rebuild', 'rebuild', 'watch', 'clean', 'touch', 'again', 'chain'];

async function check(runIndex) {
  const seed = SEED * 100_003 + runIndex;
  const r = rng(seed);
  const project = makeProject(r);
  const mode = MODE ?? pick(r, MODES);
  const how = pick(r, KILLS);
  // A fraction of the time a clean build takes (measured below), so that most kills land mid-run.
  const atFraction = r();
  const marker = `/nonexistent/crashcheck-${seed}-${process.pid}`;
  const root = mkdtempSync(join(tmpdir(), `crashcheck-${seed}-`));
  const dir = join(root, 'p');
  const ref = join(root, 'ref');
  write(dir, project.files);
  write(ref, project.files);
  const finished = project.fails ? [0, 1] : [0];
  const problems = [];
  const keepGoing = project.fails || r() < 0.3;
  const buildArgs = [
    'build',
    ...(keepGoing ? ['--keep-going'] : []),
    ...(r() < 0.4 ? ['--json'] : []),
    ...(r() < 0.6 ? ['--jobs', String(1 + Math.floor(r() * 4))] : []),
  ];

  const refStart = Date.now();
  const refBuild = cli(ref, ['build', '--keep-going'], marker);
  // touch and clean take about as long as runcue takes to start.
  const at = Math.floor(atFraction * (mode === 'clean' || mode === 'touch' ? 400 : Math.min(3000, Date.now() - refStart)));
  if (refBuild.code !== (project.fails ? 1 : 0)) problems.push(`clean build exit ${refBuild.code}: ${refBuild.stderr.slice(-800)}`);

  // Scenarios: what runs (and is killed), after what preparation.
  let argv = buildArgs;
  if (mode === 'clean' || mode === 'touch') {
    cli(dir, ['build', '--keep-going'], marker);
    argv = [mode];
    if (mode === 'touch') {
      // Make every unit stale, then touch (killed): touch may legitimately mark units fresh, so
      // the check after it is a build with --force.
      const now = Date.now() / 1000;
      for (const path of Object.keys(project.files)) if (path.startsWith('in/')) utimesSync(join(dir, path), now, now);
    }
  } else if (mode === 'watch') {
    argv = ['watch', ...buildArgs.slice(1).filter((a) => a !== '--keep-going')];
  } else if (mode === 'rebuild') {
    // Built once, then some inputs change (same number of parts): the killed build rewrites
    // outputs that were there, and the clean build to compare with is made from the new inputs.
    cli(dir, ['build', '--keep-going'], marker);
    for (const path of Object.keys(project.files).filter((p) => p.startsWith('in/'))) {
      if (r() < 0.5) continue;
      const text = `${project.files[path].slice(0, 1)}new${path}\n`;
      for (const root of [dir, ref]) writeFileSync(join(root, path), text);
    }
  }
  const touchedTree = tree(dir);
  const inputsBefore = new Map([...tree(dir)].filter(([p]) => p.startsWith('in/') || p === 'runcue.config.mjs' || p === 'worker.py'));

  const run = start(dir, argv, marker);
  let changedInput;
  if (mode === 'watch') {
    // Let the first cycle run part-way, then change an input so that a second cycle starts.
    await sleep(Math.floor(r() * 1500));
    changedInput = pick(
      r,
      Object.keys(project.files).filter((p) => p.startsWith('in/')),
    );
    // The same number of parts (a dynamic producer leaves the parts it no longer makes, by design).
    const text = `${project.files[changedInput].slice(0, 1)}changed\n`;
    writeFileSync(join(dir, changedInput), text);
    writeFileSync(join(ref, changedInput), text);
    inputsBefore.set(changedInput, text);
    await sleep(Math.floor(r() * 800));
  } else await sleep(at);
  let endedBefore = run.exited;
  let sig = await kill(run, how);
  const killedAt = Date.now();
  const result = await Promise.race([run.done, timeout(60_000).then(() => ({ code: 'hung', signal: null }))]);
  if (result.code === 'hung') {
    problems.push(`runcue ${argv.join(' ')} did not exit within 60 s of ${how}`);
    try {
      process.kill(-run.child.pid, 'SIGKILL');
    } catch {
      // Gone, or not ours.
    }
  }
  // Ctrl-C then kill -9: runcue may have ended on the Ctrl-C first.
  if (how === 'int-kill9' && result.signal !== 'SIGKILL') sig = 'SIGINT';
  // A signal that lands after the run ended (its record written: all work done) may not change its exit code.
  endedBefore ||= recordedEnd(dir, run.child.pid, result.code);
  // touch and clean keep no record: their last line says they were done.
  endedBefore ||= (mode === 'touch' || mode === 'clean') && /runcue: (touched|removed) /.test(run.stdout + run.stderr);
  const exitIssue = mode === 'watch' && endedBefore ? undefined : exitProblem(result, sig, mode === 'clean' ? [0] : finished, endedBefore);
  if (exitIssue && result.code !== 'hung') problems.push(exitIssue);

  if (mode === 'chain') {
    // More builds, each killed at once or after a while (kill -9 or Ctrl-C), before the checks.
    for (let k = 1 + Math.floor(r() * 3); k > 0; k--) {
      const next = start(dir, buildArgs, marker);
      await sleep(Math.floor(r() * 1200));
      await kill(next, pick(r, ['kill9', 'kill9', 'int', 'int-kill9']));
      const end = await Promise.race([next.done, timeout(60_000).then(() => ({ code: 'hung' }))]);
      if (end.code === 'hung') problems.push(`a chained build did not exit within 60 s`);
    }
  }
  if (mode === 'again') {
    // kill -9 (or whatever was sent) and at once a second build: it must still get it right.
    const second = cli(
      dir,
      buildArgs.filter((a) => a !== '--json'),
      marker,
    );
    if (second.code !== (project.fails ? 1 : 0) && !(second.code === 1 && !keepGoing && project.fails))
      problems.push(`build right after the kill: exit ${second.code}: ${second.stderr.slice(-600)}`);
  }

  // 1. Nothing of the run survives: the watchdog's grace is killGrace (3 s by default).
  const left = await waitGone(dir, marker, 8000);
  if (left.length > 0) problems.push(`processes left ${Date.now() - killedAt} ms after ${how}:\n      ${left.join('\n      ')}`);

  // 2. Inputs untouched.
  const inputsAfter = new Map([...tree(dir)].filter(([p]) => inputsBefore.has(p)));
  for (const d of diff(inputsBefore, inputsAfter)) problems.push(`input changed: ${d}`);

  // After a killed touch, touch again: it marks every unit fresh and changes no file.
  if (mode === 'touch' && !project.fails) {
    const touched = cli(dir, ['touch'], marker);
    const plan = cli(dir, ['plan', '--json'], marker);
    const counts = plan.code === 0 ? JSON.parse(plan.stdout).counts : undefined;
    if (touched.code !== 0 || counts?.run !== 0)
      problems.push(
        `touch after the killed touch: exit ${touched.code}, then plan ${plan.code} ${JSON.stringify(counts)}: ${touched.stderr.slice(-400)}${plan.stderr.slice(-400)}`,
      );
    for (const d of diff(touchedTree, tree(dir))) problems.push(`touch changed: ${d}`);
  }

  // 3. plan, then build: the tree a clean build makes.
  const plan = cli(dir, ['plan', '--json'], marker);
  if (plan.code !== 0 && plan.code !== 1) problems.push(`plan exit ${plan.code}: ${plan.stderr.slice(-600)}`);
  else
    try {
      JSON.parse(plan.stdout);
    } catch {
      problems.push(`plan --json printed no JSON: ${plan.stdout.slice(0, 300)}`);
    }
  const finalArgs = ['build', '--keep-going', ...(mode === 'touch' ? ['--force'] : [])];
  const rebuild = cli(dir, finalArgs, marker);
  if (rebuild.code !== (project.fails ? 1 : 0))
    problems.push(`${finalArgs.join(' ')} after the kill: exit ${rebuild.code}: ${rebuild.stderr.slice(-800)}`);
  if (mode === 'watch' || mode === 'rebuild') {
    // The clean build, again from scratch with the inputs as they are now.
    for (const [path] of tree(ref))
      if (!path.startsWith('in/') && path !== 'runcue.config.mjs' && path !== 'worker.py') rmSync(join(ref, path));
    rmSync(join(ref, '.runcue'), { recursive: true, force: true });
    cli(ref, ['build', '--keep-going'], marker);
  }
  for (const d of diff(tree(ref), tree(dir))) problems.push(`tree: ${d}`);
  // After a build that ran to its end, no unit is in flight and no spare record file is left.
  for (const sub of ['inflight', 'inflight-spares']) {
    const left = existsSync(join(dir, '.runcue', sub)) ? readdirSync(join(dir, '.runcue', sub)) : [];
    if (left.length > 0) problems.push(`.runcue/${sub} after the last build: ${left.join(' ')}`);
  }
  const breach = rateBreach(dir);
  if (breach) problems.push(breach);
  await waitGone(dir, marker, 8000);

  const label = `seed ${seed} (--only ${runIndex}) mode ${mode} ${argv.join(' ')} ${how} at ${mode === 'watch' ? 'watch' : at + ' ms'}${endedBefore ? ' (had exited)' : ''} tasks ${project.tasks.join('')}`;
  if (problems.length > 0) {
    console.log(`\n== ${label}  dir ${dir}`);
    console.log(project.files['runcue.config.mjs']);
    for (const p of problems) console.log('  ' + p);
    if (result.code !== 0) console.log('  killed run stderr (tail):\n    ' + run.stderr.slice(-1200).split('\n').join('\n    '));
    return false;
  }
  console.log(`ok ${label}`);
  if (!KEEP) rmSync(root, { recursive: true, force: true });
  return true;
}

let bad = 0;
let runs = 0;
for (let i = ONLY >= 0 ? ONLY : 0; i < (ONLY >= 0 ? ONLY + 1 : RUNS); i++) {
  runs++;
  if (!(await check(i))) bad++;
}
console.log(`\n${runs} projects, ${bad} with findings`);
process.exitCode = bad > 0 ? 1 : 0;
