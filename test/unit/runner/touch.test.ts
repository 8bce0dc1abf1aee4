/** `touch` in a real temp dir: one common mtime for every touchable unit's outputs, and why others are skipped. */
import { statSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readOutputRecord } from '../../../src/runner/output-record.ts';
import { touchUnits } from '../../../src/runner/touch.ts';
import { planIn, tempProject, type TaskSpec, type TempProject } from '../../rig/config-builder.ts';
import { nodeFileSystem } from '../../../src/runner/file-system.ts';

let project: TempProject;
beforeEach(() => {
  project = tempProject();
});
afterEach(() => project.remove());

const planOf = (tasks: Readonly<Record<string, TaskSpec>>, targets: readonly string[] = []) => planIn(project, tasks, targets);

const T0 = Date.UTC(2026, 0, 1);
const NOW = T0 + 60_000;
const clock = { now: () => NOW };

describe('touchUnits', () => {
  it("gives every output of every touchable unit the clock's time and leaves inputs alone", () => {
    project.write('src/a.txt', { mtimeMs: T0 + 5000 });
    project.write('src/b.txt', { mtimeMs: T0 + 5000 });
    project.write('work/a.up', { mtimeMs: T0 });
    project.write('work/b.up', { mtimeMs: T0 + 1000 });
    const { config, plan } = planOf({ upper: { input: 'src/{name}.txt', output: 'work/{name}.up' } });
    expect(touchUnits(config, plan, clock)).toEqual({ time: NOW, touched: 2, files: 2, skipped: [] });
    expect(statSync(project.path('work/a.up')).mtimeMs).toBe(NOW);
    expect(statSync(project.path('work/b.up')).mtimeMs).toBe(NOW);
    expect(statSync(project.path('src/a.txt')).mtimeMs).toBe(T0 + 5000);
  });

  it('skips a unit with a missing output or input, and one without outputs, saying why', () => {
    project.write('src/a.txt');
    project.write('src/b.txt');
    project.write('work/b.up');
    project.write('summary.txt');
    const { config, plan } = planOf({
      upper: { input: 'src/{name}.txt', output: 'work/{name}.up' },
      report: { input: 'src/a.txt' },
      summary: { input: 'notes.txt', output: 'summary.txt' },
    });
    const result = touchUnits(config, plan, clock);
    expect(result.touched).toBe(1);
    expect([...result.skipped].sort((x, y) => x.unit.localeCompare(y.unit))).toEqual([
      { unit: 'report', reason: 'it has no outputs (it runs on every build)' },
      { unit: 'summary', reason: 'input missing: notes.txt' },
      { unit: 'upper[name=a]', reason: 'output missing: work/a.up' },
    ]);
  });

  it("records the files a glob output matches as the unit's own", () => {
    project.write('src/doc.txt');
    project.write('pages/doc/1.txt');
    project.write('pages/doc/2.txt');
    const { config, plan } = planOf({ split: { input: 'src/{doc}.txt', output: 'pages/{doc}/*.txt' } });
    expect(touchUnits(config, plan, clock)).toMatchObject({ touched: 1, files: 2 });
    expect(readOutputRecord(nodeFileSystem(config.root), 'split[doc=doc]')?.files).toEqual(['pages/doc/1.txt', 'pages/doc/2.txt']);
  });
});
