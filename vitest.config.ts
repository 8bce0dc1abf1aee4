import { defineConfig } from 'vitest/config';

/**
 * The files that pin down how commands are started (process groups, signals, a dying runcue,
 * output, push-back, rate limits): run again with each way of starting them forced
 * (RUNCUE_SPAWN, see src/runner/execute/spawner.ts); the default project runs every file with
 * the default, `auto`.
 */
const SPAWN_FILES = [
  'test/e2e/build.test.ts',
  'test/e2e/signals.test.ts',
  'test/e2e/runcue-dies.test.ts',
  'test/e2e/held-pipes.test.ts',
  'test/e2e/hostile-names.test.ts',
  'test/e2e/edge-cases.test.ts',
  'test/e2e/outputs.test.ts',
  'test/e2e/failure-time.test.ts',
  'test/e2e/quota.test.ts',
];
/**
 * The forced modes skip the slowest files, whose commands the default project already starts
 * both ways (`auto` forks directly until the helper is up, then uses the pool).
 */
const FORCED_FILES = SPAWN_FILES.filter((f) => !/build|outputs|quota|edge-cases/.test(f));

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // End-to-end tests spawn real processes; two cores are shared by all of them.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'default', include: ['test/**/*.test.ts'] } },
      { extends: true, test: { name: 'spawn-direct', include: FORCED_FILES, env: { RUNCUE_SPAWN: 'direct' } } },
      { extends: true, test: { name: 'spawn-pool', include: FORCED_FILES, env: { RUNCUE_SPAWN: 'pool' } } },
    ],
  },
});
