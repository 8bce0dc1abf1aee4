import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ResolvedConfig } from '../../../src/config/resolved.ts';
import type { TaskFunction } from '../../../src/config/types.ts';
import { build, type BuildOptions, type BuildResult } from '../../../src/runner/build.ts';
import type { RunEvent } from '../../../src/runner/events.ts';
import { configOf, depsOf, expand, tempProject, type ConfigOptions, type TaskSpec, type TempProject } from '../../rig/config-builder.ts';

const T = 1_700_000_000_000;
const MINUTE = 60_000;

let project: TempProject;

beforeEach(() => {
  project = tempProject();
});

afterEach(() => {
  project.remove();
});

function config(tasks: Record<string, TaskSpec>, extra: ConfigOptions['extra'] = {}): ResolvedConfig {
  return configOf(tasks, { file: project.file, extra });
}

function files(mtimes: Record<string, number>): void {
  for (const [rel, mtimeMs] of Object.entries(mtimes)) project.write(rel, { mtimeMs });
}

interface Run {
  readonly result: BuildResult;
  readonly events: RunEvent[];
}

async function run(options: Omit<BuildOptions, 'onEvent'>): Promise<Run> {
  const events: RunEvent[] = [];
  const result = await build({ ...options, onEvent: (event) => events.push(event) });
  if (!result.ok) throw new Error(result.error.message);
  return { result: result.value, events };
}

/** `type unit` lines for unit events, `type` for run events. */
function trace(events: readonly RunEvent[], types?: readonly RunEvent['type'][]): string[] {
  return events.filter((e) => !types || types.includes(e.type)).map((e) => ('unit' in e ? `${e.type} ${e.unit}` : e.type));
}

function unitsOf(events: readonly RunEvent[], type: RunEvent['type']): string[] {
  return events.flatMap((e) => (e.type === type && 'unit' in e ? [e.unit] : []));
}

/** A function task that writes each output (content: the inputs it saw), and records its runs. */
function writer(log: string[] = []): TaskFunction {
  return ({ id, inputs, outputs }) => {
    log.push(id);
    for (const output of outputs) writeFileSync(join(project.root, output), inputs.join('\n'));
  };
}

