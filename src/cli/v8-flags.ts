/**
 * The V8 flags runcue sets while it runs (main.ts: a smaller young generation, slower old
 * generation growth, no TurboFan until work starts), and a way to step out of them.
 *
 * V8 accepts a code cache only under the flags it was made with. Node's own modules carry caches
 * made under the default flags, so a module Node loads while one of ours is set is compiled from
 * its source: for a build that runs a unit, crypto and child_process with the 25 modules they
 * load (callgrind: a third more instructions for those six modules). The bundle's lazy built-in
 * modules (rolldown.config.mjs) are loaded inside `withDefaultFlags`, and so is the engine
 * script compiled and its cache made (engine-script.ts).
 *
 * The state lives on the global object, not in this module: main.js and the engine script each
 * bundle their own copy of it.
 */

/** A flag runcue sets: how to set it and how to put V8's default back. */
interface Flag {
  readonly set: string;
  readonly reset: string;
}

interface FlagState {
  readonly flags: Map<string, Flag>;
  /** Runs `fn` under V8's default flags, then sets ours again. */
  readonly withDefaults: <T>(fn: () => T) => T;
}

/** Read by the lazy built-in loaders that rolldown.config.mjs generates. */
const STATE = Symbol.for('runcue.v8-flags');

function v8Set(flag: string): void {
  process.getBuiltinModule('node:v8').setFlagsFromString(flag);
}

function state(): FlagState {
  const global = globalThis as { [STATE]?: FlagState };
  if (global[STATE] !== undefined) return global[STATE];
  const flags = new Map<string, Flag>();
  // Setting a flag costs V8 a new hash of them all: a call inside another sets none.
  let nested = false;
  const created: FlagState = {
    flags,
    withDefaults: (fn) => {
      if (flags.size === 0 || nested) return fn();
      nested = true;
      for (const flag of flags.values()) v8Set(flag.reset);
      try {
        return fn();
      } finally {
        for (const flag of flags.values()) v8Set(flag.set);
        nested = false;
      }
    },
  };
  global[STATE] = created;
  return created;
}

/** Sets a V8 flag (`set`) until `resetV8Flag(name)`; `reset` is the flag at V8's default. */
export function setV8Flag(name: string, set: string, reset: string): void {
  state().flags.set(name, { set, reset });
  v8Set(set);
}

/** Puts V8's default of a flag set by `setV8Flag` back (nothing when it is not set). */
export function resetV8Flag(name: string): void {
  const flag = state().flags.get(name);
  if (flag === undefined) return;
  state().flags.delete(name);
  v8Set(flag.reset);
}

/** Runs `fn` under V8's default flags (see above). */
export function withDefaultFlags<T>(fn: () => T): T {
  return state().withDefaults(fn);
}
