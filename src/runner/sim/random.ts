/**
 * Seeded randomness for `runcue sim`: the same seed gives the same latencies, failures and retry
 * jitter, so a rehearsal can be repeated to the millisecond. mulberry32 over a 32-bit FNV-1a
 * hash of the seed text: small, fast and more than random enough for jitter and error rates.
 */
import type { Random } from '../ports.ts';

/** The 32-bit FNV-1a hash of `text`. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Uniform numbers in [0, 1) from `seed`. */
export function seededRandom(seed: string): Random {
  let state = hash(seed);
  return {
    next() {
      state = (state + 0x6d2b79f5) | 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
    },
  };
}
