/**
 * `runcue watch` end to end: the real binary, a real watcher and real files. Every wait is on a
 * condition (a JSON event on stdout, a file), bounded, never a sleep that assumes a fast machine.
 */
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/runner/events.ts';
import type { WatchEvent } from '../../src/watch/events.ts';
import { collect, Rig, type RunResult, runsIn, waitFor } from '../rig/index.ts';
import { CHAIN_CONFIG } from '../rig/fixtures.ts';

type Event = RunEvent | WatchEvent;

let rig: Rig;
let session: WatchSession | undefined;

afterEach(async () => {
  await session?.kill();
  session = undefined;
  rig.cleanup();
});

/** A `runcue watch --json` process and the events it printed so far. */
class WatchSession {
  readonly events: Event[] = [];
  stderr = '';
  private readonly child: ChildProcess;
  private readonly done: Promise<RunResult>;
  private buffer = '';

  constructor(args: readonly string[], json = true, env: Record<string, string> = {}) {
    this.child = rig.spawn(['watch', ...(json ? ['--json'] : []), ...args], { env });
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.child.stdout?.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString();
      const lines = this.buffer.split('\n');
      this.buffer = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') this.events.push(JSON.parse(line) as Event);
    });
    this.done = collect(this.child, 60_000);
  }

  /** `watch:cycle` done events so far. */
  get cyclesDone(): number {
    return this.cycleEvents('done').length;
  }

  cycleEvents<P extends 'start' | 'done'>(phase: P): Extract<Event, { type: 'watch:cycle'; phase: P }>[] {
    return this.events.filter((e): e is Extract<Event, { type: 'watch:cycle'; phase: P }> => e.type === 'watch:cycle' && e.phase === phase);
  }

  /** Run events of cycle `n` (1 is the initial build). */
  eventsOfCycle(n: number): Event[] {
    const start = this.events.findIndex((e) => e.type === 'watch:cycle' && e.phase === 'start' && e.cycle === n);
    const end = this.events.findIndex((e) => e.type === 'watch:cycle' && e.phase === 'done' && e.cycle === n);
    return start < 0 ? [] : this.events.slice(start + 1, end < 0 ? undefined : end);
  }

  startedUnits(n: number): string[] {
    return this.eventsOfCycle(n)
      .flatMap((e) => (e.type === 'unit:start' ? [e.unit] : []))
      .sort();
  }

  async untilCycles(count: number, what = `${count} cycles`): Promise<void> {
    await waitFor(() => this.cyclesDone >= count, 20_000, `${what}; events: ${this.tail()}`);
  }

  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<RunResult> {
    this.child.kill(signal);
    return this.done;
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.done.catch(() => undefined);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  private tail(): string {
    return this.events
      .slice(-5)
      .map((e) => JSON.stringify(e))
      .join('\n');
  }
}

function watch(args: readonly string[] = [], json = true, env: Record<string, string> = {}): WatchSession {
  session = new WatchSession(args, json, env);
  return session;
}

function lines(file: string): string[] {
  return rig.exists(file) ? rig.read(file).trim().split('\n').filter(Boolean) : [];
}

const CHAIN = CHAIN_CONFIG;

function chainProject(): void {
  rig = new Rig();
  rig.write({ 'runcue.config.mjs': CHAIN, 'src/a.txt': 'alpha', 'src/b.txt': 'beta' });
  rig.age(['src/a.txt', 'src/b.txt'], -60_000);
}

