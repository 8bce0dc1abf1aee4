import { describe, expect, it } from 'vitest';
import type { ResolvedConfig } from '../../../src/config/resolved.ts';
import { parseTargets, selectUnits, tasksNeeded, type Selection, type TargetFailure } from '../../../src/graph/select.ts';
import type { UnitGraph } from '../../../src/graph/unit.ts';
import { configOf, expand, taskGraphOf, type TaskSpec } from '../../rig/config-builder.ts';

const TASKS: Record<string, TaskSpec> = {
  split: { input: 'docs/{doc}.pdf', output: 'work/{doc}/pages/*.png' },
  extract: { input: 'work/{doc}/pages/{page}.png', output: 'work/{doc}/text/{page}.txt' },
  summarize: { input: 'work/{doc}/text/*.txt', output: 'out/{doc}.md' },
  report: { output: 'report.txt', after: ['summarize'] },
  lint: { input: 'src/{file}.ts', output: 'lint/{file}.log' },
};
const FILES = [
  'docs/a.pdf',
  'docs/b.pdf',
  'work/a/pages/001.png',
  'work/a/pages/002.png',
  'work/a/pages/010.png',
  'work/b/pages/001.png',
  'src/main.ts',
];
const SETTLED = ['split[doc=a]', 'split[doc=b]'];

const config = configOf(TASKS);
const tasks = taskGraphOf(config);
const graph = expand(config, FILES, { settled: SETTLED });

function select(targets: readonly string[], c: ResolvedConfig = config): Selection {
  const parsed = parseTargets(targets, c);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value;
}

function failure(targets: readonly string[], c: ResolvedConfig = config): TargetFailure {
  const parsed = parseTargets(targets, c);
  if (parsed.ok) throw new Error(`expected ${targets.join(' ')} to be rejected`);
  return parsed.error;
}

/** Ids of the units the selection matches (no upstream), sorted. */
function matched(targets: readonly string[], g: UnitGraph = graph, c: ResolvedConfig = config): string[] {
  const selection = select(targets, c);
  return [...g.units.values()]
    .filter((u) => selection.matches(u))
    .map((u) => u.id)
    .sort();
}

function units(targets: readonly string[], noDeps = false): string[] {
  return [...selectUnits(graph, select(targets), { noDeps, after: tasks.after })].sort();
}