describe('build --dry-run: the plan', () => {
  const TASKS: Record<string, TaskSpec> = {
    extract: { input: 'pages/{doc}/{page}.png', output: 'text/{doc}/{page}.txt' },
    summarize: { input: ['text/{doc}/*.txt', 'meta/{doc}.json'], output: 'summary/{doc}.md' },
  };

  beforeEach(() => {
    files({
      'pages/a/1.png': T,
      'pages/a/2.png': T,
      'text/a/1.txt': T + MINUTE,
      'pages/c/1.png': T + 2 * MINUTE,
      'text/c/1.txt': T + MINUTE,
      'meta/a.json': T,
      'meta/b.json': T,
      'meta/c.json': T,
      'summary/c.md': T + 3 * MINUTE,
    });
  });

  it('gives each unit a verdict and a reason, producers first', async () => {
    const { result } = await run({ config: config(TASKS), dryRun: true });
    expect(result.plan).toEqual([
      { unit: 'extract[doc=a,page=1]', task: 'extract', verdict: 'fresh' },
      { unit: 'extract[doc=a,page=2]', task: 'extract', verdict: 'run', reason: { kind: 'missing-output', output: 'text/a/2.txt' } },
      {
        unit: 'extract[doc=c,page=1]',
        task: 'extract',
        verdict: 'run',
        reason: { kind: 'input-newer', input: 'pages/c/1.png', output: 'text/c/1.txt' },
      },
      {
        unit: 'summarize[doc=b]',
        task: 'summarize',
        verdict: 'blocked',
        reason: {
          kind: 'not_ready',
          input: 'text/b/*.txt',
          message:
            'summarize[doc=b] waits for text/b/*.txt: no file matches; task extract would produce it but has no unit for it (no file matches its input pages/b/*.png)',
        },
      },
      { unit: 'summarize[doc=a]', task: 'summarize', verdict: 'run', reason: { kind: 'upstream', upstream: 'extract[doc=a,page=2]' } },
      { unit: 'summarize[doc=c]', task: 'summarize', verdict: 'run', reason: { kind: 'upstream', upstream: 'extract[doc=c,page=1]' } },
    ]);
    expect(result.ok).toBe(false);
    expect(result.counts).toEqual({ built: 0, fresh: 1, failed: 0, blocked: 1 });
    expect(result.blocked.map((b) => b.unit)).toEqual(['summarize[doc=b]']);
  });

  it('runs nothing and writes nothing', async () => {
    const ran: string[] = [];
    const { events } = await run({ config: config({ ...TASKS, extract: { ...TASKS['extract'], run: writer(ran) } }), dryRun: true });
    expect(ran).toEqual([]);
    expect(existsSync(project.path('text/a/2.txt'))).toBe(false);
    expect(existsSync(project.path('summary/a.md'))).toBe(false);
    expect(existsSync(project.path('.runcue'))).toBe(false);
    expect(trace(events)).toEqual(['run:start', 'unit:skip extract[doc=a,page=1]', 'unit:blocked summarize[doc=b]', 'run:done']);
  });

  it('marks a selected unit forced, and only the selected ones', async () => {
    const { result } = await run({ config: config(TASKS), dryRun: true, force: true, targets: ['extract[doc=a,page=1]'] });
    expect(result.plan).toEqual([{ unit: 'extract[doc=a,page=1]', task: 'extract', verdict: 'run', reason: { kind: 'forced' } }]);
  });

  it('plans only the selection and its upstream', async () => {
    const { result } = await run({ config: config(TASKS), dryRun: true, targets: ['summary/a.md'] });
    expect(result.plan.map((e) => `${e.unit} ${e.verdict}`)).toEqual([
      'extract[doc=a,page=1] fresh',
      'extract[doc=a,page=2] run',
      'summarize[doc=a] run',
    ]);
  });

  it('names what a unit waits for when its producer task has no unit for it, and why (not "no task produces it")', async () => {
    files({ 'meta/d.json': T });
    const { result } = await run({ config: config(TASKS), dryRun: true, targets: ['summarize[doc=d]'] });
    expect(result.plan).toEqual([
      {
        unit: 'summarize[doc=d]',
        task: 'summarize',
        verdict: 'blocked',
        reason: {
          kind: 'not_ready',
          input: 'text/d/*.txt',
          message:
            'summarize[doc=d] waits for text/d/*.txt: no file matches; task extract would produce it but has no unit for it (no file matches its input pages/d/*.png)',
        },
      },
    ]);
  });

  it('rejects an unknown target and a cycle before planning', async () => {
    const unknown = await build({ config: config(TASKS), dryRun: true, targets: ['nope'] });
    expect(!unknown.ok && unknown.error.reason).toBe('unknown-target');
    const cycle = await build({
      config: config({ a: { input: 'x/{n}', output: 'y/{n}' }, b: { input: 'y/{n}', output: 'x/{n}' } }),
      dryRun: true,
    });
    expect(!cycle.ok && cycle.error.message).toBe('dependency cycle: a -> b -> a');
  });
});

