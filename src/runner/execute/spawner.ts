/**
 * The spawner pool: one small python3 helper (spawner-helper.ts) that starts commands for
 * runcue, so a unit costs a fork of a small process, not of Node's large one (on a clean build of
 * 1,000 `cp` units that fork was most of runcue's CPU time). One helper serves every command of
 * the process: starting a command takes it well under a millisecond, and the command then runs on
 * its own. runcue still stops a command's process group itself (the helper reports the pid, which
 * is the group), so timeouts, Ctrl-C and the watchdog work as for a command runcue forked.
 *
 * `RUNCUE_SPAWN` chooses: `auto` (the default) forks the first three commands directly, starts
 * the helper with the fourth and forks until it is up, then uses it, and forks directly for good
 * when it cannot start; `pool` always waits for the helper; `direct` never starts one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import type { Socket } from 'node:net';
import type { ProcessGroups } from '../process-groups.ts';
import { SPAWNER_SOURCE } from './spawner-helper.ts';
import { outsideFunctionScope } from '../function-scope.ts';

export type SpawnMode = 'auto' | 'pool' | 'direct';

/** The mode `RUNCUE_SPAWN` asks for; anything else is the default. */
export function spawnMode(env: Readonly<Record<string, string | undefined>>): SpawnMode {
  const value = env['RUNCUE_SPAWN'];
  return value === 'pool' || value === 'direct' ? value : 'auto';
}

/** What the helper says about one command. */
export interface SpawnHandlers {
  /** It started as process `pid`, the leader of its own session and group. */
  spawned(pid: number): void;
  /** It could not start: `code` is the errno's name (ENOENT, E2BIG...). */
  failed(code: string): void;
  /**
   * Its direct child exited; `tail` is the end of its output; `groupGone`: its process group had
   * no member left then (an empty group never comes back: no signal to check it again).
   */
  exited(code: number | null, signal: NodeJS.Signals | null, tail: string, groupGone: boolean): void;
  /** The helper died before it said how the command ended (`why` says more). */
  lost(why: string): void;
}

/** One command for the helper. */
export interface SpawnRequest {
  readonly cwd: string;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
}

const signalNames = new Map<number, NodeJS.Signals>(
  Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals] as const),
);
const errnoNames = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name] as const));

/** A helper that died this many times is not started again: commands are forked directly. */
const MAX_DEATHS = 3;

/** The live helper of this process, shared by every run in it. */
class Spawner {
  ready = false;
  dead = false;
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, SpawnHandlers>();
  private nextId = 1;
  private buffer: Buffer = Buffer.alloc(0);
  /** The environment the helper holds (that of the last command sent). */
  private readonly sent = new Map<string, string>();
  /**
   * The process groups of the runs it started commands for: their watchdogs are not told of those
   * commands while it lives (it stops them itself when runcue dies), and take them over if it dies.
   */
  private readonly runs = new Set<ProcessGroups>();

  constructor(graceMs: number, tmp: string, env: Readonly<Record<string, string | undefined>>, onDeath: () => void) {
    const path = env['PATH'];
    this.child = outsideFunctionScope(() =>
      spawn(pythonPath(env), ['-I', '-S', '-c', SPAWNER_SOURCE, String(graceMs), tmp], {
        // Its own group: a Ctrl-C sent to runcue's group must not end it while runcue stops the units.
        detached: true,
        env: path === undefined ? {} : { PATH: path },
        stdio: ['pipe', 'pipe', 'ignore'],
      }),
    );
    const die = (why: string): void => {
      if (this.dead) return;
      this.dead = true;
      this.ready = false;
      onDeath();
      for (const run of this.runs) run.handOver();
      this.runs.clear();
      const pending = [...this.pending.values()];
      this.pending.clear();
      for (const handlers of pending) handlers.lost(why);
    };
    this.child.on('error', (error) => die(`could not start python3: ${error.message}`));
    this.child.on('close', (code: number | null, signal: NodeJS.Signals | null) => die(`exited (${signal ?? `code ${code ?? 0}`})`));
    this.child.stdin?.on('error', () => die('its stdin broke'));
    this.child.stdout?.on('data', (chunk: Buffer) => this.read(chunk));
    this.child.unref();
    // The pipes must not keep runcue alive: they are held only while a command runs.
    (this.child.stdin as Socket | null)?.unref();
    this.hold(false);
  }

