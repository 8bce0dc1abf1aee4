/**
 * The Node worker helper (runcue/worker) speaking the protocol over streams the test holds, and
 * once as a real `node` child importing the built package, the way runcue runs it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parseWorkerLine, requestLine, type WorkerPayload } from '../../../src/runner/workers/protocol.ts';
import { RetryableError, serveWorker, type ServeWorkerOptions } from '../../../src/worker/serve.ts';
import { collect, REPO } from '../../rig/index.ts';

function payload(id: string, attempt = 1): WorkerPayload {
  return {
    task: 'classify',
    id,
    wildcards: { name: id },
    input: `texts/${id}.txt`,
    inputs: [`texts/${id}.txt`],
    namedInputs: {},
    output: `labels/${id}.json`,
    outputs: [`labels/${id}.json`],
    namedOutputs: {},
    attempt,
  };
}

function task(id: string): string {
  return requestLine({ task_id: id, payload: payload(id) });
}

/** A worker served over PassThrough streams: the test writes stdin and reads stdout lines. */
function drive<Ctx>(options: Omit<ServeWorkerOptions<Ctx>, 'stdin' | 'stdout' | 'stderr'>) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let errText = '';
  stderr.on('data', (chunk: Buffer) => (errText += chunk.toString()));
  const lines: unknown[] = [];
  const waiting: (() => void)[] = [];
  createInterface({ input: stdout }).on('line', (line) => {
    lines.push(JSON.parse(line));
    waiting.splice(0).forEach((wake) => wake());
  });
  const exit = serveWorker({ ...options, stdin, stdout, stderr });
  return {
    stdin,
    exit,
    stderr: () => errText,
    /** The first `n` stdout lines, once written. */
    async lines(n: number): Promise<unknown[]> {
      while (lines.length < n) await new Promise<void>((wake) => waiting.push(wake));
      return lines.slice(0, n);
    },
  };
}

