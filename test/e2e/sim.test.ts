/**
 * `runcue sim` through the real binary: scenarios, determinism, the user's own config (the
 * pdf-ocr example, untouched on disk), a stall report, a trace file, usage errors, and the
 * agreement of a simulated and a real build of the same small config.
 */
import { cpSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO, Rig, type RunResult } from '../rig/index.ts';

let rig: Rig | undefined;
afterEach(() => {
  rig?.cleanup();
  rig = undefined;
});

function newRig(): Rig {
  rig = new Rig();
  return rig;
}

interface Summary {
  readonly ok: boolean;
  readonly makespanMs: number;
  readonly units: Record<string, number>;
  readonly services: readonly { service: string; starts: number; rates: readonly { limit: number; maxStarts: number }[] }[];
  readonly criticalPath: readonly { unit: string; task: string }[];
  readonly boundingTask: string | null;
  readonly blocked: readonly { unit: string; reason: { kind: string; message: string } }[];
}

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
ajv.addSchema(JSON.parse(readFileSync(join(REPO, 'docs', 'events.schema.json'), 'utf8')) as object, 'events.schema.json');
ajv.addSchema(JSON.parse(readFileSync(join(REPO, 'docs', 'cli-json.schema.json'), 'utf8')) as object);

/** The summary of a `sim --json` run, its document checked against docs/cli-json.schema.json. */
function summaryOf(result: RunResult): Summary {
  expect(result.stderr).toBe('');
  const document = JSON.parse(result.stdout) as { summary: Summary };
  const check = ajv.getSchema('cli-json.schema.json#/$defs/sim');
  if (check === undefined) throw new Error('no schema for sim');
  expect(check(document), JSON.stringify(check.errors)).toBe(true);
  return document.summary;
}

