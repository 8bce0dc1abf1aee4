/**
 * Queue mode judges freshness by content unless told otherwise: the coordinator and the workers
 * are different hosts whose clocks differ and whose shared file systems report mtimes of their
 * own, so an mtime comparison across machines would lie. Content hashes do not depend on any
 * clock. A `freshness` the user wrote (on the task or the config) is theirs and wins.
 */
import type { ResolvedConfig } from '../../config/resolved.ts';

/** `config` with every task that does not set its `freshness` on `freshness: 'hash'`. */
export function withHashFreshness(config: ResolvedConfig): ResolvedConfig {
  const tasks = new Map(
    [...config.tasks].map(([name, task]) => [name, task.freshnessSet ? task : { ...task, freshness: 'hash' as const }]),
  );
  return { ...config, tasks };
}
