/** `clean`'s rules in a real temp dir: which files may go, which stay and why, and what a removal forgets. */
import { existsSync, symlinkSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanFiles, planClean, planOrphans } from '../../../src/runner/clean.ts';
import { readOutputRecord, recordOutputs } from '../../../src/runner/output-record.ts';
import { planIn, tempProject, type TaskSpec, type TempProject } from '../../rig/config-builder.ts';
import { nodeFileSystem } from '../../../src/runner/file-system.ts';

let project: TempProject;
beforeEach(() => {
  project = tempProject();
});
afterEach(() => project.remove());

const planOf = (tasks: Readonly<Record<string, TaskSpec>>, targets: readonly string[] = []) => planIn(project, tasks, targets);

const CHAIN: Record<string, TaskSpec> = {
  upper: { input: 'src/{name}.txt', output: 'work/{name}.up' },
  wrap: { input: 'work/{name}.up', output: 'out/{name}.md' },
};

describe('planClean', () => {
  it('removes the existing outputs of the selected units only, never their inputs', () => {
    for (const f of ['src/a.txt', 'src/b.txt', 'work/a.up', 'work/b.up', 'out/a.md']) project.write(f);
    const { config, plan } = planOf(CHAIN, ['wrap']);
    expect(planClean(config, plan.graph, plan.selected)).toEqual({ remove: [{ path: 'out/a.md', unit: 'wrap[name=a]' }], kept: [] });
  });

  it('keeps a file a glob output matches when no record says the unit wrote it', () => {
    project.write('src/doc.txt');
    project.write('pages/doc/1.txt');
    project.write('pages/doc/2.txt');
    const { config, plan } = planOf({ split: { input: 'src/{doc}.txt', output: 'pages/{doc}/*.txt' } });
    const unit = plan.graph.units.get('split[doc=doc]');
    if (!unit) throw new Error('no unit');
    recordOutputs(nodeFileSystem(config.root), unit, ['pages/doc/1.txt'], new Map());
    const cleanPlan = planClean(config, plan.graph, plan.selected);
    expect(cleanPlan.remove).toEqual([{ path: 'pages/doc/1.txt', unit: 'split[doc=doc]' }]);
    expect(cleanPlan.kept).toEqual([{ path: 'pages/doc/2.txt', reason: 'no record says split[doc=doc] wrote it' }]);
  });

  it('keeps an output reached through a symlink out of the project', () => {
    const outside = tempProject();
    try {
      project.write('src/a.txt');
      outside.write('a.up');
      symlinkSync(outside.root, project.path('work'));
      const { config, plan } = planOf(CHAIN, ['upper']);
      expect(planClean(config, plan.graph, plan.selected)).toEqual({
        remove: [],
        kept: [{ path: 'work/a.up', reason: 'it is outside the project (through a symlink)' }],
      });
    } finally {
      outside.remove();
    }
  });
});

describe('cleanFiles', () => {
  it('a dry run lists and removes nothing; a real one removes and forgets the output records', () => {
    project.write('src/doc.txt');
    project.write('pages/doc/1.txt');
    const { config, plan } = planOf({ split: { input: 'src/{doc}.txt', output: 'pages/{doc}/*.txt' } });
    const unit = plan.graph.units.get('split[doc=doc]');
    if (!unit) throw new Error('no unit');
    recordOutputs(nodeFileSystem(config.root), unit, ['pages/doc/1.txt'], new Map());
    const cleanPlan = planClean(config, plan.graph, plan.selected);

    expect(cleanFiles(config, cleanPlan, true)).toEqual({ dryRun: true, removed: ['pages/doc/1.txt'], kept: [], failed: [], units: 1 });
    expect(existsSync(project.path('pages/doc/1.txt'))).toBe(true);

    expect(cleanFiles(config, cleanPlan, false)).toEqual({ dryRun: false, removed: ['pages/doc/1.txt'], kept: [], failed: [], units: 1 });
    expect(existsSync(project.path('pages/doc/1.txt'))).toBe(false);
    expect(readOutputRecord(nodeFileSystem(config.root), unit.id)).toBeNull();
  });
});

describe('planOrphans', () => {
  it('offers the recorded files of units that no longer exist, unless a current unit reads or writes them', () => {
    project.write('src/a.txt');
    project.write('index/a.txt');
    project.write('pages/gone/1.txt');
    const { config, plan } = planOf({
      split: { input: 'src/{doc}.txt', output: 'pages/{doc}/*.txt' },
      index: { input: 'src/{doc}.txt', output: 'index/{doc}.txt' },
    });
    // A unit of a task since renamed, whose record names a file a current unit now writes.
    const gone = {
      id: 'old[doc=gone]',
      task: 'old',
      wildcards: { doc: 'gone' },
      inputs: [],
      outputs: [{ name: '', path: '*/*', isGlob: true }],
      placeholder: false,
    };
    recordOutputs(nodeFileSystem(config.root), gone, ['index/a.txt', 'pages/gone/1.txt'], new Map());
    expect(planOrphans(config, plan.graph)).toEqual({
      remove: [{ path: 'pages/gone/1.txt', unit: 'old[doc=gone]' }],
      kept: [{ path: 'index/a.txt', reason: 'old[doc=gone] no longer exists, but a current unit reads or writes it' }],
    });
  });
});
