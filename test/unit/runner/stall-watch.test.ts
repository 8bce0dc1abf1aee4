import { describe, expect, it } from 'vitest';
import { StallWatch, type StallLimits } from '../../../src/runner/stall-watch.ts';

const NONE: StallLimits = {
  stallTimeoutMs: undefined,
  pendingTimeoutMs: undefined,
  stallWarnAfterMs: undefined,
  pendingWarnAfterMs: undefined,
};

describe('StallWatch', () => {
  it('has no tick and never fires without limits', () => {
    const w = new StallWatch(NONE, 0);
    expect(w.tickMs).toBeUndefined();
    expect(w.check(1e9)).toBeUndefined();
  });

  it('fails when nothing finished for stallTimeout, and progress resets the clock', () => {
    const w = new StallWatch({ ...NONE, stallTimeoutMs: 1000 }, 0);
    expect(w.tickMs).toBe(250);
    expect(w.check(999)).toBeUndefined();
    w.progress('a', 900);
    expect(w.check(1500)).toBeUndefined();
    expect(w.check(1900)).toEqual({ fatal: true, message: 'nothing finished for 1000 ms (stallTimeout 1000 ms)' });
  });

  it('fails when one unit waited pendingTimeout, counting from its first wait until it runs', () => {
    const w = new StallWatch({ ...NONE, pendingTimeoutMs: 500 }, 0);
    w.waiting('a', 100);
    w.waiting('a', 300);
    w.waiting('b', 200);
    expect(w.check(599)).toBeUndefined();
    expect(w.check(600)).toEqual({ fatal: true, message: 'a waited 500 ms (pendingTimeout 500 ms)' });
    w.running('a');
    expect(w.check(650)).toBeUndefined();
    expect(w.check(700)?.message).toBe('b waited 500 ms (pendingTimeout 500 ms)');
  });

  it('warns once per kind', () => {
    const w = new StallWatch({ ...NONE, stallWarnAfterMs: 100, pendingWarnAfterMs: 100 }, 0);
    w.waiting('a', 0);
    expect(w.check(100)).toEqual({ fatal: false, message: 'nothing finished for 100 ms (stallWarnAfter 100 ms)' });
    expect(w.check(150)).toEqual({ fatal: false, message: 'a waited 150 ms (pendingWarnAfter 100 ms)' });
    expect(w.check(10_000)).toBeUndefined();
  });
});
