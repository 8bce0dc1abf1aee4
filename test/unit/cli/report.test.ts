import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  chooseReporterKind,
  createReporter,
  describeBlocked,
  describeFailure,
  describeStale,
  formatDuration,
  type ReporterKind,
  type ReporterOptions,
} from '../../../src/cli/report/index.ts';
import { RunProgress, TaskProgress } from '../../../src/cli/report/progress.ts';
import { ServiceProgress, formatPerWindow } from '../../../src/cli/report/service-progress.ts';
import { createPalette, formatTimeOfDay, shortCommand } from '../../../src/cli/report/format.ts';
import type { RunEvent, StaleReason } from '../../../src/runner/events.ts';

/** An in-memory stream that records what was written. */
function sink(isTTY = false, columns = 100): { stream: Writable & { isTTY?: boolean; columns?: number }; text: () => string } {
  const chunks: string[] = [];
  const stream: Writable & { isTTY?: boolean; columns?: number } = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  stream.isTTY = isTTY;
  stream.columns = columns;
  return { stream, text: () => chunks.join('') };
}

interface Harness {
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly run: (events: readonly RunEvent[]) => Promise<void>;
}

async function harness(
  kind: ReporterKind,
  overrides: { env?: Record<string, string>; verbose?: boolean; tty?: boolean; columns?: number } = {},
): Promise<Harness> {
  const out = sink();
  const err = sink(overrides.tty ?? false, overrides.columns);
  const options: ReporterOptions = {
    stdout: out.stream,
    stderr: err.stream,
    env: overrides.env ?? {},
    verbose: overrides.verbose ?? false,
    cwd: '/proj',
  };
  const reporter = await createReporter(kind, options);
  return {
    stdout: out.text,
    stderr: err.text,
    run: async (events) => {
      for (const event of events) reporter.onEvent(event);
      await reporter.close();
    },
  };
}

const T = 1_700_000_000_000;

/** `count` units of `extract` found fresh. */
function freshExtracts(count: number): RunEvent[] {
  return Array.from({ length: count }, (_, i) => ({ type: 'unit:skip', time: T, task: 'extract', unit: `extract[page=${i}]` }));
}

/** A small build: one fresh unit, one built after a retry, one failed, one blocked behind it. */
const build: readonly RunEvent[] = [
  {
    type: 'run:start',
    time: T,
    version: 3,
    tasks: { extract: 3, summarize: 1 },
    services: { cpu: { concurrent: 2, rates: [] } },
  },
  { type: 'unit:skip', time: T + 1, task: 'extract', unit: 'extract[doc=a,page=1]' },
  {
    type: 'unit:start',
    time: T + 2,
    task: 'extract',
    unit: 'extract[doc=a,page=2]',
    attempt: 1,
    reason: { kind: 'input-newer', input: '/proj/work/a/2.png', output: 'work/a/2.txt' },
    command: 'ocr work/a/2.png work/a/2.txt',
  },
  {
    type: 'unit:start',
    time: T + 3,
    task: 'extract',
    unit: 'extract[doc=a,page=3]',
    attempt: 1,
    reason: { kind: 'missing-output', output: 'work/a/3.txt' },
    command: 'ocr work/a/3.png work/a/3.txt',
  },
  { type: 'unit:log', time: T + 4, task: 'extract', unit: 'extract[doc=a,page=2]', stream: 'stdout', text: 'page 2\nok\n' },
  {
    type: 'unit:retry',
    time: T + 5,
    task: 'extract',
    unit: 'extract[doc=a,page=2]',
    kind: 'retry',
    attempt: 1,
    delayMs: 1000,
    error: { reason: 'exit-non-zero', exitCode: 75, message: 'exited with code 75' },
  },
  {
    type: 'unit:start',
    time: T + 1005,
    task: 'extract',
    unit: 'extract[doc=a,page=2]',
    attempt: 2,
    reason: { kind: 'input-newer', input: '/proj/work/a/2.png', output: 'work/a/2.txt' },
    command: 'ocr work/a/2.png work/a/2.txt',
  },
  { type: 'unit:done', time: T + 2205, task: 'extract', unit: 'extract[doc=a,page=2]', durationMs: 1200, inputsChanged: false },
  {
    type: 'unit:fail',
    time: T + 2300,
    task: 'extract',
    unit: 'extract[doc=a,page=3]',
    durationMs: 300,
    attempt: 1,
    error: { reason: 'exit-non-zero', exitCode: 1, message: 'exited with code 1' },
    command: 'ocr work/a/3.png work/a/3.txt',
    outputTail: 'reading work/a/3.png\nError: quota exceeded, 100% used\n',
    removed: ['/proj/work/a/3.txt'],
  },
  {
    type: 'unit:blocked',
    time: T + 2301,
    task: 'summarize',
    unit: 'summarize[doc=a]',
    reason: { kind: 'upstream_failed', upstream: 'extract[doc=a,page=3]', message: 'extract[doc=a,page=3] failed' },
  },
  {
    type: 'run:done',
    time: T + 3400,
    ok: false,
    durationMs: 3400,
    counts: { built: 1, fresh: 1, failed: 1, blocked: 1 },
  },
];