describe('build: a real run with function tasks', () => {
  const CHAIN = (log: string[]): Record<string, TaskSpec> => ({
    compile: { input: 'src/{n}.c', output: 'obj/{n}.o', run: writer(log) },
    link: { input: 'obj/{n}.o', output: 'bin/{n}', run: writer(log) },
    pack: { input: 'bin/*', output: 'dist.tar', run: writer(log) },
  });

  it('runs every stale unit after its deps, with run:start first and run:done last', async () => {
    files({ 'src/a.c': T, 'src/b.c': T, 'src/c.c': T });
    const log: string[] = [];
    const cfg = config(CHAIN(log));
    const planned = expand(cfg, ['src/a.c', 'src/b.c', 'src/c.c']);
    const { result, events } = await run({ config: cfg });
    expect(result.ok).toBe(true);
    expect(result.counts).toEqual({ built: 7, fresh: 0, failed: 0, blocked: 0 });
    expect(events[0]?.type).toBe('run:start');
    expect(events.at(-1)).toMatchObject({ type: 'run:done', ok: true, counts: { built: 7, fresh: 0, failed: 0, blocked: 0 } });
    expect(events.filter((e) => e.type === 'run:start' || e.type === 'run:done')).toHaveLength(2);
    const start = events[0];
    expect(start?.type === 'run:start' && start.tasks).toEqual({ compile: 3, link: 3, pack: 1 });
    // A unit starts only after every unit it depends on is done.
    const done = new Set<string>();
    for (const event of events) {
      if (event.type === 'unit:start')
        for (const d of depsOf(planned, event.unit)) expect(done.has(d), `${event.unit} before ${d}`).toBe(true);
      if (event.type === 'unit:done') done.add(event.unit);
    }
    expect(unitsOf(events, 'unit:done').sort()).toEqual([...planned.units.keys()].sort());
    expect(log.at(-1)).toBe('pack');
    expect(readFileSync(project.path('dist.tar'), 'utf8')).toBe('bin/a\nbin/b\nbin/c');
  });

  it('reports why each unit starts, and pairs every start with a done', async () => {
    files({ 'src/a.c': T });
    const { events } = await run({ config: config(CHAIN([])) });
    const starts = events.flatMap((e) => (e.type === 'unit:start' ? [[e.unit, e.reason, e.attempt]] : []));
    expect(starts).toEqual([
      ['compile[n=a]', { kind: 'missing-output', output: 'obj/a.o' }, 1],
      ['link[n=a]', { kind: 'missing-output', output: 'bin/a' }, 1],
      ['pack', { kind: 'missing-output', output: 'dist.tar' }, 1],
    ]);
    expect(trace(events, ['unit:start', 'unit:done'])).toEqual([
      'unit:start compile[n=a]',
      'unit:done compile[n=a]',
      'unit:start link[n=a]',
      'unit:done link[n=a]',
      'unit:start pack',
      'unit:done pack',
    ]);
  });

  it('skips everything on a second run', async () => {
    files({ 'src/a.c': T, 'src/b.c': T });
    const log: string[] = [];
    await run({ config: config(CHAIN(log)) });
    log.length = 0;
    const { result, events } = await run({ config: config(CHAIN(log)) });
    expect(log).toEqual([]);
    expect(result.counts).toEqual({ built: 0, fresh: 5, failed: 0, blocked: 0 });
    expect(unitsOf(events, 'unit:skip')).toHaveLength(5);
  });

  it('discovers the consumers of a dynamic output after its producer runs', async () => {
    files({ 'docs/a.pdf': T });
    const split: TaskFunction = () => {
      for (const page of ['1', '2']) writeFileSync(project.path(`pages/a/${page}.png`), page);
    };
    const log: string[] = [];
    const { result, events } = await run({
      config: config({
        split: { input: 'docs/{doc}.pdf', output: 'pages/{doc}/*.png', run: split },
        extract: { input: 'pages/{doc}/{page}.png', output: 'text/{doc}/{page}.txt', run: writer(log) },
        summarize: { input: 'text/{doc}/*.txt', output: 'out/{doc}.md', run: writer(log) },
      }),
    });
    expect(result.ok).toBe(true);
    expect(result.counts.built).toBe(4);
    expect(log).toEqual(['extract[doc=a,page=1]', 'extract[doc=a,page=2]', 'summarize[doc=a]']);
    expect(events.some((e) => e.type === 'plan:update')).toBe(true);
    expect(readFileSync(project.path('out/a.md'), 'utf8')).toBe('text/a/1.txt\ntext/a/2.txt');
  });

  it('waits for `after` tasks', async () => {
    files({ 'src/a.c': T, 'src/b.c': T });
    const log: string[] = [];
    await run({
      config: config({
        report: { output: 'report.txt', after: ['compile'], run: writer(log) },
        compile: { input: 'src/{n}.c', output: 'obj/{n}.o', run: writer(log) },
      }),
    });
    expect(log).toEqual(['compile[n=a]', 'compile[n=b]', 'report']);
  });

  it('notices a file added to a glob input while the unit runs', async () => {
    files({ 'parts/1.txt': T });
    const sum: TaskFunction = ({ outputs }) => {
      writeFileSync(project.path('parts/2.txt'), 'late');
      writeFileSync(join(project.root, outputs[0] ?? ''), 'only part 1');
    };
    const { events } = await run({ config: config({ sum: { input: 'parts/*.txt', output: 'sum.txt', run: sum } }) });
    expect(events.find((e) => e.type === 'unit:done')).toMatchObject({ unit: 'sum', inputsChanged: true });
    // What the user sees: the next build takes sum.txt for fresh without part 2 in it.
    const again = await run({ config: config({ sum: { input: 'parts/*.txt', output: 'sum.txt', run: writer() } }) });
    expect(again.result.counts.built).toBe(1);
  });
});