describe('watch: file changes', () => {
  it('rebuilds an edited input and its downstream, and its own writes never loop', async () => {
    chainProject();
    const w = watch();
    await w.untilCycles(1, 'the initial build');
    expect(rig.read('out/a.md')).toBe('# ALPHA');
    expect(w.events[0]?.type).toBe('watch:ready');

    rig.write({ 'src/a.txt': 'alpha two' });
    await waitFor(() => rig.exists('out/a.md') && rig.read('out/a.md') === '# ALPHA TWO', 20_000, 'out/a.md rebuilt');
    await w.untilCycles(2);
    expect(w.startedUnits(2)).toEqual(['upper[name=a]', 'wrap[name=a]']);
    expect(w.cycleEvents('start')[1]).toMatchObject({ trigger: 'files', changed: ['src/a.txt'] });

    // work/a.up (written by cycle 2) is an input of wrap: had its event come back as a change,
    // the next cycle would list it. The next cycle is the one this edit starts, and only it.
    rig.write({ 'src/b.txt': 'beta two' });
    await w.untilCycles(3);
    expect(w.cycleEvents('start')[2]).toMatchObject({ trigger: 'files', changed: ['src/b.txt'] });
    expect(w.startedUnits(3)).toEqual(['upper[name=b]', 'wrap[name=b]']);
    expect(rig.read('out/b.md')).toBe('# BETA TWO');
  });

  it('a new file becomes a new unit', async () => {
    chainProject();
    const w = watch();
    await w.untilCycles(1);
    rig.write({ 'src/c.txt': 'gamma' });
    await waitFor(() => rig.exists('out/c.md'), 20_000, 'out/c.md');
    await w.untilCycles(2);
    expect(rig.read('out/c.md')).toBe('# GAMMA');
    expect(w.startedUnits(2)).toEqual(['upper[name=c]', 'wrap[name=c]']);
  });

  it('a removed input is reported and blocks its units; no output is deleted', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default {
        tasks: {
          page: { input: { body: 'src/{name}.txt', header: 'header.txt' }, output: 'out/{name}.html', run: "cat {input.header} {input.body} > {output}" },
        },
      };`,
      'header.txt': '<h1>',
      'src/a.txt': 'alpha',
      'src/b.txt': 'beta',
    });
    rig.age(['header.txt', 'src/a.txt', 'src/b.txt'], -60_000);
    const w = watch();
    await w.untilCycles(1);
    expect(rig.read('out/a.html')).toBe('<h1>alpha');

    rig.remove('header.txt');
    await w.untilCycles(2);
    expect(w.cycleEvents('start')[1]).toMatchObject({ trigger: 'files', changed: ['header.txt'] });
    const blocked = w.eventsOfCycle(2).filter((e) => e.type === 'unit:blocked');
    expect(blocked.map((e) => e.unit).sort()).toEqual(['page[name=a]', 'page[name=b]']);
    expect(JSON.stringify(blocked[0])).toContain('header.txt');
    expect(rig.read('out/a.html')).toBe('<h1>alpha');
    expect(rig.read('out/b.html')).toBe('<h1>beta');

    rig.remove('src/a.txt');
    await w.untilCycles(3);
    expect(rig.exists('out/a.html')).toBe(true);
    expect(rig.exists('src/b.txt')).toBe(true);
  });

  it('a removed source file whose unit vanishes reruns the fan-in that read its output, as build would', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        copy: { input: 'src/{n}.txt', output: 'out/{n}.txt', run: 'cat {input} > {output}' },
        all: { input: 'out/*.txt', output: 'all.txt', run: 'cat {inputs} > {output}' },
      } };`,
      'src/a.txt': 'a',
      'src/b.txt': 'b',
    });
    rig.age(['src/a.txt', 'src/b.txt'], -60_000);
    const w = watch();
    await w.untilCycles(1);
    expect(rig.read('all.txt')).toBe('ab');

    rig.remove('src/a.txt');
    await w.untilCycles(2);
    expect(
      w
        .eventsOfCycle(2)
        .filter((e) => e.type === 'unit:done')
        .map((e) => e.unit),
    ).toEqual(['all']);
    expect(rig.read('all.txt')).toBe('b');
    const plan = await rig.run(['plan', '--json']);
    expect(JSON.parse(plan.stdout)).toMatchObject({ counts: { run: 0 } });
  });

  it('200 files written at once are one cycle', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: { copy: { input: 'src/{n}.txt', output: 'out/{n}.txt', run: ['cp', '{input}', '{output}'] } } };`,
      'src/seed.txt': 'seed',
    });
    const w = watch();
    await w.untilCycles(1);
    const files: Record<string, string> = {};
    for (let i = 0; i < 200; i++) files[`src/f${String(i).padStart(3, '0')}.txt`] = String(i);
    rig.write(files);
    await waitFor(() => Object.keys(files).every((f) => rig.exists(f.replace('src/', 'out/'))), 30_000, 'all 200 outputs');
    await w.untilCycles(2);
    const starts = w.cycleEvents('start').slice(1);
    expect(starts).toHaveLength(1);
    expect(starts[0]?.changed).toHaveLength(100);
    expect(w.cycleEvents('done')[1]?.counts.built).toBe(200);
  });
});

describe('watch: dynamic sets', () => {
  it('a shorter re-split clears its old pages without a cycle for its own removals', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        split: { input: 'docs/{doc}.txt', output: 'work/{doc}/pages/*.txt',
          run: 'mkdir -p work/{doc}/pages && for i in $(seq 1 $(cat {input})); do echo page$i > work/{doc}/pages/p$i.txt; done' },
        join: { input: 'work/{doc}/pages/*.txt', output: 'out/{doc}.txt', run: 'cat {inputs} > {output}' },
      } };`,
      'docs/a.txt': '3',
    });
    rig.age(['docs/a.txt'], -60_000);
    const w = watch();
    await w.untilCycles(1);
    rig.age(['work/a/pages/p1.txt', 'work/a/pages/p2.txt', 'work/a/pages/p3.txt'], -30_000);
    rig.write({ 'docs/a.txt': '2' });
    await w.untilCycles(2);
    expect(rig.exists('work/a/pages/p3.txt')).toBe(false);
    expect(rig.read('out/a.txt')).toBe('page1\npage2\n');
    // The next cycle is the next outside change, not the removal of p3.txt.
    rig.write({ 'docs/b.txt': '1' });
    await w.untilCycles(3);
    expect(w.cycleEvents('start')[2]?.changed).toEqual(['docs/b.txt']);
  });
});

