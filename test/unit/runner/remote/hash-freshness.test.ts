/** Queue builds judge freshness by content, unless the task or the config says otherwise. */
import { describe, expect, it } from 'vitest';
import { withHashFreshness } from '../../../../src/runner/remote/hash-freshness.ts';
import { configOf } from '../../../rig/config-builder.ts';

const freshnessOf = (config: ReturnType<typeof configOf>): Record<string, string> =>
  Object.fromEntries([...withHashFreshness(config).tasks].map(([name, t]) => [name, t.freshness]));

describe('freshness in a queue build', () => {
  it("is 'hash' for a task that does not set it, and the task's own where it does", () => {
    const config = configOf({ plain: {}, byMtime: { freshness: 'mtime' }, byHash: { freshness: 'hash' } });
    expect(freshnessOf(config)).toEqual({ plain: 'hash', byMtime: 'mtime', byHash: 'hash' });
  });

  it("keeps the config's top-level freshness, which a task's own still overrides", () => {
    const config = configOf({ plain: {}, byHash: { freshness: 'hash' } }, { extra: { freshness: 'mtime' } });
    expect(freshnessOf(config)).toEqual({ plain: 'mtime', byHash: 'hash' });
  });
});
