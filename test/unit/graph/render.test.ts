/** Graph views and their DOT, Mermaid and JSON renderings: pure, no files. */
import { execFileSync, spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { globMatcher } from '../../../src/patterns/glob-match.ts';
import type { Pattern } from '../../../src/patterns/pattern.ts';
import type { ResolvedConfig } from '../../../src/config/resolved.ts';
import { resolveConfig } from '../../../src/config/resolve.ts';
import { expandGraph } from '../../../src/graph/expand.ts';
import { dotId, dotLabel, mermaidText, renderDot, renderGraph, renderJson, renderMermaid } from '../../../src/graph/render.ts';
import { buildTaskGraph, type TaskGraph } from '../../../src/graph/tasks.ts';
import { taskGraphView, unitGraphView, type GraphView } from '../../../src/graph/view.ts';

function resolve(raw: unknown): ResolvedConfig {
  const result = resolveConfig(raw, '/project/runcue.config.ts', { cores: 4 });
  if (!result.ok) throw new Error(`expected a valid config: ${JSON.stringify(result.error)}`);
  return result.value;
}

function taskGraph(config: ResolvedConfig): TaskGraph {
  const result = buildTaskGraph(config);
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

const PIPELINE = {
  services: { ocr: { rate: '60/min', concurrent: 2 } },
  tasks: {
    setup: { output: 'setup.done', run: 'true' },
    extract: { uses: 'ocr', input: 'pages/{doc}/{page}.png', output: 'text/{doc}/{page}.txt', run: 'true' },
    summarize: { input: 'text/{doc}/*.txt', output: 'out/{doc}.md', run: 'true', after: ['setup'] },
  },
};

/** A unit view of PIPELINE over the given existing files. */
function unitView(files: readonly string[]): GraphView {
  const config = resolve(PIPELINE);
  const tasks = taskGraph(config);
  const source = { list: (p: Pattern) => files.filter(globMatcher(p.glob)) };
  const graph = expandGraph({ config, tasks, files: source, isSettled: () => false });
  return unitGraphView(graph, new Set(graph.units.keys()), tasks.after);
}

describe('taskGraphView', () => {
  it('has data edges from producers and after edges, producers first', () => {
    const config = resolve(PIPELINE);
    const view = taskGraphView(config, taskGraph(config), { unitCounts: new Map([['extract', 3]]) });
    expect(view.nodes.map((n) => n.id)).toEqual(['setup', 'extract', 'summarize']);
    expect(view.edges).toEqual([
      { from: 'extract', to: 'summarize', kind: 'data' },
      { from: 'setup', to: 'summarize', kind: 'after' },
    ]);
    expect(view.nodes[1]).toEqual({
      id: 'extract',
      task: 'extract',
      uses: ['ocr'],
      inputs: ['pages/{doc}/{page}.png'],
      outputs: ['text/{doc}/{page}.txt'],
      units: 3,
    });
  });

  it('keeps only the tasks in `only`, and edges between them', () => {
    const config = resolve(PIPELINE);
    const view = taskGraphView(config, taskGraph(config), { only: new Set(['extract', 'summarize']) });
    expect(view.nodes.map((n) => n.id)).toEqual(['extract', 'summarize']);
    expect(view.edges).toEqual([{ from: 'extract', to: 'summarize', kind: 'data' }]);
  });
});

describe('unitGraphView', () => {
  it('has one node per unit, data edges from deps and after edges from every unit of the after task', () => {
    const view = unitView(['pages/a/1.png', 'pages/a/2.png', 'pages/b/1.png']);
    expect(view.nodes.map((n) => n.id)).toEqual([
      'setup',
      'extract[doc=a,page=1]',
      'extract[doc=a,page=2]',
      'extract[doc=b,page=1]',
      'summarize[doc=a]',
      'summarize[doc=b]',
    ]);
    expect(view.edges).toEqual([
      { from: 'extract[doc=a,page=1]', to: 'summarize[doc=a]', kind: 'data' },
      { from: 'extract[doc=a,page=2]', to: 'summarize[doc=a]', kind: 'data' },
      { from: 'setup', to: 'summarize[doc=a]', kind: 'after' },
      { from: 'extract[doc=b,page=1]', to: 'summarize[doc=b]', kind: 'data' },
      { from: 'setup', to: 'summarize[doc=b]', kind: 'after' },
    ]);
  });

  it('drops units outside the id set and their edges', () => {
    const config = resolve(PIPELINE);
    const tasks = taskGraph(config);
    const graph = expandGraph({
      config,
      tasks,
      files: { list: (p) => ['pages/a/1.png'].filter(globMatcher(p.glob)) },
      isSettled: () => false,
    });
    const view = unitGraphView(graph, new Set(['extract[doc=a,page=1]', 'summarize[doc=a]']), tasks.after);
    expect(view.edges).toEqual([{ from: 'extract[doc=a,page=1]', to: 'summarize[doc=a]', kind: 'data' }]);
  });
});

describe('renderDot', () => {
  it('quotes every id, labels tasks with their services, dashes after edges', () => {
    const config = resolve(PIPELINE);
    const dot = renderDot(taskGraphView(config, taskGraph(config), { unitCounts: new Map([['extract', 1]]) }));
    expect(dot).toBe(
      [
        'digraph runcue {',
        '  rankdir=LR;',
        '  node [shape=box];',
        '  "setup" [label="setup\\ncpu"];',
        '  "extract" [label="extract\\nocr · 1 unit"];',
        '  "summarize" [label="summarize\\ncpu"];',
        '  "extract" -> "summarize";',
        '  "setup" -> "summarize" [style=dashed, label="after"];',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('groups units in one cluster per task, labelled by their wildcards', () => {
    const dot = renderDot(unitView(['pages/a/1.png']));
    expect(dot).toContain(
      '  subgraph "cluster_extract" {\n    label="extract";\n    "extract[doc=a,page=1]" [label="doc=a, page=1"];\n  }',
    );
    expect(dot).toContain('  "extract[doc=a,page=1]" -> "summarize[doc=a]";');
  });

  it('draws placeholders dashed', () => {
    const view: GraphView = {
      kind: 'units',
      nodes: [{ id: 'extract[doc=a,page=*]', task: 'extract', wildcards: { doc: 'a' }, inputs: [], outputs: [], placeholder: true }],
      edges: [],
    };
    expect(renderDot(view)).toContain('"extract[doc=a,page=*]" [label="doc=a, page=*", style=dashed];');
  });

  it('escapes quotes and backslashes so an id never ends its string early', () => {
    expect(dotId('a"b')).toBe('"a\\"b"');
    expect(dotId('a\\')).toBe('"a\\\\"');
    expect(dotLabel('two\nlines')).toBe('"two\\nlines"');
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const quoted = dotId(s);
        expect(quoted).toMatch(/^"(?:[^"\\]|\\.)*"$/su);
        expect(quoted.slice(1, -1).replace(/\\(.)/gsu, '$1')).toBe(s);
      }),
    );
  });
});

const hasDot = spawnSync('dot', ['-V']).status === 0;

describe('renderDot with Graphviz', () => {
  it.skipIf(!hasDot)('keeps ids with quotes, backslashes, brackets and newlines apart', () => {
    const ids = ['t[a="x",b=\\]', 't[a=y z,b=é]', 't[a=new\nline,b=1]', 't[a=\\",b=2]'];
    const view: GraphView = {
      kind: 'units',
      nodes: ids.map((id, i) => ({ id, task: 't', wildcards: { a: String(i) }, inputs: [], outputs: [], placeholder: i === 0 })),
      edges: ids.slice(1).map((id) => ({ from: ids[0] ?? '', to: id, kind: 'data' as const })),
    };
    const plain = execFileSync('dot', ['-Tplain'], { input: renderDot(view), encoding: 'utf8' });
    const lines = plain.split('\n');
    expect(lines.filter((l) => l.startsWith('node ')).length).toBe(4);
    expect(lines.filter((l) => l.startsWith('edge ')).length).toBe(3);
  });
});

describe('renderMermaid', () => {
  it('uses generated ids with the names as labels, dotted after edges', () => {
    const config = resolve(PIPELINE);
    expect(renderMermaid(taskGraphView(config, taskGraph(config)))).toBe(
      ['flowchart LR', '  n0["setup"]', '  n1["extract"]', '  n2["summarize"]', '  n1 --> n2', '  n0 -.->|after| n2', ''].join('\n'),
    );
  });

  it('puts units in one subgraph per task and marks placeholders', () => {
    const view: GraphView = {
      kind: 'units',
      nodes: [
        { id: 'split[doc=a]', task: 'split', wildcards: { doc: 'a' }, inputs: [], outputs: [], placeholder: false },
        { id: 'extract[doc=a,page=*]', task: 'extract', wildcards: { doc: 'a' }, inputs: [], outputs: [], placeholder: true },
      ],
      edges: [{ from: 'split[doc=a]', to: 'extract[doc=a,page=*]', kind: 'data' }],
    };
    expect(renderMermaid(view)).toBe(
      [
        'flowchart LR',
        '  subgraph t0["split"]',
        '    n0["doc=a"]',
        '  end',
        '  subgraph t1["extract"]',
        '    n1["doc=a, page=*"]',
        '  end',
        '  classDef placeholder stroke-dasharray: 5 5',
        '  class n1 placeholder',
        '  n0 --> n1',
        '',
      ].join('\n'),
    );
  });

  it('escapes quotes, markup and entity starts in labels', () => {
    expect(mermaidText('a "b" <i>#1</i>')).toBe('a #quot;b#quot; #lt;i#gt;#35;1#lt;/i#gt;');
    fc.assert(
      fc.property(fc.string(), (s) => {
        expect(mermaidText(s)).not.toMatch(/["<>\n]/u);
      }),
    );
  });
});

describe('renderJson', () => {
  it('is a versioned document that parses back to the view', () => {
    const view = unitView(['pages/a/1.png']);
    const parsed = JSON.parse(renderJson(view)) as { version: number; kind: string; nodes: unknown[]; edges: unknown[] };
    expect(parsed.version).toBe(1);
    expect(parsed.kind).toBe('units');
    expect(parsed.nodes).toEqual(view.nodes);
    expect(parsed.edges).toEqual(view.edges);
  });

  it('renderGraph picks the format', () => {
    const view = unitView([]);
    expect(renderGraph(view, 'dot')).toBe(renderDot(view));
    expect(renderGraph(view, 'mermaid')).toBe(renderMermaid(view));
    expect(renderGraph(view, 'json')).toBe(renderJson(view));
  });
});