describe('watch: failures and running units', () => {
  it('a failed unit is not rerun until one of its inputs changes', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default {
        tasks: {
          check: { input: 'src/{n}.txt', output: 'work/{n}.ok', run: "echo {n} >> runs.log; grep -q good {input} && cp {input} {output}" },
          all: { input: 'work/*.ok', output: 'all.txt', run: "cat {inputs} > {output}" },
        },
      };`,
      'src/a.txt': 'good a',
      'src/b.txt': 'bad b',
    });
    rig.age(['src/a.txt', 'src/b.txt'], -60_000);
    const w = watch();
    await w.untilCycles(1);
    expect(w.cycleEvents('done')[0]).toMatchObject({ ok: false, counts: { failed: 1 } });

    // a's change affects the fan-in, which needs check[n=b]: checked, but not rerun
    rig.write({ 'src/a.txt': 'good a2' });
    await w.untilCycles(2);
    expect(w.startedUnits(2)).toEqual(['check[n=a]']);
    const blocked = w.eventsOfCycle(2).find((e) => e.type === 'unit:blocked' && e.unit === 'check[n=b]');
    expect(blocked).toMatchObject({ reason: { kind: 'failed_earlier' } });
    expect(rig.exists('all.txt')).toBe(false);

    rig.write({ 'src/b.txt': 'good b' });
    await w.untilCycles(3);
    expect(w.startedUnits(3)).toEqual(['all', 'check[n=b]']);
    expect(rig.read('all.txt')).toBe('good a2good b');
    expect(lines('runs.log').sort()).toEqual(['a', 'a', 'b', 'b']);
  });

  it('a unit whose input changes while it runs finishes, then reruns', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default {
        tasks: {
          slow: { input: 'src/{n}.txt', output: 'out/{n}.txt', run: "echo start >> starts.log; while [ ! -f go ]; do sleep 0.05; done; cp {input} {output}" },
        },
      };`,
      'src/a.txt': 'one',
    });
    const w = watch();
    await waitFor(() => lines('starts.log').length === 1, 20_000, 'the unit to start');
    // edited after the unit observed its inputs: it finishes (never killed), then reruns
    rig.write({ 'src/a.txt': 'two' });
    rig.write({ go: '' });
    await w.untilCycles(2);
    expect(lines('starts.log')).toHaveLength(2);
    expect(w.eventsOfCycle(1).find((e) => e.type === 'unit:done')).toMatchObject({ unit: 'slow[n=a]', inputsChanged: true });
    expect(w.eventsOfCycle(1).some((e) => e.type === 'unit:fail')).toBe(false);
    expect(rig.read('out/a.txt')).toBe('two');
  });
});

