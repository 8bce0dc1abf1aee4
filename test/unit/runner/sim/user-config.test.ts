/** A rehearsal of a user's config (not a scenario): timeouts, fresh units, dynamic outputs. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RuncueConfig } from '../../../../src/config/types.ts';
import { rehearse, type Rehearsal } from '../../../../src/runner/sim/rehearse.ts';
import type { ModelFlags } from '../../../../src/runner/sim/model.ts';
import type { SimEvent } from '../../../../src/runner/sim/simulate.ts';
import { configOf, tempProject, type TaskSpec, type TempProject } from '../../../rig/config-builder.ts';

let project: TempProject;
let start: number;
beforeEach(() => {
  project = tempProject();
  start = Math.ceil(Date.now() / 1000) * 1000 + 1000;
});
afterEach(() => project.remove());

/** A rehearsal, with every event it told (a rehearsal keeps only their counts). */
async function sim(
  tasks: Record<string, TaskSpec>,
  flags: ModelFlags,
  extra: Omit<RuncueConfig, 'tasks'> = {},
): Promise<Rehearsal & { readonly events: readonly SimEvent[] }> {
  const config = configOf(tasks, { file: project.file, extra });
  const events: SimEvent[] = [];
  const onEvent = (event: SimEvent): void => void events.push(event);
  const source = { kind: 'config', config, files: [] } as const;
  const result = await rehearse({ source, targets: [], flags, seed: '1', start, keepGoing: true, onEvent });
  if (!result.ok) throw new Error(result.error.message);
  return { ...result.value, events };
}

describe('runcue sim on a config', () => {
  it("fails an attempt whose latency exceeds the task's timeout, at the timeout", async () => {
    project.write('in/a.txt', { mtimeMs: start - 60_000 });
    const { summary, events } = await sim(
      { slow: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: 'x', timeout: '1s' } },
      { latency: '5s' },
    );
    const fail = events.find((e) => e.type === 'unit:fail');
    expect(fail && fail.type === 'unit:fail' ? fail.error : undefined).toMatchObject({ reason: 'timeout', timeoutMs: 1000 });
    expect(summary.makespanMs).toBe(1000);
    expect(summary.ok).toBe(false);
  });

  it('skips units that are fresh in the project, and gives each dynamic output its fanout', async () => {
    project.write('docs/a.pdf', { mtimeMs: start - 60_000 });
    project.write('docs/b.pdf', { mtimeMs: start - 60_000 });
    project.write('out/a.txt', { mtimeMs: start - 30_000 });
    const { summary } = await sim(
      {
        copy: { input: 'docs/{doc}.pdf', output: 'out/{doc}.txt', run: 'x' },
        split: { input: 'docs/{doc}.pdf', output: 'pages/{doc}/*.png', run: 'x' },
        ocr: { uses: 'ocr', input: 'pages/{doc}/{page}.png', output: 'text/{doc}/{page}.txt', run: 'x' },
      },
      { fanout: 'split=4', latency: 'ocr=1s,100ms' },
      { services: { ocr: { concurrent: 2 } } },
    );
    // copy[doc=a] is fresh; copy[doc=b], 2 splits and 2 x 4 ocr units run.
    expect(summary.units).toMatchObject({ fresh: 1, built: 11, failed: 0 });
    // 8 ocr units, 2 at once, 1 s each, after a 100 ms split.
    expect(summary.makespanMs).toBe(100 + 4 * 1000);
  });
});
