#!/usr/bin/env node
// Differential check of `runcue plan` against `runcue build` (and `runcue why`): makes small
// random projects (seeded), runs `plan --json`, then `build --keep-going --json` on the same tree,
// and reports every unit where they disagree. Not part of `npm test`.
//
//   npm run build && node scripts/plancheck.mjs [--seed N] [--runs N] [--only I] [--keep]
//
// (RUNCUE_BIN=path/to/bin/runcue.js runs another build of runcue, say a copy that a rebuild
// during a long run cannot change.) Exit code 1 when a disagreement was found; each one is
// printed with its project directory (the tree before the build: DIR.before).
//
// What the plan promises, and so what is checked: `run` units start, `fresh` ones are skipped,
// `blocked` ones are blocked for the same reason kind, counts match the units. Not promised (by
// design): what happens after something the plan cannot know: a command that fails (or a dynamic
// producer that makes no file) blocks what is downstream of it or runs after it; with hash
// freshness an upstream that reran and wrote the same bytes leaves its consumer fresh; a dynamic
// producer that reruns reveals units the plan could not list, and drops those it no longer
// makes; a `waiting` unit may end either way.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BIN, commonFlags, rng } from './lib/check-cli.mjs';

const { SEED, RUNS, KEEP, ONLY } = commonFlags(50);

// The pool: each task's source, and the output paths of a unit given a name and a group.
const POOL = {
  A: { src: `{ input: 'in/{n}.txt', output: 'a/{n}.txt', run: 'cp {input} {output}' }`, outs: (n) => [`a/${n}.txt`] },
  B: { src: `{ input: 'in2/{g}/{n}.txt', output: 'b/{g}/{n}.txt', run: 'cp {input} {output}' }`, outs: (n, g) => [`b/${g}/${n}.txt`] },
  C: { src: `{ input: 'a/{n}.txt', output: 'c/{n}.txt', run: 'cp {input} {output}' }`, outs: (n) => [`c/${n}.txt`] },
  D: { src: `{ input: 'a/*.txt', output: 'd/all.txt', run: 'cat {inputs} > {output}' }`, outs: () => ['d/all.txt'] },
  E: {
    src: `{ input: 'in/{n}.txt', output: 'parts/{n}/*.txt', run: 'mkdir -p parts/{n}; k=$(head -c1 {input}); i=0; while [ "$i" -lt "$k" ]; do i=$((i+1)); echo $i > parts/{n}/p$i.txt; done' }`,
    outs: (n) => [`parts/${n}/p1.txt`],
  },
  F: { src: `{ input: 'parts/{n}/{p}.txt', output: 'f/{n}/{p}.txt', run: 'cp {input} {output}' }`, outs: (n) => [`f/${n}/p1.txt`] },
  G: { src: `{ input: 'parts/{n}/*.txt', output: 'g/{n}.txt', run: 'cat {inputs} > {output}' }`, outs: (n) => [`g/${n}.txt`] },
  H: {
    src: `{ input: { main: 'c/{n}.txt', cfg: ({ n }) => 'cfg/' + n + '.cfg' }, output: 'h/{n}.txt', run: 'cat {input.main} {input.cfg} > {output}' }`,
    outs: (n) => [`h/${n}.txt`],
  },
  I: {
    src: `{ input: 'a/{n}.txt', output: { main: 'i/{n}.txt', log: { path: 'i/{n}.log', optional: true } }, run: 'cp {input} {output.main}' }`,
    outs: (n) => [`i/${n}.txt`, `i/${n}.log`],
  },
  J: { src: `{ input: 'in/{n}.txt', output: 'j/{n}.txt', run: 'cp {input} {output}', after: [AFTER] }`, outs: (n) => [`j/${n}.txt`] },
  K: { src: `{ input: 'b/{g}/*.txt', output: 'k/{g}.txt', run: 'cat {inputs} > {output}' }`, outs: (n, g) => [`k/${g}.txt`] },
  L: { src: `{ input: 'f/**/*.txt', output: 'l.txt', run: 'cat {inputs} > {output}' }`, outs: () => ['l.txt'] },
  M: { src: `{ input: ['a/{n}.txt', 'b/x/{n}.txt'], output: 'm/{n}.txt', run: 'cat {inputs} > {output}' }`, outs: (n) => [`m/${n}.txt`] },
  P: {
    src: `{ input: 'a/{n}.txt', output: 'p/{n}.txt', run: 'test "$(head -c1 {input})" != 0 && cp {input} {output}' }`,
    outs: (n) => [`p/${n}.txt`],
  },
  Q: { src: `{ input: 'p/{n}.txt', output: 'q/{n}.txt', run: 'cp {input} {output}', after: [AFTER] }`, outs: (n) => [`q/${n}.txt`] },
  S: {
    src: `{ input: 'a/*.txt', output: 'site', run: 'mkdir -p site && cat {inputs} > site/index.html' }`,
    outs: () => ['site/index.html'],
  },
  T: { src: `{ input: 'site/index.html', output: 't.txt', run: 'cp {input} {output}' }`, outs: () => ['t.txt'] },
  U: { src: `{ input: ['a/{n}.txt', 'c/*.txt'], output: 'u/{n}.txt', run: 'cat {inputs} > {output}' }`, outs: (n) => [`u/${n}.txt`] },
  V: {
    src: `{ input: 'in/{n}.txt', output: 'v/{n}.txt', run: 'cp {input} {output}', ready: (u) => existsSync(join(import.meta.dirname, 'c', u.wildcards.n + '.txt')) }`,
    outs: (n) => [`v/${n}.txt`],
  },
  N: {
    src: `{ input: ['g/{n}.txt', 'extra/{n}.cfg'], output: 'nn/{n}.txt', run: 'cat {inputs} > {output}' }`,
    outs: (n) => [`nn/${n}.txt`],
  },
};
const NAMES = ['x', 'y', 'z'];
const GROUPS = ['x', 'q'];

