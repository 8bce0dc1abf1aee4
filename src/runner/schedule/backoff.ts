/** How long a unit or a service waits before trying again. */
import type { Random } from '../ports.ts';

/**
 * Exponential backoff with full jitter: a uniform delay in [0, base * 2^step), so units that
 * failed (or were pushed back) together do not come back in lockstep. `step` 0 is the first wait.
 */
export function fullJitter(random: Random, baseMs: number, step: number): number {
  return Math.round(random.next() * baseMs * 2 ** Math.max(0, step));
}
