/**
 * What `runcue watch` reports around each cycle's run events. The JSON reporter prints these
 * next to the run's own (`RunEvent`), so this union is part of the `--json` contract too
 * (docs/events.md).
 */
import type { RunCounts } from '../runner/events.ts';

/** Events of `runcue watch`, around each cycle's run events. */
export type WatchEvent =
  | {
      readonly type: 'watch:cycle';
      readonly time: number;
      readonly cycle: number;
      readonly phase: 'start';
      /** What started it: the first build, file changes, a config reload, a maxAge expiry, or a task's scheduled time. */
      readonly trigger: 'initial' | 'files' | 'config' | 'max-age' | 'schedule';
      /** Changed paths (relative to the config directory), at most 100. */
      readonly changed: readonly string[];
    }
  | {
      readonly type: 'watch:cycle';
      readonly time: number;
      readonly cycle: number;
      readonly phase: 'done';
      readonly ok: boolean;
      readonly durationMs: number;
      readonly counts: RunCounts;
    }
  /** The config file changed: reloaded (`ok`), or broken and the last good config kept. */
  | { readonly type: 'watch:config'; readonly time: number; readonly ok: boolean; readonly message: string }
  | { readonly type: 'watch:ready'; readonly time: number; readonly watching: readonly string[] };
