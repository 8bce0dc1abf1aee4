/**
 * TurboFan, held off at the start of build and watch (main.ts), is turned back on once work
 * starts: at the first unit:start or the run's end, once.
 */
import { describe, expect, it } from 'vitest';
import { releaseOptimiser } from '../../../src/cli/optimiser.ts';

describe('the optimiser hold', () => {
  it('is released by the first unit:start, once, and not by the events before it', () => {
    const flags: string[] = [];
    const set = (): number => flags.push('released');
    releaseOptimiser({ type: 'unit:ready' }, set);
    releaseOptimiser({ type: 'run:start' }, set);
    expect(flags).toEqual([]);
    releaseOptimiser({ type: 'unit:start' }, set);
    releaseOptimiser({ type: 'unit:start' }, set);
    releaseOptimiser({ type: 'run:done' }, set);
    expect(flags).toEqual(['released']);
  });
});
