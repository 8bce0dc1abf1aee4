import { describe, expect, it } from 'vitest';
import { joinFlat } from '../../src/flat-string.ts';

describe('joinFlat', () => {
  it('joins short and long parts alike, in order', () => {
    expect(joinFlat([])).toBe('');
    expect(joinFlat(['a', '[', 'n=1', ']'])).toBe('a[n=1]');
    expect(joinFlat(['work[', 'n=', '00006', ']'])).toBe('work[n=00006]');
    expect(joinFlat(['out/', "a'b $(x)\n", '.txt'])).toBe("out/a'b $(x)\n.txt");
  });
});
