import { describe, expect, it } from 'vitest';
import { planTargets } from '../../../../src/graph/plan.ts';
import type { Status } from '../../../../src/runner/schedule/book.ts';
import { ExpansionGate, mayFeedUnits, replan, serviceInfo, taskCounts } from '../../../../src/runner/schedule/replan.ts';
import { configOf, expand, memoryFiles, taskGraphOf } from '../../../rig/config-builder.ts';
import { FakeClock } from '../../../rig/fake-clock.ts';

const config = configOf(
  {
    split: { input: 'docs/{doc}.pdf', output: 'pages/{doc}/*.png' },
    extract: { input: 'pages/{doc}/{page}.png', output: 'text/{doc}/{page}.txt' },
  },
  { extra: { services: { ocr: { rate: '60/min', concurrent: 2 } } } },
);
const target = (() => {
  const plan = planTargets(config, []);
  if (!plan.ok) throw new Error(plan.error.message);
  return plan.value;
})();

function again(files: string[], previousFiles: string[], statuses: Record<string, Status>): ReturnType<typeof replan> {
  const graph = expand(config, previousFiles, {
    settled: Object.keys(statuses).filter((id) => statuses[id] === 'done' || statuses[id] === 'fresh'),
  });
  return replan({
    ...target,
    config,
    files: memoryFiles(files),
    noDeps: false,
    previous: { graph, wanted: new Set(graph.units.keys()) },
    statusOf: (id) => statuses[id],
  });
}

describe('replan', () => {
  it('finds the units a dynamic producer made files for', () => {
    const next = again(['docs/a.pdf', 'pages/a/1.png', 'pages/a/2.png'], ['docs/a.pdf'], { 'split[doc=a]': 'done' });
    expect([...next.plan.wanted].sort()).toEqual(['extract[doc=a,page=1]', 'extract[doc=a,page=2]', 'split[doc=a]']);
    expect(taskCounts(next.plan, target.tasks, target.neededTasks)).toEqual({ split: 1, extract: 2 });
  });

  it('keeps a unit the run still waits on whose inputs vanished, and forgets settled ones', () => {
    const previous = ['docs/a.pdf', 'pages/a/1.png', 'pages/a/2.png'];
    const next = again(['docs/a.pdf', 'pages/a/1.png'], previous, { 'split[doc=a]': 'fresh', 'extract[doc=a,page=2]': 'queued' });
    expect(next.plan.wanted.has('extract[doc=a,page=2]')).toBe(true);
    const settled = again(['docs/a.pdf', 'pages/a/1.png'], previous, { 'split[doc=a]': 'fresh', 'extract[doc=a,page=2]': 'fresh' });
    expect(settled.plan.wanted.has('extract[doc=a,page=2]')).toBe(false);
    expect(settled.forget).toEqual(['extract[doc=a,page=2]']);
  });

  it('drops a unit whose dynamic producer reran without making its input again', () => {
    const previous = ['docs/a.pdf', 'pages/a/1.png', 'pages/a/2.png'];
    const next = again(['docs/a.pdf', 'pages/a/1.png'], previous, { 'split[doc=a]': 'done', 'extract[doc=a,page=2]': 'waiting' });
    expect(next.plan.wanted.has('extract[doc=a,page=2]')).toBe(false);
    expect(next.forget).toEqual(['extract[doc=a,page=2]']);
  });
});

describe('serviceInfo', () => {
  it('gives each service its limits', () => {
    expect(serviceInfo(config)['ocr']).toEqual({ concurrent: 2, rates: [{ count: 60, windowMs: 60_000 }] });
  });
});

describe('mayFeedUnits: whether a unit with a glob output settling needs a replan', () => {
  const feeds = (tasks: Parameters<typeof configOf>[0], task: string): boolean => {
    const c = configOf(tasks);
    return mayFeedUnits(c, taskGraphOf(c), task);
  };

  it('is true for a producer some task consumes from', () => {
    expect(
      feeds(
        {
          split: { input: 'docs/{doc}.pdf', output: 'pages/{doc}/*.png' },
          ocr: { input: 'pages/{doc}/{p}.png', output: 'text/{doc}/{p}.txt' },
        },
        'split',
      ),
    ).toBe(true);
  });

  it('is false for a glob output nothing reads (each settle replanned the whole build: quadratic)', () => {
    expect(
      feeds(
        { split: { input: 'docs/{doc}.pdf', output: 'pages/{doc}/*.png' }, other: { input: 'src/{n}.txt', output: 'out/{n}.txt' } },
        'split',
      ),
    ).toBe(false);
  });

  it('is true when any task has a function input, whose files no task edge foresees', () => {
    expect(
      feeds(
        {
          split: { input: 'docs/{doc}.pdf', output: 'pages/{doc}/*.png' },
          other: { input: { main: 'src/{n}.txt', side: ({ n }: Record<string, string>) => `pages/${n}/1.png` }, output: 'out/{n}.txt' },
        },
        'split',
      ),
    ).toBe(true);
  });
});

