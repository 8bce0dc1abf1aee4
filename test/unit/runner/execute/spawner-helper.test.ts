/**
 * The spawner helper's own bookkeeping (spawner-helper.ts), run in python3 with `os.killpg`
 * wrapped: what it would signal when runcue exits; and where it starts a command.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { execProcess } from '../../../../src/runner/execute/spawn.ts';
import { SPAWNER_SOURCE } from '../../../../src/runner/execute/spawner-helper.ts';
import { PYTHON3 } from '../../../rig/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'runcue-spawner-helper-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * At stdin EOF, every group id the helper still remembers and whose command exited is taken as
 * reused by someone else's new group (pid_max is often 32768): a probe finds it alive, and a
 * signal to it is logged instead of sent.
 */
const REUSED_GROUPS = String.raw`
real_killpg = os.killpg
reused = set()
def fake_killpg(g, s):
    if g in reused:
        sys.stderr.write('signal %d to group %d\n' % (s, g))
        sys.stderr.flush()
        return
    real_killpg(g, s)
os.killpg = fake_killpg
real_stop_all = stop_all
def stop_all():
    reused.update(g for g in groups if g not in running)
    real_stop_all()
main()
`;

function request(id: number, argv: string[]): Buffer {
  const payload = Buffer.from([String(id), dir, String(argv.length), ...argv, `PATH=${process.env['PATH'] ?? ''}`].join('\0'));
  return Buffer.concat([Buffer.from(`${payload.length}\n`), payload]);
}

describe('the spawner helper', () => {
  it('never signals the group id of a command that exited and whose group is gone when runcue exits', async () => {
    const source = SPAWNER_SOURCE.replace(/\nmain\(\)\n$/, '\n') + REUSED_GROUPS;
    expect(source).not.toBe(SPAWNER_SOURCE + REUSED_GROUPS);
    const child = spawn(PYTHON3, ['-I', '-S', '-c', source, '300', dir], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<void>((resolve) =>
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('latin1');
        if (/^x 1 /m.test(stdout)) resolve();
      }),
    );
    child.stdin.write(request(1, ['true']));
    await exited;
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdin.end();
    expect(await closed).toBe(0);
    expect(stdout).toMatch(/^s 1 \d+$/m);
    expect(stderr).toBe('');
  });
});

/** Runs `argv` through a helper made of `source`; the tail of output it reports for it. */
async function outputOf(source: string, argv: string[]): Promise<string> {
  const child = spawn(PYTHON3, ['-I', '-S', '-c', source, '300', dir], { stdio: ['pipe', 'pipe', 'ignore'] });
  let stdout = Buffer.alloc(0);
  const tail = new Promise<string>((resolve) =>
    child.stdout.on('data', (chunk: Buffer) => {
      stdout = Buffer.concat([stdout, chunk]);
      const text = stdout.toString('latin1');
      const head = /^x 1 -?\d+ \d+ (\d+) \d\n/m.exec(text);
      const start = head ? head.index + head[0].length : 0;
      if (head && text.length >= start + Number(head[1])) resolve(text.slice(start, start + Number(head[1])));
    }),
  );
  const closed = new Promise((resolve) => child.on('close', resolve));
  child.stdin.write(request(1, argv));
  const text = await tail;
  child.stdin.end();
  await closed;
  return text;
}

describe.runIf(process.platform === 'linux')('the output a command writes through the helper', () => {
  const script = ['sh', '-c', 'readlink /proc/$$/fd/1; echo err >&2'];

  it('goes to a file in memory, not on the disk (an inode there cost ~0.4 ms a command)', async () => {
    const text = await outputOf(SPAWNER_SOURCE, script);
    expect(text).toMatch(/^\/memfd:runcue-out \(deleted\)\nerr\n$/);
  });

  it('goes to a file without a name in TMPDIR where memfd_create is missing', async () => {
    const source = SPAWNER_SOURCE.replace("memfd = [hasattr(os, 'memfd_create')]", 'memfd = [False]');
    expect(source).not.toBe(SPAWNER_SOURCE);
    const text = await outputOf(source, script);
    expect(text).toMatch(/^\/.*\(deleted\)\nerr\n$/);
    expect(text).not.toContain('memfd');
  });
});

describe('the spawner pool', () => {
  it('runs a command in its working directory also after that directory was removed and made again', async () => {
    const project = join(dir, 'project');
    const options = {
      cwd: project,
      env: { PATH: process.env['PATH'] },
      signal: new AbortController().signal,
      timeoutMs: undefined,
      killGraceMs: 300,
      spawn: 'pool' as const,
    };
    for (const round of [1, 2]) {
      rmSync(project, { recursive: true, force: true });
      mkdirSync(project);
      writeFileSync(join(project, 'in.txt'), `round ${round}`);
      expect(await execProcess(['cp', 'in.txt', 'out.txt'], options)).toEqual({ ok: true, outputTail: '' });
      expect(readFileSync(join(project, 'out.txt'), 'utf8')).toBe(`round ${round}`);
    }
  });
});