function pick(r, list) {
  return list[Math.floor(r() * list.length)];
}

function makeProject(r) {
  const keys = Object.keys(POOL);
  const chosen = new Set();
  const count = 2 + Math.floor(r() * 4);
  while (chosen.size < count) chosen.add(pick(r, keys));
  const tasks = [...chosen];
  const others = tasks.filter((t) => t !== 'J');
  const after = others.length > 0 ? `'${pick(r, others)}'` : '';
  const hash = r() < 0.3;
  const body = tasks.map((t) => `    ${t}: ${POOL[t].src.replace('AFTER', t === 'J' ? after : after.replace(`'Q'`, ''))},`).join('\n');
  const config = `import { existsSync } from 'node:fs';\nimport { join } from 'node:path';\nexport default {${hash ? " freshness: 'hash'," : ''}\n  tasks: {\n${body}\n  },\n};\n`;
  const files = {};
  for (const n of NAMES) {
    if (r() < 0.7) files[`in/${n}.txt`] = String(Math.floor(r() * 4));
    for (const g of GROUPS) if (r() < 0.4) files[`in2/${g}/${n}.txt`] = n;
    if (r() < 0.5) files[`cfg/${n}.cfg`] = 'c';
    if (r() < 0.5) files[`extra/${n}.cfg`] = 'e';
    for (const t of tasks) for (const out of POOL[t].outs(n, pick(r, GROUPS))) if (r() < 0.3) files[out] = 'old';
  }
  return { tasks, config, files, hash };
}

function write(dir, files, r) {
  const now = Date.now() / 1000;
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
    const t = path.startsWith('in') || path.startsWith('cfg') || path.startsWith('extra') ? now - 1000 : now - 2000 + r() * 2000;
    utimesSync(join(dir, path), t, t);
  }
}

