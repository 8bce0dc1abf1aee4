/**
 * Text for `runcue watch` events, shared by the tty and ci reporters: one line per cycle with a
 * timestamp (`[14:03:22] cycle 3: 2 built, 40 fresh in 1.2s (src/a.txt changed)`), config reloads
 * and what is watched. Pure functions of their inputs.
 */
import { unreachable } from '../../result.ts';
import type { RunEvent } from '../../runner/events.ts';
import type { WatchEvent } from '../../watch/events.ts';
import { formatDuration, formatTimeOfDay, type FormatOptions } from './format.ts';

/** The `watch:cycle` event that starts a cycle. */
export type CycleStart = Extract<WatchEvent, { readonly type: 'watch:cycle'; readonly phase: 'start' }>;
/** The `watch:cycle` event that ends a cycle. */
export type CycleDone = Extract<WatchEvent, { readonly type: 'watch:cycle'; readonly phase: 'done' }>;

/** Whether an event is one of watch's own (not a run event). */
export function isWatchEvent(event: RunEvent | WatchEvent): event is WatchEvent {
  return event.type.startsWith('watch:');
}

/** `[14:03:22]` in local time. */
function formatClock(time: number): string {
  return `[${formatTimeOfDay(time)}]`;
}

/** `[14:03:22] cycle 3: 2 built, 40 fresh, 1 failed in 1.2s (src/a.txt changed)`. */
export function formatCycle(start: CycleStart | undefined, done: CycleDone, options: FormatOptions): string {
  const { palette } = options;
  const { built, fresh, failed, blocked, interrupted = 0 } = done.counts;
  const counts = [`${built} built`, `${fresh} fresh`];
  if (failed > 0) counts.push(palette.red(`${failed} failed`));
  if (blocked > 0) counts.push(palette.yellow(`${blocked} blocked`));
  if (interrupted > 0) counts.push(palette.yellow(`${interrupted} interrupted`));
  const why = start === undefined || start.cycle !== done.cycle ? '' : ` ${palette.dim(`(${describeTrigger(start)})`)}`;
  return `${palette.dim(formatClock(done.time))} cycle ${done.cycle}: ${counts.join(', ')} in ${formatDuration(done.durationMs)}${why}`;
}

/** What started a cycle, in a few words. */
function describeTrigger(start: CycleStart): string {
  switch (start.trigger) {
    case 'initial':
      return 'initial build';
    case 'config':
      return 'config reloaded';
    case 'max-age':
      return 'maxAge expired';
    case 'schedule':
      return 'scheduled refresh due';
    case 'files':
      return describeChanged(start.changed);
    default:
      return unreachable(start.trigger);
  }
}

/** `a.txt changed`, `a.txt, b.txt changed`, `a.txt and 41 more changed` (the list stops at 100). */
function describeChanged(changed: readonly string[]): string {
  const [first] = changed;
  if (first === undefined) return 'files changed';
  if (changed.length <= 3) return `${changed.join(', ')} changed`;
  const more = changed.length - 1;
  return `${first} and ${more}${changed.length >= 100 ? '+' : ''} more changed`;
}

/** Lines for watch events other than cycles: what is watched, config reloads and errors. */
export function formatWatchNotice(event: Exclude<WatchEvent, { readonly type: 'watch:cycle' }>, options: FormatOptions): string[] {
  const { palette } = options;
  const clock = palette.dim(formatClock(event.time));
  switch (event.type) {
    case 'watch:ready':
      return [`${clock} watching ${event.watching.join(', ')} ${palette.dim('(Ctrl-C to stop)')}`];
    case 'watch:config': {
      if (event.ok) return [`${clock} ${event.message}`];
      const [head = '', ...rest] = event.message.split('\n');
      return [`${clock} ${palette.red('config error:')} ${head}`, ...rest.map((line) => `  ${line}`)];
    }
    default:
      return unreachable(event);
  }
}
