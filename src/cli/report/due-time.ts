/**
 * A scheduled time as `plan` and `why` show it (`due since 06:00`): local time, the date only
 * when it is not today, seconds only for a schedule that has them.
 */
import type { Schedule } from '../../config/schedule.ts';

/** `06:00` today, `2026-12-04 06:00` another day, `06:00:30` when the seconds are not 0. */
export function formatDueTime(due: number, now: number): string {
  const d = new Date(due);
  const today = new Date(now);
  const clock = `${pad2(d.getHours())}:${pad2(d.getMinutes())}${d.getSeconds() === 0 ? '' : `:${pad2(d.getSeconds())}`}`;
  const sameDay = d.getFullYear() === today.getFullYear() && d.getMonth() === today.getMonth() && d.getDate() === today.getDate();
  return sameDay ? clock : `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${clock}`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** What a task's schedule says about its oldest output (`runcue why`'s checks). */
export function describeSchedule(schedule: Schedule, oldestOutput: number, now: number): string {
  const zone = schedule.timezone === undefined ? '' : ` (${schedule.timezone})`;
  const head = `schedule '${schedule.cron}'${zone}`;
  const due = schedule.latest(now);
  if (due !== undefined && oldestOutput < due) return `${head}: due since ${formatDueTime(due, now)}, the oldest output predates it`;
  const next = schedule.next(Math.max(oldestOutput, now));
  return `${head}: ${next === undefined ? 'never due again' : `next due ${formatDueTime(next, now)}`}`;
}
