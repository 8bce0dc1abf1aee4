/**
 * Test rig for end-to-end tests: a temp project dir, helpers to write and inspect files, and the
 * real CLI binary run in it (dist must be built: `npm test` builds first).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The CLI entry point the e2e tests run (it loads dist: build first). */
export const BIN = join(REPO, 'bin', 'runcue.js');
/**
 * The system's python3 for tests that start it themselves, by its path: a version manager's shim
 * first on PATH (pyenv's) is a shell script that costs ~0.3 s of CPU a start. Else python3 on PATH.
 */
export const PYTHON3 = ['/usr/bin/python3', '/usr/local/bin/python3'].find((p) => existsSync(p)) ?? 'python3';

/**
 * Whether this file runs in a project that forces a way of starting commands (spawn-pool,
 * spawn-direct in vitest.config.ts). A test whose commands runcue does not start (a function
 * task, or the child_process of one) runs the same there as in the default project: it skips.
 */
export function spawnForced(): boolean {
  // Read when a file is collected: a worker that runs files of several projects keeps this module.
  return process.env['RUNCUE_SPAWN'] !== undefined;
}

/** How a CLI run ended and what it printed. */
export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * One `--json` event as a test reads it: the `type` and loosely typed fields (the schema tests
 * check the exact shapes).
 */
export interface JsonEvent {
  readonly type: string;
  readonly unit?: string;
  readonly [field: string]: unknown;
}

/** A `--json` run: the raw result and its stdout parsed as events. */
export interface JsonRunResult extends RunResult {
  readonly events: readonly JsonEvent[];
}

/** Parses `--json` (NDJSON) output: one event per non-empty line. */
export function parseEvents(stdout: string): JsonEvent[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as JsonEvent);
}

/** Environment, directory and time bound of a CLI run. */
export interface RunOptions {
  readonly env?: Record<string, string | undefined>;
  /** Relative to the rig dir. */
  readonly cwd?: string;
  readonly timeoutMs?: number;
}

/** A temp project that configs can import `runcue` in, and runs of the real CLI there. */
export class Rig {
  readonly dir: string;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'runcue-e2e-'));
    // Lets configs `import { defineConfig } from 'runcue'` as users do.
    mkdirSync(join(this.dir, 'node_modules'), { recursive: true });
    symlinkSync(REPO, join(this.dir, 'node_modules', 'runcue'), 'dir');
  }

  path(rel: string): string {
    return join(this.dir, rel);
  }

  write(files: Record<string, string>): void {
    for (const [rel, content] of Object.entries(files)) {
      mkdirSync(dirname(this.path(rel)), { recursive: true });
      writeFileSync(this.path(rel), content);
    }
  }

  read(rel: string): string {
    return readFileSync(this.path(rel), 'utf8');
  }

  exists(rel: string): boolean {
    return existsSync(this.path(rel));
  }

  remove(rel: string): void {
    rmSync(this.path(rel), { force: true });
  }

  mtime(rel: string): number {
    return statSync(this.path(rel)).mtimeMs;
  }

  /** Sets a file's mtime to `Date.now() + offsetMs` (explicit times keep tests independent of fs granularity). */
  touch(rel: string, offsetMs = 0): void {
    const t = new Date(Date.now() + offsetMs);
    utimesSync(this.path(rel), t, t);
  }

  /** Sets mtimes of several files to the same instant, `offsetMs` from now. */
  age(rels: readonly string[], offsetMs: number): void {
    for (const rel of rels) this.touch(rel, offsetMs);
  }

  spawn(args: readonly string[], options: RunOptions = {}): ChildProcess {
    // The e2e suite runs once per way of starting commands (vitest.config.ts).
    const mode = process.env['RUNCUE_SPAWN'];
    const spawnMode = mode === undefined ? {} : { RUNCUE_SPAWN: mode };
    return spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ? this.path(options.cwd) : this.dir,
      env: { PATH: process.env['PATH'], HOME: process.env['HOME'], CI: 'true', ...spawnMode, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  run(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const child = this.spawn(args, options);
    return collect(child, options.timeoutMs ?? 60_000);
  }

  /**
   * An environment for configs that run `python3` by name (the examples): a PATH whose first
   * `python3` is PYTHON3, ahead of a version manager's shim.
   */
  systemPythonPath(): Record<string, string | undefined> {
    if (PYTHON3 === 'python3') return {};
    const bin = this.path('node_modules/.bin');
    mkdirSync(bin, { recursive: true });
    if (!existsSync(join(bin, 'python3'))) symlinkSync(PYTHON3, join(bin, 'python3'));
    return { PATH: `${bin}${delimiter}${process.env['PATH'] ?? ''}` };
  }

  /** Runs the CLI with `--json` added and parses the event stream it prints. */
  async runJson(args: readonly string[], options: RunOptions = {}): Promise<JsonRunResult> {
    const result = await this.run([...args, '--json'], options);
    return { ...result, events: parseEvents(result.stdout) };
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Waits for a spawned CLI to close and collects its output; kills it after `timeoutMs`. */
export function collect(child: ChildProcess, timeoutMs = 60_000): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`runcue did not finish in ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/** Polls `condition` until it holds; fails after `timeoutMs` (a bound, not a sleep). */
export async function waitFor(condition: () => boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * `pid` is alive, not a zombie, and works in `dir`: a command orphaned by kill -9 is reparented
 * to pid 1, which in some containers never reaps it (`kill(pid, 0)` succeeds on a zombie), and
 * with a pid_max of 32768 a busy machine reuses a pid within seconds.
 */
export function runsIn(dir: string, pid: number): boolean {
  if (!alive(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z' && realpathSync(`/proc/${pid}/cwd`) === realpathSync(dir);
  } catch {
    return existsSync(`/proc/${pid}`) ? false : alive(pid);
  }
}

/**
 * Live (non-zombie) processes whose working directory is `dir`, as `pid command line`: what a run
 * must not leave behind.
 */
export function processesIn(dir: string): string[] {
  const want = realpathSync(dir);
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      if (realpathSync(`/proc/${pid}/cwd`) === want && runsIn(dir, pid)) {
        found.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim()}`);
      }
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}

/** Whether a process id is still alive (signal 0 probes without signalling). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
