/**
 * What `runcue build` does before it has a unit to run, watched from inside the real CLI's
 * process (a hook loaded with --import records it): work that start-up once paid for and does
 * not need must not come back unnoticed. bench/ measures the time; this checks the work.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Rig } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

/**
 * Records, and prints at exit: the file of the first frame of every stack trace formatted, every
 * package.json read through node:fs, how often Date's toISOString was called, and whether
 * process.stderr was made (the line goes out with writeSync, which makes no stream).
 */
const HOOK = [
  'const stacks = [];',
  'const manifests = [];',
  'let isoDates = 0;',
  'let stderrMade = false;',
  "const stderr = Object.getOwnPropertyDescriptor(process, 'stderr');",
  "Object.defineProperty(process, 'stderr', { configurable: true, enumerable: stderr.enumerable, get() { stderrMade = true; return stderr.get.call(this); } });",
  'const prior = Error.prepareStackTrace;',
  'Error.prepareStackTrace = (error, frames) => {',
  "  stacks.push(String(frames[0]?.getFileName() ?? '?'));",
  "  return prior ? prior(error, frames) : String(error) + frames.map((f) => '\\n    at ' + String(f)).join('');",
  '};',
  "const fs = process.getBuiltinModule('node:fs');",
  'const readFileSync = fs.readFileSync;',
  'fs.readFileSync = function (file, ...rest) {',
  "  if (String(file).endsWith('package.json')) manifests.push(String(file));",
  '  return readFileSync.call(this, file, ...rest);',
  '};',
  'const toISOString = Date.prototype.toISOString;',
  'Date.prototype.toISOString = function () {',
  '  isoDates += 1;',
  '  return toISOString.call(this);',
  '};',
  "process.on('exit', () => fs.writeSync(2, 'startup-work: ' + JSON.stringify({ stacks, manifests, isoDates, stderrMade }) + '\\n'));",
].join('\n');

interface Work {
  readonly stacks: readonly string[];
  readonly manifests: readonly string[];
  readonly isoDates: number;
  readonly stderrMade: boolean;
}

/** Runs `runcue build` with the hook in a project whose one task has no unit, and returns what it saw. */
async function buildWithNoUnits(config: string): Promise<Work> {
  rig = new Rig();
  rig.write({
    [config]: `export default { tasks: { copy: { input: 'src/{n}.in', output: 'out/{n}.out', run: 'cp {input} {output}' } } };`,
  });
  const options = `--import data:text/javascript,${encodeURIComponent(HOOK)}`;
  const run = await rig.run(['build', '--reporter', 'silent'], { env: { NODE_OPTIONS: options } });
  expect(run.code).toBe(0);
  const line = /^startup-work: (.*)$/m.exec(run.stderr)?.[1];
  expect(line).toBeDefined();
  return JSON.parse(line ?? '{}') as Work;
}

describe('a build with no units', () => {
  it('formats no stack trace (numbering the lines of the bundled engine is a scan of all 600 KB of it)', async () => {
    for (const config of ['runcue.config.mjs', 'runcue.config.ts']) {
      expect((await buildWithNoUnits(config)).stacks).toEqual([]);
      rig.cleanup();
    }
  });

  it("reads no package.json for runcue's version (the build writes it in)", async () => {
    expect((await buildWithNoUnits('runcue.config.mjs')).manifests).toEqual([]);
  });

  it('formats no date with toISOString (its first call costs a millisecond)', async () => {
    expect((await buildWithNoUnits('runcue.config.mjs')).isoDates).toBe(0);
  });

  it('makes no process.stderr with --reporter silent (for a pipe: the net module, a socket, and a handle that keeps runcue from exiting at once)', async () => {
    expect((await buildWithNoUnits('runcue.config.mjs')).stderrMade).toBe(false);
  });
});