function cli(dir, argv) {
  const res = spawnSync(process.execPath, [BIN, ...argv], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, CI: 'true' },
    timeout: 60_000,
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

function targetsFor(r, tasks, planUnits) {
  const roll = r();
  if (roll < 0.35 || planUnits.length === 0) return [];
  if (roll < 0.55) return [pick(r, tasks)];
  if (roll < 0.65) return [pick(r, POOL[pick(r, tasks)].outs(pick(r, NAMES), pick(r, GROUPS)))];
  const unit = pick(r, planUnits).unit;
  if (roll < 0.85) return [unit];
  const m = /^(\w+)\[n=(\w+)/.exec(unit);
  return m ? [`${m[1]}[n=${m[2]}]`] : [unit];
}

function events(stdout) {
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** What build did to each unit: start, skip, blocked(kind), plus failures and units it never mentions. */
function buildStory(evs) {
  const story = new Map();
  for (const e of evs) {
    if (!e.unit || e.type === 'unit:log') continue;
    const s = story.get(e.unit) ?? { events: [] };
    s.events.push(e.type === 'unit:blocked' ? `blocked:${e.reason.kind}` : e.type.replace('unit:', ''));
    if (e.type === 'unit:fail') s.failed = true;
    story.set(e.unit, s);
  }
  return story;
}

function compare(plan, evs, hash) {
  const problems = [];
  const story = buildStory(evs);
  const failedAny = evs.some((e) => e.type === 'unit:fail' || (e.type === 'unit:blocked' && e.reason.kind === 'upstream_failed'));
  const counts = { run: 0, fresh: 0, blocked: 0, waiting: 0, fails: 0 };
  for (const u of plan.units) counts[u.verdict]++;
  if (JSON.stringify(counts) !== JSON.stringify(plan.counts))
    problems.push(`plan counts ${JSON.stringify(plan.counts)} but units say ${JSON.stringify(counts)}`);
  const seen = new Set();
  for (const u of plan.units) {
    if (seen.has(u.unit)) problems.push(`plan lists ${u.unit} twice`);
    seen.add(u.unit);
    const s = story.get(u.unit);
    const did = s ? s.events.join(',') : '(nothing)';
    const kind = u.reason?.kind;
    // A unit made from a dynamic producer's file vanishes when the producer reruns without it.
    const vanished = did === '(nothing)' && u.task === 'F' && evs.some((e) => e.type === 'unit:done' && e.task === 'E');
    if (u.verdict === 'run' && !did.includes('start') && !vanished) {
      // Excused: a failure during the build (a producer that made no file) blocked it.
      // Excused: with hash freshness, an upstream that reran and wrote the same bytes.
      const cutoff = hash && kind === 'upstream' && did === 'skip';
      if (!cutoff && !(failedAny && did === 'blocked:upstream_failed')) problems.push(`${u.unit}: plan run (${kind}) but build ${did}`);
    } else if (u.verdict === 'fresh' && did !== 'skip' && !(failedAny && did === 'blocked:upstream_failed'))
      problems.push(`${u.unit}: plan fresh but build ${did}`);
    // Excused: a failure during the build reached it first (upstream_failed for not_ready, say).
    else if (u.verdict === 'blocked' && did !== `blocked:${kind}` && !(failedAny && did === 'blocked:upstream_failed'))
      problems.push(`${u.unit}: plan blocked:${kind} but build ${did}`);
  }
  // A dynamic producer that ran reveals units the plan could not know (it promises nothing for them).
  const revealed = evs.some((e) => e.type === 'unit:done' && e.task === 'E');
  for (const [unit, s] of story) {
    if (seen.has(unit) || unit === '(run)' || revealed) continue;
    // Units a dynamic producer revealed are not in the plan (it says `waiting` for them, or nothing).
    problems.push(`${unit}: not in plan, build ${s.events.join(',')}`);
  }
  return problems;
}

function whyProblems(dir, plan, r) {
  const problems = [];
  for (let i = 0; i < 3 && plan.units.length > 0; i++) {
    const u = pick(r, plan.units);
    const res = cli(dir, ['why', '--json', u.unit]);
    if (res.code !== 0) {
      problems.push(`why ${u.unit}: exit ${res.code} ${res.stderr.trim()}`);
      continue;
    }
    // `why` answers as `runcue plan TASK` does: a ready() that waits on another task may differ.
    if (u.task === 'V') continue;
    const why = JSON.parse(res.stdout);
    const a = `${why.plan?.verdict}:${why.plan?.reason?.kind ?? ''}`;
    const b = `${u.verdict}:${u.reason?.kind ?? ''}`;
    if (a !== b) problems.push(`why ${u.unit}: ${a} but plan ${b}`);
  }
  return problems;
}

function mutate(dir, files, r) {
  const now = Date.now() / 1000;
  for (const path of Object.keys(files)) {
    const roll = r();
    if (roll < 0.15) rmSync(join(dir, path), { force: true });
    else if (roll < 0.3) {
      writeFileSync(join(dir, path), String(Math.floor(r() * 4)));
      utimesSync(join(dir, path), now, now);
    }
  }
  // Outputs of the first build: delete or backdate some.
  const out = execFileSync('find', ['.', '-type', 'f', '-not', '-path', './.runcue/*', '-not', '-name', 'runcue.config.mjs'], {
    cwd: dir,
    encoding: 'utf8',
  });
  for (const path of out.split('\n').filter(Boolean)) {
    if (path.startsWith('./in') || path in files) continue;
    const roll = r();
    if (roll < 0.1) rmSync(join(dir, path), { force: true });
    else if (roll < 0.2) utimesSync(join(dir, path), now - 5000, now - 5000);
  }
}

let bad = 0;
for (let run = ONLY >= 0 ? ONLY : 0; run < (ONLY >= 0 ? ONLY + 1 : RUNS); run++) {
  const seed = SEED * 100_003 + run;
  const r = rng(seed);
  const project = makeProject(r);
  const dir = mkdtempSync(join(tmpdir(), `plancheck-${seed}-`));
  writeFileSync(join(dir, 'runcue.config.mjs'), project.config);
  write(dir, project.files, r);
  const prebuilt = r() < 0.5;
  if (prebuilt) {
    cli(dir, ['build', '--keep-going', '--reporter', 'silent']);
    mutate(dir, project.files, r);
  }
  const full = cli(dir, ['plan', '--json']);
  if (full.code !== 0) {
    console.log(`seed ${seed}: plan exit ${full.code}: ${full.stderr.trim()} (${dir})`);
    continue;
  }
  const fullPlan = JSON.parse(full.stdout);
  const targets = targetsFor(r, project.tasks, fullPlan.units);
  const flags = [];
  if (r() < 0.3) flags.push('--no-deps');
  if (r() < 0.2) flags.push('--force');
  const argv = [...flags, ...targets];
  const planRes = targets.length === 0 && flags.length === 0 ? full : cli(dir, ['plan', '--json', ...argv]);
  if (planRes.code !== 0) {
    // A usage error must be one for build too.
    const b = cli(dir, ['build', '--json', ...argv]);
    if (b.code !== planRes.code) {
      bad++;
      console.log(`seed ${seed}: plan exit ${planRes.code} but build ${b.code} (${argv.join(' ')}) ${dir}\n${planRes.stderr}`);
    } else if (!KEEP) rmSync(dir, { recursive: true, force: true });
    continue;
  }
  const plan = JSON.parse(planRes.stdout);
  const why = argv.length === 0 ? whyProblems(dir, plan, r) : [];
  execFileSync('cp', ['-a', dir, `${dir}.before`]);
  const build = cli(dir, ['build', '--keep-going', '--json', ...argv]);
  const problems = [...why, ...compare(plan, events(build.stdout), project.hash)];
  if (problems.length > 0) {
    bad++;
    console.log(
      `\n== seed ${seed} ${project.hash ? 'hash ' : ''}${prebuilt ? 'prebuilt ' : ''}args: ${argv.join(' ') || '(none)'}  dir ${dir}`,
    );
    console.log(project.config);
    for (const p of problems) console.log('  ' + p);
  } else if (!KEEP) {
    rmSync(dir, { recursive: true, force: true });
    rmSync(`${dir}.before`, { recursive: true, force: true });
  }
}
console.log(`\n${RUNS} projects, ${bad} with disagreements`);
process.exitCode = bad > 0 ? 1 : 0;
