/** The pieces of runcue sim that need no run: the virtual clock's heap, the model flags, names and the critical path. */
import { describe, expect, it } from 'vitest';
import { configOf } from '../../../rig/config-builder.ts';
import { criticalPath } from '../../../../src/runner/sim/critical-path.ts';
import { modelOf, parseFilesFlag } from '../../../../src/runner/sim/model.ts';
import { namesFor } from '../../../../src/runner/sim/names.ts';
import { seededRandom } from '../../../../src/runner/sim/random.ts';
import type { Attempts } from '../../../../src/runner/sim/attempt-log.ts';
import { VirtualClock } from '../../../../src/runner/sim/virtual-clock.ts';
import type { UnitGraph } from '../../../../src/graph/unit.ts';

describe('VirtualClock', () => {
  it('fires thousands of timers in (time, order set) order, skips cleared ones, and never sleeps', async () => {
    const clock = new VirtualClock(0);
    const random = seededRandom('timers');
    const fired: [number, number][] = [];
    const handles = Array.from({ length: 5000 }, (_, i) => {
      const ms = Math.floor(random.next() * 100) * 1000;
      return clock.set(() => fired.push([clock.now(), i]), ms);
    });
    for (let i = 0; i < handles.length; i += 3) clock.clear(handles[i]);
    const wall = Date.now();
    await clock.advance(200_000);
    expect(Date.now() - wall).toBeLessThan(20_000);
    expect(fired).toHaveLength(5000 - Math.ceil(5000 / 3));
    expect(fired.some(([, i]) => i % 3 === 0)).toBe(false);
    const sorted = [...fired].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    expect(fired).toEqual(sorted);
    expect(clock.now()).toBe(200_000);
    expect(clock.pending).toBe(0);
  });

  it('runs until a promise settles, flushing promise chains between timers', async () => {
    const clock = new VirtualClock(1000);
    const chain = async (): Promise<number> => {
      await new Promise<void>((resolve) => clock.set(resolve, 3_600_000));
      await Promise.resolve();
      await new Promise<void>((resolve) => clock.set(resolve, 500));
      return clock.now();
    };
    expect(await clock.runUntil(chain())).toBe(1000 + 3_600_500);
  });

  it('with batchInstants, runs every timer of an instant before their promises settle, later instants after', async () => {
    const order = async (batchInstants: boolean): Promise<string[]> => {
      const clock = new VirtualClock(0, { batchInstants });
      const seen: string[] = [];
      const unit = async (name: string, ms: number): Promise<void> => {
        await new Promise<void>((resolve) =>
          clock.set(() => {
            seen.push(`${name} fired at ${clock.now()}`);
            resolve();
          }, ms),
        );
        seen.push(`${name} settled`);
      };
      await clock.runUntil(Promise.all([unit('a', 100), unit('b', 100), unit('c', 200)]));
      return seen;
    };
    expect(await order(false)).toEqual(['a fired at 100', 'a settled', 'b fired at 100', 'b settled', 'c fired at 200', 'c settled']);
    expect(await order(true)).toEqual(['a fired at 100', 'b fired at 100', 'a settled', 'b settled', 'c fired at 200', 'c settled']);
  });
});

describe('seededRandom', () => {
  it('repeats for a seed, differs across seeds, stays in [0, 1)', () => {
    const take = (seed: string): number[] => Array.from({ length: 1000 }, seededRandom(seed).next);
    expect(take('a')).toEqual(take('a'));
    expect(take('a')).not.toEqual(take('b'));
    const values = take('c');
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
  });
});

describe('sim model flags', () => {
  const config = configOf(
    {
      extract: { uses: 'ocr', input: 'in/{n}.txt', output: 'text/{n}.txt', run: 'x' },
      summarize: { input: 'text/*.txt', output: 'out.md', run: 'x' },
    },
    { extra: { services: { ocr: { rate: '60/min' } } } },
  );
  const task = (name: string) => {
    const t = config.tasks.get(name);
    if (!t) throw new Error(name);
    return t;
  };

  it('takes a task key over a service key over the bare default over the built-in default', () => {
    const model = modelOf(config, { latency: 'ocr=2s,500ms', errorRate: 'summarize=0.5,ocr=0.05', fanout: '7' });
    if (!model.ok) throw new Error(model.error);
    expect(model.value(task('extract'))).toEqual({ latencyMs: 2000, jitter: 0, errorRate: 0.05, fanout: 7 });
    expect(model.value(task('summarize'))).toEqual({ latencyMs: 500, jitter: 0, errorRate: 0.5, fanout: 7 });
  });

  it('names the flag, the key and what was expected', () => {
    expect(modelOf(config, { latency: 'extrat=2s' })).toEqual({
      ok: false,
      error: '--latency extrat=2s: no task or service is named "extrat" (did you mean "extract"?)',
    });
    expect(modelOf(config, { errorRate: 'ocr=1.5' })).toEqual({ ok: false, error: '--error-rate ocr=1.5: expected a number from 0 to 1' });
    expect(modelOf(config, { latency: 'fast' })).toMatchObject({
      ok: false,
      error: expect.stringContaining("--latency fast: expected a duration like '30s'"),
    });
    // A value given twice is not dropped without a word.
    expect(modelOf(config, { latency: 'extract=1.5s,extract=2s' })).toEqual({
      ok: false,
      error: '--latency extract=1.5s,extract=2s: extract is given more than once',
    });
    expect(modelOf(config, { errorRate: '0.1,0.2' })).toMatchObject({
      ok: false,
      error: expect.stringContaining('--error-rate 0.1,0.2: more than one value without a name'),
    });
    expect(parseFilesFlag('docs/*.pdf')).toEqual({ ok: false, error: "--files docs/*.pdf: expected GLOB=COUNT, such as 'docs/*.pdf=20'" });
    expect(parseFilesFlag('docs/*.pdf=20')).toEqual({ ok: true, value: { glob: 'docs/*.pdf', count: 20 } });
  });
});

