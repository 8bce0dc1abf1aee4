/**
 * The entry of dist/cli/engine.cjs, the script build of everything a command runs (see
 * engine-script.ts): what main.ts needs from it.
 */
export { CommanderError } from 'commander';
export { createProgram } from './program.ts';
