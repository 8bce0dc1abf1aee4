/**
 * Persistent workers end to end: real Python processes speaking runqy's JSON-lines protocol to
 * the real CLI, in temp projects. The faults are real too: a worker killed with SIGKILL, one
 * that never says ready, one that ignores SIGTERM, a Ctrl-C in the middle of a unit.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { collect, processesIn, PYTHON3, REPO, Rig, waitFor, type JsonEvent } from '../rig/index.ts';

/** The stand-in for runqy's Python SDK (`from runqy_python import task, load, run`). */
const RUNQY = join(REPO, 'examples', 'worker-python');

let rig: Rig;
afterEach(() => rig.cleanup());

/** The protocol, raw, for workers that misbehave on purpose. */
const PROTO = `import json, sys
def ready():
    print(json.dumps({"status": "ready"}), flush=True)
def tasks():
    for line in sys.stdin:
        if line.strip():
            yield json.loads(line)
def answer(t, result=None, error=None, retry=False, task_id=None):
    print(json.dumps({"task_id": task_id or t["task_id"], "result": result, "error": error, "retry": retry}), flush=True)
`;

/** A project of `count` inputs `in/N.txt` and one worker task `w` writing `out/N.txt`. */
function project(worker: string, task = '', options: { count?: number; top?: string; concurrent?: number } = {}): void {
  rig = new Rig();
  const files: Record<string, string> = {
    'proto.py': PROTO,
    'worker.py': worker,
    'runcue.config.mjs': `export default {
  ${options.top ?? ''}
  services: { api: { concurrent: ${options.concurrent ?? 1} } },
  tasks: { w: { uses: 'api', input: 'in/{n}.txt', output: 'out/{n}.txt', worker: [${JSON.stringify(PYTHON3)}, 'worker.py'], ${task} } },
};`,
  };
  for (let i = 1; i <= (options.count ?? 3); i++) files[`in/${i}.txt`] = `text ${i}`;
  rig.write(files);
}

/** A worker that writes its output itself: the upper-cased input. */
const UPPER = `from proto import *
import os
ready()
for t in tasks():
    p = t["payload"]
    with open(p["input"]) as f: text = f.read()
    with open(p["output"], "w") as f: f.write(text.upper())
    answer(t, {"ok": True})
`;

/**
 * Nothing of the run lives on: no worker, no grandchild. The watchdog that stops them if runcue
 * dies exits on its own a moment after runcue: it gets a few seconds.
 */
async function expectNoProcessLeft(): Promise<void> {
  await waitFor(() => processesIn(rig.path('.')).length === 0, 5000, 'no process left').catch(() => undefined);
  expect(processesIn(rig.path('.'))).toEqual([]);
}

function ofType(events: readonly JsonEvent[], type: string): JsonEvent[] {
  return events.filter((e) => e.type === type);
}

function failureOf(events: readonly JsonEvent[], unit: string): { reason?: string; message?: string; retry?: boolean } | undefined {
  return ofType(events, 'unit:fail').find((e) => e.unit === unit)?.['error'] as { reason?: string; message?: string } | undefined;
}

