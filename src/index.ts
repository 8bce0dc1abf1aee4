/**
 * The programmatic API: `import { build, loadConfig, defineConfig } from 'runcue'`.
 */
export { defineConfig } from './config/types.ts';
export type * from './config/types.ts';
export { loadConfig } from './config/load.ts';
export type { ResolvedConfig, ConfigFailure, ConfigIssue } from './config/resolved.ts';
export { build } from './runner/build.ts';
export type { BuildOptions, BuildResult, BuildFailure } from './runner/build.ts';
export type * from './runner/events.ts';
export type { Result } from './result.ts';
export { RateLimited } from './runner/push-back.ts';
export { watch } from './watch/session.ts';
export type { WatchOptions, WatchSummary, WatchFailure } from './watch/session.ts';
export type { WatchEvent } from './watch/events.ts';
