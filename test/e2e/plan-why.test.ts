/** `runcue plan` / `build --dry-run` and `runcue why`: answers without running or writing. */
import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Rig } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

const CONFIG = `export default { tasks: {
  upper: { input: 'src/{name}.txt', output: 'work/{name}.up', run: "tr a-z A-Z < {input} > {output}" },
  wrap: { input: 'work/{name}.up', output: 'out/{name}.md', run: "cp {input} {output}" },
  split: { input: 'docs/{doc}.txt', output: 'parts/{doc}/*.txt', run: "mkdir -p parts/{doc} && cp {input} parts/{doc}/x.txt" },
  join: { input: 'parts/{doc}/*.txt', output: 'out/{doc}.all', run: "cat {inputs} > {output}" },
} };`;

function project(): void {
  rig = new Rig();
  rig.write({ 'runcue.config.mjs': CONFIG, 'src/a.txt': 'a', 'src/b.txt': 'b', 'docs/d.txt': 'd' });
  rig.age(['src/a.txt', 'src/b.txt', 'docs/d.txt'], -60_000);
}

function tree(dir = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(rig.path(dir), { withFileTypes: true })) {
    const rel = dir === '' ? e.name : `${dir}/${e.name}`;
    if (e.name === 'node_modules') continue;
    out.push(rel);
    if (e.isDirectory()) out.push(...tree(rel));
  }
  return out.sort();
}

describe('plan', () => {
  it('lists what would run in order with reasons, and writes nothing', async () => {
    project();
    const before = tree();
    const result = await rig.run(['plan']);
    expect(result.code).toBe(0);
    expect(tree()).toEqual(before);
    expect(result.stdout).toMatch(/would run, in this order \(6\):/);
    expect(result.stdout).toMatch(/upper\[name=a\]\s+output missing: work\/a\.up/);
    expect(result.stdout).toMatch(/wrap\[name=a\]\s+upper\[name=a\] runs first/);
    expect(result.stdout).toMatch(/join\[doc=d\]\s+split\[doc=d\] runs first/);
  });

  it('after a build, says what a touched input makes stale; build --dry-run is the same', async () => {
    project();
    expect((await rig.run(['build'])).code).toBe(0);
    rig.touch('src/b.txt', 5_000);
    const plan = await rig.run(['plan', '--json']);
    const doc = JSON.parse(plan.stdout) as {
      counts: Record<string, number>;
      units: { unit: string; verdict: string; reason?: { kind: string } }[];
    };
    expect(doc.counts).toEqual({ run: 2, fresh: 4, blocked: 0, waiting: 0, fails: 0 });
    expect(doc.units.filter((u) => u.verdict === 'run').map((u) => [u.unit, u.reason?.kind])).toEqual([
      ['upper[name=b]', 'input-newer'],
      ['wrap[name=b]', 'upstream'],
    ]);
    const dry = await rig.run(['build', '--dry-run']);
    expect(dry.stdout).toContain('plan: 2 to run, 4 fresh');
  });
});

interface PlanDoc {
  counts: Record<string, number>;
  units: { unit: string; verdict: string; reason?: { kind: string; input?: string; message?: string } }[];
}

/** Each unit's plan verdict and reason kind (`run:upstream`, `blocked:not_ready`, `fresh`). */
async function planVerdicts(args: readonly string[] = []): Promise<Record<string, string>> {
  const plan = JSON.parse((await rig.run(['plan', '--json', ...args])).stdout) as PlanDoc;
  return Object.fromEntries(plan.units.map((u) => [u.unit, u.reason ? `${u.verdict}:${u.reason.kind}` : u.verdict]));
}

