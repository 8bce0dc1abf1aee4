/**
 * The Python stand-in for runqy's SDK (examples/worker-python/runqy_python), which the example
 * and the worker tests import: handlers written the way runqy documents them, run by a real
 * python3 and spoken to over pipes. Checks it behaves as the real SDK does where runcue relies
 * on it, and the extensions it adds (status error on a failed load, `retry` on an exception).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseWorkerLine, requestLine, type WorkerLine, type WorkerPayload } from '../../../src/runner/workers/protocol.ts';
import { collect, PYTHON3, REPO, type RunResult } from '../../rig/index.ts';

const SDK_DIR = join(REPO, 'examples', 'worker-python');
const python = PYTHON3 !== 'python3' || spawnable('python3');

function spawnable(command: string): boolean {
  return (process.env['PATH'] ?? '').split(delimiter).some((entry) => entry !== '' && existsSync(join(entry, command)));
}

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function payload(id: string): WorkerPayload {
  return {
    task: 't',
    id,
    wildcards: {},
    input: `in/${id}.txt`,
    inputs: [`in/${id}.txt`],
    namedInputs: {},
    output: `out/${id}.json`,
    outputs: [`out/${id}.json`],
    namedOutputs: {},
    attempt: 1,
  };
}

/** Runs a handler script with the stand-in on PYTHONPATH, feeding it these tasks, stdin then closed. */
async function runHandler(script: string, ids: readonly string[]): Promise<RunResult & { readonly lines: WorkerLine[] }> {
  dir = mkdtempSync(join(tmpdir(), 'runcue-runqy-'));
  const file = join(dir, 'handler.py');
  writeFileSync(file, script);
  const child = spawn(PYTHON3, [file], { env: { ...process.env, PYTHONPATH: SDK_DIR }, stdio: ['pipe', 'pipe', 'pipe'] });
  const done = collect(child, 30_000);
  child.stdin.end(ids.map((id) => requestLine({ task_id: id, payload: payload(id) })).join(''));
  const result = await done;
  return {
    ...result,
    lines: result.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map(parseWorkerLine),
  };
}

describe.skipIf(!python)('runqy_python stand-in', () => {
  it('runs @load once, says ready, and answers every task with the handler result, passing ctx', async () => {
    const result = await runHandler(
      `
import sys
from runqy_python import task, load, run

@load
def setup():
    sys.stderr.write("loading\\n")
    return {"suffix": "!"}

@task
def handle(payload, ctx):
    return {"id": payload["id"] + ctx["suffix"], "input": payload["input"]}

if __name__ == "__main__":
    run()
`,
      ['a', 'b', 'c'],
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr.match(/loading/g)).toHaveLength(1);
    expect(result.lines).toEqual([
      { kind: 'ready' },
      ...['a', 'b', 'c'].map((id) => ({
        kind: 'answer',
        answer: { task_id: id, result: { id: `${id}!`, input: `in/${id}.txt` }, error: null, retry: false },
      })),
    ]);
  });

  it('calls a handler without ctx when there is no @load; print() lines are logs; an exception fails only its task', async () => {
    const result = await runHandler(
      `
from runqy_python import task, run

class Busy(Exception):
    retry = True

@task
def handle(payload):
    print("debug:", payload["id"])
    if payload["id"] == "bad":
        raise ValueError("cannot read " + payload["input"])
    if payload["id"] == "busy":
        raise Busy("HTTP 503")
    return payload["id"]

run()
`,
      ['a', 'bad', 'busy', 'b'],
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.lines).toEqual([
      { kind: 'ready' },
      { kind: 'log', text: 'debug: a' },
      { kind: 'answer', answer: { task_id: 'a', result: 'a', error: null, retry: false } },
      { kind: 'log', text: 'debug: bad' },
      { kind: 'answer', answer: { task_id: 'bad', result: null, error: 'cannot read in/bad.txt', retry: false } },
      { kind: 'log', text: 'debug: busy' },
      { kind: 'answer', answer: { task_id: 'busy', result: null, error: 'HTTP 503', retry: true } },
      { kind: 'log', text: 'debug: b' },
      { kind: 'answer', answer: { task_id: 'b', result: 'b', error: null, retry: false } },
    ]);
    expect(result.stderr).toMatch(/Traceback[^]*ValueError: cannot read in\/bad.txt/);
  });

  it('fails a task whose result is not JSON, and goes on', async () => {
    const result = await runHandler(
      `
from runqy_python import task, run

@task
def handle(payload):
    return {1, 2} if payload["id"] == "set" else "ok"

run()
`,
      ['set', 'a'],
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.lines[1]).toMatchObject({
      kind: 'answer',
      answer: { task_id: 'set', result: null, retry: false, error: expect.stringContaining('not JSON serializable') as unknown },
    });
    expect(result.lines[2]).toEqual({ kind: 'answer', answer: { task_id: 'a', result: 'ok', error: null, retry: false } });
  });

  it('run_once answers one task and exits 0', async () => {
    const result = await runHandler(
      `
from runqy_python import task, run_once

@task
def handle(payload):
    return payload["id"]

run_once()
`,
      ['first', 'second'],
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.lines).toEqual([
      { kind: 'ready' },
      { kind: 'answer', answer: { task_id: 'first', result: 'first', error: null, retry: false } },
    ]);
  });

  it('a @load that raises writes a status error line, then crashes with the traceback (exit code 1), as runqy crashes', async () => {
    const result = await runHandler(
      `
from runqy_python import task, load, run

@load
def setup():
    raise FileNotFoundError("model.bin")

@task
def handle(payload, ctx):
    return "never"

run()
`,
      ['a'],
    );
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([{ kind: 'load-error', error: 'model.bin' }]);
    expect(result.stderr).toMatch(/Traceback[^]*FileNotFoundError: model.bin/);
  });
});
