import { execFile } from 'node:child_process';
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

  it('leaves child processes started outside a scope alone', async () => {
    tagChildProcesses();
    const outside = await run('sh', printEnv, { env: { PATH: process.env['PATH'] } });
    expect(outside.stdout).toBe('unset unset\n');
  });
});
