/**
 * Which user function (a function task's attempt, a custom check, a hook) raised an error that no
 * `await` caught: a timer that throws, a promise nobody awaits. Node reports those to process
 * handlers only (the CLI installs them); the async context the user code ran in survives into
 * timers and promise callbacks it created, so the handler can ask here whose error it was.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** How the error escaped: thrown in a callback, or a rejected promise nobody handled. */
export type EscapeKind = 'uncaught exception' | 'unhandled rejection';

/** Whose user code runs, and how an error escaping from it fails its owner. */
export interface FunctionScope {
  /** The unit whose code this is (for a hook: the unit it was called for). */
  readonly unit: string;
  /**
   * Fails the unit with the escaped error (a hook's error is reported instead, as when it
   * throws). False when the owner had already settled: the error came from work it left
   * behind, and can only be reported.
   */
  readonly fail: (error: unknown, kind: EscapeKind) => boolean;
  /** How the child processes it starts are tagged (see execute/child-env.ts). */
  readonly children?: ChildTags;
}

/** The tags of a function attempt's child processes, and whether it started any. */
export interface ChildTags {
  /** `NAME=value` entries each child process carries. */
  readonly environment: readonly string[];
  /** The pid of the first child process it started (set by child-env.ts), if any. */
  first?: number;
}

/**
 * One per process, on the global object: the CLI's bundle and the package's entry (`import {
 * build } from 'runcue'` in a config) each hold a copy of this module, and a build that a
 * function runs in-process must see the function's scope, and leave it, in the same store.
 */
const SCOPES = Symbol.for('runcue.function-scopes');
const scopes = ((globalThis as { [SCOPES]?: AsyncLocalStorage<FunctionScope> })[SCOPES] ??= new AsyncLocalStorage<FunctionScope>());

/** Runs user code so that errors escaping from anything it starts are traced back to `scope`. */
export function runInScope<T>(scope: FunctionScope, fn: () => T): T {
  return scopes.run(scope, fn);
}

/**
 * Routes an escaped error to the unit whose code raised it. Returns that unit and whether the
 * error was dealt with (false: its owner had settled already), or undefined when no user
 * function owns it.
 */
export function routeEscaped(error: unknown, kind: EscapeKind): { readonly unit: string; readonly handled: boolean } | undefined {
  const scope = scopes.getStore();
  if (scope === undefined) return undefined;
  return { unit: scope.unit, handled: scope.fail(error, kind) };
}

/**
 * Runs `fn` outside any function's scope: for the processes runcue starts itself (commands,
 * helpers, watchdogs, workers), which carry their own run's identity, and must not be tagged as
 * a function's children when a function runs a build in-process.
 */
export function outsideFunctionScope<T>(fn: () => T): T {
  return scopes.exit(fn);
}

/** The child tags of the scope the caller runs in, if any. */
export function scopeChildTags(): ChildTags | undefined {
  return scopes.getStore()?.children;
}
