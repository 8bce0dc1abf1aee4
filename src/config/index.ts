/**
 * The config layer for the layers above: find, load, validate and resolve a `runcue.config.ts`.
 * Importing this module loads cosmiconfig and valibot; a command that needs neither imports the
 * file it needs directly.
 */
export { loadConfig, SEARCH_PLACES, type LoadOptions } from './load.ts';
export { formatConfigFailure, formatPath, resolveConfig, type ResolveOptions } from './resolve.ts';
export { configSchema, describeValue, validateConfig, type PathIssue } from './schema.ts';
export { DURATION_EXPECTED, parseDuration, parseRate, RATE_EXPECTED } from './duration.ts';
export { didYouMean, editDistance } from '../suggest.ts';
export { defineConfig } from './types.ts';
export type * from './types.ts';
export type * from './resolved.ts';