describe('formatting helpers', () => {
  it('formats durations', () => {
    const cases = [0, 12, 850, 999.6, 1000, 1234, 59_949, 59_960, 123_000, 3_599_600, 3_780_000];
    expect(cases.map(formatDuration)).toEqual([
      '0ms',
      '12ms',
      '850ms',
      '1.0s',
      '1.0s',
      '1.2s',
      '59.9s',
      '1m 00s',
      '2m 03s',
      '1h 00m',
      '1h 03m',
    ]);
  });

  it('describes stale reasons, relative to cwd when given', () => {
    expect(describeStale({ kind: 'input-newer', input: '/proj/a.png', output: 'a.txt' }, '/proj')).toBe('input newer: a.png');
    expect(describeStale({ kind: 'input-newer', input: '/elsewhere/a.png', output: 'a.txt' }, '/proj')).toBe(
      'input newer: /elsewhere/a.png',
    );
    expect(describeStale({ kind: 'missing-output', output: 'out/a.md' })).toBe('output missing: out/a.md');
    expect(describeStale({ kind: 'max-age', output: 'out/a.md', ageMs: 26 * 3_600_000 })).toBe('max age: out/a.md is 26h 00m old');
    expect(describeStale({ kind: 'forced' })).toBe('forced');
    expect(describeStale({ kind: 'no-outputs' })).toBe('no outputs to check');
    expect(describeStale({ kind: 'custom' })).toBe('custom stale check');
  });

  it('describes a scheduled refresh by its due time (local), with the date when it is not today', () => {
    const now = new Date(2026, 11, 5, 12, 0).getTime();
    const due = (...parts: [number, number, number, number, number, number?]): StaleReason => ({
      kind: 'scheduled',
      output: 'out/a.md',
      due: new Date(...parts).getTime(),
    });
    expect(describeStale(due(2026, 11, 5, 6, 0), '', now)).toBe('scheduled refresh (due since 06:00)');
    expect(describeStale(due(2026, 11, 4, 6, 0), '', now)).toBe('scheduled refresh (due since 2026-12-04 06:00)');
    expect(describeStale(due(2026, 11, 5, 11, 59, 30), '', now)).toBe('scheduled refresh (due since 11:59:30)');
  });

  it('describes failures and blocks', () => {
    expect(describeFailure({ reason: 'exit-non-zero', exitCode: 2, message: 'x' })).toBe('exit 2');
    expect(describeFailure({ reason: 'signal', signal: 'SIGKILL', message: 'x' })).toBe('killed by SIGKILL');
    expect(describeFailure({ reason: 'timeout', timeoutMs: 120_000, message: 'x' })).toBe('timed out after 2m 00s');
    expect(describeFailure({ reason: 'spawn-error', message: 'ENOENT: ocr' })).toBe('could not start: ENOENT: ocr');
    expect(describeFailure({ reason: 'function-error', message: 'boom' })).toBe('error: boom');
    expect(describeFailure({ reason: 'check-error', check: 'ready', message: 'boom' })).toBe('ready check failed: boom');
    expect(describeFailure({ reason: 'aborted', message: '' })).toBe('aborted');
    expect(describeBlocked({ kind: 'not_ready', input: 'a.txt', message: 'waits for a.txt: no task makes it' })).toBe(
      'waits for a.txt: no task makes it',
    );
    expect(describeBlocked({ kind: 'service_full', service: 'ocr', message: '' })).toBe('service ocr is full');
  });
});

describe('chooseReporterKind', () => {
  it('picks tty only on an interactive terminal outside CI', () => {
    expect(chooseReporterKind('auto', { isTTY: true, ci: false })).toBe('tty');
    expect(chooseReporterKind('auto', { isTTY: true, ci: true })).toBe('ci');
    expect(chooseReporterKind('auto', { isTTY: false, ci: false })).toBe('ci');
    expect(chooseReporterKind('json', { isTTY: true, ci: false })).toBe('json');
  });
});

