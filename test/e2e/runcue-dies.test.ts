/**
 * When runcue itself dies or is stopped hard: kill -9, a closed terminal (SIGHUP), a
 * second Ctrl-C. Its commands die with it, and a unit that was running is stale on the next run
 * (the in-flight record under .runcue/inflight says so), whatever its half-written outputs' mtimes say.
 */
import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { functionRunningSh } from '../rig/fixtures.ts';
import { collect, Rig, runsIn, spawnForced, waitFor } from '../rig/index.ts';

let rig: Rig;
afterEach(() => {
  for (const pid of pids()) if (running(pid)) process.kill(pid, 'SIGKILL');
  rig.cleanup();
});

/**
 * One slow unit per input: it writes a partial output, records its shell's and its background
 * child's pids, then waits, unless the file `fast` exists (then it writes the whole output).
 * `trap` makes the tree ignore SIGTERM (an ignored signal stays ignored across exec).
 */
function project(options: { ignoreTerm?: boolean } = {}): void {
  rig = new Rig();
  const trap = options.ignoreTerm ? "trap '' TERM; " : '';
  rig.write({
    'runcue.config.mjs': `export default {
      tasks: {
        slow: {
          input: 'in/{n}.txt',
          output: 'out/{n}.txt',
          run: ${JSON.stringify(`${trap}echo partial > {output}; [ -e fast ] || { sleep 60 & echo $$ $! >> pids.txt; wait; }; echo complete > {output}`)},
        },
      },
    };`,
    'in/a.txt': 'a',
  });
  rig.age(['in/a.txt'], -60_000);
}

function pids(): number[] {
  return rig?.exists('pids.txt') ? rig.read('pids.txt').trim().split(/\s+/).filter(Boolean).map(Number) : [];
}

const running = (pid: number): boolean => runsIn(rig.dir, pid);

/** The watchdogs the in-flight records name have exited (until then a unit counts as still stopping). */
function watchdogsGone(): boolean {
  return inflightRecords().every((name) => {
    const record = JSON.parse(rig.read(`.runcue/inflight/${name}`)) as { watchdog?: { pid: number } };
    return record.watchdog === undefined || !running(record.watchdog.pid);
  });
}

function inflightRecords(): string[] {
  return rig.exists('.runcue/inflight') ? readdirSync(rig.path('.runcue/inflight')) : [];
}

describe('kill -9 of runcue', () => {
  it('kills its commands, and the next run reruns the unit it was running and says why', async () => {
    project();
    const child = rig.spawn(['build']);
    const done = collect(child);
    await waitFor(() => pids().length === 2, 20_000, 'the unit to start');
    expect(inflightRecords()).toHaveLength(1);
    child.kill('SIGKILL');
    await done;
    await waitFor(() => pids().every((pid) => !running(pid)), 30_000, 'the commands to die with runcue');
    await waitFor(watchdogsGone, 30_000, 'the watchdog to exit');
    // The partial output is newer than its input: by mtimes alone it looks fresh.
    expect(rig.read('out/a.txt')).toBe('partial\n');
    expect(rig.mtime('out/a.txt')).toBeGreaterThan(rig.mtime('in/a.txt'));

    const plan = await rig.run(['plan']);
    expect(plan.stdout + plan.stderr).toContain(`was interrupted while running in an earlier run (pid ${child.pid ?? 0})`);
    const why = await rig.run(['why', 'out/a.txt']);
    expect(why.stdout).toContain('was interrupted while running in an earlier run');

    rig.write({ fast: '' });
    const rerun = await rig.runJson(['build']);
    expect(rerun.code).toBe(0);
    const start = rerun.events.find((e) => e.type === 'unit:start');
    expect(start?.reason).toMatchObject({ kind: 'interrupted', pid: child.pid });
    expect(rig.read('out/a.txt')).toBe('complete\n');
    expect(inflightRecords()).toEqual([]);

    const again = await rig.run(['build']);
    expect(again.stderr).toContain('0 built, 1 fresh');
  });
});

describe('after kill -9, touch', () => {
  it('marks the interrupted unit fresh: its record is forgotten', async () => {
    project();
    const child = rig.spawn(['build']);
    const done = collect(child);
    await waitFor(() => pids().length === 2, 20_000, 'the unit to start');
    child.kill('SIGKILL');
    await done;
    await waitFor(() => pids().every((pid) => !running(pid)), 30_000, 'the commands to die with runcue');
    await waitFor(watchdogsGone, 30_000, 'the watchdog to exit');
    const touched = await rig.run(['touch', 'slow']);
    expect(touched.code).toBe(0);
    expect(inflightRecords()).toEqual([]);
    const build = await rig.run(['build']);
    expect(build.stderr).toContain('0 built, 1 fresh');
  });
});

