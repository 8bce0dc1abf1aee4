/**
 * One persistent worker process: started as its own process group (so a stop or a timeout ends
 * the whole tree it forks), spoken to in JSON lines (protocol.ts), and watched to its end. It
 * knows nothing of units or pools: it reports lines, its start and its end to its owner.
 * Its timers are real: they bound a real process.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { groupAlive, signalGroup, type ProcessGroups } from '../process-groups.ts';
import { reapGroup } from '../execute/exec-end.ts';
import { OutputTail } from '../execute/output-tail.ts';
import { parseWorkerLine, requestLine, type WorkerAnswer, type WorkerRequest } from './protocol.ts';
import { timerMs } from '../ports.ts';
import { outsideFunctionScope } from '../function-scope.ts';

/** How a worker's start ended. */
export type WorkerStart =
  | { readonly kind: 'ready'; readonly loadMs: number }
  | { readonly kind: 'load-failed'; readonly message: string }
  | { readonly kind: 'crashed'; readonly message: string }
  | { readonly kind: 'start-timeout'; readonly message: string }
  | { readonly kind: 'aborted' };

/** How a worker's process ended. */
export interface WorkerEnd {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Who receives what the worker says while it holds a task. */
export interface TaskListener {
  /** Its answer: the task id may be another than the one it was given (a protocol error). */
  answer(answer: WorkerAnswer): void;
  /** A log line: stdout that is not the protocol, or stderr. */
  log(stream: 'stdout' | 'stderr', line: string): void;
  /** It ended (or closed its stdout) before it answered. */
  ended(end: WorkerEnd): void;
}

/** How to start a worker. */
export interface WorkerProcessOptions {
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly groups: ProcessGroups;
  readonly killGraceMs: number;
  /** A line it wrote (stderr, or stdout that is not the protocol) while it held no task. */
  readonly idleLog?: (line: string) => void;
}

/** How long a worker whose stdin was closed has to exit on its own before SIGTERM. */
const STDIN_GRACE_MS = 500;

/** How long output may still arrive after the worker exited (a grandchild may hold the pipe). */
const PIPE_DRAIN_MS = 200;

type Child = ChildProcessByStdio<Writable, Readable, Readable>;

/** A started worker process. */
export class WorkerProcess {
  readonly pid: number;
  /** Answers it gave: a worker that exits cleanly after one is a run-once worker. */
  answered = 0;
  private listener: TaskListener | undefined;
  private onReady: ((start: WorkerStart) => void) | undefined;
  private endResult: WorkerEnd | undefined;
  private readonly endWaiters: ((end: WorkerEnd) => void)[] = [];
  private readonly stderrTail = new OutputTail();
  private partial = { stdout: '', stderr: '' };
  private loadError: string | undefined;
  private stopping = false;
  private killTimer: NodeJS.Timeout | undefined;
  private termTimer: NodeJS.Timeout | undefined;

  private readonly child: Child;
  private readonly options: WorkerProcessOptions;

  private constructor(child: Child, options: WorkerProcessOptions) {
    this.child = child;
    this.options = options;
    // No pid: the spawn failed, and its 'error' event ends the worker.
    this.pid = child.pid ?? 0;
    if (child.pid !== undefined) options.groups.add(child.pid);
    child.stdout.on('data', (chunk: Buffer) => this.take('stdout', chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => this.take('stderr', chunk.toString('utf8')));
    // A worker that exits while we write gives EPIPE: its end is reported by 'exit'.
    child.stdin.on('error', () => undefined);
    this.watchEnd();
  }

  /** Starts the worker; an Error when it could not be spawned at all. */
  static spawn(options: WorkerProcessOptions): WorkerProcess | Error {
    const [file, ...args] = options.argv;
    if (file === undefined) return new Error('empty worker command');
    options.groups.prepare();
    try {
      const env = { ...options.env, ...options.groups.environment };
      const child = outsideFunctionScope(() =>
        spawn(file, args, { cwd: options.cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] }),
      );
      return new WorkerProcess(child, options);
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  }

  /** Whether the process has ended. */
  get gone(): boolean {
    return this.endResult !== undefined;
  }

  /** Waits for its ready line, its load error, its end or `timeoutMs`, whichever comes first. */
  ready(timeoutMs: number, signal: AbortSignal): Promise<WorkerStart> {
    const startedAt = Date.now();
    return new Promise((resolve) => {
      const finish = (start: WorkerStart): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.onReady = undefined;
        resolve(start);
      };
      const timer = setTimeout(() => {
        const message = `it did not say ready within ${timeoutMs} ms (workerStartTimeout)`;
        finish({ kind: 'start-timeout', message });
      }, timerMs(timeoutMs));
      const onAbort = (): void => finish({ kind: 'aborted' });
      signal.addEventListener('abort', onAbort, { once: true });
      this.onReady = (start) => finish(start.kind === 'ready' ? { kind: 'ready', loadMs: Date.now() - startedAt } : start);
    });
  }

  /** Gives it a task; what it says until it answers goes to `listener`. */
  send(request: WorkerRequest, listener: TaskListener): void {
    this.listener = listener;
    if (this.endResult) {
      listener.ended(this.endResult);
      return;
    }
    this.child.stdin.write(requestLine(request));
  }

  /** It answered or was given up: what it says from now on is the task's no more. */
  release(): void {
    this.listener = undefined;
  }

