import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../../../src/runner/events.ts';
import { fullJitter } from '../../../../src/runner/schedule/backoff.ts';
import { Book } from '../../../../src/runner/schedule/book.ts';
import { PlanRecorder } from '../../../../src/runner/schedule/plan-recorder.ts';
import { configOf, expand } from '../../../rig/config-builder.ts';
import { FakeClock, fixedRandom } from '../../../rig/fake-clock.ts';

const config = configOf({
  work: { input: 'in/{n}.txt', output: 'out/{n}.txt' },
  next: { input: 'out/{n}.txt', output: 'final/{n}.txt' },
});

function book(): { book: Book; events: RunEvent[] } {
  const events: RunEvent[] = [];
  const b = new Book({ noDeps: false, clock: new FakeClock(0), emit: (e) => events.push(e) });
  const graph = expand(config, ['in/a.txt', 'in/b.txt']);
  b.replace({ graph, wanted: new Set(graph.units.keys()) }, []);
  return { book: b, events };
}

function due(b: Book): string[] {
  const ids: string[] = [];
  b.checkDue(
    () => true,
    (id) => ids.push(id),
  );
  return ids;
}

describe('Book', () => {
  it('makes units without unsettled deps due, and their dependents once they settle', () => {
    const { book: b } = book();
    expect(due(b)).toEqual(['work[n=a]', 'work[n=b]']);
    expect(b.statusOf('next[n=a]')).toBe('waiting');
    b.transition('work[n=a]', 'fresh');
    b.settle(b.unit('work[n=a]') ?? expect.fail('no unit'));
    expect(due(b)).toEqual(['next[n=a]']);
  });

  it('refuses a move the lifecycle does not have', () => {
    const { book: b } = book();
    expect(() => b.transition('next[n=a]', 'running')).toThrow('internal error: unit next[n=a] cannot go from waiting to running');
    b.transition('work[n=a]', 'fresh');
    expect(() => b.transition('work[n=a]', 'queued')).toThrow('cannot go from fresh to queued');
  });

  it('blocks what is downstream of a failure, and counts both', () => {
    const { book: b, events } = book();
    due(b);
    b.transition('work[n=b]', 'queued');
    b.transition('work[n=b]', 'running');
    const unit = b.unit('work[n=b]') ?? expect.fail('no unit');
    b.fail(unit, { reason: 'function-error', message: 'boom' }, false);
    b.afterFailure(unit.id, false);
    expect(b.statusOf('next[n=b]')).toBe('blocked');
    expect(b.counts).toEqual({ built: 0, fresh: 0, failed: 1, blocked: 1 });
    expect(events).toMatchObject([{ type: 'unit:blocked', unit: 'next[n=b]', reason: { kind: 'upstream_failed', upstream: 'work[n=b]' } }]);
  });

  it('tells the plan recorder each verdict as the move that decided it', () => {
    const { book: b } = book();
    const recorder = new PlanRecorder(b);
    due(b);
    b.transition('work[n=a]', 'fresh');
    b.transition('work[n=b]', 'queued', { stale: { kind: 'missing-output', output: 'out/b.txt' } });
    b.transition('work[n=b]', 'would-run');
    expect(recorder.entries).toEqual([
      { unit: 'work[n=a]', task: 'work', verdict: 'fresh' },
      { unit: 'work[n=b]', task: 'work', verdict: 'run', reason: { kind: 'missing-output', output: 'out/b.txt' } },
    ]);
  });
});

describe('fullJitter', () => {
  it('is uniform below base * 2^step', () => {
    expect(fullJitter(fixedRandom(0.5), 1000, 0)).toBe(500);
    expect(fullJitter(fixedRandom(0.5), 1000, 3)).toBe(4000);
    expect(fullJitter(fixedRandom(0), 1000, 3)).toBe(0);
    expect(fullJitter(fixedRandom(0.999), 1000, -1)).toBe(999);
  });
});