describe('ci reporter', () => {
  it('prints a line per start, finish, retry, failure and block, then the summary', async () => {
    const h = await harness('ci');
    await h.run(build);
    expect(h.stdout()).toBe('');
    expect(h.stderr()).toMatchInlineSnapshot(`
      "▸ extract[doc=a,page=2] (input newer: work/a/2.png)
      ▸ extract[doc=a,page=3] (output missing: work/a/3.txt)
      ↻ extract[doc=a,page=2] attempt 1 failed (exit 75), retrying in 1.0s
      ▸ extract[doc=a,page=2] (attempt 2)
      ✓ extract[doc=a,page=2] 1.2s
      ✗ extract[doc=a,page=3] exit 1 after 300ms
        $ ocr work/a/3.png work/a/3.txt
          reading work/a/3.png
          Error: quota exceeded, 100% used
        removed: work/a/3.txt
      ⊘ summarize[doc=a]: extract[doc=a,page=3] failed (upstream_failed)
      runcue: 1 built, 1 fresh, 1 failed, 1 blocked in 3.4s
      "
    `);
  });

  it('annotates failures and groups their logs under GitHub Actions', async () => {
    const h = await harness('ci', { env: { GITHUB_ACTIONS: 'true' } });
    const fail = build.filter((event) => event.type === 'unit:fail');
    await h.run(fail);
    expect(h.stderr()).toMatchInlineSnapshot(`
      "✗ extract[doc=a,page=3] exit 1 after 300ms
      ::error title=runcue%3A extract[doc=a%2Cpage=3]::exit 1 after 300ms%0Areading work/a/3.png%0AError: quota exceeded, 100%25 used
      ::group::extract[doc=a,page=3]
        $ ocr work/a/3.png work/a/3.txt
          reading work/a/3.png
          Error: quota exceeded, 100% used
      ::endgroup::
        removed: work/a/3.txt
      "
    `);
  });

  it('shows fresh units and logs only when verbose', async () => {
    const h = await harness('ci', { verbose: true });
    await h.run(build.slice(0, 5));
    expect(h.stderr()).toMatchInlineSnapshot(`
      "· extract[doc=a,page=1] fresh
      ▸ extract[doc=a,page=2] (input newer: work/a/2.png)
      ▸ extract[doc=a,page=3] (output missing: work/a/3.txt)
      extract[doc=a,page=2] │ page 2
      extract[doc=a,page=2] │ ok
      "
    `);
  });

  it('notes inputs changed mid-run and interruptions', async () => {
    const h = await harness('ci');
    await h.run([
      { type: 'unit:done', time: T, task: 'x', unit: 'x', durationMs: 2_000, inputsChanged: true },
      {
        type: 'run:done',
        time: T,
        ok: false,
        durationMs: 125_000,
        counts: { built: 1, fresh: 0, failed: 0, blocked: 0 },
        interrupted: 'SIGINT',
      },
    ]);
    expect(h.stderr()).toMatchInlineSnapshot(`
      "✓ x 2.0s (an input changed while it ran: still stale)
      runcue: 1 built, 0 fresh, 0 failed, 0 blocked in 2m 05s, interrupted by SIGINT
      "
    `);
  });

  it('colors only on a terminal without NO_COLOR', async () => {
    const colored = await harness('ci', { tty: true });
    await colored.run(build.slice(-1));
    expect(colored.stderr()).toContain('\u001b[31m1 failed\u001b[39m');
    const plain = await harness('ci', { tty: true, env: { NO_COLOR: '1' } });
    await plain.run(build.slice(-1));
    expect(plain.stderr()).not.toContain('\u001b[');
  });

  it('prints nothing per fresh unit when not verbose, however many there are', async () => {
    const h = await harness('ci');
    const skips = freshExtracts(10_000);
    await h.run(skips);
    expect(h.stderr()).toBe('');
  });
});