describe('ExpansionGate: when the expansion a dynamic producer calls for runs', () => {
  const gateConfig = configOf(
    {
      split: { uses: 'cpu', input: 'docs/{doc}.pdf', output: 'pages/{doc}/*.png' },
      extract: { uses: 'ocr', input: 'pages/{doc}/{p}.png', output: 'text/{doc}/{p}.txt' },
      urgent: { uses: 'cpu', priority: 5, input: 'pages/{doc}/{p}.png', output: 'urgent/{doc}/{p}.txt' },
    },
    { extra: { services: { cpu: { concurrent: 1 }, ocr: { concurrent: 1 } } } },
  );
  const tasks = taskGraphOf(gateConfig);
  type Queued = { services: string[]; priority: number };
  /** A gate over a run queue holding units for these services at these priorities, on a virtual clock. */
  const gate = (needed: string[], entries: Queued[], options: { busy?: boolean; clock?: FakeClock; wake?: () => void } = {}) => {
    const clock = options.clock ?? new FakeClock(0);
    const queue = {
      size: entries.length,
      holdsAhead: (services: readonly string[], priority: number) =>
        entries.some((e) => e.services.join() === services.join() && e.priority >= priority),
    };
    const busy = options.busy ?? true;
    return new ExpansionGate({
      config: gateConfig,
      tasks,
      neededTasks: new Set(needed),
      queue,
      clock,
      timers: clock,
      busy: () => busy,
      wake: options.wake ?? (() => undefined),
    });
  };

  it('is due at once when nothing runs and no consumer would queue behind a waiting unit', () => {
    const idle = { busy: false, clock: new FakeClock(0) };
    const g = gate(['split', 'extract'], [{ services: ['cpu'], priority: 0 }], idle);
    expect(g.expanded(100_000)).toBe(false);
    expect(g.producerSettled('split')).toBe(true);
    // The queued unit is about to start, and the new ones would wait behind it.
    expect(gate(['split', 'extract'], [{ services: ['ocr'], priority: 0 }], idle).producerSettled('split')).toBe(false);
  });

  it('waits while every consumer would queue behind a unit already queued, and says the dependents were held', () => {
    const g = gate(['split', 'extract'], [{ services: ['ocr'], priority: 0 }]);
    expect(g.producerSettled('split')).toBe(false);
    expect(g.due()).toBe(false);
    expect(g.expanded(10)).toBe(true);
    expect(g.expanded(10)).toBe(false);
  });

  it('is due when some needed consumer could start sooner: its lane is empty, or it outranks what is queued there', () => {
    expect(gate(['split', 'extract'], [{ services: ['cpu'], priority: 0 }]).producerSettled('split')).toBe(true);
    const both = [
      { services: ['ocr'], priority: 0 },
      { services: ['cpu'], priority: 0 },
    ];
    expect(gate(['split', 'extract', 'urgent'], both).producerSettled('split')).toBe(true);
    // urgent is not needed (not selected): only extract counts, and it would queue behind.
    expect(gate(['split', 'extract'], both).producerSettled('split')).toBe(false);
    expect(gate(['split', 'extract', 'urgent'], [...both, { services: ['cpu'], priority: 5 }]).producerSettled('split')).toBe(false);
  });

  it('while units run, lets 0.25 ms per planned unit pass between expansions, then wakes the run once', async () => {
    const clock = new FakeClock(0);
    let wakes = 0;
    const g = gate(['split', 'extract'], [], { clock, wake: () => wakes++ });
    expect(g.expanded(4_000)).toBe(false);
    await clock.advance(400);
    expect(g.producerSettled('split')).toBe(false);
    expect(g.due()).toBe(false);
    await clock.advance(599);
    expect(wakes).toBe(0);
    await clock.advance(1);
    expect(wakes).toBe(1);
    expect(g.due()).toBe(true);
    expect(g.expanded(4_000)).toBe(true);
    await clock.advance(5_000);
    expect(wakes).toBe(1);
  });

  it('forgets its timer when the run stops', async () => {
    const clock = new FakeClock(0);
    let wakes = 0;
    const g = gate(['split', 'extract'], [], { clock, wake: () => wakes++ });
    g.expanded(4_000);
    expect(g.producerSettled('split')).toBe(false);
    g.stop();
    await clock.advance(5_000);
    expect(wakes).toBe(0);
  });
});

/** A gate for `config` (split -> extract) over a queue that holds units ahead of every consumer, on an idle run. */
function heldGate(config: ReturnType<typeof configOf>, queued: { size: number }) {
  const clock = new FakeClock(0);
  return new ExpansionGate({
    config,
    tasks: taskGraphOf(config),
    neededTasks: new Set(['split', 'extract']),
    queue: {
      get size() {
        return queued.size;
      },
      holdsAhead: () => true,
    },
    clock,
    timers: clock,
    busy: () => false,
    wake: () => undefined,
  });
}

describe('ExpansionGate: after it held one producer', () => {
  const config = configOf(
    {
      split: { uses: 'cpu', input: 'docs/{doc}.pdf', output: 'pages/{doc}/*.png' },
      extract: { uses: 'cpu', input: 'pages/{doc}/{p}.png', output: 'text/{doc}/{p}.txt' },
    },
    { extra: { services: { cpu: { concurrent: 1 } } } },
  );
  it('holds the next one too, even when the expansion is due: their dependents go in plan order', () => {
    const queued = { size: 1 };
    const g = heldGate(config, queued);
    expect(g.producerSettled('split')).toBe(false);
    queued.size = 0;
    expect(g.due()).toBe(true);
    expect(g.producerSettled('split')).toBe(false);
    expect(g.expanded(10)).toBe(true);
    expect(g.producerSettled('split')).toBe(true);
  });
});

describe('ExpansionGate: consumers whose new units may be fresh', () => {
  it('is due at once for a consumer with hash freshness or a custom stale: it would take no slot', () => {
    for (const extra of [{ freshness: 'hash' as const }, { stale: () => false }]) {
      const config = configOf(
        {
          split: { uses: 'cpu', input: 'docs/{doc}.pdf', output: 'pages/{doc}/*.png' },
          extract: { uses: 'cpu', input: 'pages/{doc}/{p}.png', output: 'text/{doc}/{p}.txt', ...extra },
        },
        { extra: { services: { cpu: { concurrent: 1 } } } },
      );
      expect(heldGate(config, { size: 1 }).producerSettled('split')).toBe(true);
    }
  });
});
