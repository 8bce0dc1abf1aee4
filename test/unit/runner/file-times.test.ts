import { describe, expect, it } from 'vitest';
import { notOlder } from '../../../src/runner/files.ts';

describe('notOlder (a file time against an attempt start)', () => {
  const start = 1_700_000_000_500;

  it('takes a time at or after the start, and one a coarse kernel clock put a few ms before it', () => {
    expect(notOlder(start, start)).toBe(true);
    expect(notOlder(start + 3_000.25, start)).toBe(true);
    expect(notOlder(start - 8.5, start)).toBe(true);
    expect(notOlder(start - 60_000.5, start)).toBe(false);
    expect(notOlder(start - 100.5, start)).toBe(false);
  });

  it('compares a time of whole seconds (a file system that keeps no more) by the second', () => {
    expect(notOlder(1_700_000_000_000, start)).toBe(true);
    expect(notOlder(1_699_999_999_000, start)).toBe(false);
    // Just after a whole second, the slack reaches back into the second before.
    expect(notOlder(1_699_999_999_000, 1_700_000_000_010)).toBe(true);
  });
});
