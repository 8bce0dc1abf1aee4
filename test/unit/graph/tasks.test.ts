import { describe, expect, it } from 'vitest';
import { buildTaskGraph, inputGlob } from '../../../src/graph/tasks.ts';
import { configFailureOf, configOf, cycleOf, taskGraphOf, type TaskSpec } from '../../rig/config-builder.ts';

/** The task graph's maps as plain objects, for whole-value assertions. */
function edges(tasks: Record<string, TaskSpec>) {
  const graph = taskGraphOf(configOf(tasks));
  return {
    order: graph.order,
    upstream: Object.fromEntries(graph.upstream),
    after: Object.fromEntries(graph.after),
    downstream: Object.fromEntries(graph.downstream),
  };
}

const PIPELINE: Record<string, TaskSpec> = {
  split: { input: 'docs/{doc}.pdf', output: 'work/{doc}/pages/*.png' },
  extract: { input: 'work/{doc}/pages/{page}.png', output: 'work/{doc}/text/{page}.txt' },
  summarize: { input: 'work/{doc}/text/*.txt', output: 'out/{doc}.md' },
};

describe('buildTaskGraph: edges', () => {
  it('links producers to consumers by pattern intersection (dynamic outputs and fan-in too)', () => {
    expect(edges(PIPELINE)).toEqual({
      order: ['split', 'extract', 'summarize'],
      upstream: { split: [], extract: ['split'], summarize: ['extract'] },
      after: { split: [], extract: [], summarize: [] },
      downstream: { split: ['extract'], extract: ['summarize'], summarize: [] },
    });
  });

  it('adds no edge when patterns cannot match the same path', () => {
    const graph = edges({
      png: { input: 'src/{n}.svg', output: 'img/{n}.png' },
      jpg: { input: 'img/{n}.jpg', output: 'thumb/{n}.jpg' },
      other: { input: 'elsewhere/*.png', output: 'x.txt' },
    });
    expect(graph.upstream).toEqual({ png: [], jpg: [], other: [] });
    expect(graph.downstream).toEqual({ png: [], jpg: [], other: [] });
  });

  it('finds an edge through any of several inputs and outputs, and lists a producer once', () => {
    const graph = edges({
      gen: { input: 'src/{n}.txt', output: { a: 'gen/{n}.a', b: 'gen/{n}.b' } },
      use: { input: ['gen/{n}.a', 'gen/{n}.b', 'static/{n}.cfg'], output: 'out/{n}' },
    });
    expect(graph.upstream['use']).toEqual(['gen']);
    expect(graph.downstream['gen']).toEqual(['use']);
  });

  it('lists producers in declaration order', () => {
    const graph = edges({
      b: { input: 'in/{n}', output: 'mid/b/{n}' },
      a: { input: 'in/{n}', output: 'mid/a/{n}' },
      all: { input: ['mid/a/{n}', 'mid/b/{n}'], output: 'out/{n}' },
    });
    expect(graph.upstream['all']).toEqual(['b', 'a']);
  });

  it('evaluates a function input with `*` for every wildcard to find producers', () => {
    const graph = edges({
      settings: { input: 'raw/{x}.yaml', output: 'cfg/{x}.json' },
      ocr: { input: { image: 'pages/{page}.png', cfg: ({ page }) => `cfg/${page}.json` }, output: 'text/{page}.txt' },
    });
    expect(graph.upstream['ocr']).toEqual(['settings']);
  });

  it('asks a function input with `*`, and skips one that throws instead of failing', () => {
    const settings: Record<string, { readonly file: string }> = { '1': { file: 'one' } };
    const config = configOf({
      ocr: {
        input: {
          image: 'pages/{page}.png',
          cfg: ({ page }) => `cfg/${page ?? ''}.json`,
          named: ({ page }) => `cfg/${(settings[page ?? ''] as { file: string }).file}.json`,
        },
        output: 'text/{page}.txt',
      },
    });
    const [image, cfg, named] = config.tasks.get('ocr')?.inputs ?? [];
    if (!image || !cfg || !named) throw new Error('expected three inputs');
    expect(inputGlob(image, ['page'])).toBe('pages/*.png');
    expect(inputGlob(cfg, ['page'])).toBe('cfg/*.json');
    expect(inputGlob(named, ['page'])).toBeUndefined();
    expect(buildTaskGraph(config).ok).toBe(true);
  });

  it('keeps `after` apart from data edges and adds it downstream', () => {
    expect(
      edges({
        report: { output: 'report.txt', after: ['fetch', 'fetch'] },
        fetch: { output: 'data.json' },
      }),
    ).toEqual({
      order: ['fetch', 'report'],
      upstream: { report: [], fetch: [] },
      after: { report: ['fetch'], fetch: [] },
      downstream: { report: [], fetch: ['report'] },
    });
  });

  it('lists a task downstream once when it both consumes from and runs after another', () => {
    const graph = edges({
      a: { input: 'src/{n}', output: 'mid/{n}' },
      b: { input: 'mid/{n}', output: 'out/{n}', after: ['a'] },
    });
    expect(graph.downstream['a']).toEqual(['b']);
  });
});

