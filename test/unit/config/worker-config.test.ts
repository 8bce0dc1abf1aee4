/** The persistent-worker keys of a task: `worker`, `writeResult`, `workerStartTimeout`, `workerCrashLimit`. */
import { describe, expect, it } from 'vitest';
import type { ConfigIssue, ResolvedConfig } from '../../../src/config/resolved.ts';
import { resolveConfig } from '../../../src/config/resolve.ts';

const FILE = '/project/runcue.config.ts';

function resolved(raw: unknown): ResolvedConfig {
  const result = resolveConfig(raw, FILE, { cores: 4 });
  if (!result.ok) throw new Error(`expected a valid config: ${JSON.stringify(result.error)}`);
  return result.value;
}

function issues(raw: unknown): ConfigIssue[] {
  const result = resolveConfig(raw, FILE, { cores: 4 });
  if (result.ok || result.error.reason !== 'config-invalid') throw new Error('expected an invalid config');
  return [...result.error.issues];
}

const IO = { input: 'in/{n}.txt', output: 'out/{n}.json' };

describe('worker tasks', () => {
  it('resolves an argv or shell worker with its defaults, and the top-level start timeout', () => {
    const config = resolved({
      workerStartTimeout: '2m',
      tasks: {
        a: { ...IO, worker: ['python3', 'w.py'] },
        b: { ...IO, worker: 'python3 w.py', writeResult: 'text', workerCrashLimit: 1, workerStartTimeout: '5s' },
      },
    });
    expect(config.tasks.get('a')?.run).toEqual({
      kind: 'worker',
      command: ['python3', 'w.py'],
      writeResult: undefined,
      startTimeoutMs: 120_000,
      crashLimit: 3,
    });
    expect(config.tasks.get('b')?.run).toEqual({
      kind: 'worker',
      command: 'python3 w.py',
      writeResult: 'text',
      startTimeoutMs: 5000,
      crashLimit: 1,
    });
  });

  it('defaults the start timeout to 60 s', () => {
    const run = resolved({ tasks: { a: { ...IO, worker: 'w' } } }).tasks.get('a')?.run;
    expect(run?.kind === 'worker' && run.startTimeoutMs).toBe(60_000);
  });

  it('wants exactly one of run and worker', () => {
    expect(issues({ tasks: { a: { ...IO, run: 'x', worker: 'y' } } })).toEqual([
      { path: 'tasks.a.worker', message: 'a task has either "run" or "worker", not both' },
    ]);
    expect(issues({ tasks: { a: { ...IO } } })).toEqual([
      { path: 'tasks.a.run', message: 'missing; expected a shell command string, an argv array or a function (or "worker")' },
    ]);
  });

  it('refuses worker keys without a worker, and bad values', () => {
    expect(issues({ tasks: { a: { ...IO, run: 'x', writeResult: 'json' } } })).toEqual([
      { path: 'tasks.a.writeResult', message: '"writeResult" goes with "worker"; this task has none' },
    ]);
    expect(issues({ tasks: { a: { ...IO, worker: [], writeResult: 'yaml', workerCrashLimit: 0, workerStartTimeout: 0 } } })).toEqual([
      { path: 'tasks.a.worker', message: 'expected a non-empty argv array' },
      { path: 'tasks.a.writeResult', message: "expected 'json' or 'text', got \"yaml\"" },
      { path: 'tasks.a.workerStartTimeout', message: 'expected a duration above 0, got 0' },
      { path: 'tasks.a.workerCrashLimit', message: 'expected a positive integer, got 0' },
    ]);
    expect(issues({ tasks: { a: { ...IO, worker: ['w', 3] } } })).toEqual([
      { path: 'tasks.a.worker[1]', message: 'expected a string, got 3' },
    ]);
  });

  it('writeResult needs one output naming one file', () => {
    const message = (what: string) => `writeResult writes one file: the task needs exactly one output without glob syntax (it has ${what})`;
    expect(issues({ tasks: { a: { input: 'in/a.txt', worker: 'w', writeResult: 'json' } } })).toEqual([
      { path: 'tasks.a.writeResult', message: message('none') },
    ]);
    expect(issues({ tasks: { a: { input: 'in/{n}.txt', output: ['o/{n}.a', 'o/{n}.b'], worker: 'w', writeResult: 'json' } } })).toEqual([
      { path: 'tasks.a.writeResult', message: message('2') },
    ]);
    expect(issues({ tasks: { a: { input: 'in/{n}.txt', output: 'o/{n}/*.txt', worker: 'w', writeResult: 'json' } } })).toEqual([
      { path: 'tasks.a.writeResult', message: message('the glob "o/{n}/*.txt"') },
    ]);
  });
});