describe('parseTargets', () => {
  it('selects everything without targets', () => {
    const selection = select([]);
    expect(selection.all).toBe(true);
    expect([...selection.tasks]).toEqual(['split', 'extract', 'summarize', 'report', 'lint']);
    expect(matched([])).toHaveLength(graph.units.size);
  });

  it('selects a task by name', () => {
    const selection = select(['extract']);
    expect(selection.all).toBe(false);
    expect([...selection.tasks]).toEqual(['extract']);
    expect(matched(['extract'])).toEqual([
      'extract[doc=a,page=001]',
      'extract[doc=a,page=002]',
      'extract[doc=a,page=010]',
      'extract[doc=b,page=001]',
    ]);
  });

  it('selects the union of several targets', () => {
    expect(matched(['lint', 'out/b.md'])).toEqual(['lint[file=main]', 'summarize[doc=b]']);
    expect([...select(['lint', 'out/b.md']).tasks].sort()).toEqual(['lint', 'summarize']);
  });

  it('selects by output path, with or without ./', () => {
    expect([...select(['out/a.md']).tasks]).toEqual(['summarize']);
    expect(matched(['out/a.md'])).toEqual(['summarize[doc=a]']);
    expect(matched(['./out/a.md'])).toEqual(['summarize[doc=a]']);
    expect(matched(['work/a/text/002.txt'])).toEqual(['extract[doc=a,page=002]']);
  });

  it('selects by output glob', () => {
    expect(matched(['work/a/text/00[1-2].txt'])).toEqual(['extract[doc=a,page=001]', 'extract[doc=a,page=002]']);
    expect(matched(['work/*/text/001.txt'])).toEqual(['extract[doc=a,page=001]', 'extract[doc=b,page=001]']);
    expect(matched(['out/*.md'])).toEqual(['summarize[doc=a]', 'summarize[doc=b]']);
  });

  it('selects a dynamic producer by a file it will make', () => {
    expect([...select(['work/a/pages/001.png']).tasks]).toEqual(['split']);
    expect(matched(['work/a/pages/001.png'])).toEqual(['split[doc=a]']);
    expect(matched(['work/*/pages/*.png'])).toEqual(['split[doc=a]', 'split[doc=b]']);
  });

  it('selects an output path no unit has yet by its task, matching nothing', () => {
    expect([...select(['out/zzz.md']).tasks]).toEqual(['summarize']);
    expect(matched(['out/zzz.md'])).toEqual([]);
  });

  it('filters units by wildcard globs', () => {
    expect(matched(['extract[doc=a]'])).toEqual(['extract[doc=a,page=001]', 'extract[doc=a,page=002]', 'extract[doc=a,page=010]']);
    expect(matched(['extract[doc=a,page=00*]'])).toEqual(['extract[doc=a,page=001]', 'extract[doc=a,page=002]']);
    expect(matched(['extract[page=0[01]?]'])).toEqual([
      'extract[doc=a,page=001]',
      'extract[doc=a,page=002]',
      'extract[doc=a,page=010]',
      'extract[doc=b,page=001]',
    ]);
    expect(matched(['extract[ doc = b ]'])).toEqual(['extract[doc=b,page=001]']);
    expect(matched(['extract[]'])).toHaveLength(4);
    expect(matched(['extract[doc=zzz]'])).toEqual([]);
  });

  it('matches a placeholder with any filter on its unbound wildcard: the units it stands for may have that value', () => {
    const pending = expand(config, ['docs/c.pdf']);
    expect([...pending.units.keys()]).toContain('extract[doc=c,page=*]');
    expect(matched(['extract[page=*]'], pending)).toEqual(['extract[doc=c,page=*]']);
    expect(matched(['extract[doc=c,page=001]'], pending)).toEqual(['extract[doc=c,page=*]']);
    expect(matched(['extract[doc=c]'], pending)).toEqual(['extract[doc=c,page=*]']);
    expect(matched(['extract[doc=d,page=001]'], pending)).toEqual([]);
  });

  it('rejects an unknown target with a did-you-mean', () => {
    expect(failure(['extrct'])).toEqual({
      reason: 'unknown-target',
      target: 'extrct',
      message: 'unknown target "extrct": not a task, and no task\'s output matches it; did you mean "extract"?',
    });
    expect(failure(['sumarize[doc=a]']).message).toBe(
      'unknown target "sumarize[doc=a]": not a task, and no task\'s output matches it; did you mean "summarize"?',
    );
  });

  it('lists the output patterns for a path-like target, the tasks otherwise', () => {
    expect(failure(['nothing/here.txt']).message).toBe(
      'unknown target "nothing/here.txt": not a task, and no task\'s output matches it (outputs: work/{doc}/pages/*.png, work/{doc}/text/{page}.txt, out/{doc}.md, report.txt, lint/{file}.log)',
    );
    expect(failure(['zzzzzzzz']).message).toBe(
      'unknown target "zzzzzzzz": not a task, and no task\'s output matches it (tasks: split, extract, summarize, report, lint)',
    );
  });

  it('fails on the first bad target of several', () => {
    expect(failure(['extract', 'nope.txt', 'zzz']).target).toBe('nope.txt');
  });

  it('rejects a filter over a key that is not a wildcard of the task', () => {
    expect(failure(['extract[foo=a]'])).toEqual({
      reason: 'unknown-target',
      target: 'extract[foo=a]',
      message: 'extract[foo=a]: "foo=a" is not key=glob over a wildcard of extract (wildcards: doc, page)',
    });
    expect(failure(['extract[doc]']).message).toBe('extract[doc]: "doc" is not key=glob over a wildcard of extract (wildcards: doc, page)');
    expect(failure(['extract[=a]']).message).toBe('extract[=a]: "=a" is not key=glob over a wildcard of extract (wildcards: doc, page)');
    expect(failure(['report[x=1]']).message).toBe('report[x=1]: "x=1" is not key=glob over a wildcard of report (wildcards: none)');
  });

  it('rejects an empty or broken glob in a filter as a usage error, not a crash', () => {
    expect(failure(['extract[doc=]'])).toEqual({
      reason: 'unknown-target',
      target: 'extract[doc=]',
      message: 'extract[doc=]: "doc=": an empty glob matches nothing (use * for any value)',
    });
    expect(failure(['extract[doc= ,page=1]']).message).toMatch(/^extract\[doc= ,page=1\]: "doc=": an empty glob/);
  });

  it('rejects a filter that names one wildcard twice, saying how to select either value', () => {
    expect(failure(['extract[doc=a,doc=b]'])).toEqual({
      reason: 'unknown-target',
      target: 'extract[doc=a,doc=b]',
      message: 'extract[doc=a,doc=b]: doc is given twice (a unit has one value for it; doc={a,b} selects either)',
    });
    expect(failure(['extract[doc=a,page=1,doc=*]']).message).toMatch(/: doc is given twice/);
  });

  it('accepts a brace alternation in a filter value', () => {
    expect(matched(['extract[page={001,010}]'])).toEqual(['extract[doc=a,page=001]', 'extract[doc=a,page=010]', 'extract[doc=b,page=001]']);
  });

  it('selects a root output glob that looks like a filter', () => {
    const flat = configOf({ copy: { input: 'in/{n}', output: '{n}' } });
    const g = expand(flat, ['in/page1', 'in/page2', 'in/page3']);
    expect(matched(['page[12]'], g, flat)).toEqual(['copy[n=page1]', 'copy[n=page2]']);
  });
});