describe('buildTaskGraph: order', () => {
  it('puts every producer before its consumers, whatever the declaration order', () => {
    const graph = edges({
      summarize: PIPELINE['summarize'] ?? {},
      extract: PIPELINE['extract'] ?? {},
      split: PIPELINE['split'] ?? {},
    });
    expect(graph.order).toEqual(['split', 'extract', 'summarize']);
  });

  it('keeps independent tasks in declaration order', () => {
    expect(edges({ c: { output: 'c' }, a: { output: 'a' }, b: { output: 'b' } }).order).toEqual(['c', 'a', 'b']);
  });

  it('orders `after` dependencies first', () => {
    const graph = edges({
      d: { output: 'd.txt', after: ['c'] },
      c: { input: 'y/{n}', output: 'z/{n}' },
      a: { input: 'src/{n}', output: 'x/{n}' },
      b: { input: 'x/{n}', output: 'y/{n}' },
    });
    expect(graph.order).toEqual(['a', 'b', 'c', 'd']);
  });

  it('is deterministic: the same config gives the same graph', () => {
    const tasks: Record<string, TaskSpec> = {
      z: { input: 'm/{n}', output: 'z/{n}' },
      m: { input: 'a/{n}', output: 'm/{n}' },
      y: { input: 'm/{n}', output: 'y/{n}', after: ['z'] },
      a: { output: 'a/{n}', input: 'src/{n}' },
    };
    const first = edges(tasks);
    for (let i = 0; i < 5; i++) expect(edges(tasks)).toEqual(first);
    expect(first.order).toEqual(['a', 'm', 'z', 'y']);
  });

  it('satisfies every edge on a wide diamond', () => {
    const tasks: Record<string, TaskSpec> = { root: { input: 'src/{n}', output: 'r/{n}' } };
    for (let i = 0; i < 20; i++) tasks[`mid${i}`] = { input: 'r/{n}', output: `m${i}/{n}` };
    tasks['join'] = { input: Array.from({ length: 20 }, (_, i) => `m${i}/{n}`), output: 'out/{n}' };
    const graph = taskGraphOf(configOf(tasks));
    const position = new Map(graph.order.map((name, i) => [name, i]));
    for (const [consumer, producers] of graph.upstream) {
      for (const producer of producers) expect(position.get(producer)).toBeLessThan(position.get(consumer) ?? -1);
    }
    expect(graph.order[0]).toBe('root');
    expect(graph.order.at(-1)).toBe('join');
  });
});

describe('buildTaskGraph: cycles', () => {
  it('reports a two-task cycle with its path', () => {
    const failure = cycleOf(
      configOf({
        extract: { input: 'text/{n}.md', output: 'pages/{n}.txt' },
        summarize: { input: 'pages/{n}.txt', output: 'text/{n}.md' },
      }),
    );
    // Printed from the first declared task, as SPEC's example reads.
    expect(failure).toEqual({
      reason: 'cycle',
      cycle: ['extract', 'summarize', 'extract'],
      message: 'dependency cycle: extract -> summarize -> extract',
    });
  });

  it('reports the path in producer -> consumer direction', () => {
    // Data flows a -> b -> c -> a.
    const config = configOf({
      b: { input: 'x/{n}.md', output: 'z/{n}' },
      c: { input: 'z/{n}', output: 'x/{n}.txt' },
      a: { input: 'x/{n}.txt', output: 'x/{n}.md' },
    });
    const failure = cycleOf(config);
    expect(failure.message).toBe('dependency cycle: b -> c -> a -> b');
    expect(failure.cycle).toEqual(['b', 'c', 'a', 'b']);
    // Each step is a real producer -> consumer edge.
    const consumers: Record<string, string> = { a: 'b', b: 'c', c: 'a' };
    for (let i = 0; i + 1 < failure.cycle.length; i++) {
      expect(consumers[failure.cycle[i] ?? '']).toBe(failure.cycle[i + 1]);
    }
  });

  it('reports a task that consumes its own output', () => {
    const failure = cycleOf(configOf({ grow: { input: 'data/{n}.txt', output: 'data/{n}.txt' } }));
    expect(failure.message).toBe('dependency cycle: grow -> grow');
    expect(failure.cycle).toEqual(['grow', 'grow']);
  });

  it('reports a self-cycle through a glob', () => {
    expect(cycleOf(configOf({ index: { input: 'site/**/*.html', output: 'site/index.html' } })).message).toBe(
      'dependency cycle: index -> index',
    );
  });

  it('reports cycles through `after`', () => {
    const failure = cycleOf(configOf({ a: { output: 'a.txt', after: ['b'] }, b: { output: 'b.txt', after: ['a'] } }));
    expect(failure.message).toBe('dependency cycle: a -> b -> a');
  });

  it('reports cycles mixing data edges and `after`', () => {
    const failure = cycleOf(
      configOf({
        make: { input: 'src/{n}', output: 'gen/{n}', after: ['check'] },
        check: { input: 'gen/{n}', output: 'ok/{n}' },
      }),
    );
    expect(failure.message).toBe('dependency cycle: make -> check -> make');
  });

  it('gives the same cycle message every time', () => {
    const config = configOf({
      a: { input: 'q/{n}', output: 'p/{n}' },
      b: { input: 'p/{n}', output: 'q/{n}' },
      c: { input: 'p/{n}', output: 'r/{n}' },
    });
    const messages = new Set(Array.from({ length: 5 }, () => cycleOf(config).message));
    expect([...messages]).toEqual(['dependency cycle: a -> b -> a']);
  });

  it('leaves `after` on itself to the config check', () => {
    const failure = configFailureOf({ a: { output: 'a.txt', after: ['a'] } });
    expect(failure.reason === 'config-invalid' ? failure.issues : []).toEqual([
      { path: 'tasks.a.after[0]', message: 'task "a" cannot run after itself' },
    ]);
  });
});
