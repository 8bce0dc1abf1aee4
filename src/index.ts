/**
 * The programmatic API: `import { build, loadConfig, defineConfig } from 'runcue'`.
 */
/** Gives a config file its types (`export default defineConfig({ ... })`). */
export { defineConfig } from './config/types.ts';
/** The config as a user writes it: `RuncueConfig`, `TaskConfig`, `ServiceConfig`, `UnitInfo`... */
export type * from './config/types.ts';
/** Finds, loads and resolves a config; every failure is a value. */
export { loadConfig } from './config/load.ts';
/** The config after validation and resolution, and why loading one can fail. */
export type { ResolvedConfig, ConfigFailure, ConfigIssue } from './config/resolved.ts';
/** Runs the stale units of the targets, within every service's limits. */
export { build } from './runner/build.ts';
/** What `build` takes and returns. */
export type { BuildOptions, BuildResult, BuildFailure } from './runner/build.ts';
/** Time and chance as a build sees them (`BuildOptions.ports`): a virtual clock plugs in here. */
export type { Clock, Random, RunnerPorts, TimerHandle, Timers } from './runner/ports.ts';
/** The events a run emits (the `--json` stream's types). */
export type * from './runner/events.ts';
/** A value or a failure: how every expected failure is returned. */
export type { Result } from './result.ts';
/** Thrown by a function task to push back (the service answered 429): requeued, not failed. */
export { RateLimited } from './runner/push-back.ts';
/** Builds, then rebuilds what file changes make stale, until its signal aborts. */
export { watch } from './watch/session.ts';
/** What `watch` takes and returns. */
export type { WatchOptions, WatchSummary, WatchFailure } from './watch/session.ts';
export type { WatchEvent } from './watch/events.ts';
/** A run record as `runcue report --json` prints it and `.runcue/runs/*.json` holds it. */
export type { RunRecord, UnitRecord, ServiceRecord, RateUse, RunStatus, UnitOutcome, Span } from './runner/records/record.ts';
