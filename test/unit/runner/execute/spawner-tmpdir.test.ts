/**
 * The spawner pool with an unusable TMPDIR (a file, not a directory): a command runs as it does
 * when forked directly, which needs no temporary file. Its own file: the temporary directory is
 * read once per process.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { execProcess } from '../../../../src/runner/execute/spawn.ts';

const dir = mkdtempSync(join(tmpdir(), 'runcue-spawner-tmpdir-'));
const savedTmpdir = process.env['TMPDIR'];
afterAll(() => {
  if (savedTmpdir === undefined) delete process.env['TMPDIR'];
  else process.env['TMPDIR'] = savedTmpdir;
  rmSync(dir, { recursive: true, force: true });
});

describe.runIf(process.platform === 'linux')('the spawner pool with an unusable TMPDIR', () => {
  it('runs the command and keeps its output tail, as a direct fork does', async () => {
    const notADirectory = join(dir, 'file');
    writeFileSync(notADirectory, '');
    process.env['TMPDIR'] = notADirectory;
    const options = {
      cwd: dir,
      env: { PATH: process.env['PATH'] },
      signal: new AbortController().signal,
      timeoutMs: undefined,
      killGraceMs: 300,
    };
    const script = ['sh', '-c', 'echo out; echo err >&2; exit 3'];
    for (const spawn of ['pool', 'direct'] as const) {
      const outcome = await execProcess(script, { ...options, spawn });
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) expect(outcome.failure).toMatchObject({ reason: 'exit-non-zero', exitCode: 3 });
      expect(outcome.outputTail).toBe('out\nerr');
    }
  });
});
