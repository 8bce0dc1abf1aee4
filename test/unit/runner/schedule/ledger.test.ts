/** The ledger of a run: what a success leaves in the result for a watcher. */
import { describe, expect, it } from 'vitest';
import type { Unit } from '../../../../src/graph/unit.ts';
import { Ledger } from '../../../../src/runner/schedule/ledger.ts';
import { MemoryFileSystem } from '../../../../src/runner/sim/memory-file-system.ts';

const unit: Unit = {
  id: 'work[n=1]',
  task: 'work',
  wildcards: { n: '1' },
  inputs: [{ name: 'input', path: 'in/1.txt', isGlob: false }],
  outputs: [{ name: 'output', path: 'out/1.txt', isGlob: false }],
  placeholder: false,
};

function succeeded(keepWritten?: boolean): Ledger {
  const fs = new MemoryFileSystem('/project', { now: () => 5000 });
  fs.put('in/1.txt', 1000);
  fs.put('out/1.txt', 4000);
  const ledger = keepWritten === undefined ? new Ledger(fs, 'read-back') : new Ledger(fs, 'read-back', keepWritten);
  ledger.succeeded(unit, { written: ['out/1.txt'], rewrote: [], inputs: new Map() });
  return ledger;
}

describe('Ledger', () => {
  it('notes the files a success wrote, with their mtimes, for a watcher', () => {
    expect([...succeeded().written]).toEqual([['out/1.txt', 4000]]);
  });

  it('notes none with keepWritten false (runcue sim: nobody watches its files)', () => {
    expect(succeeded(false).written.size).toBe(0);
  });
});
