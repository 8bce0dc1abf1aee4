/** The virtual clock the scheduler tests stand on. */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../rig/fake-clock.ts';

describe('FakeClock', () => {
  it('runs due timers in time order, ties in the order they were set, and moves only when advanced', async () => {
    const clock = new FakeClock(1000);
    const fired: string[] = [];
    clock.set(() => fired.push('b'), 20);
    clock.set(() => fired.push('a'), 10);
    clock.set(() => fired.push('c'), 20);
    const cleared = clock.set(() => fired.push('never'), 5);
    clock.clear(cleared);
    await clock.advance(15);
    expect(fired).toEqual(['a']);
    expect(clock.now()).toBe(1015);
    await clock.advance(5);
    expect(fired).toEqual(['a', 'b', 'c']);
    expect(clock.pending).toBe(0);
  });

  it('lets promises settle between timers, so a timer set by a continuation runs in the same advance', async () => {
    const clock = new FakeClock(0);
    const fired: number[] = [];
    clock.set(() => void Promise.resolve().then(() => clock.set(() => fired.push(clock.now()), 10)), 10);
    await clock.advance(25);
    expect(fired).toEqual([20]);
  });

  it('runs timers until a promise settles, and says when it never does', async () => {
    const clock = new FakeClock(0);
    const slow = new Promise<string>((resolve) => clock.set(() => resolve('done'), 60_000));
    expect(await clock.runUntil(slow)).toBe('done');
    expect(clock.now()).toBe(60_000);
    await expect(clock.runUntil(new Promise(() => undefined), 1000)).rejects.toThrow('not settled after 1000 ms of virtual time');
  });
});
