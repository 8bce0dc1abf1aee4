/**
 * What a function task starts with node:child_process (spawn, exec, execFile, fork, and what
 * wraps them: execa, zx) carries its attempt's environment entries (the run's marker, the unit,
 * the attempt), as the commands runcue starts do: so when the attempt fails, times out or is
 * stopped, its processes and what they left in the background are found (escaped.ts) and
 * stopped before its outputs are removed, and after a kill -9 of runcue the watchdog finds them
 * by the marker. Every child process is started by `ChildProcess.prototype.spawn` with its
 * environment as `NAME=value` pairs: the entries of the function scope the call is made in (see
 * function-scope.ts) are put there, over any of the same name, and the scope learns the pid of
 * the first child (a failed attempt that started none needs no search). Outside a scope, or where a
 * Node version starts processes otherwise, nothing changes. `spawnSync`, `execSync` and
 * `execFileSync` take another path (a binding of Node's own, out of reach): they are wrapped
 * where the module exports them, and get the entries through their `env` option.
 */
import { ChildProcess } from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import { scopeChildTags, type ChildTags } from '../function-scope.ts';
import { lastPid } from './escaped.ts';

/** Set once per process (on the global object: the CLI and the package each bundle this module). */
const INSTALLED = Symbol.for('runcue.child-env');

type Spawn = (this: ChildProcess, options: unknown) => unknown;

/** Puts the scope's entries into the environment of every child process started from now on (once per process). */
export function tagChildProcesses(): void {
  const global = globalThis as { [INSTALLED]?: true };
  if (global[INSTALLED]) return;
  global[INSTALLED] = true;
  const proto = ChildProcess.prototype as unknown as { spawn?: Spawn };
  const original = proto.spawn;
  if (typeof original !== 'function') return;
  proto.spawn = function spawn(this: ChildProcess, options: unknown): unknown {
    const tags = scopeChildTags();
    const pairs = (options as { envPairs?: unknown } | undefined)?.envPairs;
    if (tags === undefined || !Array.isArray(pairs)) return original.call(this, options);
    const entries = tags.environment;
    const list = pairs as unknown[];
    const names = new Set(entries.map((e) => e.slice(0, e.indexOf('=') + 1)));
    const kept = list.filter((p) => typeof p !== 'string' || !names.has(p.slice(0, p.indexOf('=') + 1)));
    list.splice(0, list.length, ...kept, ...entries);
    const result = original.call(this, options);
    tags.first ??= this.pid;
    return result;
  };
  tagSyncChildProcesses();
}

/** The synchronous starters, and where each takes its options when its arguments are a list. */
const SYNC_STARTERS = { spawnSync: 2, execFileSync: 2, execSync: 1 } as const;

type Starter = (this: unknown, ...args: unknown[]) => unknown;

/**
 * Wraps the synchronous starters on the module's exports, then updates the named ES exports from
 * them (`import { execSync } from 'node:child_process'` sees the wrapper too, whenever the config
 * was loaded). Their child has exited when they return; what matters is a background job it left.
 */
function tagSyncChildProcesses(): void {
  const exports = process.getBuiltinModule('node:child_process') as unknown as Record<string, unknown>;
  for (const [name, at] of Object.entries(SYNC_STARTERS)) {
    const original = exports[name];
    if (typeof original !== 'function') continue;
    const start = original as Starter;
    exports[name] = function (this: unknown, ...args: unknown[]): unknown {
      const tags = scopeChildTags();
      if (tags === undefined) return start.apply(this, args);
      // (file, options) where a list of arguments may stand: the options come second.
      const i = at === 2 && args[1] !== null && typeof args[1] === 'object' && !Array.isArray(args[1]) ? 1 : at;
      args[i] = withEntries(args[i], tags);
      // The child's pid is known only from some of them, and only once it has exited.
      tags.first ??= lastPid() + 1;
      return start.apply(this, args);
    };
  }
  syncBuiltinESMExports();
}

/** `options` with the scope's entries in its environment, over any of the same name. */
function withEntries(options: unknown, tags: ChildTags): Record<string, unknown> {
  const given = options !== null && typeof options === 'object' ? (options as Record<string, unknown>) : {};
  const env: Record<string, unknown> = { ...((given['env'] as Record<string, unknown> | undefined) ?? process.env) };
  for (const entry of tags.environment) {
    const eq = entry.indexOf('=');
    env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return { ...given, env };
}