describe('a queue build', () => {
  /** One unit queued, started on a worker host, done; another queued and never started (the run stopped). */
  const queued: readonly RunEvent[] = [
    { type: 'run:start', time: T, version: 3, tasks: { ocr: 2 }, services: { api: { concurrent: 4, rates: [] } }, uses: { ocr: ['api'] } },
    {
      type: 'unit:queued',
      time: T + 1,
      task: 'ocr',
      unit: 'ocr[n=1]',
      attempt: 1,
      reason: { kind: 'missing-output', output: 'out/1.txt' },
    },
    {
      type: 'unit:queued',
      time: T + 2,
      task: 'ocr',
      unit: 'ocr[n=2]',
      attempt: 1,
      reason: { kind: 'missing-output', output: 'out/2.txt' },
    },
    {
      type: 'unit:start',
      time: T + 40,
      task: 'ocr',
      unit: 'ocr[n=1]',
      attempt: 1,
      reason: { kind: 'missing-output', output: 'out/1.txt' },
      host: 'gpu-box',
    },
    { type: 'unit:done', time: T + 1240, task: 'ocr', unit: 'ocr[n=1]', durationMs: 1200, inputsChanged: false, host: 'gpu-box' },
  ];

  it('prints the start with its worker host, and the queued line only when verbose', async () => {
    const h = await harness('ci');
    await h.run(queued);
    expect(h.stderr()).toBe('▸ ocr[n=1] (output missing: out/1.txt) on gpu-box\n✓ ocr[n=1] 1.2s on gpu-box\n');
    const v = await harness('ci', { verbose: true });
    await v.run(queued.slice(0, 2));
    expect(v.stderr()).toBe('… ocr[n=1] (queued)\n');
  });

  it('writes unit:queued and the host of unit:start to --json', async () => {
    const h = await harness('json');
    await h.run(queued);
    const parsed = h
      .stdout()
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as unknown);
    expect(parsed).toEqual(queued);
  });

  it('counts a queued unit as neither running nor settled in the progress display', () => {
    const progress = new RunProgress();
    const plain = createPalette(false);
    for (const event of queued.slice(0, 3)) progress.apply(event);
    const ocr = progress.tasks.get('ocr');
    expect(ocr?.title(progress.nameWidth, plain)).toBe('ocr  0/2 ✓  2 queued');
    expect(ocr?.allSettled).toBe(false);
    progress.apply(queued[3] as RunEvent);
    expect(ocr?.title(progress.nameWidth, plain)).toBe('ocr  0/2 ✓ 1 ▸  1 queued');
    expect(ocr?.runningLines(false, plain)).toEqual(['ocr[n=1]']);
    progress.apply(queued[4] as RunEvent);
    expect(ocr?.title(progress.nameWidth, plain)).toBe('ocr  1/2 ✓  1 queued');
  });
});

describe('json reporter', () => {
  it('writes one JSON line per event to stdout and nothing to stderr', async () => {
    const h = await harness('json');
    await h.run(build);
    expect(h.stderr()).toBe('');
    const lines = h.stdout().split('\n');
    expect(lines.pop()).toBe('');
    const parsed: unknown[] = lines.map((line) => JSON.parse(line) as unknown);
    expect(parsed).toEqual(build.filter((event) => event.type !== 'unit:log'));
  });

  it('includes unit:log events when verbose', async () => {
    const h = await harness('json', { verbose: true });
    await h.run(build);
    expect(h.stdout().trimEnd().split('\n')).toHaveLength(build.length);
  });
});

describe('silent reporter', () => {
  it('writes nothing at all', async () => {
    const h = await harness('silent');
    await h.run(build);
    expect(h.stdout() + h.stderr()).toBe('');
  });
});

describe('a broken renderer', () => {
  it('reports once on stderr, stops rendering and never throws', async () => {
    const err = sink();
    let writes = 0;
    const stdout = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        callback();
        if (chunk.length === 0) return; // close() flushes with an empty write
        writes += 1;
        throw new Error('renderer bug');
      },
    });
    const reporter = await createReporter('json', { stdout, stderr: err.stream, env: {}, verbose: false, cwd: '/' });
    for (const event of build) reporter.onEvent(event);
    await reporter.close();
    expect(writes).toBe(1);
    expect(err.text().match(/internal error in the json reporter/g)).toHaveLength(1);
    expect(err.text()).toContain('renderer bug');
  });
});

describe('task progress', () => {
  const plain = createPalette(false);

  it('counts finished units of the total and lists a few running ones', () => {
    const progress = new RunProgress();
    progress.apply({ type: 'run:start', time: T, version: 3, tasks: { extract: 120, ocr: 1 }, services: {} });
    for (let i = 0; i < 37; i += 1) progress.apply({ type: 'unit:skip', time: T, task: 'extract', unit: `e${i}` });
    for (let i = 37; i < 44; i += 1) {
      progress.apply({ type: 'unit:start', time: T, task: 'extract', unit: `e${i}`, attempt: 1, reason: { kind: 'forced' } });
    }
    progress.apply({ type: 'unit:log', time: T, task: 'extract', unit: 'e37', stream: 'log', text: 'half way\n' });
    progress.apply({
      type: 'unit:fail',
      time: T,
      task: 'extract',
      unit: 'e43',
      durationMs: 1,
      attempt: 1,
      error: { reason: 'aborted', message: '' },
      outputTail: '',
      removed: [],
    });
    const extract = progress.tasks.get('extract');
    expect(extract?.title(progress.nameWidth, plain)).toBe('extract  37/120 ✓ 6 ▸  1 ■');
    expect(extract?.runningLines(true, plain)).toEqual(['e37 │ half way', 'e38', 'e39', 'e40', 'e41', '+1 more']);
    expect(progress.takeDirty().map((task) => task.name)).toEqual(['extract', 'ocr']);
    expect(progress.takeDirty()).toEqual([]);
  });

  it('settles a unit once, whatever order its events come in', () => {
    const task = new TaskProgress('t');
    task.total = 1;
    task.settle('u', 'blocked');
    expect(task.allSettled).toBe(true);
    task.start('u');
    expect(task.allSettled).toBe(false);
    task.settle('u', 'done');
    task.settle('u', 'done');
    expect(task.title(1, plain)).toBe('t  1/1 ✓');
    expect(task.allSettled).toBe(true);
  });
});

