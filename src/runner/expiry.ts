/**
 * When outputs go stale by the clock alone, with no input changing: `maxAge` after they were
 * written, or at the first scheduled time after that. A watch sleeps until the earliest one.
 */
import type { Schedule } from '../config/schedule.ts';

/** The task keys that make outputs expire. */
export interface ClockRules {
  readonly maxAgeMs: number | undefined;
  readonly schedule?: Schedule | undefined;
}

/**
 * When outputs written at `writtenAt` expire. `scheduleFrom` (default `writtenAt`): after a run,
 * its start, since an output may be written before a scheduled time the run ends after.
 */
export function clockExpiry(rules: ClockRules, writtenAt: number, scheduleFrom = writtenAt): number | undefined {
  const byAge = rules.maxAgeMs === undefined ? undefined : writtenAt + rules.maxAgeMs;
  const bySchedule = rules.schedule?.next(scheduleFrom);
  if (byAge === undefined) return bySchedule;
  return bySchedule === undefined ? byAge : Math.min(byAge, bySchedule);
}