describe('persistent workers', () => {
  it('runs every unit on one loaded worker, and a second build finds them fresh without starting it', async () => {
    project(UPPER, '', { count: 12 });
    const first = await rig.runJson(['build']);
    expect(first.code, first.stderr).toBe(0);
    for (let i = 1; i <= 12; i++) expect(rig.read(`out/${i}.txt`)).toBe(`TEXT ${i}`);
    expect(ofType(first.events, 'worker:start')).toHaveLength(1);
    expect(ofType(first.events, 'worker:busy')).toHaveLength(12);
    expect(ofType(first.events, 'worker:exit').map((e) => e['reason'])).toEqual(['stopped']);
    // Every worker event comes before run:done.
    expect(first.events.at(-1)?.type).toBe('run:done');
    await expectNoProcessLeft();
    const second = await rig.runJson(['build']);
    expect(second.code).toBe(0);
    expect(ofType(second.events, 'worker:start')).toHaveLength(0);
  });

  it('drives a runqy handler through 200 units: one load per pool slot, every output right, never over concurrent', async () => {
    project(
      `import os, time
from runqy_python import task, load, run

@load
def setup():
    time.sleep(1)
    with open("loads.txt", "a") as f: f.write("%d\\n" % os.getpid())
    return {"suffix": "!"}

@task
def handle(payload, ctx):
    start = time.time()
    with open(payload["input"]) as f: text = f.read()
    with open(payload["output"], "w") as f: f.write(text.upper() + ctx["suffix"])
    time.sleep(0.005)
    with open("spans.txt", "a") as f: f.write("%f %f\\n" % (start, time.time()))
    return {"chars": len(text)}

run()
`,
      '',
      { count: 200, concurrent: 3 },
    );
    const run = await rig.runJson(['build'], { env: { PYTHONPATH: RUNQY } });
    expect(run.code, run.stderr).toBe(0);
    for (let i = 1; i <= 200; i++) expect(rig.read(`out/${i}.txt`)).toBe(`TEXT ${i}!`);
    const loads = rig.read('loads.txt').trim().split('\n');
    expect(loads).toHaveLength(ofType(run.events, 'worker:start').length);
    expect(loads).toHaveLength(3);
    // The handler's own clock: at no moment more than 3 units in a handler.
    const edges = rig
      .read('spans.txt')
      .trim()
      .split('\n')
      .flatMap((line) => {
        const [start = 0, end = 0] = line.split(' ').map(Number);
        return [
          [start, 1],
          [end, -1],
        ] as const;
      })
      .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let running = 0;
    let most = 0;
    for (const [, delta] of edges) most = Math.max(most, (running += delta));
    expect(edges).toHaveLength(400);
    expect(most).toBeLessThanOrEqual(3);
  });

  it('writes the result to the output with writeResult, and gives the handler the unit as its payload', async () => {
    project(
      `from proto import *
ready()
for t in tasks():
    answer(t, {"payload": t["payload"], "task_id": t["task_id"]})
`,
      "writeResult: 'json',",
      { count: 1 },
    );
    const run = await rig.runJson(['build']);
    expect(run.code, run.stderr).toBe(0);
    const written = JSON.parse(rig.read('out/1.txt')) as { payload: Record<string, unknown>; task_id: string };
    expect(written.task_id).toBe('w[n=1]');
    expect(written.payload).toEqual({
      id: 'w[n=1]',
      task: 'w',
      wildcards: { n: '1' },
      input: 'in/1.txt',
      inputs: ['in/1.txt'],
      namedInputs: { input0: ['in/1.txt'] },
      output: 'out/1.txt',
      outputs: ['out/1.txt'],
      namedOutputs: { output0: 'out/1.txt' },
      attempt: 1,
    });
  });

  it('takes hostile file names as data: quotes, $(...), spaces, a newline and a leading dash', async () => {
    project(
      `from proto import *
ready()
for t in tasks():
    answer(t, "seen " + t["payload"]["wildcards"]["n"])
`,
      "writeResult: 'text',",
      { count: 0 },
    );
    const names = [`it's "q"`, '$(touch pwned)', 'a b', 'new\nline', '-rf'];
    for (const name of names) rig.write({ [`in/${name}.txt`]: 'x' });
    const run = await rig.run(['build']);
    expect(run.code, run.stderr).toBe(0);
    for (const name of names) expect(rig.read(`out/${name}.txt`)).toBe(`seen ${name}`);
    expect(rig.exists('pwned')).toBe(false);
  });

  it('treats stdout lines that are not the protocol as the log of the unit the worker holds', async () => {
    project(
      `from proto import *
print("loading the model...", flush=True)
ready()
for t in tasks():
    print("debug: working on", t["task_id"], flush=True)
    print("[1, 2, 3]", flush=True)
    print('{"not": "an answer"}', flush=True)
    answer(t, "done")
`,
      "writeResult: 'text',",
      { count: 2 },
    );
    const run = await rig.runJson(['build', '--verbose']);
    expect(run.code, run.stderr).toBe(0);
    const logs = ofType(run.events, 'unit:log')
      .filter((e) => e.unit === 'w[n=1]')
      .map((e) => e['text']);
    expect(logs).toEqual(['debug: working on w[n=1]\n', '[1, 2, 3]\n', '{"not": "an answer"}\n']);
    // Printed while it held no unit (loading): the task's worker's.
    const loading = ofType(run.events, 'unit:log').find((e) => e['text'] === 'loading the model...\n');
    expect(loading?.unit).toBe('(worker w#1)');
  });

  it('fails the unit a handler errs on without retrying it, and the worker serves the rest', async () => {
    project(
      `from proto import *
ready()
for t in tasks():
    if t["payload"]["wildcards"]["n"] == "2":
        answer(t, error="no text found")
    else:
        answer(t, "fine")
`,
      "writeResult: 'text', retries: 3,",
    );
    const run = await rig.runJson(['build', '--keep-going']);
    expect(run.code).toBe(1);
    expect(failureOf(run.events, 'w[n=2]')).toEqual({ reason: 'worker-error', retry: false, message: 'no text found' });
    expect(ofType(run.events, 'unit:retry')).toHaveLength(0);
    expect(rig.read('out/1.txt')).toBe('fine');
    expect(rig.read('out/3.txt')).toBe('fine');
    expect(ofType(run.events, 'worker:start')).toHaveLength(1);
    expect(run.stderr + run.stdout).not.toContain('    at ');
  });

  it('retries a unit whose handler asks for it, within retries', async () => {
    project(
      `from proto import *
ready()
for t in tasks():
    if t["payload"]["attempt"] == 1:
        answer(t, error="busy, try later", retry=True)
    else:
        answer(t, "attempt %d" % t["payload"]["attempt"])
`,
      "writeResult: 'text', retries: 1, backoff: '10ms',",
      { count: 1 },
    );
    const run = await rig.runJson(['build']);
    expect(run.code, run.stderr).toBe(0);
    expect(rig.read('out/1.txt')).toBe('attempt 2');
    expect(ofType(run.events, 'unit:retry')).toHaveLength(1);
  });

  it('serves run-once workers (answer one task, exit) as normal, one unit each', async () => {
    project(
      `from proto import *
import sys, json
ready()
t = json.loads(sys.stdin.readline())
answer(t, "once")
`,
      "writeResult: 'text',",
      { count: 4 },
    );
    const run = await rig.runJson(['build']);
    expect(run.code, run.stderr).toBe(0);
    for (let i = 1; i <= 4; i++) expect(rig.read(`out/${i}.txt`)).toBe('once');
    expect(ofType(run.events, 'unit:fail')).toHaveLength(0);
    expect(ofType(run.events, 'worker:exit').every((e) => e['reason'] === 'exited' || e['reason'] === 'stopped')).toBe(true);
  });

  it('redoes the unit of a worker killed with SIGKILL on a fresh worker, losing nothing else', async () => {
    project(
      `from proto import *
import os, time
ready()
for t in tasks():
    p = t["payload"]
    if p["wildcards"]["n"] == "2" and p["attempt"] == 1:
        with open(p["output"], "w") as f: f.write("half")
        with open("victim.pid", "w") as f: f.write(str(os.getpid()))
        time.sleep(60)
    with open(p["output"], "w") as f: f.write("whole %d" % p["attempt"])
    answer(t, None)
`,
      'retries: 1,',
    );
    const child = rig.spawn(['build', '--json']);
    const done = collect(child);
    await waitFor(() => rig.exists('victim.pid') && rig.read('victim.pid') !== '', 20_000, 'the worker to take unit 2');
    process.kill(Number(rig.read('victim.pid')), 'SIGKILL');
    const run = await done;
    expect(run.code, run.stderr).toBe(0);
    expect(rig.read('out/1.txt')).toBe('whole 1');
    expect(rig.read('out/2.txt')).toBe('whole 2');
    expect(rig.read('out/3.txt')).toBe('whole 1');
    const events = run.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as JsonEvent);
    const retry = ofType(events, 'unit:retry')[0];
    expect(retry?.unit).toBe('w[n=2]');
    expect((retry?.['error'] as { reason: string }).reason).toBe('worker-crashed');
    expect(ofType(events, 'worker:start').some((e) => e['replaces'] === 1)).toBe(true);
    await expectNoProcessLeft();
  });

  it('fails the task with the stderr tail when the worker cannot load, and refuses a worker that never says ready', async () => {
    project(`import sys
print("Traceback: ModuleNotFoundError: No module named 'torch'", file=sys.stderr, flush=True)
sys.exit(1)
`);
    const crashed = await rig.runJson(['build', '--keep-going']);
    expect(crashed.code).toBe(1);
    expect(ofType(crashed.events, 'worker:start')).toHaveLength(1);
    for (let i = 1; i <= 3; i++) {
      const failure = failureOf(crashed.events, `w[n=${i}]`);
      expect(failure?.reason).toBe('worker-failed');
      expect(failure?.message).toContain('could not serve: it exited with code 1 before it said ready');
    }
    // The unit that waited for the worker shows what it wrote to stderr.
    const first = ofType(crashed.events, 'unit:fail')[0];
    expect(first?.['outputTail']).toContain("No module named 'torch'");
    rig.write({ 'worker.py': 'import time\ntime.sleep(60)\n' });
    rig.write({ 'runcue.config.mjs': rig.read('runcue.config.mjs').replace('worker: [', "workerStartTimeout: '1s', worker: [") });
    const silent = await rig.runJson(['build']);
    expect(silent.code).toBe(1);
    expect(failureOf(silent.events, 'w[n=1]')?.message).toContain('did not say ready within 1000 ms (workerStartTimeout)');
    expect(ofType(silent.events, 'worker:exit').map((e) => e['reason'])).toEqual(['start-timeout']);
    await expectNoProcessLeft();
  });

  it('reports a load error the worker announces', async () => {
    project(`import json
print(json.dumps({"status": "error", "error": "model file missing"}), flush=True)
`);
    const run = await rig.runJson(['build']);
    expect(run.code).toBe(1);
    expect(failureOf(run.events, 'w[n=1]')?.message).toContain('its load failed: model file missing');
    const human = await rig.run(['build', '--reporter', 'ci']);
    expect(human.code).toBe(1);
    expect(human.stdout + human.stderr).toContain('model file missing');
  });

  it('gives up on a task whose workers crash workerCrashLimit times in a row', async () => {
    project(
      `from proto import *
import sys
ready()
for t in tasks():
    sys.exit(3)
`,
      'workerCrashLimit: 2,',
      { count: 4 },
    );
    const run = await rig.runJson(['build', '--keep-going']);
    expect(run.code).toBe(1);
    const reasons = ofType(run.events, 'unit:fail').map((e) => (e['error'] as { reason: string }).reason);
    expect(reasons.sort()).toEqual(['worker-crashed', 'worker-crashed', 'worker-failed', 'worker-failed']);
    expect(ofType(run.events, 'worker:start')).toHaveLength(2);
  });

  it('kills the worker of a unit that times out (its whole tree) and serves the next unit on a new one', async () => {
    project(
      `from proto import *
import subprocess, time
ready()
for t in tasks():
    if t["payload"]["wildcards"]["n"] == "1":
        subprocess.Popen(["sleep", "60"])
        time.sleep(60)
    answer(t, "ok")
`,
      "writeResult: 'text', timeout: '1s',",
      { count: 2 },
    );
    const run = await rig.runJson(['build', '--keep-going']);
    expect(run.code).toBe(1);
    expect(failureOf(run.events, 'w[n=1]')?.reason).toBe('timeout');
    expect(rig.read('out/2.txt')).toBe('ok');
    expect(ofType(run.events, 'worker:exit').map((e) => e['reason'])).toContain('killed');
    await expectNoProcessLeft();
  });

  it('fails the unit of a worker that answers another task id, and replaces it', async () => {
    project(
      `from proto import *
ready()
for t in tasks():
    answer(t, "x", task_id="someone else")
`,
      "writeResult: 'text',",
      { count: 1 },
    );
    const run = await rig.runJson(['build']);
    expect(run.code).toBe(1);
    const failure = failureOf(run.events, 'w[n=1]');
    expect(failure?.reason).toBe('worker-crashed');
    expect(failure?.message).toContain('protocol error');
    expect(ofType(run.events, 'worker:exit').map((e) => e['reason'])).toEqual(['protocol-error']);
  });

  it('stops a worker that ignores SIGTERM with SIGKILL after killGrace', async () => {
    project(
      `from proto import *
import signal, subprocess
signal.signal(signal.SIGTERM, signal.SIG_IGN)
subprocess.Popen(["sleep", "60"])
ready()
for t in tasks():
    answer(t, "ok")
# stdin closed: it lingers anyway
import time
time.sleep(60)
`,
      "writeResult: 'text',",
      { count: 1, top: "killGrace: '1s'," },
    );
    const run = await rig.runJson(['build']);
    expect(run.code, run.stderr).toBe(0);
    expect(ofType(run.events, 'worker:exit')[0]?.['signal']).toBe('SIGKILL');
    await expectNoProcessLeft();
  });

  it('Ctrl-C in the middle of a unit: exit 130, its partial output removed, no process left', async () => {
    project(
      `from proto import *
import subprocess, time
ready()
for t in tasks():
    p = t["payload"]
    with open(p["output"], "w") as f: f.write("partial")
    subprocess.Popen(["sleep", "60"])
    open("started", "w").close()
    time.sleep(60)
`,
      '',
      { count: 1 },
    );
    const child = rig.spawn(['build']);
    const done = collect(child);
    await waitFor(() => rig.exists('started'), 20_000, 'the worker to start the unit');
    child.kill('SIGINT');
    const run = await done;
    expect(run.code).toBe(130);
    expect(rig.exists('out/1.txt')).toBe(false);
    await expectNoProcessLeft();
  });

  it('keeps workers loaded across watch cycles, replaces them when the task config changes, and stops them with watch', async () => {
    project(
      `from proto import *
with open("loads.txt", "a") as f: f.write("load\\n")
ready()
for t in tasks():
    p = t["payload"]
    with open(p["input"]) as f: text = f.read()
    with open(p["output"], "w") as f: f.write(text.upper())
    answer(t, None)
`,
      '',
      { count: 2 },
    );
    const child = rig.spawn(['watch', '--json']);
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const done = collect(child);
    const cyclesDone = (): number => stdout.split('\n').filter((l) => l.includes('"watch:cycle"') && l.includes('"done"')).length;
    await waitFor(() => cyclesDone() >= 1, 20_000, 'the first cycle');
    expect(rig.read('out/1.txt')).toBe('TEXT 1');
    rig.write({ 'in/1.txt': 'edited' });
    await waitFor(() => rig.exists('out/1.txt') && rig.read('out/1.txt') === 'EDITED', 20_000, 'the edit to be built');
    expect(rig.read('loads.txt')).toBe('load\n');
    rig.write({ 'runcue.config.mjs': rig.read('runcue.config.mjs').replace("uses: 'api',", "uses: 'api', env: { V: '2' },") });
    await waitFor(() => stdout.includes('"reason":"stopped"'), 20_000, 'the old worker to stop after the config change');
    rig.write({ 'in/2.txt': 'again' });
    await waitFor(() => rig.exists('out/2.txt') && rig.read('out/2.txt') === 'AGAIN', 20_000, 'the second edit to be built');
    expect(rig.read('loads.txt')).toBe('load\nload\n');
    child.kill('SIGINT');
    const run = await done;
    expect(run.code).toBe(130);
    expect(stdout.split('\n').filter((l) => l.includes('"worker:exit"'))).toHaveLength(2);
    await expectNoProcessLeft();
  });
});