describe('watch: config and time', () => {
  it('reloads an edited config, and keeps the last good one when an edit is broken', async () => {
    chainProject();
    const w = watch();
    await w.untilCycles(1);
    const withCount = CHAIN.replace(
      '  tasks: {\n',
      "  tasks: {\n    count: { input: 'src/{name}.txt', output: 'count/{name}.n', run: \"wc -c < {input} | tr -d ' ' > {output}\" },\n",
    );
    rig.write({ 'runcue.config.mjs': withCount });
    await waitFor(() => rig.exists('count/a.n') && rig.exists('count/b.n'), 20_000, 'the new task to run');
    await w.untilCycles(2);
    expect(w.events.find((e) => e.type === 'watch:config')).toMatchObject({ ok: true });
    expect(w.cycleEvents('start')[1]).toMatchObject({ trigger: 'config' });

    rig.write({ 'runcue.config.mjs': 'export default { tasks: { broken: ' });
    await waitFor(() => w.events.some((e) => e.type === 'watch:config' && !e.ok), 20_000, 'the config error');
    const error = w.events.find((e) => e.type === 'watch:config' && !e.ok);
    expect(error).toMatchObject({ message: expect.stringContaining('runcue.config.mjs') as unknown });

    rig.write({ 'src/a.txt': 'alpha three' });
    await waitFor(
      () => rig.read('out/a.md') === '# ALPHA THREE' && rig.read('count/a.n').trim() === '11',
      20_000,
      'a rebuild under the last good config',
    );
    const result = await w.stop();
    expect(result.code).toBe(130);
  });

  it('a reloaded config whose top-level await never settles is given up on, and watching goes on', async () => {
    chainProject();
    const w = watch([], true, { RUNCUE_RELOAD_TIMEOUT_MS: '500' });
    await w.untilCycles(1);
    rig.write({ 'runcue.config.mjs': `await new Promise(() => {});\n${CHAIN}` });
    await waitFor(() => w.events.some((e) => e.type === 'watch:config' && !e.ok), 20_000, 'the reload to be given up');
    const error = w.events.find((e) => e.type === 'watch:config' && !e.ok);
    expect(error).toMatchObject({ message: expect.stringContaining('did not finish loading within 0.5 s') as unknown });

    rig.write({ 'src/a.txt': 'alpha again' });
    await waitFor(() => rig.read('out/a.md') === '# ALPHA AGAIN', 20_000, 'a rebuild under the last good config');
    const result = await w.stop();
    expect(result.code).toBe(130);
  });

  it('reruns a unit when its maxAge runs out, with no file event', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default {
        tasks: {
          stamp: { input: 'src/a.txt', output: 'stamp.txt', maxAge: '1s', run: "echo run >> runs.log; cp {input} {output}" },
        },
      };`,
      'src/a.txt': 'a',
    });
    const w = watch();
    await waitFor(() => lines('runs.log').length >= 3, 20_000, 'two expiries').catch(async (error: unknown) => {
      const result = await w.stop();
      throw new Error(`${String(error)}\n${JSON.stringify(w.events)}\n${result.stderr}`);
    });
    const triggers = w.cycleEvents('start').map((e) => e.trigger);
    expect(triggers.slice(0, 3)).toEqual(['initial', 'max-age', 'max-age']);
  });

  it('wakes at the next scheduled time on its own and refreshes the unit (a seconds cron)', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default {
        tasks: {
          stamp: { input: 'src/a.txt', output: 'stamp.txt', schedule: '* * * * * *', run: "echo run >> runs.log; cp {input} {output}" },
        },
      };`,
      'src/a.txt': 'a',
    });
    const w = watch();
    await waitFor(() => lines('runs.log').length >= 3, 20_000, 'two scheduled refreshes').catch(async (error: unknown) => {
      const result = await w.stop();
      throw new Error(`${String(error)}\n${JSON.stringify(w.events)}\n${result.stderr}`);
    });
    const triggers = w.cycleEvents('start').map((e) => e.trigger);
    expect(triggers.slice(0, 3)).toEqual(['initial', 'schedule', 'schedule']);
    const reasons = w.events.flatMap((e) => (e.type === 'unit:start' ? [e.reason.kind] : []));
    expect(reasons.slice(0, 3)).toEqual(['missing-output', 'scheduled', 'scheduled']);
  });
});

