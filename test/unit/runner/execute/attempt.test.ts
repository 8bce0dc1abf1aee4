/**
 * What every attempt shares, around its executor (runner/execute/attempt.ts), and the seam
 * itself: a simulated executor, no process and no function, runs a whole build.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ResolvedConfig } from '../../../../src/config/resolved.ts';
import type { Unit } from '../../../../src/graph/unit.ts';
import { build } from '../../../../src/runner/build.ts';
import type { RunEvent } from '../../../../src/runner/events.ts';
import { runUnit, type UnitRunOutcome } from '../../../../src/runner/execute/attempt.ts';
import type { AttemptRequest, Executor, ExecutorOutcome } from '../../../../src/runner/execute/executor.ts';
import { unitView, type UnitView } from '../../../../src/runner/execute/unit-view.ts';
import { observeInputs } from '../../../../src/runner/staleness.ts';
import { configOf, expand, tempProject, type TaskSpec, type TempProject } from '../../../rig/config-builder.ts';
import { nodeFileSystem } from '../../../../src/runner/file-system.ts';

let project: TempProject;
beforeEach(() => {
  project = tempProject();
});
afterEach(() => project.remove());

/** An executor that does what the test says, and records what it was asked. */
function simulated(act: (request: AttemptRequest) => ExecutorOutcome): Executor & { readonly requests: AttemptRequest[] } {
  const requests: AttemptRequest[] = [];
  return {
    requests,
    run: (request) => {
      requests.push(request);
      return Promise.resolve(act(request));
    },
  };
}

function setUp(tasks: Record<string, TaskSpec>, id: string): { config: ResolvedConfig; unit: Unit; view: UnitView } {
  const config = configOf(tasks, { file: project.file });
  const unit = expand(config, ['in.txt']).units.get(id);
  const task = config.tasks.get(unit?.task ?? '');
  if (!unit || !task) throw new Error(`no unit ${id}`);
  const observed = observeInputs(nodeFileSystem(project.root), unit.inputs);
  if ('missing' in observed) throw new Error('missing input');
  return { config, unit, view: unitView(unit, task, observed.files) };
}

function attempt(view: UnitView, executor: Executor): Promise<UnitRunOutcome> {
  return runUnit({ view, attempt: 1, signal: new AbortController().signal, root: project.root }, executor);
}

const write = (rel: string, content: string): void => writeFileSync(project.path(rel), content);

describe('runUnit', () => {
  it('makes output directories first, and lists what the attempt wrote', async () => {
    project.write('in.txt', { mtimeMs: 1_000_000 });
    const { view } = setUp({ t: { input: 'in.txt', output: 'deep/dir/out.txt' } }, 't');
    const outcome = await attempt(
      view,
      simulated(() => (write('deep/dir/out.txt', 'x'), { kind: 'done' })),
    );
    expect(outcome).toEqual({ kind: 'done', inputsChanged: false, rewrote: [], written: ['deep/dir/out.txt'] });
  });

  it('fails a done attempt that did not write its outputs, and removes what it did write', async () => {
    project.write('in.txt');
    const { view } = setUp({ t: { input: 'in.txt', output: ['a.txt', 'b.txt'] } }, 't');
    const outcome = await attempt(
      view,
      simulated(() => (write('a.txt', 'x'), { kind: 'done' })),
    );
    expect(outcome).toMatchObject({ kind: 'failed', failure: { reason: 'missing-output', outputs: ['b.txt'] }, removed: ['a.txt'] });
    expect(existsSync(project.path('a.txt'))).toBe(false);
  });

  it('removes what a failed or pushed-back attempt wrote, unless the task keeps failed outputs', async () => {
    project.write('in.txt');
    project.write('out.txt', { content: 'old', mtimeMs: 1_000_000 });
    const failed: ExecutorOutcome = { kind: 'failed', failure: { reason: 'function-error', message: 'no' }, outputTail: 'tail' };
    const { view } = setUp({ t: { input: 'in.txt', output: 'out.txt' } }, 't');
    expect(
      await attempt(
        view,
        simulated(() => (write('out.txt', 'half'), failed)),
      ),
    ).toEqual({ ...failed, removed: ['out.txt'] });
    expect(
      await attempt(
        view,
        simulated(() => (write('out.txt', 'half'), { kind: 'push-back', retryAfterMs: 5 })),
      ),
    ).toEqual({
      kind: 'push-back',
      retryAfterMs: 5,
      removed: ['out.txt'],
    });
    const kept = setUp({ t: { input: 'in.txt', output: 'out.txt', keepFailedOutputs: true } }, 't').view;
    expect(
      await attempt(
        kept,
        simulated(() => (write('out.txt', 'half'), failed)),
      ),
    ).toMatchObject({ removed: [] });
    expect(readFileSync(project.path('out.txt'), 'utf8')).toBe('half');
  });

  it('says when an input changed during the attempt, and which of its own inputs it rewrote', async () => {
    project.write('in.txt', { mtimeMs: 1_000_000 });
    const { view } = setUp({ t: { input: 'in.txt', output: 'out.txt' } }, 't');
    const outcome = await attempt(
      view,
      simulated(() => (write('in.txt', 'changed'), write('out.txt', 'x'), { kind: 'done' })),
    );
    expect(outcome).toMatchObject({ kind: 'done', inputsChanged: true, rewrote: ['in.txt'] });
  });
});

describe('the executor seam', () => {
  it('runs a build on a simulated executor: the scheduler hands it views and knows nothing of processes', async () => {
    project.write('in.txt');
    const config = configOf(
      {
        a: { input: 'in.txt', output: 'a.txt', run: 'never-run {input}' },
        b: { input: 'a.txt', output: 'b.txt', run: ['never-run', '{input}', '{output}'], retries: 1, backoff: '1ms' },
      },
      { file: project.file },
    );
    let bFailures = 0;
    const executor = simulated(({ view }) => {
      if (view.unit.id === 'b' && bFailures++ === 0)
        return { kind: 'failed', failure: { reason: 'function-error', message: 'flaky' }, outputTail: '' };
      for (const output of view.info.outputs) write(output, view.run.kind === 'command' ? view.run.text : '');
      return { kind: 'done' };
    });
    const events: RunEvent[] = [];
    const result = await build({ config, executorFor: () => executor, onEvent: (e) => events.push(e) });
    if (!result.ok) throw new Error(result.error.message);
    expect(result.value.counts).toMatchObject({ built: 2, failed: 0 });
    expect(executor.requests.map((r) => [r.view.unit.id, r.attempt])).toEqual([
      ['a', 1],
      ['b', 1],
      ['b', 2],
    ]);
    // One view per unit, the same for every attempt.
    expect(executor.requests[1]?.view).toBe(executor.requests[2]?.view);
    expect(readFileSync(project.path('b.txt'), 'utf8')).toBe('never-run a.txt b.txt');
    expect(events.flatMap((e) => (e.type === 'unit:start' ? [e.command] : []))).toEqual([
      'never-run in.txt',
      'never-run a.txt b.txt',
      'never-run a.txt b.txt',
    ]);
  });
});
