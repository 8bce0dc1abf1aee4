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
 * Node version starts processes otherwise, nothing changes. (`spawnSync` and `execSync` take
 * another path: they return once their child exits.)
 */
import { ChildProcess } from 'node:child_process';
import { scopeChildTags } from '../function-scope.ts';

let installed = false;

type Spawn = (this: ChildProcess, options: unknown) => unknown;

/** Puts the scope's entries into the environment of every child process started from now on (once per process). */
export function tagChildProcesses(): void {
  if (installed) return;
  installed = true;
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
}