describe('watch: output', () => {
  it('the plain reporter prints one timestamped line per cycle', async () => {
    chainProject();
    const w = watch([], false);
    await waitFor(() => w.stderr.includes('cycle 1:'), 20_000, 'the first cycle line');
    rig.write({ 'src/a.txt': 'alpha two' });
    await waitFor(() => w.stderr.includes('cycle 2:'), 20_000, 'the second cycle line');
    const cycleLines = w.stderr.split('\n').filter((line) => / cycle \d+:/.test(line));
    expect(cycleLines).toHaveLength(2);
    expect(cycleLines[0]).toMatch(/^\[\d\d:\d\d:\d\d\] cycle 1: 4 built, 0 fresh in \S+ \(initial build\)$/);
    expect(cycleLines[1]).toMatch(/^\[\d\d:\d\d:\d\d\] cycle 2: 2 built, 0 fresh in \S+ \(src\/a\.txt changed\)$/);
    expect(w.stderr).toMatch(/watching runcue\.config\.mjs, src, work/);
    expect(w.stderr).toContain('✓ wrap[name=a]');
    // the cycle line replaces each run's summary
    expect(w.stderr).not.toContain('runcue:');
  });
});

describe('watch: stopping', () => {
  it('SIGINT stops the running children and exits 130', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default {
        tasks: {
          slow: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: "echo partial > {output}; sleep 60 & echo $$ $! >> pids.txt; wait" },
        },
      };`,
      'in/a.txt': 'a',
      'in/b.txt': 'b',
    });
    const w = watch(['--jobs', '2']);
    await waitFor(() => lines('pids.txt').join(' ').split(' ').length === 4, 20_000, 'both units to start');
    const pids = lines('pids.txt').join(' ').split(' ').map(Number);
    const result = await w.stop('SIGINT');
    expect(result.code).toBe(130);
    for (const pid of [...pids, w.pid]) expect(runsIn(rig.dir, pid)).toBe(false);
    expect(rig.exists('out/a.txt')).toBe(false);
    expect(rig.exists('in/a.txt')).toBe(true);
  });

  it('SIGTERM while idle exits 143', async () => {
    chainProject();
    const w = watch();
    await w.untilCycles(1);
    const result = await w.stop('SIGTERM');
    expect(result.code).toBe(143);
  });

  it('a bad config at startup exits 2', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': 'export default { tasks: { broken: ' });
    const result = await rig.run(['watch'], { timeoutMs: 20_000 });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('runcue.config.mjs');
  });

  it('an unknown target exits 2', async () => {
    chainProject();
    const result = await rig.run(['watch', 'uper'], { timeoutMs: 20_000 });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('did you mean "upper"?');
  });
});
