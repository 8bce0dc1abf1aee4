import { globSync, readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

/**
 * The files that pin down how commands are started (process groups, signals, a dying runcue,
 * output, push-back): run again with the helper pool forced (RUNCUE_SPAWN=pool, see
 * src/runner/execute/spawner.ts); the default project runs every file with the default, `auto`,
 * which forks a process's first three commands directly and uses the pool once it is up.
 * The slowest files (build, outputs, quota, edge-cases) are left to the default project, whose
 * commands `auto` already starts both ways.
 */
const POOL_FILES = [
  'test/e2e/signals.test.ts',
  'test/e2e/runcue-dies.test.ts',
  'test/e2e/held-pipes.test.ts',
  'test/e2e/hostile-names.test.ts',
  'test/e2e/failure-time.test.ts',
];
/**
 * Forced direct forks: only where a runcue process starts more than four commands, so that `auto`
 * hands some to the pool. The other pool files start at most four per process, all of which `auto`
 * forks directly already (it starts the pool with the fourth): forcing `direct` ran them twice.
 */
const DIRECT_FILES = ['test/e2e/hostile-names.test.ts'];

/**
 * Unit test files that replace a module (`vi.mock`): in a shared worker a module another file
 * loaded first would keep the real import and the mock would count nothing, so these run isolated
 * (the `isolated` project).
 */
const MOCKING_FILES = globSync('test/unit/**/*.test.ts').filter((f) => /\bvi\.(?:do)?[mM]ock\(/.test(readFileSync(f, 'utf8')));

/**
 * Unit test files that change what a module reads once per process (TMPDIR: runTempDir() in
 * unit-view.ts): in a shared worker, a file run after one of these got its retry-after and
 * `{inputs_file}` paths under a TMPDIR that is a file, and failed. They run isolated too.
 */
const PROCESS_STATE_FILES = ['test/unit/runner/execute/spawner-tmpdir.test.ts'];
const ISOLATED_UNIT_FILES = [...MOCKING_FILES, ...PROCESS_STATE_FILES];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // End-to-end tests spawn real processes; two cores are shared by all of them.
    maxWorkers: 2,
    projects: [
      // End-to-end files share their workers too: each file keeps its state in its own module
      // (re-run per file) and the rig's modules hold none; no fork and module graph per file saved
      // ~0.25 CPU-s a file (20 files: 42-48 -> 36-44 CPU-s).
      { extends: true, test: { name: 'default', include: ['test/e2e/**/*.test.ts'], isolate: false } },
      { extends: true, test: { name: 'isolated', include: ISOLATED_UNIT_FILES } },
      // Unit test files share their workers (no fork and no module reload per file: about a third
      // less CPU for them). Projects run in name order, so these fill in after the slow e2e files.
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/e2e/**', ...ISOLATED_UNIT_FILES], isolate: false },
      },
      { extends: true, test: { name: 'spawn-direct', include: DIRECT_FILES, env: { RUNCUE_SPAWN: 'direct' } } },
      { extends: true, test: { name: 'spawn-pool', include: POOL_FILES, env: { RUNCUE_SPAWN: 'pool' } } },
    ],
  },
});