/** What `build --keep-going` did to each unit, in the plan's words (`run`, `fresh`, `blocked:KIND`). */
async function buildVerdicts(args: readonly string[] = []): Promise<Record<string, string>> {
  const build = await rig.run(['build', '--keep-going', '--json', ...args]);
  const story: Record<string, string> = {};
  for (const line of build.stdout.trim().split('\n')) {
    const e = JSON.parse(line) as { type: string; unit?: string; reason?: { kind: string } };
    if (e.unit === undefined) continue;
    if (e.type === 'unit:start') story[e.unit] = 'run';
    else if (e.type === 'unit:skip') story[e.unit] = 'fresh';
    else if (e.type === 'unit:blocked') story[e.unit] = `blocked:${e.reason?.kind ?? ''}`;
  }
  return story;
}

/** A plan's verdicts with the stale reason dropped from `run`: build says only that a unit started. */
function asBuildSees(plan: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(plan).map(([unit, v]) => [unit, v.startsWith('run:') ? 'run' : v]));
}

describe('plan and build agree', () => {
  it('on a unit whose upstream would run and whose other input exists nowhere: blocked, not "would run"', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        copy: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: 'cp {input} {output}' },
        merge: { input: ['out/{n}.txt', 'extra/{n}.cfg'], output: 'fin/{n}.txt', run: 'cat {inputs} > {output}' },
        last: { input: 'fin/{n}.txt', output: 'z/{n}.txt', run: 'cp {input} {output}' },
        fanin: { input: ['out/*.txt', 'notes/*.md'], output: 'all.txt', run: 'cat {inputs} > {output}' },
      } };`,
      'in/x.txt': 'x',
    });
    const plan = JSON.parse((await rig.run(['plan', '--json'])).stdout) as PlanDoc;
    const verdicts = Object.fromEntries(plan.units.map((u) => [u.unit, [u.verdict, u.reason?.kind, u.reason?.input]]));
    expect(verdicts).toEqual({
      'copy[n=x]': ['run', 'missing-output', undefined],
      'merge[n=x]': ['blocked', 'not_ready', 'extra/x.cfg'],
      'last[n=x]': ['blocked', 'upstream_failed', undefined],
      fanin: ['blocked', 'not_ready', 'notes/*.md'],
    });
    expect(plan.units.find((u) => u.unit === 'merge[n=x]')?.reason?.message).toBe(
      'merge[n=x] waits for extra/x.cfg: no file matches and no task produces it',
    );
    const build = await rig.run(['build', '--keep-going', '--json']);
    expect(build.code).toBe(1);
    const blocked = build.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; unit?: string })
      .filter((e) => e.type === 'unit:blocked')
      .map((e) => e.unit)
      .sort();
    expect(blocked).toEqual(['fanin', 'last[n=x]', 'merge[n=x]']);
    // With the input there, the plan runs them all, each after what it waits for.
    rig.write({ 'extra/x.cfg': 'c', 'notes/a.md': 'n' });
    rig.remove('out/x.txt');
    const again = await rig.run(['plan']);
    expect(again.stdout).toMatch(/merge\[n=x\]\s+copy\[n=x\] runs first/);
    expect(again.stdout).toMatch(/fanin\s+copy\[n=x\] runs first/);
    expect(again.stdout).toContain('plan: 4 to run');
  });

  it('on a unit that runs after a task with a blocked unit: upstream_failed in both, whatever settles later', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        copy: { input: 'in/{n}.txt', output: 'a/{n}.txt', run: 'cp {input} {output}' },
        merge: { input: ['a/{n}.txt', 'b/{n}.txt'], output: 'm/{n}.txt', run: 'cat {inputs} > {output}' },
        later: { input: 'in/{n}.txt', output: 'j/{n}.txt', run: 'cp {input} {output}', after: ['merge'] },
      } };`,
      'in/x.txt': 'x',
    });
    const plan = await planVerdicts();
    expect(plan).toEqual({
      'copy[n=x]': 'run:missing-output',
      'merge[n=x]': 'blocked:not_ready',
      'later[n=x]': 'blocked:upstream_failed',
    });
    expect(await buildVerdicts()).toEqual(asBuildSees(plan));
  });

  it('on a unit that runs after a task whose units a dynamic producer will discover: waiting, not blocked', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        split: { input: 'in/{n}.txt', output: 'parts/{n}/*.txt', run: 'mkdir -p parts/{n}; cp {input} parts/{n}/p1.txt' },
        copy: { input: 'parts/{n}/{p}.txt', output: 'f/{n}/{p}.txt', run: 'cp {input} {output}' },
        all: { input: 'f/**/*.txt', output: 'all.txt', run: 'cat {inputs} > {output}' },
        later: { input: 'in/{n}.txt', output: 'j/{n}.txt', run: 'cp {input} {output}', after: ['all'] },
        first: { input: ['in/{n}.txt', 'f/{n}/p1.txt'], output: 'w/{n}.txt', run: 'cat {inputs} > {output}' },
      } };`,
      'in/x.txt': 'x',
    });
    const plan = await planVerdicts();
    expect(plan).toEqual({
      'split[n=x]': 'run:missing-output',
      all: 'waiting:not_ready',
      'later[n=x]': 'waiting:not_ready',
      'first[n=x]': 'waiting:not_ready',
    });
    // It names the input the undiscovered units would make, not the first input it has.
    const doc = JSON.parse((await rig.run(['plan', '--json'])).stdout) as PlanDoc;
    expect(doc.units.find((u) => u.unit === 'first[n=x]')?.reason?.message).toBe(
      'waits for f/x/p1.txt from the units copy[n=x,p=*] will discover',
    );
    const text = await rig.run(['plan']);
    expect(text.stdout).toMatch(/later\[n=x\]\s+later\[n=x\] waits for all \(after\)/);
    expect(await buildVerdicts()).toEqual({
      ...asBuildSees(plan),
      'copy[n=x,p=p1]': 'run',
      all: 'run',
      'later[n=x]': 'run',
      'first[n=x]': 'run',
    });
  });

  it('on a unit whose ready() is false while other units would run: waiting (build asks again), blocked when none would', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `import { existsSync } from 'node:fs';
      import { join } from 'node:path';
      export default { tasks: {
        copy: { input: 'in/{n}.txt', output: 'c/{n}.txt', run: 'cp {input} {output}' },
        gated: { input: 'in/{n}.txt', output: 'g/{n}.txt', run: 'cp {input} {output}',
          ready: (u) => existsSync(join(import.meta.dirname, 'c', u.wildcards.n + '.txt')) },
        report: { input: 'in/{n}.txt', output: 'r/{n}.txt', run: 'cp {input} {output}', after: ['gated'] },
      } };`,
      'in/x.txt': 'x',
    });
    const plan = await planVerdicts();
    expect(plan).toEqual({ 'copy[n=x]': 'run:missing-output', 'gated[n=x]': 'waiting:not_ready', 'report[n=x]': 'waiting:not_ready' });
    expect((await rig.run(['plan'])).stdout).toMatch(/gated\[n=x\]\s+gated\[n=x\] is not ready yet: ready\(\) returned false/);
    expect(await buildVerdicts()).toEqual({ 'copy[n=x]': 'run', 'gated[n=x]': 'run', 'report[n=x]': 'run' });
    // With nothing left to run first, a ready() that stays false blocks (and what runs after it),
    // in the plan as in the build.
    rig.write({ 'in/y.txt': 'y' });
    const again = await planVerdicts(['report[n=x]']);
    expect(again).toEqual({
      'gated[n=x]': 'fresh',
      'gated[n=y]': 'blocked:not_ready',
      'report[n=x]': 'blocked:upstream_failed',
    });
    expect(await buildVerdicts(['report[n=x]'])).toEqual(again);
  });

  it('on a unit reading a file in a directory output that would be rebuilt: it runs after it, not blocked', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        site: { input: 'src/*.txt', output: 'site', run: 'mkdir -p site && cat {inputs} > site/index.html' },
        pub: { input: 'site/index.html', output: 'pub.txt', run: 'cp {input} {output}' },
      } };`,
      'src/a.txt': 'a',
      'site/old.html': 'old',
    });
    rig.age(['site/old.html', 'site'], -60_000);
    const plan = await planVerdicts();
    expect(plan).toEqual({ site: 'run:input-newer', pub: 'run:upstream' });
    expect(await buildVerdicts()).toEqual(asBuildSees(plan));
  });

  it('on a target that reads a file in a directory output: the directory is built first', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        site: { input: 'src/*.txt', output: 'site', run: 'mkdir -p site && cat {inputs} > site/index.html' },
        pub: { input: 'site/index.html', output: 'pub.txt', run: 'cp {input} {output}' },
      } };`,
      'src/a.txt': 'a',
    });
    const plan = await planVerdicts(['pub']);
    expect(plan).toEqual({ site: 'run:missing-output', pub: 'run:upstream' });
    expect(await buildVerdicts(['pub'])).toEqual(asBuildSees(plan));
    expect((await rig.run(['graph'])).stdout).toContain('"site" -> "pub"');
    // Without its upstream, it says which task would make the file.
    rig.remove('site/index.html');
    expect((await rig.run(['plan', '--no-deps', 'pub'])).stdout).toContain(
      'pub waits for site/index.html: no file matches; task site would produce it, but --no-deps builds no upstream',
    );
  });

  it('after a unit whose custom check throws: every unit is listed, as build --keep-going takes it', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        a: { input: 'in/{n}.txt', output: 'a/{n}.txt', run: 'cp {input} {output}', stale: () => { throw new Error('boom'); } },
        b: { input: 'a/{n}.txt', output: 'b/{n}.txt', run: 'cp {input} {output}' },
        c: { input: 'in/{n}.txt', output: 'c/{n}.txt', run: 'cp {input} {output}', after: ['a'] },
      } };`,
      'in/x.txt': 'x',
    });
    const plan = await planVerdicts();
    expect(plan).toEqual({ 'a[n=x]': 'fails', 'b[n=x]': 'blocked:upstream_failed', 'c[n=x]': 'blocked:upstream_failed' });
    expect(await buildVerdicts()).toEqual({ 'b[n=x]': 'blocked:upstream_failed', 'c[n=x]': 'blocked:upstream_failed' });
    expect((await rig.run(['why', 'c[n=x]'])).stdout).toContain('verdict: blocked: a[n=x] (of a task it runs after) did not finish');
  });

  it('on a consumer of a dynamic producer that reruns while another producer settles: it waits for its producer, not blocked', async () => {
    rig = new Rig();
    // split[n=y] ends only after copy[n=x,p=p1] ran, so the expansion after split[n=x] happens
    // while split[n=y] runs, having cleared the part it made last time.
    const waitForX = 'i=0; while [ ! -e f/x/p1.txt ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done';
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        split: { input: 'in/{n}.txt', output: 'parts/{n}/*.txt', run: 'if [ {n} = y ]; then ${waitForX}; fi; mkdir -p parts/{n}; cp {input} parts/{n}/p1.txt' },
        copy: { input: 'parts/{n}/{p}.txt', output: 'f/{n}/{p}.txt', run: 'cp {input} {output}' },
      } };`,
      'in/x.txt': 'x',
      'in/y.txt': 'y',
    });
    expect((await rig.run(['build'])).code).toBe(0);
    const plan = await planVerdicts(['--force']);
    expect(plan).toEqual({
      'split[n=x]': 'run:forced',
      'split[n=y]': 'run:forced',
      'copy[n=x,p=p1]': 'run:upstream',
      'copy[n=y,p=p1]': 'run:upstream',
    });
    expect(await buildVerdicts(['--force'])).toEqual(asBuildSees(plan));
  });
});

describe('why', () => {
  it('tells a unit story: inputs, producers, the mtime comparison and the verdict', async () => {
    project();
    await rig.run(['build']);
    rig.touch('src/b.txt', 5_000);
    const result = await rig.run(['why', 'out/b.md']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('wrap[name=b]');
    expect(result.stdout).toContain('upper[name=b]: stale: would run (input newer: src/b.txt)');
    expect(result.stdout).toContain('verdict: stale: would run (upper[name=b] runs first)');
    const json = JSON.parse((await rig.run(['why', '--json', 'out/b.md'])).stdout) as {
      unit: string;
      plan: { verdict: string };
      producers: { unit: string }[];
    };
    expect(json).toMatchObject({ unit: 'wrap[name=b]', plan: { verdict: 'run' }, producers: [{ unit: 'upper[name=b]' }] });
    const fresh = await rig.run(['why', 'wrap[name=a]']);
    expect(fresh.stdout).toContain('is not newer than oldest output out/a.md');
    expect(fresh.stdout).toContain('verdict: fresh');
  });

  it('summarises a big fan-in: the first inputs and producers, then how many more; --verbose lists all', async () => {
    rig = new Rig();
    const files: Record<string, string> = {
      'runcue.config.mjs': `export default { tasks: {
        upper: { input: 'src/{name}.txt', output: 'work/{name}.up', run: "tr a-z A-Z < {input} > {output}" },
        all: { input: 'work/*.up', output: 'out/all.txt', run: "cat {inputs} > {output}" },
      } };`,
    };
    for (let i = 0; i < 25; i++) files[`src/f${String(i).padStart(2, '0')}.txt`] = 'x';
    rig.write(files);
    expect((await rig.run(['build'])).code).toBe(0);
    rig.touch('src/f24.txt', 5_000);
    const short = await rig.run(['why', 'out/all.txt']);
    expect(short.code).toBe(0);
    expect(short.stdout).toContain('  work/f09.up  ');
    expect(short.stdout).not.toContain('work/f10.up');
    expect(short.stdout).toContain('  ... and 15 more (--verbose lists all)');
    expect(short.stdout).toContain('(25 files match work/*.up)');
    expect(short.stdout).toContain('  upper[name=f09]: fresh');
    expect(short.stdout).not.toContain('upper[name=f10]');
    expect(short.stdout).toContain('  ... and 15 more: 14 fresh, 1 would run (--verbose lists all)');
    expect(short.stdout.split('\n').length).toBeLessThan(40);
    const full = await rig.run(['why', '--verbose', 'out/all.txt']);
    expect(full.stdout).toContain('work/f24.up');
    expect(full.stdout).toContain('upper[name=f24]: stale: would run');
    expect(full.stdout).not.toContain('... and');
  });

  it('a source file read by many units names the first 10 readers', async () => {
    rig = new Rig();
    const tasks = Array.from(
      { length: 12 },
      (_, i) => `t${String(i).padStart(2, '0')}: { input: 'shared.txt', output: 'o${i}.txt', run: 'true' }`,
    );
    rig.write({ 'runcue.config.mjs': `export default { tasks: { ${tasks.join(', ')} } };`, 'shared.txt': 'x' });
    const result = await rig.run(['why', 'shared.txt']);
    expect(result.stdout).toContain('  t09\n  ... and 2 more (--verbose lists all)');
    expect(result.stdout).not.toContain('t10');
  });

  it('a source file names its readers; an unknown name is an error', async () => {
    project();
    const source = await rig.run(['why', 'src/a.txt']);
    expect(source.stdout).toContain('src/a.txt is a source file');
    expect(source.stdout).toContain('upper[name=a]');
    const unknown = await rig.run(['why', 'nope.txt']);
    expect(unknown.code).toBe(2);
  });

  it('a task name tells the story of its one unit, or lists its units', async () => {
    project();
    const one = await rig.run(['why', 'split']);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain('split[doc=d]  (task split)');
    const several = await rig.run(['why', 'upper']);
    expect(several.code).toBe(2);
    expect(several.stderr).toContain('"upper" is a task of 2 units; ask about one of them: upper[name=a], upper[name=b]');
  });
});
