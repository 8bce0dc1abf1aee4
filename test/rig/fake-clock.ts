/**
 * The virtual clock of scheduler tests: src/runner/sim/virtual-clock.ts with more event-loop
 * turns between timers, since tests also let real fs callbacks settle.
 */
import type { Random, RunnerPorts } from '../../src/runner/ports.ts';
import { VirtualClock } from '../../src/runner/sim/virtual-clock.ts';

/** How many event-loop turns {@link FakeClock.flush} gives pending promises (and real fs callbacks). */
const FLUSH_TURNS = 20;

/** Virtual time and its timers for tests. */
export class FakeClock extends VirtualClock {
  constructor(start = Date.now()) {
    super(start, { flushTurns: FLUSH_TURNS });
  }
}

/** Numbers from `values` in turn (repeating), for backoff with a known jitter. */
export function fixedRandom(...values: number[]): Random {
  let i = 0;
  return { next: () => values[i++ % values.length] ?? 0 };
}

/** Ports of a virtual run: the clock's time and timers, and `random`. */
export function fakePorts(clock: FakeClock, random: Random = fixedRandom(0.5)): RunnerPorts {
  return { clock, timers: clock, random };
}
