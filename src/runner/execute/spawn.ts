/**
 * Runs one command as its own process group, so a timeout, Ctrl-C or stop can end the whole
 * tree it starts (SIGTERM, then SIGKILL after a grace period). Keeps only the tail of its output.
 * Its timers (timeout, kill grace, pipe drain, reaping) are real: they bound a real process.
 * The command is started by the spawner pool's helper (pooled.ts) when there is one, or forked
 * directly: the fallback, and the way for live output (--verbose), which the pool does not stream.
 */
import { spawn } from 'node:child_process';
import { runTempDir } from './unit-view.ts';
import { describeEnd, GroupStop, spawnErrorMessage, type ChildEnd, type ExecOptions, type ExecOutcome } from './exec-end.ts';
import { OutputTail } from './output-tail.ts';
import { execPooled } from './pooled.ts';
import { spawnerFor } from './spawner.ts';
import { outsideFunctionScope } from '../function-scope.ts';

/** How long output may still arrive after the direct child exited. */
const PIPE_DRAIN_MS = 200;

/** Runs `argv` (no shell) in its own process group until it and its group are gone. */
export function execProcess(argv: readonly string[], options: ExecOptions): Promise<ExecOutcome> {
  const [file, ...args] = argv;
  if (file === undefined)
    return Promise.resolve({ ok: false, failure: { reason: 'spawn-error', message: 'empty command' }, outputTail: '' });
  if (options.signal.aborted)
    return Promise.resolve({ ok: false, failure: { reason: 'aborted', message: 'stopped before it started' }, outputTail: '' });
  options.groups?.prepare();
  const env = options.groups ? { ...options.env, ...options.groups.environment } : options.env;
  const spawner = options.onOutput
    ? undefined
    : spawnerFor(options.spawn ?? 'auto', { graceMs: options.killGraceMs, tmp: runTempDir(), env: options.env });
  const pooled = spawner && execPooled(spawner, argv, env, options);
  if (pooled) return pooled;
  return new Promise((resolve) => {
    const spawned = trySpawn(file, args, env, options);
    if (spawned instanceof Error) {
      resolve({ ok: false, failure: { reason: 'spawn-error', message: spawnErrorMessage(file, spawned) }, outputTail: '' });
      return;
    }
    supervise(spawned, options, (end) => resolve(describeEnd(file, end, options.timeoutMs)));
  });
}

type Child = Exclude<ReturnType<typeof trySpawn>, Error>;

/** Watches a started child to its end, collecting its output. */
function supervise(child: Child, options: ExecOptions, done: (end: ChildEnd) => void): void {
  const tail = new OutputTail();
  const stop = new GroupStop(options);
  stop.started(child.pid);
  const collect = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    tail.push(text);
    options.onOutput?.(stream, text);
  };
  child.stdout.on('data', collect('stdout'));
  child.stderr.on('data', collect('stderr'));

  let spawnError: Error | undefined;
  child.on('error', (e) => {
    spawnError = e;
  });
  let finished = false;
  let drainTimer: NodeJS.Timeout | undefined;
  const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
    if (finished) return;
    finished = true;
    if (drainTimer) clearTimeout(drainTimer);
    // A background job the command left (`sleep 15 & ...`, `setsid daemon &`) may still hold
    // the pipes: the unit's outcome is its direct child's, so stop reading them.
    child.stdout.destroy();
    child.stderr.destroy();
    void stop.end({ spawnError, code, signal, outputTail: tail.text() }).then(done);
  };
  child.on('exit', (code, signal) => {
    stop.exited();
    // 'close' follows at once unless another process holds the pipes; give its output a moment.
    drainTimer = setTimeout(() => finish(code, signal), PIPE_DRAIN_MS);
  });
  child.on('close', finish);
}

/** Some exec errors (E2BIG: arguments and environment over the OS limit) throw instead of emitting 'error'. */
function trySpawn(file: string, args: readonly string[], env: ExecOptions['env'], options: ExecOptions) {
  try {
    return outsideFunctionScope(() => spawn(file, args, { cwd: options.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] }));
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}
