// What the seeded differential checkers (plancheck, crashcheck, watchcheck) share: the runcue
// binary they run, their flags, and their random numbers.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The runcue to check: RUNCUE_BIN (a frozen copy), or this repository's build. */
export const BIN = process.env.RUNCUE_BIN ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'runcue.js');

const args = process.argv.slice(2);

/** The value after `--name` on the command line, or `fallback`. */
export function flag(name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
}

/** `--seed`, `--runs` (default `runs`), `--only` (-1: all) and `--keep`, the flags every checker takes. */
export function commonFlags(runs) {
  return {
    SEED: Number(flag('--seed', 1)),
    RUNS: Number(flag('--runs', runs)),
    ONLY: Number(flag('--only', -1)),
    KEEP: args.includes('--keep'),
  };
}

/**
 * A xorshift32 generator of numbers in [0, 1). `mixed`: the seed is hashed and the first draws
 * dropped, so consecutive seeds do not start alike (a batch's projects would all begin with the
 * same task). Without it, a seed gives what it gave before (findings name their seeds).
 */
export function rng(seed, mixed = false) {
  let s = (mixed ? Math.imul(seed ^ (seed >>> 16), 0x45d9f3b) : seed) >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
  if (mixed) for (let i = 0; i < 8; i++) next();
  return next;
}
