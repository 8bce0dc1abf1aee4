/**
 * One function attempt (runner/execute/function-executor.ts) and the sweep of abandoned attempts, on real
 * timers with a short grace period: a signal ignored past the grace, errors escaping from timers
 * the function started, odd thrown values.
 */
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskFunction } from '../../../../src/config/types.ts';
import type { Unit } from '../../../../src/graph/unit.ts';
import { abandonAttempt, AbandonedAttempts } from '../../../../src/runner/abandoned.ts';
import { build } from '../../../../src/runner/build.ts';
import type { ExecutorOutcome } from '../../../../src/runner/execute/executor.ts';
import { runFunction } from '../../../../src/runner/execute/function-executor.ts';
import { routeEscaped } from '../../../../src/runner/function-scope.ts';
import { unitView } from '../../../../src/runner/execute/unit-view.ts';
import { configOf, tempProject, type TempProject } from '../../../rig/config-builder.ts';
import { nodeFileSystem } from '../../../../src/runner/file-system.ts';

const unit: Unit = {
  id: 't',
  task: 't',
  wildcards: {},
  inputs: [],
  outputs: [{ name: 'output0', path: 'out.txt', isGlob: false }],
  placeholder: false,
};

function attempt(fn: TaskFunction, timeout?: string): Promise<ExecutorOutcome> {
  const task = configOf({ t: { output: 'out.txt', run: fn, ...(timeout ? { timeout } : {}) } }).tasks.get('t');
  if (!task) throw new Error('no task');
  return runFunction({ view: unitView(unit, task, new Map()), attempt: 1, signal: new AbortController().signal }, { killGraceMs: 30 });
}

describe('runFunction', () => {
  it('abandons a function that ignores its signal past the grace period, handing back its promise', async () => {
    let finish = (): void => undefined;
    const result = await attempt(() => new Promise<void>((resolve) => (finish = resolve)), '10ms');
    expect(result).toMatchObject({ kind: 'failed', failure: { reason: 'timeout', timeoutMs: 10 } });
    if (result.kind !== 'failed' || !result.abandoned) throw new Error('expected an abandoned attempt');
    let settled = false;
    void result.abandoned.then(() => (settled = true));
    finish();
    await result.abandoned;
    expect(settled).toBe(true);
  });

  it('does not abandon a function that stops when its signal asks', async () => {
    const result = await attempt(
      (_, { signal }) => new Promise<void>((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('stopped')))),
      '10ms',
    );
    expect(result).toMatchObject({ kind: 'failed', failure: { reason: 'timeout' } });
    expect(result.kind === 'failed' && result.abandoned).toBeFalsy();
  });

  it('fails with an error escaping from a timer the function started, naming how it escaped', async () => {
    let routed: ReturnType<typeof routeEscaped>;
    const result = await attempt(
      (_, { signal }) =>
        new Promise<void>((resolve) => {
          setTimeout(() => (routed = routeEscaped({ code: 42 }, 'uncaught exception')), 5);
          signal.addEventListener('abort', () => resolve());
        }),
    );
    expect(result).toMatchObject({ kind: 'failed', failure: { reason: 'function-error', message: 'uncaught exception: {"code":42}' } });
    expect(routed).toEqual({ unit: 't', handled: true });
    expect(routeEscaped(new Error('outside'), 'uncaught exception')).toBeUndefined();
  });

  it('describes odd thrown values, thrown synchronously or not', async () => {
    expect(
      await attempt(() => {
        throw Object.create(null);
      }),
    ).toMatchObject({ failure: { reason: 'function-error', message: '{}' } });
    expect(await attempt(() => Promise.reject(Symbol('odd')))).toMatchObject({ failure: { message: 'Symbol(odd)' } });
  });
});

describe('AbandonedAttempts', () => {
  let project: TempProject | undefined;
  afterEach(() => project?.remove());

  it('sweeps what an abandoned attempt writes, when it settles or when the bounded wait ends', async () => {
    project = tempProject();
    const root = project.root;
    project.write('out.txt', { content: 'before' });
    let finish = (): void => undefined;
    const settled = new Promise<void>((resolve) => (finish = resolve));
    const late: string[][] = [];
    const attempts = new AbandonedAttempts();
    attempts.add(abandonAttempt({ fs: nodeFileSystem(root), unit, attempt: 1, settled, keepOutputs: false }), (_, removed) =>
      late.push([...removed]),
    );
    project.write('out.txt', { content: 'a late write' });
    finish();
    expect(await attempts.drain(1000, (_, removed) => late.push([...removed]))).toEqual([]);
    expect(late).toEqual([['out.txt']]);
    expect(existsSync(project.path('out.txt'))).toBe(false);

    project.write('out.txt', { content: 'before' });
    const never = new AbandonedAttempts();
    never.add(
      abandonAttempt({ fs: nodeFileSystem(root), unit, attempt: 2, settled: new Promise(() => undefined), keepOutputs: false }),
      () => undefined,
    );
    project.write('out.txt', { content: 'written later, never settles' });
    expect((await never.drain(20, () => undefined)).map((a) => a.attempt)).toEqual([2]);
    expect(existsSync(project.path('out.txt'))).toBe(false);
  });
});

describe('a unit whose abandoned attempt still runs', () => {
  let project: TempProject | undefined;
  afterEach(() => project?.remove());

  it('is not started again by a later run in the same process (a watch cycle) until it settles', async () => {
    project = tempProject();
    project.write('in.txt');
    const starts: number[] = [];
    const releases: (() => void)[] = [];
    // Ignores its signal: each attempt runs until the test releases it.
    const fn: TaskFunction = ({ attempt }) => {
      starts.push(attempt);
      return new Promise<void>((resolve) => releases.push(resolve));
    };
    const config = configOf({ t: { input: 'in.txt', output: 'out.txt', timeout: '10ms', run: fn } }, { file: project.file });
    const first = await build({ config, killGraceMs: 20 });
    expect(first.ok && first.value.failures.map((f) => f.unit)).toEqual(['t']);
    const second = await build({ config, killGraceMs: 20 });
    expect(second.ok && second.value.blocked.map((b) => [b.unit, b.reason.kind])).toEqual([['t', 'failed_earlier']]);
    expect(starts).toHaveLength(1);
    releases.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
    const third = await build({ config, killGraceMs: 20 });
    expect(third.ok && third.value.failures.map((f) => f.unit)).toEqual(['t']);
    expect(starts).toHaveLength(2);
    for (const release of releases) release();
  });
});
