/**
 * A project runcue cannot write where it must: an output's parent that is a file, `.runcue`
 * that is a file, rate windows that cannot be shared. Tests run as root here, where chmod stops
 * nothing, so "unwritable" is always a file standing where a directory must be (ENOTDIR/EEXIST):
 * the same code path as EACCES or EROFS for a normal user.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO, Rig } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

interface JsonEvent {
  readonly type: string;
  readonly unit?: string;
  readonly stream?: string;
  readonly text?: string;
  readonly error?: { readonly reason: string; readonly path?: string; readonly message: string };
}

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
const validate = ajv.compile(JSON.parse(readFileSync(join(REPO, 'docs', 'events.schema.json'), 'utf8')) as object);

/** Every stdout line as a schema-valid event. */
const events = (stdout: string): JsonEvent[] =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const event = JSON.parse(line) as JsonEvent;
      if (!validate(event)) throw new Error(`invalid event ${line}\n${ajv.errorsText(validate.errors)}`);
      return event;
    });

const NO_STACK = /\n\s+at /;

describe("an output's parent that cannot be created", () => {
  const CONFIG = `export default { tasks: {
    t: { input: 'src/{n}.txt', output: 'out/{n}/copy.txt', run: 'cp {input} {output}', retries: 3, backoff: '10s' },
  } };`;

  it('fails that unit with the path and the reason, runs the others with --keep-going, never retries', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': CONFIG, 'src/a.txt': 'a', 'src/b.txt': 'b', 'out/a': 'a file where a directory should be' });
    const result = await rig.run(['build', '--keep-going']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot create directory out/a for output out/a/copy.txt: a file is in the way (out/a is a file)');
    expect(result.stderr).not.toMatch(NO_STACK);
    expect(rig.read('out/b/copy.txt')).toBe('b');
    expect(rig.read('out/a')).toBe('a file where a directory should be');
  });

  it('names the file higher up that is in the way (ENOTDIR), in --json too', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': CONFIG, 'src/a.txt': 'a', out: 'a file' });
    const result = await rig.run(['build', '--json']);
    expect(result.code).toBe(1);
    const fail = events(result.stdout).find((e) => e.type === 'unit:fail');
    expect(fail?.error).toEqual({
      reason: 'file-error',
      path: 'out/a',
      message: 'cannot create directory out/a for output out/a/copy.txt: not a directory (out is a file)',
    });
    expect(events(result.stdout).filter((e) => e.type === 'unit:retry')).toEqual([]);
    expect(result.stderr).not.toMatch(NO_STACK);
  });
});

describe('.runcue is not a directory', () => {
  it('(hash freshness) fails the unit before running it: its fingerprint could not be kept', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { freshness: 'hash', tasks: {
        t: { input: 'src/{n}.txt', output: 'out/{n}.txt', run: 'cp {input} {output} && echo {n} >> runs.log' },
      } };`,
      'src/a.txt': 'a',
      '.runcue': 'a file where the state directory should be',
    });
    const result = await rig.run(['build']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'cannot create directory .runcue/fingerprints to record the fingerprint of this unit: not a directory (.runcue is a file)',
    );
    expect(result.stderr).not.toMatch(NO_STACK);
    expect(rig.exists('runs.log')).toBe(false);
  });

  it('(hash freshness) a fingerprint that cannot be written fails the unit, keeps its outputs, and reruns it next time', async () => {
    rig = new Rig();
    const record = `.runcue/fingerprints/${createHash('sha256').update('t[n=a]').digest('hex').slice(0, 32)}.json`;
    rig.write({
      'runcue.config.mjs': `export default { freshness: 'hash', tasks: {
        t: { input: 'src/{n}.txt', output: 'out/{n}.txt', run: 'cp {input} {output}', retries: 2 },
      } };`,
      'src/a.txt': 'a',
      // A directory where the record goes: the rename onto it fails like a full or read-only disk.
      [`${record}/x`]: '',
    });
    const result = await rig.run(['build', '--json']);
    expect(result.code).toBe(1);
    const fail = events(result.stdout).find((e) => e.type === 'unit:fail');
    expect(fail?.error).toMatchObject({ reason: 'file-error', path: record });
    expect(fail?.error?.message).toContain(`cannot write ${record} to record the fingerprint of this unit: `);
    expect(events(result.stdout).filter((e) => e.type === 'unit:retry')).toEqual([]);
    expect(rig.read('out/a.txt')).toBe('a');
    expect(result.stderr).not.toMatch(NO_STACK);
  });

  const RATED = `export default {
    services: { api: { rate: '1/300ms' } },
    tasks: { t: { uses: 'api', input: 'src/{n}.txt', output: 'out/{n}.txt', run: 'cp {input} {output}' } },
  };`;

  it('rate limits fall back to memory with a warning every reporter shows, and still hold', async () => {
    rig = new Rig();
    const files: Record<string, string> = { 'runcue.config.mjs': RATED, '.runcue': 'a file' };
    for (const n of ['a', 'b', 'c', 'd', 'e']) files[`src/${n}.txt`] = n;
    rig.write(files);
    const result = await rig.run(['build', '--json']);
    expect(result.code).toBe(0);
    const all = events(result.stdout);
    // Besides this one: in-flight records and output records cannot be written either (one each).
    const warnings = all.filter((e) => e.type === 'unit:log' && e.stream === 'warning' && e.text?.includes('rate limits'));
    expect(warnings).toHaveLength(1);
    expect(all.filter((e) => e.type === 'unit:log' && e.stream === 'warning')).toHaveLength(3);
    expect(warnings[0]?.unit).toBe('(run)');
    expect(warnings[0]?.text).toContain('rate limits are kept in memory only: cannot write .runcue/rates');
    expect(warnings[0]?.text).toContain('not a directory (.runcue is a file)');
    expect(warnings[0]?.text).toContain('a second runcue process, or a rerun within a window, can exceed');
    // One start per 300 ms: five starts take at least 1.2 s.
    const starts = all.filter((e) => e.type === 'unit:start').map((e) => (e as unknown as { time: number }).time);
    expect(starts).toHaveLength(5);
    expect((starts[4] ?? 0) - (starts[0] ?? 0)).toBeGreaterThanOrEqual(1190);

    const plain = await rig.run(['build', '--force', 't[n=a]']);
    expect(plain.code).toBe(0);
    expect(plain.stderr).toContain('rate limits are kept in memory only');
  });

  it('a file in place of .runcue/rates warns the same way', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': RATED, 'src/a.txt': 'a', '.runcue/rates': 'a file' });
    const result = await rig.run(['build']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('cannot write .runcue/rates');
    expect(result.stderr).not.toMatch(NO_STACK);
  });

  it('a start recorded an hour ahead is counted as now, with a warning naming the file and the skew', async () => {
    rig = new Rig();
    const ahead = Date.now() + 3_600_000;
    rig.write({ 'runcue.config.mjs': RATED, 'src/a.txt': 'a', '.runcue/rates/api.log': `${ahead}\n` });
    const started = Date.now();
    const result = await rig.run(['build', '--json']);
    expect(result.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000);
    const warning = events(result.stdout).find((e) => e.stream === 'warning');
    expect(warning?.text).toContain('.runcue/rates/api.log holds rate-limit starts up to 60 min in the future');
  });
});