describe('SIGHUP (a closed terminal)', () => {
  it('is handled like SIGTERM: trees stopped, partial output removed, exit 129', async () => {
    project();
    const child = rig.spawn(['build']);
    const done = collect(child);
    await waitFor(() => pids().length === 2, 20_000, 'the unit to start');
    child.kill('SIGHUP');
    const result = await done;
    expect(result.code).toBe(129);
    for (const pid of pids()) expect(running(pid)).toBe(false);
    expect(rig.exists('out/a.txt')).toBe(false);
    expect(inflightRecords()).toEqual([]);
  });
});

describe('a second Ctrl-C', () => {
  it('kills trees that ignore SIGTERM at once, still removes partial outputs, and exits 130', async () => {
    project({ ignoreTerm: true });
    const child = rig.spawn(['build']);
    const done = collect(child);
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    await waitFor(() => pids().length === 2, 20_000, 'the unit to start');
    child.kill('SIGINT');
    await waitFor(() => stderr.includes('stopping'), 10_000, '"stopping" on stderr');
    child.kill('SIGINT');
    const result = await done;
    expect(result.code).toBe(130);
    for (const pid of pids()) expect(running(pid)).toBe(false);
    expect(rig.exists('out/a.txt')).toBe(false);
    expect(inflightRecords()).toEqual([]);
    expect(result.stderr).toContain('killing running commands now');
  });
});

describe("a build right after kill -9, while the dead run's command is still being stopped", () => {
  it('waits for the watchdog to stop it, then reruns the unit: the late write cannot corrupt the new output', async () => {
    rig = new Rig();
    // The first attempt ignores SIGTERM and goes on until the test releases it (within the 30 s
    // grace), then writes again; the second writes the whole output at once.
    rig.write({
      'runcue.config.mjs': `export default {
        killGrace: '30s',
        tasks: {
          t: {
            input: 'in/{n}.txt',
            output: 'out/{n}',
            run: ${JSON.stringify("mkdir -p out; if [ -e second ]; then echo good > {output}; exit 0; fi; touch second; trap '' TERM; echo partial > {output}; { while [ ! -e release ]; do sleep 0.1; done; } & echo $$ $! >> pids.txt; wait; echo CORRUPT >> {output}")},
          },
        },
      };`,
      'in/a.txt': 'a',
    });
    rig.age(['in/a.txt'], -60_000);
    const child = rig.spawn(['build']);
    const done = collect(child);
    await waitFor(() => pids().length === 2 && rig.exists('out/a'), 20_000, 'the unit to start');
    child.kill('SIGKILL');
    await done;

    const second = rig.spawn(['build']);
    const rerunDone = collect(second);
    let stderr = '';
    second.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    await waitFor(() => stderr.includes('is still stopping its command'), 20_000, 'the rerun to wait for the watchdog');
    expect(pids().every((pid) => running(pid))).toBe(true);
    rig.write({ release: '' });
    const rerun = await rerunDone;
    expect(rerun.code).toBe(0);
    await waitFor(() => pids().every((pid) => !running(pid)), 10_000, 'the old command to end');
    expect(rig.read('out/a')).toBe('good\n');
    expect(rerun.stderr).toMatch(new RegExp(`a runcue that died \\(pid ${child.pid ?? 0}[^)]*\\) is still stopping its command`));
    expect(rerun.stderr).toContain('1 built');
    expect(inflightRecords()).toEqual([]);
  });
});

describe.skipIf(spawnForced())('kill -9 of runcue while a function task runs a command of its own', () => {
  it("stops that command too (the run's marker is in its environment), and the record names the watchdog", async () => {
    rig = new Rig();
    // The function starts `sh` with node:child_process, as function tasks do (not detached: it is
    // in runcue's own process group); it writes part of its output and waits.
    rig.write({
      'runcue.config.mjs': functionRunningSh(
        `echo partial > "$1"; [ -e fast ] || { sleep 60 & echo $$ $! >> pids.txt; wait; }; echo complete > "$1"`,
      ),
      'in/a.txt': 'a',
    });
    rig.age(['in/a.txt'], -60_000);
    const child = rig.spawn(['build']);
    const done = collect(child);
    await waitFor(() => pids().length === 2, 20_000, 'the unit to start its command');
    const [record] = inflightRecords();
    expect(JSON.parse(rig.read(`.runcue/inflight/${record ?? ''}`))).toHaveProperty('watchdog');
    child.kill('SIGKILL');
    await done;
    await waitFor(() => pids().every((pid) => !running(pid)), 30_000, "the function's command to die with runcue");
    await waitFor(watchdogsGone, 30_000, 'the watchdog to exit');

    rig.write({ fast: '' });
    const rerun = await rig.runJson(['build']);
    expect(rerun.code).toBe(0);
    expect(rerun.events.find((e) => e.type === 'unit:start')?.reason).toMatchObject({ kind: 'interrupted', pid: child.pid });
    expect(rig.read('out/a.txt')).toBe('complete\n');
  });
});
