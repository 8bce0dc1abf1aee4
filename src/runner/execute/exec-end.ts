/**
 * What every way of starting a command shares (a direct fork, spawn.ts; the spawner pool,
 * pooled.ts): stopping its process group on timeout or abort, stopping what is left of it (and
 * what escaped it) after a failure, and describing how it ended.
 */
import type { UnitFailure } from '../events.ts';
import { groupAlive, groupRunning, signalGroup, type ProcessGroups } from '../process-groups.ts';
import { stopEscaped } from './escaped.ts';
import { timerMs } from '../ports.ts';

/**
 * A failed command that ran less than this could not have seen pids handed out all the way
 * around (32,768 forks at the least), so its escaped processes have pids above its own.
 */
const BRIEF_MS = 250;

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
  /** How to start it: `auto` (the default), `pool` or `direct` (see spawner.ts). */
  readonly spawn?: 'auto' | 'pool' | 'direct';
}

/** How a command ended: exit 0, or why not. */
export type ExecOutcome =
  { readonly ok: true; readonly outputTail: string } | { readonly ok: false; readonly failure: UnitFailure; readonly outputTail: string };

/** How a command's direct child ended, and what runcue did to it meanwhile. */
export interface ChildEnd {
  readonly spawnError: Error | undefined;
  readonly stopping: 'timeout' | 'aborted' | undefined;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly outputTail: string;
}

/**
 * Stops a command's process group on timeout or abort (SIGTERM, SIGKILL after the grace), and
 * once its direct child exited waits for what is left of the group. The group may be known only
 * after the stop was asked for (the spawner pool reports it): it is then stopped at once.
 */
export class GroupStop {
  private stopping: 'timeout' | 'aborted' | undefined;
  private deadline = 0;
  private pid: number | undefined;
  private startedAt = 0;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly onAbort = (): void => this.kill('aborted');
  private readonly options: ExecOptions;
  /** Started by the spawner helper, which stops the group itself if runcue dies. */
  private readonly quiet: boolean;

  constructor(options: ExecOptions, quiet = false) {
    this.options = options;
    this.quiet = quiet;
    options.signal.addEventListener('abort', this.onAbort, { once: true });
    this.timer = options.timeoutMs === undefined ? undefined : setTimeout(() => this.kill('timeout'), timerMs(options.timeoutMs));
  }

  /** The command runs as process group `pid`. */
  started(pid: number | undefined): void {
    this.pid = pid;
    this.startedAt = Date.now();
    if (pid !== undefined) this.options.groups?.add(pid, this.quiet);
    if (this.stopping) this.signalTree();
  }

  /**
   * The direct child exited: the outcome is decided, and a timeout or stop from now on is for
   * lingering members only, which the run's process groups stop at its end.
   */
  exited(): void {
    if (this.timer) clearTimeout(this.timer);
    this.options.signal.removeEventListener('abort', this.onAbort);
  }

  /**
   * After the exit: a failed command's background jobs (`(sleep 1; echo x > out) & exit 1`) must
   * not write after its outputs are removed, so its group is stopped, as a timeout or stop would;
   * a stopped tree may keep members that ignore SIGTERM: wait for them, SIGKILL at the deadline.
   * `groupGone`: the group was seen empty after the exit (the spawner helper says so), so it is
   * not probed again (a failed probe is an exception, which showed in profiles).
   */
  async end(end: Omit<ChildEnd, 'stopping'>, groupGone = false): Promise<ChildEnd> {
    this.exited();
    const failed = end.spawnError !== undefined || end.signal !== null || end.code !== 0;
    if (!groupGone) {
      if (!this.stopping && failed && groupAlive(this.pid)) {
        this.deadline = Date.now() + this.options.killGraceMs;
        signalGroup(this.pid, 'SIGTERM');
      }
      if (this.stopping || failed) await reapGroup(this.pid, this.deadline);
    }
    // A failed command's escaped processes (`setsid ... &`) would write after its outputs are
    // removed as much as a stopped one's: both are stopped. A success's are left to run (a
    // command may start a daemon on purpose).
    if (this.stopping) await stopEscaped(this.identity(), this.deadline - this.options.killGraceMs, this.deadline);
    else if (failed && this.pid !== undefined) {
      const now = Date.now();
      // A brief command cannot have seen pids wrap all the way around: only newer pids are read.
      const after = now - this.startedAt < BRIEF_MS ? this.pid : undefined;
      await stopEscaped(this.identity(), now, now + this.options.killGraceMs, after);
    }
    if (this.pid !== undefined) this.options.groups?.settle(this.pid, groupGone);
    return { ...end, stopping: this.stopping };
  }

  /** The environment entries only this attempt's processes carry (none without the run's marker). */
  private identity(): string[] {
    const marker = this.options.groups?.environment;
    const { env } = this.options;
    if (!marker || env['RUNCUE_UNIT'] === undefined) return [];
    return [...Object.entries(marker), ['RUNCUE_UNIT', env['RUNCUE_UNIT']], ['RUNCUE_ATTEMPT', env['RUNCUE_ATTEMPT'] ?? '']].map(
      ([name, value]) => `${name}=${value}`,
    );
  }

  private kill(why: 'timeout' | 'aborted'): void {
    if (this.stopping) return;
    this.stopping = why;
    this.deadline = Date.now() + this.options.killGraceMs;
    this.signalTree();
  }

  private signalTree(): void {
    const pid = this.pid;
    if (pid === undefined) return;
    signalGroup(pid, 'SIGTERM');
    // The direct child may ignore SIGTERM too, and then it never exits without this.
    setTimeout(() => signalGroup(pid, 'SIGKILL'), timerMs(Math.max(0, this.deadline - Date.now()))).unref();
  }
}

/** The outcome of a command whose direct child ended as `end` says. */
export function describeEnd(file: string, end: ChildEnd, timeoutMs: number | undefined): ExecOutcome {
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

/** A start that failed with errno `code` (an Error whose `code` is set, as Node's are). */
export function errnoError(file: string, code: string, message = `spawn ${file} ${code}`): Error {
  return Object.assign(new Error(message), { code });
}

/** The code of a start error that is not one: the helper that had started the command died. */
export const HELPER_LOST = 'ERUNCUE_HELPER_LOST';

export function spawnErrorMessage(file: string, error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === HELPER_LOST) return `${file} was stopped while running: ${error.message}`;
  if (code === 'ENOENT') return `${file}: command not found`;
  if (code === 'E2BIG') return `could not start ${file}: its arguments and environment are over the operating system's limit (E2BIG)`;
  return `could not start ${file}: ${error.message}`;
}

/** Resolves once the process group is gone, sending SIGKILL when the grace deadline passes. */
export async function reapGroup(pid: number | undefined, deadline: number): Promise<void> {
  while (await groupRunning(pid)) {
    if (Date.now() >= deadline) {
      signalGroup(pid, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 20));
      if (groupAlive(pid)) await new Promise((r) => setTimeout(r, 100));
      return;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}