  /**
   * Asks the helper to start a command; false when it cannot be sent (a NUL byte: fork directly).
   * `groups`: the run's, which adds the command's group quietly.
   */
  start(request: SpawnRequest, handlers: SpawnHandlers, groups?: ProcessGroups): boolean {
    const fields = [request.cwd, String(request.argv.length), ...request.argv];
    // The helper keeps the environment of the last command: only what differs is sent (`NAME=value`,
    // or `NAME` alone to unset), a few variables instead of the whole environment per unit.
    const { env } = request;
    const changed: [string, string][] = [];
    for (const name in env) {
      const value = env[name];
      if (value !== undefined && this.sent.get(name) !== value) changed.push([name, value]);
    }
    const removed: string[] = [];
    for (const name of this.sent.keys()) if (env[name] === undefined) removed.push(name);
    for (const [name, value] of changed) fields.push(`${name}=${value}`);
    fields.push(...removed);
    if (fields.some((f) => f.includes('\0')) || changed.some(([name]) => name.includes('=')) || removed.some((n) => n.includes('=')))
      return false;
    for (const [name, value] of changed) this.sent.set(name, value);
    for (const name of removed) this.sent.delete(name);
    if (groups && !this.runs.has(groups)) {
      // One entry per run, and a watch process runs many: the ended ones go.
      for (const run of this.runs) if (run.closed) this.runs.delete(run);
      this.runs.add(groups);
    }
    const id = this.nextId++;
    const payload = `${id}\0${fields.join('\0')}`;
    this.pending.set(id, handlers);
    if (this.pending.size === 1) this.hold(true);
    this.child.stdin?.write(`${Buffer.byteLength(payload)}\n${payload}`);
    return true;
  }

  private hold(on: boolean): void {
    const stdout = this.child.stdout as Socket | null;
    if (on) stdout?.ref();
    else stdout?.unref();
  }

  /** Parses the helper's reports: `r`, `s ID PID`, `e ID ERRNO`, `x ID CODE SIGNAL LEN LINGERS` + LEN bytes. */
  private read(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const nl = this.buffer.indexOf(10);
      if (nl < 0) return;
      const [kind, idText, a, b, c, d] = this.buffer.toString('latin1', 0, nl).split(' ');
      const tailLength = kind === 'x' ? Number(c) : 0;
      if (this.buffer.length < nl + 1 + tailLength) return;
      const tail = tailLength > 0 ? this.buffer.toString('utf8', nl + 1, nl + 1 + tailLength) : '';
      this.buffer = this.buffer.subarray(nl + 1 + tailLength);
      if (kind === 'r') {
        this.ready = true;
        continue;
      }
      const id = Number(idText);
      const handlers = this.pending.get(id);
      if (!handlers) continue;
      if (kind === 's') {
        handlers.spawned(Number(a));
        continue;
      }
      this.pending.delete(id);
      if (this.pending.size === 0) this.hold(false);
      if (kind === 'e') handlers.failed(errnoNames.get(Number(a)) ?? `errno ${a ?? '?'}`);
      else {
        const code = Number(a);
        handlers.exited(code >= 0 ? code : null, code >= 0 ? null : (signalNames.get(Number(b)) ?? 'SIGKILL'), tail, d === '0');
      }
    }
  }
}

/**
 * RUNCUE_PYTHON, else the system's python3 (a version manager's shim first on PATH, pyenv's,
 * is a shell script that took 300 ms to start it here), else python3 on PATH.
 */
function pythonPath(env: Readonly<Record<string, string | undefined>>): string {
  const chosen = env['RUNCUE_PYTHON'];
  if (chosen) return chosen;
  return ['/usr/bin/python3', '/usr/local/bin/python3'].find((p) => existsSync(p)) ?? 'python3';
}

/**
 * In `auto` mode, the first commands of the process are forked without starting the helper: a
 * build that runs one or two units (touch one input) would pay the helper's start-up (a python3
 * process, a few ms of CPU on a busy machine) for nothing.
 */
const AUTO_DIRECT_FIRST = 3;

let current: Spawner | undefined;
let deaths = 0;
let autoCommands = 0;

/**
 * The helper to start a command with, or undefined to fork it directly: always in `direct` mode;
 * in `auto` mode for the first few commands, until the helper said it is ready (it is started on
 * the fourth) and once it died too often; in `pool` mode only then.
 */
export function spawnerFor(
  mode: SpawnMode,
  options: { readonly graceMs: number; readonly tmp: string; readonly env: Readonly<Record<string, string | undefined>> },
): Pick<Spawner, 'start'> | undefined {
  if (mode === 'direct' || deaths >= MAX_DEATHS) return undefined;
  if (mode === 'auto' && !current && ++autoCommands <= AUTO_DIRECT_FIRST) return undefined;
  if (!current || current.dead) current = new Spawner(options.graceMs, options.tmp, options.env, () => deaths++);
  return mode === 'pool' || current.ready ? current : undefined;
}
