import { execFile, execFileSync, execSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tagChildProcesses } from '../../../../src/runner/execute/child-env.ts';
import { runInScope, type ChildTags } from '../../../../src/runner/function-scope.ts';

const run = promisify(execFile);
const printEnv = ['-c', 'echo "${RUNCUE_UNIT-unset} ${OTHER-unset}"'];

describe('tagChildProcesses', () => {
  it('gives the child processes of a function scope its entries, over any of the same name, and notes the first pid', async () => {
    tagChildProcesses();
    const children: ChildTags = { environment: ['RUNCUE_UNIT=t[n=a]'] };
    const scope = { unit: 't[n=a]', fail: () => false, children };
    const inside = await runInScope(scope, () =>
      run('sh', printEnv, { env: { PATH: process.env['PATH'], RUNCUE_UNIT: 'mine', OTHER: 'kept' } }),
    );
    expect(inside.stdout).toBe('t[n=a] kept\n');
    expect(children.first).toBeGreaterThan(0);
  });

  it('tags the synchronous starters as well, imported by name before they were wrapped', () => {
    tagChildProcesses();
    const children: ChildTags = { environment: ['RUNCUE_UNIT=t[n=b]'] };
    const scope = { unit: 't[n=b]', fail: () => false, children };
    const env = { PATH: process.env['PATH'], RUNCUE_UNIT: 'mine', OTHER: 'kept' };
    const seen = runInScope(scope, () => [
      execSync(printEnv[1] as string, { env, encoding: 'utf8' }),
      spawnSync('sh', printEnv, { encoding: 'utf8' }).stdout,
      execFileSync('sh', printEnv, { env, encoding: 'utf8' }),
      // Options where the list of arguments may stand.
      execFileSync('printenv', { env, encoding: 'utf8' })
        .split('\n')
        .filter((line) => line.startsWith('RUNCUE_UNIT=') || line.startsWith('OTHER='))
        .join(' '),
    ]);
    expect(seen).toEqual(['t[n=b] kept\n', 't[n=b] unset\n', 't[n=b] kept\n', 'RUNCUE_UNIT=t[n=b] OTHER=kept']);
    expect(children.first).toBeGreaterThan(0);
    // Outside a scope, untouched.
    expect(execSync(printEnv[1] as string, { env, encoding: 'utf8' })).toBe('mine kept\n');
  });

  it('leaves child processes started outside a scope alone', async () => {
    tagChildProcesses();
    const outside = await run('sh', printEnv, { env: { PATH: process.env['PATH'] } });
    expect(outside.stdout).toBe('unset unset\n');
  });
});