describe('build: failures', () => {
  const failing =
    (bad: string, log: string[]): TaskFunction =>
    ({ id, wildcards, outputs }) => {
      log.push(id);
      if (wildcards['n'] === bad) throw new Error(`cannot build ${bad}`);
      for (const output of outputs) writeFileSync(join(project.root, output), id);
    };
  const TASKS = (log: string[]): Record<string, TaskSpec> => ({
    work: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: failing('b', log) },
    next: { input: 'out/{n}.txt', output: 'final/{n}.txt', run: writer(log) },
  });
  // One slot: the order units start in is the queue order.
  const SERIAL = { services: { cpu: { concurrent: 1 } } };

  beforeEach(() => {
    files({ 'in/a.txt': T, 'in/b.txt': T, 'in/c.txt': T });
  });

  it('stops starting units after the first failure, and blocks its downstream', async () => {
    const log: string[] = [];
    const { result, events } = await run({ config: config(TASKS(log), SERIAL) });
    expect(log).toEqual(['work[n=a]', 'work[n=b]']);
    expect(result.ok).toBe(false);
    expect(result.counts).toEqual({ built: 1, fresh: 0, failed: 1, blocked: 1 });
    expect(result.failures).toEqual([{ unit: 'work[n=b]', task: 'work', error: { reason: 'function-error', message: 'cannot build b' } }]);
    expect(result.blocked).toEqual([
      { unit: 'next[n=b]', task: 'next', reason: { kind: 'upstream_failed', upstream: 'work[n=b]', message: 'upstream work[n=b] failed' } },
    ]);
    const fail = events.find((e) => e.type === 'unit:fail');
    expect(fail).toMatchObject({ unit: 'work[n=b]', attempt: 1, removed: [] });
    expect(events.at(-1)).toMatchObject({ type: 'run:done', ok: false });
    expect(existsSync(project.path('out/c.txt'))).toBe(false);
  });

  it('with keepGoing runs everything not downstream of the failure', async () => {
    const log: string[] = [];
    const { result, events } = await run({ config: config(TASKS(log), SERIAL), keepGoing: true });
    expect([...log].sort()).toEqual(['next[n=a]', 'next[n=c]', 'work[n=a]', 'work[n=b]', 'work[n=c]']);
    expect(result.ok).toBe(false);
    expect(result.counts).toEqual({ built: 4, fresh: 0, failed: 1, blocked: 1 });
    expect(unitsOf(events, 'unit:blocked')).toEqual(['next[n=b]']);
    expect(existsSync(project.path('final/c.txt'))).toBe(true);
    expect(existsSync(project.path('final/b.txt'))).toBe(false);
  });

  it('removes the outputs a failed function wrote', async () => {
    const half: TaskFunction = ({ outputs }) => {
      writeFileSync(join(project.root, outputs[0] ?? ''), 'half');
      throw new Error('crashed halfway');
    };
    const { result, events } = await run({
      config: config({ work: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: half } }),
      targets: ['work[n=a]'],
    });
    expect(result.counts.failed).toBe(1);
    expect(events.find((e) => e.type === 'unit:fail')).toMatchObject({ removed: ['out/a.txt'] });
    expect(existsSync(project.path('out/a.txt'))).toBe(false);
  });

  it('retries a failing function before failing it', async () => {
    let calls = 0;
    const flaky: TaskFunction = ({ outputs }) => {
      calls++;
      if (calls < 3) throw new Error(`attempt ${calls}`);
      writeFileSync(join(project.root, outputs[0] ?? ''), 'ok');
    };
    const { result, events } = await run({
      config: config({ work: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: flaky, retries: 2, backoff: 1 } }),
      targets: ['work[n=a]'],
    });
    expect(result.counts).toEqual({ built: 1, fresh: 0, failed: 0, blocked: 0 });
    expect(trace(events, ['unit:start', 'unit:retry', 'unit:done'])).toEqual([
      'unit:start work[n=a]',
      'unit:retry work[n=a]',
      'unit:start work[n=a]',
      'unit:retry work[n=a]',
      'unit:start work[n=a]',
      'unit:done work[n=a]',
    ]);
  });
});

