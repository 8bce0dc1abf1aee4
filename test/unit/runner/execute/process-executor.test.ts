/**
 * The process executor (runner/execute/process-executor.ts) on real, short commands: what a
 * command is given, exit 75 as a push-back, the `{inputs_file}` list.
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ExecutorOutcome } from '../../../../src/runner/execute/executor.ts';
import { processExecutor } from '../../../../src/runner/execute/process-executor.ts';
import { unitView, type UnitView } from '../../../../src/runner/execute/unit-view.ts';
import type { FileStat } from '../../../../src/runner/files.ts';
import { configOf, expand, tempProject, type TaskSpec, type TempProject } from '../../../rig/config-builder.ts';

let project: TempProject;
beforeEach(() => {
  project = tempProject();
});
afterEach(() => project.remove());

function viewOf(spec: TaskSpec, inputs: readonly string[] = []): UnitView {
  const config = configOf({ t: spec }, { file: project.file });
  const unit = expand(config, inputs).units.get('t');
  const task = config.tasks.get('t');
  if (!unit || !task) throw new Error('no unit t');
  return unitView(unit, task, new Map<string, FileStat>(inputs.map((f) => [f, { mtimeMs: 1, size: 1 }])));
}

function run(view: UnitView, attempt = 1): Promise<ExecutorOutcome> {
  const executor = processExecutor({ root: project.root, env: { PATH: process.env['PATH'], FROM_RUN: 'run' }, killGraceMs: 200 });
  return executor.run({ view, attempt, signal: new AbortController().signal });
}

describe('processExecutor', () => {
  it('runs in the project root with the run env, the task env and the RUNCUE_ variables', async () => {
    const view = viewOf({
      output: 'env.txt',
      env: { FROM_TASK: 'task' },
      run: 'echo "$FROM_RUN $FROM_TASK $RUNCUE_UNIT $RUNCUE_TASK $RUNCUE_ATTEMPT" > {output}',
    });
    expect(await run(view, 2)).toEqual({ kind: 'done', outputTail: '' });
    expect(readFileSync(project.path('env.txt'), 'utf8')).toBe('run task t t 2\n');
  });

  it('reads the run environment once, not per command (process.env: a getenv per read)', async () => {
    let reads = 0;
    const env = new Proxy({ PATH: process.env['PATH'], FROM_RUN: 'run' } as Record<string, string | undefined>, {
      get(target, name) {
        if (typeof name === 'string') reads++;
        return Reflect.get(target, name) as unknown;
      },
    });
    const executor = processExecutor({ root: project.root, env, killGraceMs: 200 });
    const before = reads;
    const view = viewOf({ output: 'env.txt', run: 'echo "$FROM_RUN" > {output}' });
    for (const attempt of [1, 2, 3])
      expect(await executor.run({ view, attempt, signal: new AbortController().signal })).toMatchObject({ kind: 'done' });
    expect(readFileSync(project.path('env.txt'), 'utf8')).toBe('run\n');
    expect(reads - before).toBe(0);
  });

  it('takes exit 75 as a push-back, with the pause the command wrote to its retry-after file', async () => {
    const view = viewOf({ output: 'x', run: 'echo 7 > "$RUNCUE_RETRY_AFTER_FILE"; exit 75' });
    expect(await run(view)).toEqual({ kind: 'push-back', retryAfterMs: 7000 });
  });

  it('fails with the exit code and the tail of the output', async () => {
    expect(await run(viewOf({ output: 'x', run: 'echo oops; exit 3' }))).toEqual({
      kind: 'failed',
      failure: { reason: 'exit-non-zero', exitCode: 3, message: 'exit code 3' },
      outputTail: 'oops',
    });
  });

  it('writes the {inputs_file} list for the attempt and removes it after', async () => {
    const view = viewOf({ input: 'in/*.txt', output: 'list.txt', run: ['cp', '{inputs_file}', '{output}'] }, ['in/a.txt', 'in/b.txt']);
    expect(await run(view)).toEqual({ kind: 'done', outputTail: '' });
    expect(readFileSync(project.path('list.txt'), 'utf8')).toBe('in/a.txt\nin/b.txt\n');
    expect(view.run.kind === 'command' && view.run.inputsFile !== undefined && existsSync(view.run.inputsFile)).toBe(false);
  });

  it('fails before starting when a path cannot be listed one per line', async () => {
    const view = viewOf({ input: 'in/*.txt', output: 'list.txt', run: ['cp', '{inputs_file}', '{output}'] }, ['in/a\nb.txt']);
    expect(await run(view)).toMatchObject({
      kind: 'failed',
      failure: { reason: 'spawn-error', message: expect.stringContaining('contains a newline') as string },
    });
  });
});
