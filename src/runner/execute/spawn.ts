/**
 * Runs one command as its own process group, so a timeout, Ctrl-C or stop can end the whole
 * tree it starts (SIGTERM, then SIGKILL after a grace period). Keeps only the tail of its output.
 * Its timers (timeout, kill grace, pipe drain, reaping) are real: they bound a real process.
 */
import { spawn } from 'node:child_process';
import type { UnitFailure } from '../events.ts';
import { groupAlive, signalGroup, type ProcessGroups } from '../process-groups.ts';
import { OutputTail } from './output-tail.ts';

/** How to run one command. */
export interface ExecOptions {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborting stops the process tree; the outcome is then 'aborted'. */
  readonly signal: AbortSignal;
  readonly timeoutMs: number | undefined;
  readonly killGraceMs: number;
  /** Called per chunk when the caller wants live output (--verbose); the tail is kept regardless. */
  readonly onOutput?: (stream: 'stdout' | 'stderr', text: string) => void;
  /** The run's process groups: the watchdog stops them if runcue dies. */
  readonly groups?: ProcessGroups;
}

/** How a command ended: exit 0, or why not. */
export type ExecOutcome =
  { readonly ok: true; readonly outputTail: string } | { readonly ok: false; readonly failure: UnitFailure; readonly outputTail: string };

/** How long output may still arrive after the direct child exited. */
const PIPE_DRAIN_MS = 200;

/** Runs `argv` (no shell) in its own process group until it and its group are gone. */
export function execProcess(argv: readonly string[], options: ExecOptions): Promise<ExecOutcome> {
  const [file, ...args] = argv;
  return new Promise((resolve) => {
    if (file === undefined) {
      resolve({ ok: false, failure: { reason: 'spawn-error', message: 'empty command' }, outputTail: '' });
      return;
    }
    if (options.signal.aborted) {
      resolve({ ok: false, failure: { reason: 'aborted', message: 'stopped before it started' }, outputTail: '' });
      return;
    }
    options.groups?.prepare();
    const spawned = trySpawn(file, args, options);
    if (spawned instanceof Error) {
      resolve({ ok: false, failure: { reason: 'spawn-error', message: spawnErrorMessage(file, spawned) }, outputTail: '' });
      return;
    }
    supervise(spawned, options, (end) => resolve(describeEnd(file, end, options.timeoutMs)));
  });
}

type Child = Exclude<ReturnType<typeof trySpawn>, Error>;

/** How a command's direct child ended, and what runcue did to it meanwhile. */
interface ChildEnd {
  readonly spawnError: Error | undefined;
  readonly stopping: 'timeout' | 'aborted' | undefined;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly outputTail: string;
}

/**
 * Watches a started child to its end: collects its output, stops its group on timeout or abort
 * (SIGTERM, SIGKILL after the grace), and once it exited waits for what is left of its group.
 */
function supervise(child: Child, options: ExecOptions, done: (end: ChildEnd) => void): void {
  const tail = new OutputTail();
  if (child.pid !== undefined) options.groups?.add(child.pid);
  let stopping: 'timeout' | 'aborted' | undefined;
  let killDeadline = 0;
  const killTree = (why: 'timeout' | 'aborted'): void => {
    if (stopping) return;
    stopping = why;
    killDeadline = Date.now() + options.killGraceMs;
    signalGroup(child.pid, 'SIGTERM');
    // The direct child may ignore SIGTERM too, and then 'close' never comes without this.
    setTimeout(() => signalGroup(child.pid, 'SIGKILL'), options.killGraceMs).unref();
  };
  const onAbort = (): void => killTree('aborted');
  options.signal.addEventListener('abort', onAbort, { once: true });
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => killTree('timeout'), options.timeoutMs);

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
    if (timer) clearTimeout(timer);
    if (drainTimer) clearTimeout(drainTimer);
    options.signal.removeEventListener('abort', onAbort);
    // A background job the command left (`sleep 15 & ...`, `setsid daemon &`) may still hold
    // the pipes: the unit's outcome is its direct child's, so stop reading them.
    child.stdout.destroy();
    child.stderr.destroy();
    // A failed command's background jobs (`(sleep 1; echo x > out) & exit 1`) must not write
    // after its outputs are removed: stop its group first, as a timeout or stop would.
    const failed = spawnError !== undefined || signal !== null || code !== 0;
    if (!stopping && failed && groupAlive(child.pid)) {
      killDeadline = Date.now() + options.killGraceMs;
      signalGroup(child.pid, 'SIGTERM');
    }
    // A stopped tree may keep members that ignore SIGTERM: wait for them, SIGKILL at the deadline.
    const settled = stopping || failed ? reapGroup(child.pid, killDeadline) : Promise.resolve();
    void settled.then(() => {
      if (child.pid !== undefined) options.groups?.settle(child.pid);
      done({ spawnError, stopping, code, signal, outputTail: tail.text() });
    });
  };
  child.on('exit', (code, signal) => {
    // The outcome is decided: a timeout or stop from now on is for lingering members only,
    // which the run's process groups stop at its end.
    if (timer) clearTimeout(timer);
    options.signal.removeEventListener('abort', onAbort);
    // 'close' follows at once unless another process holds the pipes; give its output a moment.
    drainTimer = setTimeout(() => finish(code, signal), PIPE_DRAIN_MS);
  });
  child.on('close', finish);
}

/** The outcome of a command whose direct child ended as `end` says. */
function describeEnd(file: string, end: ChildEnd, timeoutMs: number | undefined): ExecOutcome {
  const { spawnError, stopping, signal, code, outputTail } = end;
  if (spawnError) return { ok: false, failure: { reason: 'spawn-error', message: spawnErrorMessage(file, spawnError) }, outputTail };
  if (stopping === 'timeout')
    return {
      ok: false,
      failure: { reason: 'timeout', timeoutMs: timeoutMs ?? 0, message: `timed out after ${timeoutMs ?? 0} ms` },
      outputTail,
    };
  if (stopping === 'aborted') return { ok: false, failure: { reason: 'aborted', message: 'stopped' }, outputTail };
  if (signal) return { ok: false, failure: { reason: 'signal', signal, message: `killed by ${signal}` }, outputTail };
  if (code !== 0)
    return { ok: false, failure: { reason: 'exit-non-zero', exitCode: code ?? 1, message: `exit code ${code ?? 1}` }, outputTail };
  return { ok: true, outputTail };
}

/** Some exec errors (E2BIG: arguments and environment over the OS limit) throw instead of emitting 'error'. */
function trySpawn(file: string, args: readonly string[], options: ExecOptions) {
  try {
    const env = options.groups ? { ...options.env, ...options.groups.environment } : options.env;
    return spawn(file, args, { cwd: options.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

function spawnErrorMessage(file: string, error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `${file}: command not found`;
  if (code === 'E2BIG') return `could not start ${file}: its arguments and environment are over the operating system's limit (E2BIG)`;
  return `could not start ${file}: ${error.message}`;
}

/** Resolves once the process group is gone, sending SIGKILL when the grace deadline passes. */
export async function reapGroup(pid: number | undefined, deadline: number): Promise<void> {
  while (groupAlive(pid)) {
    if (Date.now() >= deadline) {
      signalGroup(pid, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 20));
      if (groupAlive(pid)) await new Promise((r) => setTimeout(r, 100));
      return;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}
