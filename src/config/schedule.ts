/**
 * A task's `schedule`: a cron expression, in the machine's time zone or a named one, read by
 * croner. croner is loaded on first use, so a config without a schedule never pays for it
 * (start-up time is a feature: test/unit/cli/startup.test.ts).
 */
import { createRequire } from 'node:module';
import type { Cron } from 'croner';
import { err, ok, type Result } from '../result.ts';
import type { ScheduleConfig } from './types.ts';

/** A compiled schedule: the times a task's outputs are due to be refreshed. */
export interface Schedule {
  /** The cron expression as written. */
  readonly cron: string;
  /** An IANA time zone; undefined: the machine's local time zone. */
  readonly timezone: string | undefined;
  /** The most recent scheduled time at or before `at` (ms since the epoch); undefined if none. */
  latest(at: number): number | undefined;
  /** The first scheduled time strictly after `at` (ms since the epoch); undefined if none. */
  next(at: number): number | undefined;
}

/** What a valid schedule looks like, for messages. */
export const SCHEDULE_EXPECTED = "a cron string like '0 6 * * *' or { cron: '0 6 * * *', timezone: 'Europe/Berlin' }";

type CronModule = typeof import('croner');
let croner: CronModule | undefined;

// Synchronous on purpose: config resolution is synchronous, and this runs only for schedules.
function loadCroner(): CronModule {
  croner ??= createRequire(import.meta.url)('croner') as CronModule;
  return croner;
}

function compile(cron: string, timezone: string | undefined): Cron {
  const { Cron } = loadCroner();
  return new Cron(cron, timezone === undefined ? {} : { timezone });
}

/** Why a cron expression is invalid (croner's words), or undefined when it is valid. */
export function cronProblem(cron: string): string | undefined {
  let compiled: Cron;
  try {
    compiled = compile(cron, undefined);
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).replace(/^CronPattern: /, '').replace(/\.$/, '');
    return `invalid cron expression ${JSON.stringify(cron)}: ${reason}; expected minute hour day-of-month month day-of-week, like '0 6 * * *'`;
  }
  if (compiled.nextRun(new Date(0)) === null) return `cron expression ${JSON.stringify(cron)} never matches a date`;
  return undefined;
}

/** Whether `zone` is an IANA time zone this Node knows (`Europe/Berlin`, `UTC`). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * A task's schedule, compiled; undefined without one. The schema has checked the config, so an
 * invalid one here is a bug, not a user mistake.
 */
export function resolveSchedule(config: ScheduleConfig | undefined): Schedule | undefined {
  if (config === undefined) return undefined;
  const parsed = parseSchedule(config);
  if (!parsed.ok) throw new Error(`internal error: unchecked schedule: ${parsed.error}`);
  return parsed.value;
}

function parseSchedule(config: ScheduleConfig): Result<Schedule, string> {
  const cron = typeof config === 'string' ? config : config.cron;
  const timezone = typeof config === 'string' ? undefined : config.timezone;
  const problem = cronProblem(cron);
  if (problem !== undefined) return err(problem);
  if (timezone !== undefined && !isTimeZone(timezone)) return err(`unknown time zone ${JSON.stringify(timezone)}`);
  const compiled = compile(cron, timezone);
  return ok({
    cron,
    timezone,
    // croner leaves out a run exactly at the reference: 1 ms later includes it (runs are whole seconds).
    latest: (at) => compiled.previousRuns(1, new Date(at + 1))[0]?.getTime(),
    next: (at) => compiled.nextRun(new Date(at))?.getTime() ?? undefined,
  });
}