/** Every path under `dir` with its mtime and size: what "nothing on disk changed" compares. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      const s = statSync(join(dir, path));
      out.push(`${path} ${s.mtimeMs} ${entry.isDirectory() ? 'dir' : s.size}`);
      if (entry.isDirectory()) walk(path);
    }
  };
  walk('');
  return out.sort();
}

describe('runcue sim: scenarios', () => {
  it('lists the scenarios', async () => {
    const result = await newRig().run(['sim', '--list-scenarios']);
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n').map((l) => l.split(' ')[0])).toEqual(['single_queue', 'pipeline', 'fanout', 'dynamic', '']);
  });

  it('simulates 100 units at 10/s, 5 at once, 200 ms each in 9.4 s of virtual time, as JSON', async () => {
    const result = await newRig().run([
      'sim',
      '--scenario',
      'single_queue',
      '--count',
      '100',
      '--rate',
      '10/s',
      '--concurrent',
      '5',
      '--latency',
      '200ms',
      '--json',
    ]);
    expect(result.code).toBe(0);
    const summary = summaryOf(result);
    expect(summary.makespanMs).toBe(9400);
    expect(summary.units).toMatchObject({ run: 100, built: 100, failed: 0 });
    expect(summary.services[0]?.rates[0]).toMatchObject({ limit: 10, maxStarts: 10 });
  });

  it('prints the same log and table for the same seed, to the millisecond', async () => {
    const r = newRig();
    const args = [
      'sim',
      '--scenario',
      'fanout',
      '--count',
      '30',
      '--rate',
      '5/s',
      '--jitter',
      '0.4',
      '--error-rate',
      '0.2',
      '--retries',
      '1',
      '-k',
      '--seed',
      's1',
      '-v',
    ];
    const [a, b, c] = await Promise.all([r.run(args), r.run(args), r.run([...args.slice(0, -2), 's2', '-v'])]);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).not.toBe(c.stdout);
    expect(a.stdout).toMatch(/^TIME {8}EVENT {5}TASK {12}UNIT {26}DETAILS\n0\.000s {6}run /);
    expect(a.stdout).toMatch(/\n\d+\.\d{3}s +retry +process +process\[part=sim-\d+\] +simulated failure \(error rate 20%\)/);
    expect(a.stdout).toContain('critical path');
  });

  it('names a bad scenario, rate or flag value, exit 2', async () => {
    const r = newRig();
    const bad = await r.run(['sim', '--scenario', 'single-queue']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--scenario single-queue: no such scenario (did you mean single_queue?)');
    const rate = await r.run(['sim', '--scenario', 'pipeline', '--rate', 'fast']);
    expect(rate.stderr).toContain('--rate fast: expected a rate like');
    const latency = await r.run(['sim', '--scenario', 'pipeline', '--latency', 'extract=2s,lod=1s']);
    expect(latency.code).toBe(2);
    expect(latency.stderr).toContain('--latency lod=1s: no task or service is named "lod" (did you mean "load"?)');
  });
});

describe('runcue sim: the user config', () => {
  it('rehearses examples/pdf-ocr with 20 pages: bounded by the ocr rate, nothing on disk changed', async () => {
    const example = join(REPO, 'examples', 'pdf-ocr');
    const before = tree(example);
    const trace = join(newRig().dir, 'trace.json');
    const result = await (rig as Rig).run([
      'sim',
      'out/invoice.md',
      '--cwd',
      example,
      '--fanout',
      'split=20',
      '--latency',
      'extract=100ms,200ms',
      '--trace',
      trace,
      '--json',
    ]);
    expect(result.code).toBe(0);
    const summary = summaryOf(result);
    expect(tree(example)).toEqual(before);
    expect(summary.units).toMatchObject({ built: 22, failed: 0 });
    // ocr: 120/min paced at 2/s after a burst of 10: 20 pages need at least 5 s of starts; split and summarize take 200 ms each.
    expect(summary.makespanMs).toBeGreaterThanOrEqual(5000);
    expect(summary.makespanMs).toBeLessThan(7000);
    expect(summary.boundingTask).toBe('extract');
    expect(summary.criticalPath.map((s) => s.task)).toEqual(['split', 'extract', 'summarize']);
    const traced = JSON.parse(readFileSync(trace, 'utf8')) as {
      traceEvents: { ph: string; pid: number; tid: number; args?: { name?: string } }[];
    };
    const lanes = traced.traceEvents.filter((e) => e.ph === 'M' && e.args?.name?.startsWith('ocr slot')).map((e) => e.args?.name);
    expect(lanes).toEqual(['ocr slot 1', 'ocr slot 2']);
    // One span per attempt, plus the run's own.
    expect(traced.traceEvents.filter((e) => e.ph === 'X')).toHaveLength(23);
  });

  it('reads a built copy of examples/pdf-ocr and its .runcue state without changing a file, an mtime or a record', async () => {
    const r = newRig();
    cpSync(join(REPO, 'examples', 'pdf-ocr'), r.dir, { recursive: true });
    // letter is built: its pages, texts and summary exist, and touch records the dynamic set under .runcue/outputs.
    r.write({
      'work/letter/pages/p-1.png': '',
      'work/letter/pages/p-2.png': '',
      'work/letter/text/p-1.txt': 'one',
      'work/letter/text/p-2.txt': 'two',
      'out/letter.md': 'summary',
    });
    expect((await r.run(['touch', 'split[doc=letter]', 'extract[doc=letter]', 'summarize[doc=letter]'])).code).toBe(0);
    // One record per unit: a line each in this process's journal (output-journal.ts).
    const journals = readdirSync(r.path('.runcue/outputs')).map((name) => readFileSync(r.path(`.runcue/outputs/${name}`), 'utf8'));
    expect(journals.join('').trim().split('\n')).toHaveLength(4);
    const before = tree(r.dir);
    const fresh = summaryOf(await r.run(['sim', '--fanout', 'split=5', '--json']));
    expect(fresh.units).toMatchObject({ fresh: 4, built: 14, failed: 0 });
    const forced = await r.run(['sim', '--force', '--fanout', 'split=5', '--error-rate', '0.3', '--retries', '3', '-v']);
    expect(forced.stdout).toContain('split[doc=letter]');
    // Outputs, output records, rate windows, in-flight records, fingerprints: nothing was written, nothing stamped.
    expect(tree(r.dir)).toEqual(before);
  });

  it('adds synthetic inputs with --files, runs no command, hook or custom check, and leaves the project alone', async () => {
    const r = newRig();
    r.write({
      // Every piece of user code here would leave a trace: a file, a failure, or a unit not ready.
      'runcue.config.mjs': `import { writeFileSync } from 'node:fs';
        export default {
          services: { ocr: { rate: '60/min', concurrent: 4 } },
          on: { start: () => writeFileSync('hook-ran', '') },
          tasks: {
            ocr: {
              uses: 'ocr', input: 'docs/{doc}.pdf', output: 'text/{doc}.txt',
              run: 'touch command-ran; exit 1',
              ready: () => { writeFileSync('ready-ran', ''); return false; },
            },
          },
        };`,
      'docs/real.pdf': 'x',
    });
    const before = tree(r.dir);
    const summary = summaryOf(await r.run(['sim', '--files', 'docs/*.pdf=119', '--latency', '2s', '--json']));
    expect(tree(r.dir)).toEqual(before);
    expect(summary.units['built']).toBe(120);
    // 60/min paced at 1/s: 120 starts take 119 s, plus the last unit's 2 s.
    expect(summary.makespanMs).toBe(121_000);
  });

  it('reports what is blocked and why when an input is missing, exit 1', async () => {
    const r = newRig();
    r.write({
      'runcue.config.json': JSON.stringify({
        tasks: {
          fetch: { input: 'in/{n}.txt', output: 'raw/{n}.txt', run: 'cp {input} {output}' },
          join: { input: ['raw/{n}.txt', 'meta/{n}.json'], output: 'out/{n}.txt', run: 'cat {inputs} > {output}' },
        },
      }),
      'in/a.txt': 'a',
    });
    const result = await r.run(['sim']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('blocked (1):\n  join[n=a] waits for meta/a.json: no file matches and no task produces it\n');
    const json = summaryOf(await r.run(['sim', '--json']));
    expect(json.blocked).toEqual([
      { task: 'join', unit: 'join[n=a]', reason: expect.objectContaining({ kind: 'not_ready', input: 'meta/a.json' }) },
    ]);
  });
});

describe('runcue sim agrees with a real build', () => {
  it('simulates a sleeping, rate-limited config within 10% of the real makespan', async () => {
    const r = newRig();
    const files: Record<string, string> = {
      'runcue.config.json': JSON.stringify({
        services: { api: { rate: '4/s', burst: 1, concurrent: 2 } },
        tasks: { work: { uses: 'api', input: 'in/{n}.txt', output: 'out/{n}.txt', run: 'sleep 0.3 && touch {output}' } },
      }),
    };
    for (let i = 0; i < 12; i++) files[`in/${String(i).padStart(2, '0')}.txt`] = String(i);
    r.write(files);
    const simulated = summaryOf(await r.run(['sim', '--latency', '300ms', '--json']));
    // Paced at one start per 250 ms: the 12th starts at 2.75 s and ends at 3.05 s.
    expect(simulated.makespanMs).toBe(3050);
    const real = await r.runJson(['build']);
    expect(real.code).toBe(0);
    const starts = real.events.filter((e) => e.type === 'unit:start').map((e) => Number(e['time']));
    const dones = real.events.filter((e) => e.type === 'unit:done');
    expect(dones).toHaveLength(12);
    // The real makespan is measured like the simulated one, from the first start to the last
    // end; and a unit's duration is the sim's input, not its prediction: on a loaded machine
    // `sleep 0.3 && touch` takes longer than 300 ms, so the sim gets the mean the build saw.
    const realMs = Math.max(...dones.map((e) => Number(e['time']))) - Math.min(...starts);
    const meanMs = Math.round(dones.reduce((sum, e) => sum + Number(e['durationMs']), 0) / dones.length);
    rmSync(r.path('out'), { recursive: true });
    const rehearsed = summaryOf(await r.run(['sim', '--latency', `${meanMs}ms`, '--json']));
    expect(Math.abs(realMs - rehearsed.makespanMs) / realMs).toBeLessThan(0.1);
  }, 30_000);
});

describe('runcue sim --trace', () => {
  it('names a file relative to --cwd; one it cannot write is a usage error after the summary, not a crash', async () => {
    const r = newRig();
    r.write({ 'sub/.keep': '' });
    const written = await r.run(['sim', '--scenario', 'single_queue', '--count', '3', '--cwd', 'sub', '--trace', 't.json']);
    expect(written.code).toBe(0);
    expect(JSON.parse(r.read('sub/t.json'))).toHaveProperty('traceEvents');
    const bad = await r.run(['sim', '--scenario', 'single_queue', '--count', '3', '--trace', 'missing/dir/t.json']);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toContain('makespan');
    expect(bad.stderr).toMatch(/^runcue sim: --trace missing\/dir\/t\.json: cannot write .*ENOENT/m);
    expect(bad.stderr).not.toContain('internal error');
  });
});