  /** The end of its stderr, for messages about why it failed. */
  stderrText(): string {
    return this.stderrTail.text(20);
  }

  /** Resolves when the process and its group are gone. */
  whenGone(): Promise<WorkerEnd> {
    if (this.endResult) return Promise.resolve(this.endResult);
    return new Promise((resolve) => this.endWaiters.push(resolve));
  }

  /**
   * Ends it and resolves when it is gone. `politely`: stdin is closed first (a worker reading it
   * ends on its own) and SIGTERM follows a moment later; otherwise SIGTERM to its group now. SIGKILL
   * once `graceMs` is over; `graceMs` 0 is SIGKILL at once.
   */
  async stop(graceMs: number, politely = false): Promise<WorkerEnd> {
    if (!this.stopping) {
      this.stopping = true;
      this.child.stdin.end();
      if (graceMs === 0) signalGroup(this.group, 'SIGKILL');
      else {
        const term = (): void => signalGroup(this.group, 'SIGTERM');
        if (politely) this.termTimer = setTimeout(term, Math.min(STDIN_GRACE_MS, graceMs / 2));
        else term();
        this.killTimer = setTimeout(() => signalGroup(this.group, 'SIGKILL'), timerMs(graceMs));
      }
    }
    return this.whenGone();
  }

  /** SIGKILL to its whole group now (a second Ctrl-C). */
  killNow(): void {
    signalGroup(this.group, 'SIGKILL');
  }

  /** Its process group; undefined when it never started (signalling group 0 would hit runcue's own). */
  private get group(): number | undefined {
    return this.pid === 0 ? undefined : this.pid;
  }

  private take(stream: 'stdout' | 'stderr', text: string): void {
    const lines = (this.partial[stream] + text).split('\n');
    this.partial[stream] = lines.pop() ?? '';
    for (const line of lines) this.line(stream, line);
  }

  private flushPartial(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = this.partial[stream];
      this.partial[stream] = '';
      if (rest !== '') this.line(stream, rest);
    }
  }

  private line(stream: 'stdout' | 'stderr', line: string): void {
    if (stream === 'stderr') {
      this.stderrTail.push(`${line}\n`);
      if (this.listener) this.listener.log('stderr', line);
      else this.options.idleLog?.(line);
      return;
    }
    const parsed = parseWorkerLine(line);
    switch (parsed.kind) {
      case 'ready':
        this.onReady?.({ kind: 'ready', loadMs: 0 });
        return;
      case 'load-error':
        this.loadError = parsed.error;
        this.onReady?.({ kind: 'load-failed', message: `its load failed: ${parsed.error}` });
        return;
      case 'answer':
        this.answered++;
        this.listener?.answer(parsed.answer);
        return;
      case 'log':
        if (this.listener) this.listener.log('stdout', line);
        else {
          this.stderrTail.push(`${line}\n`);
          this.options.idleLog?.(line);
        }
    }
  }

  /**
   * Its end is its exit once its stdout is read to the end (or after a short drain, when a
   * grandchild holds the pipe); a worker that closes its stdout but lives on is stopped.
   */
  private watchEnd(): void {
    let exited: WorkerEnd | undefined;
    let stdoutClosed = false;
    let drain: NodeJS.Timeout | undefined;
    const end = (): void => {
      if (this.endResult || !exited) return;
      clearTimeout(drain);
      this.flushPartial();
      this.ended(exited);
    };
    this.child.on('error', (error) => {
      const code = (error as NodeJS.ErrnoException).code;
      const file = this.options.argv[0] ?? '';
      this.stderrTail.push(code === 'ENOENT' ? `${file}: command not found\n` : `could not start ${file}: ${error.message}\n`);
      exited ??= { code: null, signal: null };
      end();
    });
    this.child.on('exit', (code, signal) => {
      exited = { code, signal };
      if (stdoutClosed) end();
      else drain = setTimeout(end, PIPE_DRAIN_MS);
    });
    this.child.stdout.on('close', () => {
      stdoutClosed = true;
      if (exited) end();
      // Holding a task with no way to answer it: that is a crash, whatever the process does next.
      else if (!this.stopping) void this.stop(this.options.killGraceMs);
    });
  }

  private ended(end: WorkerEnd): void {
    this.endResult = end;
    clearTimeout(this.killTimer);
    clearTimeout(this.termTimer);
    this.child.stdout.destroy();
    this.child.stderr.destroy();
    const listener = this.listener;
    this.listener = undefined;
    listener?.ended(end);
    const why = this.loadError === undefined ? describeEnd(end) : `its load failed: ${this.loadError}`;
    this.onReady?.({ kind: 'crashed', message: `it ${why} before it said ready` });
    // What it forked may live on: the group goes with it (SIGKILL after the grace).
    if (groupAlive(this.group)) signalGroup(this.group, 'SIGTERM');
    void reapGroup(this.group, Date.now() + this.options.killGraceMs).then(() => {
      if (this.group !== undefined) this.options.groups.settle(this.group);
      for (const waiter of this.endWaiters.splice(0)) waiter(end);
    });
  }
}

/** "exited with code 1", "was killed by SIGKILL". */
export function describeEnd(end: WorkerEnd): string {
  if (end.signal) return `was killed by ${end.signal}`;
  return `exited with code ${end.code ?? 1}`;
}