describe('tty reporter', () => {
  it('draws with the line renderer when stderr is not a terminal, then prints details', async () => {
    const h = await harness('tty');
    await h.run(build);
    expect(h.stdout()).toBe('');
    const text = h.stderr();
    expect(text).toContain('extract');
    expect(text).toContain('✗ extract[doc=a,page=3] exit 1 after 300ms');
    expect(text).toContain('    Error: quota exceeded, 100% used');
    expect(text).toContain('⊘ summarize[doc=a]: extract[doc=a,page=3] failed');
    expect(text.trimEnd().split('\n').at(-1)).toBe('runcue: 1 built, 1 fresh, 1 failed, 1 blocked in 3.4s');
  });

  it('draws the live renderer on a terminal stream, never on stdout', async () => {
    const h = await harness('tty', { tty: true, env: { NO_COLOR: '1' } });
    await h.run(build);
    expect(h.stdout()).toBe('');
    const text = h.stderr();
    expect(text).toContain('extract    2/3 ✓  1 ✗');
    expect(text).toContain('summarize  0/1 ✓  1 ⊘');
    expect(text.trimEnd().split('\n').at(-1)).toBe('runcue: 1 built, 1 fresh, 1 failed, 1 blocked in 3.4s');
  });

  it('folds thousands of fresh units into one count, and copes with no tasks', async () => {
    const h = await harness('tty');
    const skips = freshExtracts(10_000);
    const done: RunEvent = {
      type: 'run:done',
      time: T,
      ok: true,
      durationMs: 850,
      counts: { built: 0, fresh: 10_000, failed: 0, blocked: 0 },
    };
    await h.run([
      { type: 'run:start', time: T, version: 3, tasks: { extract: 10_000 }, services: {} },
      ...skips,
      done,
      { type: 'run:start', time: T, version: 3, tasks: {}, services: {} },
      { ...done, counts: { built: 0, fresh: 0, failed: 0, blocked: 0 } },
    ]);
    const text = h.stderr();
    expect(text).toContain('extract  10000/10000 ✓');
    expect(text).not.toContain('extract[page=');
    expect(text).toContain('runcue: 0 built, 10000 fresh, 0 failed, 0 blocked in 850ms');
    expect(text).toContain('runcue: 0 built, 0 fresh, 0 failed, 0 blocked in 850ms');
  });

  it('draws one frame per run (watch) and ends an unfinished one on close', async () => {
    const h = await harness('tty');
    const second: RunEvent[] = [
      { type: 'run:start', time: T, version: 3, tasks: { extract: 1 }, services: {} },
      { type: 'unit:start', time: T, task: 'extract', unit: 'e', attempt: 1, reason: { kind: 'forced' } },
    ];
    await h.run([...build, ...second]);
    expect(h.stderr().match(/runcue: /g)).toHaveLength(1);
  });
});

