import { describe, expect, it } from 'vitest';
import { KeySet } from '../../../src/graph/key-set.ts';

describe('KeySet', () => {
  it('reads as the set of the map keys, in their order, and follows the map', () => {
    const map = new Map([
      ['b', 1],
      ['a', 2],
    ]);
    const set = new KeySet(map);
    expect(set.size).toBe(2);
    expect(set.has('a')).toBe(true);
    expect(set.has('c')).toBe(false);
    expect([...set]).toEqual(['b', 'a']);
    expect([...set.values()]).toEqual(['b', 'a']);
    expect([...set.entries()]).toEqual([
      ['b', 'b'],
      ['a', 'a'],
    ]);
    const seen: string[] = [];
    set.forEach((v, v2, s) => seen.push(`${v}${v2}${s === set ? '!' : '?'}`));
    expect(seen).toEqual(['bb!', 'aa!']);
    map.set('c', 3);
    expect(set.has('c')).toBe(true);
    expect(new Set(set)).toEqual(new Set(['b', 'a', 'c']));
  });
});
