/**
 * A unit's check as the scheduler runs it (runner/unit-check.ts): custom checks end in a value,
 * a verdict, "not ready" or a failure, never a throw; a hash check hands back the unit's view.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Unit } from '../../../src/graph/unit.ts';
import type { ResolvedTask } from '../../../src/config/resolved.ts';
import type { TimerHandle, Timers } from '../../../src/runner/ports.ts';
import { customCheck, defaultCheck, type CheckLimits } from '../../../src/runner/unit-check.ts';
import { configOf, expand, tempProject, type TaskSpec, type TempProject } from '../../rig/config-builder.ts';
import { nodeFileSystem } from '../../../src/runner/file-system.ts';
import type { CheckContext } from '../../../src/runner/staleness.ts';

let project: TempProject;
beforeEach(() => {
  project = tempProject();
  project.write('in.txt', { mtimeMs: 2_000_000 });
});
afterEach(() => project.remove());

function setUp(spec: TaskSpec): { unit: Unit; task: ResolvedTask } {
  const config = configOf({ t: { input: 'in.txt', output: 'out.txt', ...spec } }, { file: project.file });
  const unit = expand(config, ['in.txt']).units.get('t');
  const task = config.tasks.get('t');
  if (!unit || !task) throw new Error('no unit t');
  return { unit, task };
}

const ctx = (): CheckContext => ({
  fs: nodeFileSystem(project.root),
  now: 3_000_000,
  maxAgeMs: undefined,
  force: false,
});
const limits = (signal = new AbortController().signal): CheckLimits => ({ signal });

describe('customCheck', () => {
  it('says not-ready when ready() says no, and gives the verdict with the view it built otherwise', async () => {
    const notReady = setUp({ ready: () => false });
    expect(await customCheck(notReady.unit, notReady.task, ctx(), limits())).toEqual({ kind: 'not-ready' });
    const stale = setUp({ stale: () => true });
    const result = await customCheck(stale.unit, stale.task, ctx(), limits());
    expect(result).toMatchObject({ kind: 'checked', outcome: { kind: 'stale', reason: { kind: 'missing-output' } } });
    if (result.kind !== 'checked') throw new Error('expected a verdict');
    expect(result.view?.inputs).toBe(result.outcome.kind === 'stale' ? result.outcome.inputs : undefined);
  });

  it('returns a failure, not a throw, when a check throws, never settles, or the run stops', async () => {
    const threw = setUp({ stale: () => Promise.reject(new Error('down')) });
    expect(await customCheck(threw.unit, threw.task, ctx(), limits())).toEqual({
      kind: 'check-failed',
      check: 'stale',
      why: 'threw',
      message: 'stale() threw: down',
    });
    const hangs = setUp({ ready: () => new Promise<boolean>(() => undefined), checkTimeout: '20ms' });
    expect(await customCheck(hangs.unit, hangs.task, ctx(), limits())).toMatchObject({
      kind: 'check-failed',
      check: 'ready',
      why: 'timeout',
    });
    const stop = new AbortController();
    const stopped = setUp({ ready: () => new Promise<boolean>(() => undefined) });
    const pending = customCheck(stopped.unit, stopped.task, ctx(), limits(stop.signal));
    stop.abort('SIGINT');
    expect(await pending).toMatchObject({ kind: 'check-failed', check: 'ready', why: 'stopped' });
  });

  it('times a check out on the timers it is given (a virtual clock), not on real time', async () => {
    const due: (() => void)[] = [];
    const timers: Timers = { set: (fn) => (due.push(fn), due.length as unknown as TimerHandle), clear: () => undefined };
    const hangs = setUp({ stale: () => new Promise<boolean>(() => undefined), checkTimeout: '1h' });
    const pending = customCheck(hangs.unit, hangs.task, ctx(), { signal: new AbortController().signal, timers });
    await new Promise((resolve) => setImmediate(resolve));
    expect(due).toHaveLength(1);
    due[0]?.();
    expect(await pending).toEqual({
      kind: 'check-failed',
      check: 'stale',
      why: 'timeout',
      message: 'stale() did not settle within 3600s (checkTimeout)',
    });
  });
});

describe('defaultCheck', () => {
  it('hands back, for a hash task, the view whose command it fingerprinted; none by mtime', () => {
    const hashed = setUp({ freshness: 'hash', run: 'cp {input} {output}' });
    const result = defaultCheck(hashed.unit, hashed.task, ctx());
    expect(result.outcome).toMatchObject({ kind: 'stale', reason: { kind: 'fingerprint', part: 'new' } });
    expect(result.view?.fingerprint?.inputs).toHaveProperty(['in.txt']);
    expect(result.view?.inputs).toBe(result.outcome.kind === 'stale' ? result.outcome.inputs : undefined);
    const byMtime = setUp({ run: 'cp {input} {output}' });
    expect(defaultCheck(byMtime.unit, byMtime.task, ctx()).view).toBeUndefined();
  });
});