describe('tasksNeeded', () => {
  it('adds every task upstream of the selection, transitively', () => {
    expect([...tasksNeeded(select(['summarize']), tasks)].sort()).toEqual(['extract', 'split', 'summarize']);
    expect([...tasksNeeded(select(['split']), tasks)]).toEqual(['split']);
    expect([...tasksNeeded(select(['lint']), tasks)]).toEqual(['lint']);
  });

  it('adds `after` tasks and their upstream', () => {
    expect([...tasksNeeded(select(['report']), tasks)].sort()).toEqual(['extract', 'report', 'split', 'summarize']);
  });

  it('adds the upstream of every task an output target may come from', () => {
    expect([...tasksNeeded(select(['out/a.md']), tasks)].sort()).toEqual(['extract', 'split', 'summarize']);
  });

  it('is every task without targets', () => {
    expect(tasksNeeded(select([]), tasks).size).toBe(5);
  });
});

describe('selectUnits', () => {
  it('adds the units the selection depends on', () => {
    expect(units(['out/a.md'])).toEqual([
      'extract[doc=a,page=001]',
      'extract[doc=a,page=002]',
      'extract[doc=a,page=010]',
      'split[doc=a]',
      'summarize[doc=a]',
    ]);
  });

  it('keeps only the selection with noDeps', () => {
    expect(units(['out/a.md'], true)).toEqual(['summarize[doc=a]']);
    expect(units(['extract[doc=b]'], true)).toEqual(['extract[doc=b,page=001]']);
  });

  it('adds every unit of the `after` tasks and what they need', () => {
    expect(units(['report'])).toEqual([
      'extract[doc=a,page=001]',
      'extract[doc=a,page=002]',
      'extract[doc=a,page=010]',
      'extract[doc=b,page=001]',
      'report',
      'split[doc=a]',
      'split[doc=b]',
      'summarize[doc=a]',
      'summarize[doc=b]',
    ]);
    expect(units(['report'], true)).toEqual(['report']);
  });

  it('adds nothing for a unit without deps', () => {
    expect(units(['lint'])).toEqual(['lint[file=main]']);
  });

  it('selects every unit without targets', () => {
    expect(units([])).toHaveLength(graph.units.size);
    expect(units([], true)).toHaveLength(graph.units.size);
  });

  it('follows placeholders to their pending producer', () => {
    const pending = expand(config, ['docs/c.pdf']);
    const selected = selectUnits(pending, select(['out/c.md']), { noDeps: false, after: tasks.after });
    expect([...selected].sort()).toEqual(['extract[doc=c,page=*]', 'split[doc=c]', 'summarize[doc=c]']);
  });
});
