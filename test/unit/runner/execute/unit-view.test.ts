/**
 * A unit's view (runner/execute/unit-view.ts): computed once when the unit is found stale, plain
 * data but for a function task's function.
 */
import { describe, expect, it } from 'vitest';
import type { TaskFunction } from '../../../../src/config/types.ts';
import type { FileStat } from '../../../../src/runner/files.ts';
import { attemptInfo, fingerprintCommand, inputsByName, unitView, viewCommand, viewFor } from '../../../../src/runner/execute/unit-view.ts';
import { configOf, expand, type TaskSpec } from '../../../rig/config-builder.ts';

function unitOf(tasks: Record<string, TaskSpec>, files: readonly string[], id: string) {
  const config = configOf(tasks);
  const unit = expand(config, files).units.get(id);
  const task = config.tasks.get(unit?.task ?? '');
  if (!unit || !task) throw new Error(`no unit ${id}`);
  return { unit, task };
}

const stat: FileStat = { mtimeMs: 1, size: 1 };
const observed = (...files: string[]): Map<string, FileStat> => new Map(files.map((f) => [f, stat]));

describe('unitView', () => {
  it('renders a shell command once: argv with values out of band, the text for messages and fingerprints', () => {
    const { unit, task } = unitOf(
      { t: { input: 'in/{name}.txt', output: 'out/{name}.txt', run: 'wc {input} > {output}' } },
      ['in/a b.txt'],
      't[name=a b]',
    );
    const view = unitView(unit, task, observed('in/a b.txt'));
    expect(view.run).toMatchObject({ kind: 'command', form: 'shell', text: "wc 'in/a b.txt' > 'out/a b.txt'" });
    if (view.run.kind !== 'command') throw new Error('expected a command');
    expect(view.run.argv.join(' ')).not.toContain('a b.txt');
    expect(Object.values(view.run.env)).toContain('in/a b.txt');
    expect(viewCommand(view)).toBe(fingerprintCommand(task, unit, view.inputs));
    expect(view.info).toMatchObject({
      id: 't[name=a b]',
      input: 'in/a b.txt',
      namedInputs: { input0: ['in/a b.txt'] },
      output: 'out/a b.txt',
    });
    expect(attemptInfo(view, 3).attempt).toBe(3);
    // Data all through: a structured clone (another thread, another process) keeps it whole.
    expect(structuredClone(view)).toEqual(view);
  });

  it('names a temporary {inputs_file} in argv, and keeps the placeholder in the text (stable across runs)', () => {
    const { unit, task } = unitOf(
      { t: { input: 'in/*.txt', output: 'all.txt', run: ['cat-list', '{inputs_file}', '{output}'] } },
      ['in/a.txt', 'in/b.txt'],
      't',
    );
    const view = unitView(unit, task, observed('in/a.txt', 'in/b.txt'));
    if (view.run.kind !== 'command') throw new Error('expected a command');
    expect(view.run.text).toBe('cat-list "{inputs_file}" all.txt');
    expect(view.run.inputsFile).toMatch(/runcue-inputs-.*\.txt$/);
    expect(view.run.argv).toEqual(['cat-list', view.run.inputsFile, 'all.txt']);
    expect(view.info.inputs).toEqual(['in/a.txt', 'in/b.txt']);
  });

  it('carries a function task its function, the one part that is not data', () => {
    const fn: TaskFunction = () => undefined;
    const { unit, task } = unitOf({ t: { output: 'out.txt', run: fn, timeout: '2s', env: { A: '1' } } }, [], 't');
    const view = unitView(unit, task, new Map());
    expect(view.run).toEqual({ kind: 'function', fn });
    expect(view).toMatchObject({ timeoutMs: 2000, env: { A: '1' }, keepFailedOutputs: false });
    expect(viewCommand(view)).toBe(fn.toString());
  });
});

describe('viewFor', () => {
  it('reuses the view a check built from the same inputs, and builds one (keeping its fingerprint) otherwise', () => {
    const { unit, task } = unitOf({ t: { input: 'in.txt', output: 'out.txt', run: 'cp {input} {output}' } }, ['in.txt'], 't');
    const inputs = observed('in.txt');
    const fingerprint = { inputs: { 'in.txt': 'h' }, command: 'c', env: 'e' };
    const checked = unitView(unit, task, inputs, fingerprint);
    expect(viewFor(unit, task, inputs, checked)).toBe(checked);
    const other = observed('in.txt');
    const rebuilt = viewFor(unit, task, other, checked);
    expect(rebuilt).not.toBe(checked);
    expect(rebuilt.inputs).toBe(other);
    expect(rebuilt.fingerprint).toBe(fingerprint);
    expect(viewFor(unit, task, other, undefined).fingerprint).toBeUndefined();
  });
});

describe('inputsByName', () => {
  it('gives a glob input every observed file it matches, a missing concrete input nothing', () => {
    const { unit } = unitOf({ t: { input: { pages: 'p/*.txt', cover: 'cover.txt' }, output: 'book.txt' } }, ['p/1.txt', 'p/2.txt'], 't');
    expect(inputsByName(unit, observed('p/1.txt', 'p/2.txt', 'other.txt'))).toEqual({ pages: ['p/1.txt', 'p/2.txt'], cover: [] });
  });
});
