import { describe, expect, it } from 'vitest';
import { planTargets, planUnits, type TargetPlan } from '../../../src/graph/plan.ts';
import { configOf, memoryFiles, type TaskSpec } from '../../rig/config-builder.ts';

const TASKS: Record<string, TaskSpec> = {
  extract: { input: 'pages/{doc}/{page}.png', output: 'text/{doc}/{page}.txt' },
  summarize: { input: 'text/{doc}/*.txt', output: 'summary/{doc}.md' },
  other: { input: 'misc/{n}.txt', output: 'misc-out/{n}.txt' },
};
const FILES = ['pages/a/1.png', 'pages/a/2.png', 'pages/b/1.png', 'misc/x.txt'];
const config = configOf(TASKS);

function targets(list: readonly string[]): TargetPlan {
  const plan = planTargets(config, list);
  if (!plan.ok) throw new Error(plan.error.message);
  return plan.value;
}

describe('planTargets', () => {
  it('needs the selected tasks and their upstream', () => {
    expect([...targets(['summarize']).neededTasks].sort()).toEqual(['extract', 'summarize']);
    expect([...targets([]).neededTasks].sort()).toEqual(['extract', 'other', 'summarize']);
  });

  it('fails on an unknown target and on a cycle', () => {
    const unknown = planTargets(config, ['nope']);
    expect(!unknown.ok && unknown.error.reason).toBe('unknown-target');
    const cycle = planTargets(configOf({ a: { input: 'x/{n}', output: 'y/{n}' }, b: { input: 'y/{n}', output: 'x/{n}' } }), []);
    expect(!cycle.ok && cycle.error.reason).toBe('cycle');
  });
});

describe('planUnits', () => {
  const plan = (list: readonly string[], extra: { noDeps?: boolean; affected?: ReadonlySet<string> } = {}): string[] => {
    const { wanted } = planUnits({
      ...targets(list),
      config,
      files: memoryFiles(FILES),
      isSettled: () => false,
      noDeps: extra.noDeps ?? false,
      affected: extra.affected,
    });
    return [...wanted].sort();
  };

  it('expands only the needed tasks and wants the selection with its upstream', () => {
    expect(plan(['summary/a.md'])).toEqual(['extract[doc=a,page=1]', 'extract[doc=a,page=2]', 'summarize[doc=a]']);
  });

  it('with noDeps wants the selection alone', () => {
    expect(plan(['summary/a.md'], { noDeps: true })).toEqual(['summarize[doc=a]']);
  });

  it('with changed paths wants what they affect, and what that needs', () => {
    expect(plan([], { affected: new Set(['pages/b/1.png']) })).toEqual(['extract[doc=b,page=1]', 'summarize[doc=b]']);
    expect(plan([], { affected: new Set(['text/a/1.txt']) })).toEqual([
      'extract[doc=a,page=1]',
      'extract[doc=a,page=2]',
      'summarize[doc=a]',
    ]);
  });
});

describe('planUnits: changed paths and `after`', () => {
  // `late` runs after `gate`, which reads nothing that changes: a watch cycle for in/b.txt must
  // still check gate, or late[n=b] would run although gate is blocked (as a build finds it).
  const afterConfig = configOf({
    gate: { input: 'site/index.html', output: 'gate.txt' },
    late: { input: 'in/{n}.txt', output: 'late/{n}.txt', after: ['gate'] },
  });

  it('wants the units of the tasks a changed unit runs after', () => {
    const plan = planTargets(afterConfig, []);
    if (!plan.ok) throw new Error(plan.error.message);
    const { wanted } = planUnits({
      ...plan.value,
      config: afterConfig,
      files: memoryFiles(['in/a.txt', 'in/b.txt', 'site/index.html']),
      isSettled: () => false,
      noDeps: false,
      affected: new Set(['in/b.txt']),
    });
    expect([...wanted].sort()).toEqual(['gate', 'late[n=b]']);
  });
});
