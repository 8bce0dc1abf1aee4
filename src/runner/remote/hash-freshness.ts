/**
 * Queue mode judges freshness by content: the coordinator and the workers are different hosts
 * whose clocks differ and whose shared file systems report mtimes of their own, so an mtime
 * comparison across machines would lie. Content hashes do not depend on any clock.
 */
import type { ResolvedConfig } from '../../config/resolved.ts';

/** `config` with every task on `freshness: 'hash'`. */
export function withHashFreshness(config: ResolvedConfig): ResolvedConfig {
  const tasks = new Map([...config.tasks].map(([name, task]) => [name, { ...task, freshness: 'hash' as const }]));
  return { ...config, tasks };
}