describe('serveWorker', () => {
  it('loads once, says ready, then answers each task in order with the handler result and the loaded context', async () => {
    let loads = 0;
    const seen: WorkerPayload[] = [];
    const worker = drive({
      load: () => {
        loads++;
        return { prefix: 'label-' };
      },
      handle: async (p, ctx) => {
        seen.push(p);
        await new Promise((wake) => setTimeout(wake, 5));
        return { label: `${ctx.prefix}${p.id}` };
      },
    });
    expect(await worker.lines(1)).toEqual([{ status: 'ready' }]);
    worker.stdin.write(task('a') + task('b'));
    worker.stdin.write(`\n${task('c')}`);
    const lines = await worker.lines(4);
    expect(lines.slice(1)).toEqual(
      ['a', 'b', 'c'].map((id) => ({ task_id: id, result: { label: `label-${id}` }, error: null, retry: false })),
    );
    expect(seen.map((p) => p.input)).toEqual(['texts/a.txt', 'texts/b.txt', 'texts/c.txt']);
    worker.stdin.end();
    expect(await worker.exit).toBe(0);
    expect(loads).toBe(1);
  });

  it('handles one task at a time, even when several lines arrive at once', async () => {
    let running = 0;
    let most = 0;
    const worker = drive({
      handle: async () => {
        most = Math.max(most, ++running);
        await new Promise((wake) => setTimeout(wake, 2));
        running--;
        return null;
      },
    });
    worker.stdin.write(['1', '2', '3', '4', '5'].map(task).join(''));
    await worker.lines(6);
    worker.stdin.end();
    await worker.exit;
    expect(most).toBe(1);
  });

  it('answers a throw with its message: retry false, or true for a RetryableError or an error marked retry; the worker goes on', async () => {
    const worker = drive({
      handle: (p) => {
        if (p.id === 'fatal') throw new Error('bad input: no text');
        if (p.id === 'again') throw new RetryableError('HTTP 503');
        if (p.id === 'marked') throw Object.assign(new Error('socket hang up'), { retry: true });
        if (p.id === 'odd') throw { code: 42 };
        return 'ok';
      },
    });
    worker.stdin.write(['fatal', 'again', 'marked', 'odd', 'fine'].map(task).join(''));
    expect((await worker.lines(6)).slice(1)).toEqual([
      { task_id: 'fatal', result: null, error: 'bad input: no text', retry: false },
      { task_id: 'again', result: null, error: 'HTTP 503', retry: true },
      { task_id: 'marked', result: null, error: 'socket hang up', retry: true },
      { task_id: 'odd', result: null, error: '{"code":42}', retry: false },
      { task_id: 'fine', result: 'ok', error: null, retry: false },
    ]);
    // The stack goes to stderr, where runcue attaches it to the unit.
    expect(worker.stderr()).toMatch(/Error: bad input: no text\n\s+at /);
    worker.stdin.end();
    expect(await worker.exit).toBe(0);
  });

  it('answers null for undefined, and an error for a result that is not JSON', async () => {
    const worker = drive({ handle: (p) => (p.id === 'big' ? { n: 10n } : undefined) });
    worker.stdin.write(task('none') + task('big'));
    const [, none, big] = await worker.lines(3);
    expect(none).toEqual({ task_id: 'none', result: null, error: null, retry: false });
    expect(big).toMatchObject({
      task_id: 'big',
      result: null,
      retry: false,
      error: expect.stringMatching(/^the handler's result is not JSON: .*BigInt/) as unknown,
    });
    worker.stdin.end();
    await worker.exit;
  });

  it('answers a line that is not a task with an error for task id "unknown" (or its task id when it has one)', async () => {
    const worker = drive({ handle: () => 'ok' });
    worker.stdin.write('hello\n[1]\n{"task_id":"x"}\n');
    expect((await worker.lines(4)).slice(1)).toEqual([
      { task_id: 'unknown', result: null, error: 'not a JSON task line: hello', retry: false },
      { task_id: 'unknown', result: null, error: 'a task line must be a JSON object, got: [1]', retry: false },
      { task_id: 'x', result: null, error: 'the task line has no "payload" object', retry: false },
    ]);
    worker.stdin.end();
    await worker.exit;
  });

  it('reports a load that throws with a status error line and exit code 1, and answers nothing', async () => {
    let handled = 0;
    const worker = drive({
      load: () => Promise.reject(new Error('model file missing: model.bin')),
      handle: () => handled++,
    });
    worker.stdin.write(task('a'));
    expect(await worker.exit).toBe(1);
    expect(await worker.lines(1)).toEqual([{ status: 'error', error: 'model file missing: model.bin' }]);
    expect(worker.stderr()).toContain('load failed: Error: model file missing: model.bin');
    expect(handled).toBe(0);
  });

  it('with once, answers one task and ends with 0 while more lines wait', async () => {
    const ids: string[] = [];
    const worker = drive({ once: true, handle: (p) => ids.push(p.id) });
    worker.stdin.write(task('a') + task('b'));
    expect(await worker.exit).toBe(0);
    expect(ids).toEqual(['a']);
    expect(await worker.lines(2)).toEqual([{ status: 'ready' }, { task_id: 'a', result: 1, error: null, retry: false }]);
  });
});

describe('serveWorker in a real node process', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  function workerFile(body: string): string {
    dir = mkdtempSync(join(tmpdir(), 'runcue-worker-'));
    const file = join(dir, 'worker.mjs');
    const helper = pathToFileURL(join(REPO, 'dist', 'worker', 'serve.js')).href;
    writeFileSync(file, `import { serveWorker, RetryableError } from ${JSON.stringify(helper)};\n${body}\n`);
    return file;
  }

  it('speaks the protocol on stdout, sends console.log to stderr, and exits 0 when stdin closes', async () => {
    const file = workerFile(`
      await serveWorker({
        load: async () => ({ loadedAt: 'once' }),
        handle: async (payload, ctx) => {
          console.log('debugging', payload.id);
          if (payload.attempt === 1 && payload.id === 'flaky') throw new RetryableError('try again');
          return { id: payload.id, ctx: ctx.loadedAt };
        },
      });
    `);
    const child = spawn(process.execPath, [file], { stdio: ['pipe', 'pipe', 'pipe'] });
    const done = collect(child);
    child.stdin.end(task('a') + task('flaky'));
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(
      result.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as unknown),
    ).toEqual([
      { status: 'ready' },
      { task_id: 'a', result: { id: 'a', ctx: 'once' }, error: null, retry: false },
      { task_id: 'flaky', result: null, error: 'try again', retry: true },
    ]);
    // What runcue's side reads from those lines: no log line, nothing lost.
    expect(
      result.stdout
        .trim()
        .split('\n')
        .map((line) => parseWorkerLine(line).kind),
    ).toEqual(['ready', 'answer', 'answer']);
    expect(result.stderr).toContain('debugging a\n');
    expect(result.stderr).toContain('debugging flaky\n');
  });

  it('exits 1 after a status error line when the load fails, even with stdin left open', async () => {
    const file = workerFile(`await serveWorker({ load: () => { throw new Error('no model'); }, handle: () => null });`);
    const child = spawn(process.execPath, [file], { stdio: ['pipe', 'pipe', 'pipe'] });
    const result = await collect(child);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('{"status":"error","error":"no model"}\n');
    expect(result.stderr).toContain('load failed: Error: no model');
  });

  it('exits 0 even when the handler left a timer running', async () => {
    const file = workerFile(`await serveWorker({ handle: () => { setInterval(() => {}, 1000); return 'ok'; } });`);
    const child = spawn(process.execPath, [file], { stdio: ['pipe', 'pipe', 'pipe'] });
    const done = collect(child);
    child.stdin.end(task('a'));
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('"task_id":"a","result":"ok"');
  });
});