describe('service progress', () => {
  const plain = createPalette(false);
  const start = (task: string, unit: string, time: number): RunEvent => ({
    type: 'unit:start',
    time,
    task,
    unit,
    attempt: 1,
    reason: { kind: 'forced' },
  });
  const done = (task: string, unit: string, time: number): RunEvent => ({
    type: 'unit:done',
    time,
    task,
    unit,
    durationMs: 1,
    inputsChanged: false,
  });

  /** A run of `extract` (ocr + cpu) and `pack` (cpu only) with ocr at 60/min and 5 at once. */
  function ocrRun(): RunProgress {
    const progress = new RunProgress();
    progress.apply({
      type: 'run:start',
      time: T,
      version: 3,
      tasks: { extract: 120, pack: 2 },
      services: {
        ocr: {
          concurrent: 5,
          rates: [
            { count: 5000, windowMs: 3_600_000 },
            { count: 60, windowMs: 60_000 },
          ],
        },
        cpu: { concurrent: 8, rates: [] },
      },
      uses: { extract: ['ocr', 'cpu'], pack: ['cpu'] },
    });
    return progress;
  }

  it('names rate windows', () => {
    expect(formatPerWindow(1000)).toBe('per s');
    expect(formatPerWindow(60_000)).toBe('per min');
    expect(formatPerWindow(3_600_000)).toBe('per hour');
    expect(formatPerWindow(86_400_000)).toBe('per day');
    expect(formatPerWindow(10_000)).toBe('per 10s');
    expect(formatPerWindow(90_000)).toBe('per 90s');
    expect(formatPerWindow(300_000)).toBe('per 5min');
    expect(formatPerWindow(7_200_000)).toBe('per 2h');
    expect(formatPerWindow(1500)).toBe('per 1500ms');
  });

  it('formats a service: the rate part only with a rate, the cap only with one', () => {
    const both = new ServiceProgress('ocr', { concurrent: 5, rates: [{ count: 60, windowMs: 60_000 }] });
    for (let i = 0; i < 42; i += 1) both.start(T + i);
    both.running = 5;
    expect(both.text(plain)).toBe('ocr 60/min (42 in the last minute), 5/5 running');
    const uncapped = new ServiceProgress('api', { concurrent: null, rates: [{ count: 100, windowMs: 10_000 }] });
    uncapped.running = 3;
    expect(uncapped.text(plain)).toBe('api 100/10s (0 in the last 10s), 3 running');
    const capped = new ServiceProgress('gpu', { concurrent: 2, rates: [] });
    capped.start(T);
    expect(capped.recentStarts).toBe(0);
    expect(capped.text(plain)).toBe('gpu 0/2 running');
    expect(new ServiceProgress('db', { concurrent: null, rates: [] }).text(plain)).toBe('db 0 running');
    // the shortest window is the one that shows
    expect(
      new ServiceProgress('x', {
        concurrent: null,
        rates: [
          { count: 5000, windowMs: 3_600_000 },
          { count: 900, windowMs: 60_000 },
        ],
      }).text(plain),
    ).toBe('x 900/min (0 in the last minute), 0 running');
  });

  it('highlights a service at its limit', () => {
    const colors = createPalette(true);
    const ocr = new ServiceProgress('ocr', { concurrent: 5, rates: [{ count: 2, windowMs: 1000 }] });
    expect(ocr.text(colors)).toBe(colors.dim('ocr 2/s (0 in the last second), 0/5 running'));
    ocr.start(T);
    ocr.start(T + 1);
    expect(ocr.full).toBe(true);
    expect(ocr.text(colors)).toBe(colors.yellow('ocr 2/s (2 in the last second), 0/5 running'));
  });

  it('counts starts in the window by event time, dropping them as later events move time on', () => {
    const ocr = new ServiceProgress('ocr', { concurrent: null, rates: [{ count: 3, windowMs: 1000 }] });
    ocr.start(T);
    ocr.start(T + 500);
    ocr.start(T + 999);
    expect(ocr.recentStarts).toBe(3);
    // a start exactly one window later no longer shares a window with the first
    ocr.start(T + 1000);
    expect(ocr.recentStarts).toBe(3);
    expect(ocr.trim(T + 1499)).toBe(false);
    expect(ocr.trim(T + 1500)).toBe(true);
    expect(ocr.recentStarts).toBe(2);
    expect(ocr.trim(T + 10_000)).toBe(true);
    expect(ocr.recentStarts).toBe(0);
  });

  it('keeps about one window of start times however long the run', () => {
    const ocr = new ServiceProgress('ocr', { concurrent: null, rates: [{ count: 10, windowMs: 1000 }] });
    for (let i = 0; i < 100_000; i += 1) ocr.start(T + i * 100);
    expect(ocr.recentStarts).toBe(10);
    const queue = (ocr as unknown as { starts: number[] }).starts;
    expect(queue.length).toBeLessThan(2100);
  });

  it('counts running units per service across tasks, through retries and failures', () => {
    const progress = ocrRun();
    for (let i = 0; i < 5; i += 1) progress.apply(start('extract', `e${i}`, T + i * 1000));
    progress.apply(start('pack', 'p0', T + 5000));
    const extract = progress.tasks.get('extract');
    const pack = progress.tasks.get('pack');
    expect(extract?.serviceText(plain)).toBe('ocr 60/min (5 in the last minute), 5/5 running');
    expect(pack?.serviceText(plain)).toBe('cpu 6/8 running');

    progress.apply(done('extract', 'e0', T + 6000));
    progress.apply({
      type: 'unit:retry',
      time: T + 6001,
      task: 'extract',
      unit: 'e1',
      attempt: 1,
      delayMs: 10,
      kind: 'push-back',
      error: { reason: 'exit-non-zero', exitCode: 75, message: '' },
    });
    progress.apply({
      type: 'unit:fail',
      time: T + 6002,
      task: 'extract',
      unit: 'e2',
      durationMs: 1,
      attempt: 1,
      error: { reason: 'aborted', message: '' },
      outputTail: '',
      removed: [],
    });
    expect(extract?.serviceText(plain)).toBe('ocr 60/min (5 in the last minute), 2/5 running');
    // the retry is a new start for the window; a second done for the same unit changes nothing
    progress.apply(start('extract', 'e1', T + 7000));
    progress.apply(done('extract', 'e0', T + 7001));
    expect(extract?.serviceText(plain)).toBe('ocr 60/min (6 in the last minute), 3/5 running');
    // a unit that fails a check without starting was never running
    progress.apply({
      type: 'unit:fail',
      time: T + 7002,
      task: 'extract',
      unit: 'e9',
      durationMs: 0,
      attempt: 1,
      error: { reason: 'check-error', check: 'ready', message: '' },
      outputTail: '',
      removed: [],
    });
    expect(extract?.serviceText(plain)).toBe('ocr 60/min (6 in the last minute), 3/5 running');
    expect(extract?.title(progress.nameWidth, plain)).toBe('extract  1/120 ✓ 3 ▸  1 ✗  1 ■');
  });

  it('shows cpu only as a task’s one service with units running, and nothing once a task settled', () => {
    const progress = ocrRun();
    const pack = progress.tasks.get('pack');
    expect(pack?.serviceText(plain)).toBe('');
    progress.apply(start('pack', 'p0', T));
    expect(pack?.serviceText(plain)).toBe('cpu 1/8 running');
    progress.apply(done('pack', 'p0', T + 1));
    progress.apply({ type: 'unit:skip', time: T + 2, task: 'pack', unit: 'p1' });
    expect(pack?.allSettled).toBe(true);
    expect(pack?.serviceText(plain)).toBe('');
    // a task with no running unit still shows the services it waits on
    expect(progress.tasks.get('extract')?.serviceText(plain)).toBe('ocr 60/min (0 in the last minute), 0/5 running');
  });

  it('marks every task sharing a service dirty, and trims windows on render by event time or advance()', () => {
    const progress = new RunProgress();
    progress.apply({
      type: 'run:start',
      time: T,
      version: 3,
      tasks: { a: 2, b: 2, c: 1 },
      services: { ocr: { concurrent: null, rates: [{ count: 10, windowMs: 1000 }] }, cpu: { concurrent: 2, rates: [] } },
      uses: { a: ['ocr'], b: ['ocr'], c: ['cpu'] },
    });
    progress.takeDirty();
    progress.apply(start('a', 'a0', T + 100));
    expect(
      progress
        .takeDirty()
        .map((task) => task.name)
        .sort(),
    ).toEqual(['a', 'b']);
    expect(progress.takeDirty()).toEqual([]);
    // a later event moves time on: the start left the window, so both titles change again
    progress.apply({ type: 'unit:log', time: T + 1100, task: 'c', unit: 'c0', stream: 'log', text: 'x' });
    expect(
      progress
        .takeDirty()
        .map((task) => task.name)
        .sort(),
    ).toEqual(['a', 'b', 'c']);
    expect(progress.tasks.get('b')?.serviceText(plain)).toBe('ocr 10/s (0 in the last second), 1 running');
    progress.apply(start('b', 'b0', T + 1200));
    progress.takeDirty();
    // no events: only advance() (the periodic redraw) empties the window
    expect(progress.takeDirty()).toEqual([]);
    progress.advance(T + 2200);
    expect(
      progress
        .takeDirty()
        .map((task) => task.name)
        .sort(),
    ).toEqual(['a', 'b']);
    expect(progress.tasks.get('a')?.serviceText(plain)).toBe('ocr 10/s (0 in the last second), 2 running');
    expect(progress.changesWithTime).toBe(true);
  });

  it("shows a task's persistent workers: starting, busy, idle, restarted", () => {
    const progress = ocrRun();
    const worker = (event: Record<string, unknown>): RunEvent => ({ time: T, task: 'extract', ...event }) as RunEvent;
    progress.apply(start('extract', 'e1', T));
    progress.apply(worker({ type: 'worker:start', worker: 1, pid: 10 }));
    progress.apply(worker({ type: 'worker:start', worker: 2, pid: 11 }));
    const extract = progress.tasks.get('extract');
    expect(extract?.serviceText(plain)).toBe('ocr 60/min (1 in the last minute), 1/5 running  workers 2 starting');
    progress.apply(worker({ type: 'worker:ready', worker: 1, loadMs: 900 }));
    progress.apply(worker({ type: 'worker:busy', worker: 1, unit: 'e1' }));
    expect(extract?.serviceText(plain)).toBe('ocr 60/min (1 in the last minute), 1/5 running  workers 1 busy, 1 starting');
    progress.apply(done('extract', 'e1', T + 10));
    expect(extract?.serviceText(plain)).toBe('ocr 60/min (1 in the last minute), 0/5 running  workers 1 idle, 1 starting');
    progress.apply(worker({ type: 'worker:exit', worker: 2, reason: 'crashed', code: 1, signal: null }));
    progress.apply(worker({ type: 'worker:start', worker: 3, pid: 12, replaces: 2 }));
    expect(extract?.serviceText(plain)).toBe('ocr 60/min (1 in the last minute), 0/5 running  workers 1 idle, 1 starting, 1 restarted');
  });

  it('shows a push-back pause with its end and the unit that caused it, until it ends', () => {
    const progress = ocrRun();
    progress.apply(start('extract', 'e1', T));
    progress.takeDirty();
    const pushBack = (unit: string, time: number, delayMs: number): RunEvent => ({
      type: 'unit:retry',
      time,
      task: 'extract',
      unit,
      attempt: 1,
      delayMs,
      kind: 'push-back',
      services: ['ocr'],
      error: { reason: 'pushed-back', pushBacks: 1, message: 'its service pushed back (once)' },
    });
    progress.apply(pushBack('e1', T + 1000, 4000));
    const until = formatTimeOfDay(T + 5000);
    const extract = progress.tasks.get('extract');
    expect(extract?.serviceText(plain)).toBe(`ocr 60/min (1 in the last minute), 0/5 running, paused until ${until} (pushed back by e1)`);
    expect(progress.changesWithTime).toBe(true);
    // a shorter pause asked later does not shorten it
    progress.apply(pushBack('e2', T + 2000, 1000));
    expect(extract?.serviceText(plain)).toContain(`paused until ${until} (pushed back by e1)`);
    progress.takeDirty();
    progress.advance(T + 5000);
    expect(progress.takeDirty().map((task) => task.name)).toContain('extract');
    expect(extract?.serviceText(plain)).toBe('ocr 60/min (1 in the last minute), 0/5 running');
  });

  it('draws a push-back pause in the live frame, and the push-back count in the summary', async () => {
    const pushBack: RunEvent = {
      type: 'unit:retry',
      time: T + 2,
      task: 'extract',
      unit: 'e0',
      attempt: 1,
      delayMs: 3000,
      kind: 'push-back',
      services: ['ocr'],
      error: { reason: 'pushed-back', pushBacks: 1, message: 'its service pushed back (once)' },
    };
    const events: RunEvent[] = [
      {
        type: 'run:start',
        time: T,
        version: 3,
        tasks: { extract: 1 },
        services: { ocr: { concurrent: 2, rates: [] } },
        uses: { extract: ['ocr'] },
      },
      start('extract', 'e0', T + 1),
      pushBack,
      // stopped while paused, so the last frame still shows the pause
      {
        type: 'run:done',
        time: T + 5,
        ok: false,
        durationMs: 3000,
        counts: { built: 0, fresh: 0, failed: 0, blocked: 0 },
        interrupted: 'SIGINT',
        notStarted: 1,
        pushBacks: 1,
      },
    ];
    const live = await harness('tty', { tty: true, env: { NO_COLOR: '1' } });
    await live.run(events);
    expect(live.stderr()).toContain(`ocr 0/2 running, paused until ${formatTimeOfDay(T + 3002)} (pushed back by e0)`);
    expect(live.stderr()).toContain('0 blocked, 1 not started in 3.0s, interrupted by SIGINT, 1 push-back');
  });

  it('draws service state in the live frame only', async () => {
    const events: RunEvent[] = [
      {
        type: 'run:start',
        time: T,
        version: 3,
        tasks: { extract: 10 },
        services: { ocr: { concurrent: 5, rates: [{ count: 60, windowMs: 60_000 }] }, cpu: { concurrent: 2, rates: [] } },
        uses: { extract: ['ocr'] },
      },
      start('extract', 'e0', T + 1),
      start('extract', 'e1', T + 2),
      start('extract', 'e2', T + 3),
      done('extract', 'e0', T + 4),
    ];
    const live = await harness('tty', { tty: true, env: { NO_COLOR: '1' } });
    await live.run(events);
    expect(live.stderr()).toContain('extract  1/10 ✓ 2 ▸ ocr 60/min (3 in the last minute), 2/5 running');
    const lines = await harness('tty');
    await lines.run(events);
    expect(lines.stderr()).toContain('extract  1/10 ✓');
    expect(lines.stderr()).not.toContain('in the last minute');
    // A pseudo-terminal opened without a size (`script` under a parent with no terminal) reports
    // 0 columns: it gets the live frame, 80 columns wide, not the line renderer (nor nothing).
    const sizeless = await harness('tty', { tty: true, columns: 0, env: { NO_COLOR: '1' } });
    await sizeless.run(events);
    expect(sizeless.stderr()).toContain('extract  1/10 ✓ 2 ▸ ocr 60/min (3 in the last minute), 2/5 running');
  });
});

describe('shortCommand', () => {
  it('shows a huge command (a fan-in over thousands of paths) by its start and size', () => {
    expect(shortCommand('cat a b > c')).toBe('cat a b > c');
    const long = `cat ${'x'.repeat(5_000)}`;
    expect(shortCommand(long)).toBe(`${long.slice(0, 2_000)} ... (${long.length - 2_000} more characters)`);
  });
});