describe('build: affected', () => {
  const TASKS = (log: string[]): Record<string, TaskSpec> => ({
    work: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: writer(log) },
    next: { input: 'out/{n}.txt', output: 'final/{n}.txt', run: writer(log) },
  });

  beforeEach(async () => {
    files({ 'in/a.txt': T, 'in/b.txt': T, 'in/c.txt': T });
    const { result } = await run({ config: config(TASKS([])) });
    expect(result.counts.built).toBe(6);
  });

  it('checks every unit without it', async () => {
    const { events } = await run({ config: config(TASKS([])) });
    expect(unitsOf(events, 'unit:skip')).toHaveLength(6);
  });

  it('checks only the units that read or write a changed path, and their downstream', async () => {
    const { events, result } = await run({ config: config(TASKS([])), affected: new Set(['in/b.txt']) });
    expect(unitsOf(events, 'unit:skip').sort()).toEqual(['next[n=b]', 'work[n=b]']);
    expect(result.counts).toEqual({ built: 0, fresh: 2, failed: 0, blocked: 0 });
  });

  it('rebuilds what a changed path makes stale', async () => {
    project.touch('in/b.txt', Date.now() + MINUTE);
    const log: string[] = [];
    const { events } = await run({ config: config(TASKS(log)), affected: new Set(['in/b.txt']) });
    expect(log).toEqual(['work[n=b]', 'next[n=b]']);
    expect(unitsOf(events, 'unit:skip')).toEqual([]);
  });

  it('checks the producer and the consumers of a changed output', async () => {
    const log: string[] = [];
    writeFileSync(project.path('out/a.txt'), 'changed by hand');
    project.touch('out/a.txt', Date.now() + MINUTE);
    const { events } = await run({ config: config(TASKS(log)), affected: new Set(['out/a.txt']) });
    expect(log).toEqual(['next[n=a]']);
    expect(unitsOf(events, 'unit:skip')).toEqual(['work[n=a]']);
  });

  it('reruns the producer of a deleted output and what follows', async () => {
    rmSync(project.path('out/c.txt'));
    const log: string[] = [];
    const { events } = await run({ config: config(TASKS(log)), affected: new Set(['out/c.txt']) });
    expect(log).toEqual(['work[n=c]', 'next[n=c]']);
    expect(unitsOf(events, 'unit:skip')).toEqual([]);
  });

  it('checks nothing for a path no unit touches', async () => {
    const { events, result } = await run({ config: config(TASKS([])), affected: new Set(['unrelated.txt']) });
    expect(trace(events)).toEqual(['run:start', 'run:done']);
    expect(result.ok).toBe(true);
  });
});
