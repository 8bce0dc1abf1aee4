/**
 * `runcue/worker`: write a persistent worker in TypeScript or JavaScript without touching the
 * protocol (src/runner/workers/protocol.ts). runcue starts the worker once per pool slot; `load`
 * runs once, then `handle` runs for each unit, one at a time, in order.
 *
 * ```ts
 * import { serveWorker, RetryableError } from 'runcue/worker';
 * await serveWorker({
 *   load: async () => ({ model: await loadModel() }),
 *   handle: async (payload, { model }) => model.classify(await readFile(payload.input, 'utf8')),
 * });
 * ```
 *
 * This module is a worker's entry point: it runs inside the worker process runcue spawned, never
 * inside runcue, so it is the one place outside src/cli that owns `process` (stdin, stdout, the
 * exit code) and `console` (routed to stderr while serving, so a stray `console.log` cannot
 * corrupt the protocol lines on stdout).
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { format } from 'node:util';
import { describeThrown } from '../describe-thrown.ts';
import { loadErrorLine, READY_LINE } from '../runner/workers/protocol.ts';
import { answerTask, type WorkerHandler } from './answer.ts';

export type { WorkerPayload } from '../runner/workers/protocol.ts';
export { RetryableError, type WorkerHandler } from './answer.ts';

/** What `serveWorker` takes. */
export interface ServeWorkerOptions<Ctx> {
  /** Runs once before the worker says ready; what it returns is every `handle` call's `ctx`. A throw fails the load. */
  readonly load?: () => Ctx | Promise<Ctx>;
  /** Runs once per unit; returns the unit's result (any JSON value; `undefined` is `null`). */
  readonly handle: WorkerHandler<Ctx>;
  /** Answer one task, then end (runqy's `run_once`). Default false. */
  readonly once?: boolean;
  /** For tests: the streams to serve instead of the process's own. */
  readonly stdin?: Readable;
  readonly stdout?: Writable;
  readonly stderr?: Writable;
}

interface Streams {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
}

/**
 * Serves the protocol: `load`, the ready line, then one answer per task line until stdin closes.
 * A `handle` that throws answers `error` (with `retry: true` for a `RetryableError`); a `load` that
 * throws writes `{"status":"error"}` and ends with code 1. Resolves with the exit code; when it
 * serves the process's own stdin and stdout, it then ends the process with that code once the
 * last line is flushed, so an open socket or a timer cannot keep a finished worker alive.
 */
export async function serveWorker<Ctx = undefined>(options: ServeWorkerOptions<Ctx>): Promise<number> {
  const ownsProcess = options.stdin === undefined && options.stdout === undefined;
  const streams: Streams = {
    stdin: options.stdin ?? process.stdin,
    stdout: options.stdout ?? process.stdout,
    stderr: options.stderr ?? process.stderr,
  };
  const restoreConsole = options.stdout === undefined ? routeConsoleTo(streams.stderr) : () => undefined;
  let code: number;
  try {
    code = await serve(options, streams);
  } finally {
    restoreConsole();
  }
  if (ownsProcess) {
    await flushed(streams.stdout);
    process.exit(code);
  }
  return code;
}

async function serve<Ctx>(options: ServeWorkerOptions<Ctx>, streams: Streams): Promise<number> {
  let ctx: Ctx;
  try {
    ctx = options.load === undefined ? (undefined as Ctx) : await options.load();
  } catch (error) {
    streams.stderr.write(`load failed: ${error instanceof Error && error.stack !== undefined ? error.stack : describeThrown(error)}\n`);
    await write(streams.stdout, loadErrorLine(describeThrown(error)));
    return 1;
  }
  await write(streams.stdout, READY_LINE);
  const lines = createInterface({ input: streams.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    const answered = await answerTask(line, options.handle, ctx);
    // Before the answer, so runcue attaches it to the unit the worker still holds.
    if (answered.diagnostic !== undefined) streams.stderr.write(`${answered.diagnostic}\n`);
    await write(streams.stdout, answered.line);
    if (options.once === true) break;
  }
  lines.close();
  return 0;
}

/** Writes one line and waits for it to be handed off, so the answers keep their order with stderr. */
function write(stream: Writable, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (error) => (error ? reject(error) : resolve()));
  });
}

function flushed(stream: Writable): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}

/** `console.log`, `info` and `debug` print to stderr while serving; returns the undo. */
function routeConsoleTo(stderr: Writable): () => void {
  const saved = { log: console.log, info: console.info, debug: console.debug };
  const toStderr = (...args: unknown[]): void => {
    stderr.write(`${format(...args)}\n`);
  };
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
  return () => {
    console.log = saved.log;
    console.info = saved.info;
    console.debug = saved.debug;
  };
}
