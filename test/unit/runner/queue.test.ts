import { describe, expect, it } from 'vitest';
import { RunQueue } from '../../../src/runner/queue.ts';

const CPU = ['cpu'];
const OCR = ['ocr'];

/** Drains everything, returning ids in the order they were offered and admitted. */
function drainAll(queue: RunQueue): string[] {
  const out: string[] = [];
  queue.drain((id) => {
    out.push(id);
    return true;
  });
  return out;
}

/** Admits at most `n` units over all lanes (a shared cap, like `--jobs`). */
function drainUpTo(queue: RunQueue, n: number): string[] {
  const out: string[] = [];
  queue.drain((id) => {
    if (out.length >= n) return false;
    out.push(id);
    return true;
  });
  return out;
}

describe('RunQueue: one lane', () => {
  it('is first in, first out among equal priorities', () => {
    const queue = new RunQueue();
    for (const id of ['a', 'b', 'c', 'd']) queue.push(id, CPU, 0);
    expect(drainAll(queue)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('offers higher priorities first, first-come among equals', () => {
    const queue = new RunQueue();
    queue.push('low1', CPU, 0);
    queue.push('high1', CPU, 5);
    queue.push('low2', CPU, 0);
    queue.push('mid', CPU, 2);
    queue.push('high2', CPU, 5);
    queue.push('neg', CPU, -1);
    queue.push('low3', CPU, 0);
    expect(drainAll(queue)).toEqual(['high1', 'high2', 'mid', 'low1', 'low2', 'low3', 'neg']);
  });

  it('never puts a late high priority before units already taken', () => {
    const queue = new RunQueue();
    queue.push('a', CPU, 0);
    queue.push('b', CPU, 0);
    expect(drainUpTo(queue, 1)).toEqual(['a']);
    queue.push('urgent', CPU, 9);
    expect(drainAll(queue)).toEqual(['urgent', 'b']);
  });

  it('stops at a refused head and offers it again on the next drain', () => {
    const queue = new RunQueue();
    for (const id of ['a', 'b', 'c']) queue.push(id, CPU, 0);
    const offered: string[] = [];
    queue.drain((id) => {
      offered.push(id);
      return id !== 'b';
    });
    expect(offered).toEqual(['a', 'b']);
    expect(queue.size).toBe(2);
    expect(drainAll(queue)).toEqual(['b', 'c']);
  });

  it('passes the lane services to admit', () => {
    const queue = new RunQueue();
    queue.push('x', ['ocr', 'cpu'], 0);
    const seen: (readonly string[])[] = [];
    queue.drain((_, services) => {
      seen.push(services);
      return true;
    });
    expect(seen).toEqual([['ocr', 'cpu']]);
  });
});

describe('RunQueue: lanes', () => {
  it('keeps a lane per service set: a refused head blocks only its lane', () => {
    const queue = new RunQueue();
    queue.push('ocr1', OCR, 0);
    queue.push('cpu1', CPU, 0);
    queue.push('ocr2', OCR, 0);
    queue.push('cpu2', CPU, 0);
    const offered: string[] = [];
    queue.drain((id, services) => {
      offered.push(id);
      return services[0] !== 'ocr';
    });
    expect(offered).toEqual(['ocr1', 'cpu1', 'cpu2']);
    expect(queue.size).toBe(2);
    expect(drainAll(queue)).toEqual(['ocr1', 'ocr2']);
  });

  it('offers lane heads by priority, then by arrival', () => {
    const queue = new RunQueue();
    queue.push('cpu-low', CPU, 0);
    queue.push('ocr-high', OCR, 3);
    queue.push('both', ['ocr', 'cpu'], 0);
    const offered: string[] = [];
    queue.drain((id) => {
      offered.push(id);
      return false;
    });
    expect(offered).toEqual(['ocr-high', 'cpu-low', 'both']);
  });

  it('treats the same services in another order as another lane', () => {
    const queue = new RunQueue();
    queue.push('ab', ['a', 'b'], 0);
    queue.push('ba', ['b', 'a'], 0);
    const offered: string[] = [];
    queue.drain((id) => {
      offered.push(id);
      return false;
    });
    expect(offered).toEqual(['ab', 'ba']);
  });

  it('offers units in global priority order across lanes sharing a service', () => {
    const queue = new RunQueue();
    queue.push('cpu-urgent', CPU, 5);
    queue.push('cpu-later', CPU, 0);
    queue.push('ocr-mid', ['ocr', 'cpu'], 3);
    expect(drainUpTo(queue, 2)).toEqual(['cpu-urgent', 'ocr-mid']);
  });

  it('offers units first-come across lanes sharing a service', () => {
    const queue = new RunQueue();
    queue.push('cpu-first', CPU, 0);
    queue.push('ocr-second', ['ocr', 'cpu'], 0);
    queue.push('cpu-third', CPU, 0);
    expect(drainUpTo(queue, 2)).toEqual(['cpu-first', 'ocr-second']);
  });
});

describe('RunQueue: holdsAhead', () => {
  it('says whether a unit queued for exactly these services, at this priority or higher, waits', () => {
    const queue = new RunQueue();
    expect(queue.holdsAhead(CPU, 0)).toBe(false);
    queue.push('a', CPU, 2);
    queue.push('b', CPU, 0);
    expect(queue.holdsAhead(CPU, 2)).toBe(true);
    expect(queue.holdsAhead(CPU, 3)).toBe(false);
    expect(queue.holdsAhead(OCR, 0)).toBe(false);
    expect(queue.holdsAhead(['cpu', 'ocr'], 0)).toBe(false);
    expect(drainUpTo(queue, 1)).toEqual(['a']);
    expect(queue.holdsAhead(CPU, 1)).toBe(false);
    expect(queue.holdsAhead(CPU, 0)).toBe(true);
    drainAll(queue);
    expect(queue.holdsAhead(CPU, 0)).toBe(false);
  });
});

describe('RunQueue: size and compaction', () => {
  it('counts queued units across lanes', () => {
    const queue = new RunQueue();
    expect(queue.size).toBe(0);
    queue.push('a', CPU, 0);
    queue.push('b', OCR, 1);
    queue.push('c', CPU, 2);
    expect(queue.size).toBe(3);
    expect(drainUpTo(queue, 2)).toEqual(['c', 'b']);
    expect(queue.size).toBe(1);
    expect(drainAll(queue)).toEqual(['a']);
    expect(queue.size).toBe(0);
    expect(drainAll(queue)).toEqual([]);
  });

  it('keeps order and size through many pushes and pops', () => {
    const queue = new RunQueue();
    const expected: string[] = [];
    const taken: string[] = [];
    let next = 0;
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 1500; i++) {
        const id = `u${next++}`;
        queue.push(id, CPU, 0);
        expected.push(id);
      }
      taken.push(...drainUpTo(queue, 1200));
      expect(queue.size).toBe(expected.length - taken.length);
    }
    queue.push('urgent', CPU, 1);
    const rest = drainAll(queue);
    expect(rest[0]).toBe('urgent');
    expect([...taken, ...rest.slice(1)]).toEqual(expected);
    expect(queue.size).toBe(0);
  });

  it('drops popped entries once more than half a long lane is behind its head', () => {
    const queue = new RunQueue();
    for (let i = 0; i < 3000; i++) queue.push(`u${i}`, CPU, 0);
    drainUpTo(queue, 2000);
    // White-box: the lane's array is what compaction keeps bounded.
    const lanes = (queue as unknown as { lanes: Map<string, { entries: unknown[]; head: number }> }).lanes;
    const lane = [...lanes.values()][0];
    expect(lane?.head).toBe(0);
    expect(lane?.entries).toHaveLength(1000);
    expect(drainAll(queue)).toEqual(Array.from({ length: 1000 }, (_, i) => `u${i + 2000}`));
  });
});