describe('namesFor', () => {
  it('numbers the first * and takes the simplest match of the rest', () => {
    expect(namesFor('work/a/pages/*.png', 3)).toEqual({
      ok: true,
      value: ['work/a/pages/sim-1.png', 'work/a/pages/sim-2.png', 'work/a/pages/sim-3.png'],
    });
    expect(namesFor('docs/**/*.{pdf,PDF}', 2, '')).toEqual({ ok: true, value: ['docs/1.pdf', 'docs/2.pdf'] });
    expect(namesFor('a/b.txt', 2)).toEqual({ ok: false, error: 'a/b.txt: has no * to number 2 files by' });
  });
});

const START_MS = 1_000_000;
/** A unit's attempts as `[start, end]` ms since the run started. */
const unitRecord = (unit: string, ...spans: [number, number][]) => ({ unit, task: unit.split('[')[0] ?? unit, spans });
/** The attempts of `units`, in this order, as a rehearsal's log has them. */
const recordOf = (...units: ReturnType<typeof unitRecord>[]): Attempts => ({
  startedAt: START_MS,
  size: units.length,
  unit: (i) => units[i]?.unit ?? '',
  task: (i) => units[i]?.task ?? '',
  spans: (i) => units[i]?.spans.length ?? 0,
  start: (i, j) => START_MS + (units[i]?.spans[j]?.[0] ?? NaN),
  end: (i, j) => START_MS + (units[i]?.spans[j]?.[1] ?? NaN),
  indexOf: (unit) => {
    const i = units.findIndex((u) => u.unit === unit);
    return i < 0 ? undefined : i;
  },
  services: {},
  usesOf: () => ['cpu'],
});

describe('criticalPath', () => {
  it('walks back from the last end through the dependency that ended last before each start', () => {
    const deps = new Map([
      ['c', new Set(['a', 'b'])],
      ['b', new Set(['a'])],
    ]);
    const graph = { units: new Map(), deps, dependents: new Map() } as unknown as UnitGraph;
    const record = recordOf(
      unitRecord('x', [0, 300]),
      unitRecord('a', [0, 100]),
      unitRecord('b', [100, 400]),
      unitRecord('c', [500, 600], [900, 1000]),
    );
    const path = criticalPath(record, graph);
    expect(path.steps.map((s) => [s.unit, s.chargedMs])).toEqual([
      ['a', 100],
      ['b', 300],
      ['c', 600],
    ]);
    expect(path.boundingTask).toBe('c');
  });

  it('follows `after`: every unit of a task the unit runs after is a dependency', () => {
    const graph = { units: new Map(), deps: new Map(), dependents: new Map() } as unknown as UnitGraph;
    const record = recordOf(unitRecord('lint', [0, 10_000]), unitRecord('test[n=1]', [10_000, 10_100]));
    const path = criticalPath(record, graph, new Map([['test', ['lint']]]));
    expect(path.steps.map((s) => [s.unit, s.chargedMs])).toEqual([
      ['lint', 10_000],
      ['test[n=1]', 100],
    ]);
    expect(path.boundingTask).toBe('lint');
  });

  it('on a tie for the last end, starts from the unit whose first attempt started first', () => {
    const graph = { units: new Map(), deps: new Map(), dependents: new Map() } as unknown as UnitGraph;
    const path = criticalPath(recordOf(unitRecord('p', [100, 500]), unitRecord('q', [0, 200], [300, 500])), graph);
    expect(path.steps.map((s) => [s.unit, s.start, s.end])).toEqual([['q', 300, 500]]);
  });
});
