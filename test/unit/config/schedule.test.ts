/**
 * Task schedules: the most recent and the next scheduled time as the clock moves (a fake one),
 * across daylight-saving changes in a named time zone, and the config errors of bad ones.
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/config/resolve.ts';
import { resolveSchedule, type Schedule } from '../../../src/config/schedule.ts';
import type { ScheduleConfig } from '../../../src/config/types.ts';
import { FakeClock } from '../../rig/fake-clock.ts';

const SECOND = 1_000;
const HOUR = 3_600_000;

const at = (iso: string): number => Date.parse(iso);
const iso = (time: number | undefined): string | undefined => (time === undefined ? undefined : new Date(time).toISOString());

function schedule(config: ScheduleConfig): Schedule {
  const compiled = resolveSchedule(config);
  if (compiled === undefined) throw new Error('no schedule');
  return compiled;
}

describe('schedule: a daily time crossing on a fake clock', () => {
  const daily = schedule({ cron: '0 6 * * *', timezone: 'UTC' });

  it('is due since yesterday until 06:00, then since today; the next time moves on a day', async () => {
    const clock = new FakeClock(at('2026-12-05T05:59:59.000Z'));
    expect(iso(daily.latest(clock.now()))).toBe('2026-12-04T06:00:00.000Z');
    expect(iso(daily.next(clock.now()))).toBe('2026-12-05T06:00:00.000Z');
    await clock.advance(999);
    expect(iso(daily.latest(clock.now()))).toBe('2026-12-04T06:00:00.000Z');
    await clock.advance(1);
    // A scheduled time counts from its first millisecond: `latest` includes it, `next` is after it.
    expect(iso(daily.latest(clock.now()))).toBe('2026-12-05T06:00:00.000Z');
    expect(iso(daily.next(clock.now()))).toBe('2026-12-06T06:00:00.000Z');
    await clock.advance(HOUR + 500);
    expect(iso(daily.latest(clock.now()))).toBe('2026-12-05T06:00:00.000Z');
  });

  it('a plain string is the same schedule in the local time zone', () => {
    const local = schedule('0 6 * * *');
    expect(local).toMatchObject({ cron: '0 6 * * *', timezone: undefined });
    const due = local.latest(at('2026-12-05T12:00:00Z')) ?? 0;
    expect(new Date(due).getHours()).toBe(6);
    expect(new Date(due).getMinutes()).toBe(0);
  });

  it('a six-field cron counts seconds', () => {
    const everySecond = schedule('* * * * * *');
    expect(everySecond.latest(at('2026-12-05T12:00:00.700Z'))).toBe(at('2026-12-05T12:00:00Z'));
    expect(everySecond.next(at('2026-12-05T12:00:00.700Z'))).toBe(at('2026-12-05T12:00:01Z'));
  });

  it('no schedule is undefined', () => {
    expect(resolveSchedule(undefined)).toBeUndefined();
  });
});

describe('schedule: daylight-saving changes in Europe/Berlin', () => {
  it('a 02:30 job runs at 03:00 on the spring day that has no 02:30', () => {
    const night = schedule({ cron: '30 2 * * *', timezone: 'Europe/Berlin' });
    // 2026-03-29: clocks go from 02:00 CET (01:00Z) to 03:00 CEST.
    expect(iso(night.next(at('2026-03-28T12:00:00Z')))).toBe('2026-03-29T01:00:00.000Z');
    expect(iso(night.latest(at('2026-03-29T00:59:59Z')))).toBe('2026-03-28T01:30:00.000Z');
    expect(iso(night.latest(at('2026-03-29T01:00:00Z')))).toBe('2026-03-29T01:00:00.000Z');
    // The day after, 02:30 CEST again.
    expect(iso(night.next(at('2026-03-29T01:00:00Z')))).toBe('2026-03-30T00:30:00.000Z');
  });

  it('a 02:30 job runs once on the autumn day that has 02:30 twice', () => {
    const night = schedule({ cron: '30 2 * * *', timezone: 'Europe/Berlin' });
    // 2026-10-25: 02:30 CEST is 00:30Z, 02:30 CET (after clocks go back at 03:00 CEST) is 01:30Z.
    expect(iso(night.next(at('2026-10-24T12:00:00Z')))).toBe('2026-10-25T00:30:00.000Z');
    expect(iso(night.latest(at('2026-10-25T01:45:00Z')))).toBe('2026-10-25T00:30:00.000Z');
    expect(iso(night.next(at('2026-10-25T00:30:00Z')))).toBe('2026-10-26T01:30:00.000Z');
  });

  it('a daily 06:00 stays 06:00 local: 23 hours apart in spring, 25 in autumn', () => {
    const morning = schedule({ cron: '0 6 * * *', timezone: 'Europe/Berlin' });
    const spring = [at('2026-03-28T12:00:00Z'), at('2026-03-29T12:00:00Z')].map((t) => morning.latest(t) ?? 0);
    expect(spring.map(iso)).toEqual(['2026-03-28T05:00:00.000Z', '2026-03-29T04:00:00.000Z']);
    expect((spring[1] ?? 0) - (spring[0] ?? 0)).toBe(23 * HOUR);
    const autumn = [at('2026-10-24T12:00:00Z'), at('2026-10-25T12:00:00Z')].map((t) => morning.latest(t) ?? 0);
    expect(autumn.map(iso)).toEqual(['2026-10-24T04:00:00.000Z', '2026-10-25T05:00:00.000Z']);
    expect((autumn[1] ?? 0) - (autumn[0] ?? 0)).toBe(25 * HOUR);
  });

  it('crossing the spring change on a fake clock, the due time jumps from 05:00Z to 04:00Z', async () => {
    const morning = schedule({ cron: '0 6 * * *', timezone: 'Europe/Berlin' });
    const clock = new FakeClock(at('2026-03-29T03:59:59Z'));
    expect(iso(morning.latest(clock.now()))).toBe('2026-03-28T05:00:00.000Z');
    await clock.advance(SECOND);
    expect(iso(morning.latest(clock.now()))).toBe('2026-03-29T04:00:00.000Z');
  });
});

describe('schedule: config errors name the key and what was expected', () => {
  function issues(schedule: unknown): { path: string; message: string }[] {
    const result = resolveConfig({ tasks: { fetch: { output: 'out/a.txt', run: 'x', schedule } } }, '/p/runcue.config.mjs');
    if (result.ok || result.error.reason !== 'config-invalid') throw new Error('expected an invalid config');
    return result.error.issues.map(({ path, message }) => ({ path, message }));
  }

  it('an invalid cron string', () => {
    expect(issues('0 25 * * *')).toEqual([
      {
        path: 'tasks.fetch.schedule',
        message:
          'invalid cron expression "0 25 * * *": Invalid value for hour: 25; ' +
          "expected minute hour day-of-month month day-of-week, like '0 6 * * *'",
      },
    ]);
    expect(issues({ cron: '0 6 * *' })[0]?.path).toBe('tasks.fetch.schedule.cron');
    expect(issues({ cron: '0 6 * *' })[0]?.message).toMatch(/^invalid cron expression "0 6 \* \*": .*expected minute hour/);
  });

  it('a cron that never matches', () => {
    expect(issues('0 6 31 2 *')).toEqual([{ path: 'tasks.fetch.schedule', message: 'cron expression "0 6 31 2 *" never matches a date' }]);
  });

  it('an unknown time zone', () => {
    expect(issues({ cron: '0 6 * * *', timezone: 'Europe/Berln' })).toEqual([
      {
        path: 'tasks.fetch.schedule.timezone',
        message: `unknown time zone "Europe/Berln"; expected an IANA name like 'Europe/Berlin' or 'UTC'`,
      },
    ]);
  });

  it('the wrong shape', () => {
    expect(issues(6)).toEqual([
      {
        path: 'tasks.fetch.schedule',
        message: "expected a cron string like '0 6 * * *' or { cron: '0 6 * * *', timezone: 'Europe/Berlin' }, got 6",
      },
    ]);
    expect(issues({ timezone: 'UTC' })).toEqual([
      { path: 'tasks.fetch.schedule.cron', message: "missing; expected a cron string like '0 6 * * *'" },
    ]);
    expect(issues({ cron: '0 6 * * *', tz: 'UTC' })[0]).toMatchObject({ path: 'tasks.fetch.schedule.tz', message: /^unknown key/ });
  });

  it('a valid schedule resolves to its compiled form', () => {
    const result = resolveConfig(
      { tasks: { fetch: { output: 'out/a.txt', run: 'x', schedule: { cron: '0 6 * * *', timezone: 'UTC' } } } },
      '/p/runcue.config.mjs',
    );
    const fetch = result.ok ? result.value.tasks.get('fetch') : undefined;
    expect(fetch?.schedule).toMatchObject({ cron: '0 6 * * *', timezone: 'UTC' });
    expect(fetch?.schedule?.latest(at('2026-12-05T07:00:00Z'))).toBe(at('2026-12-05T06:00:00Z'));
  });
});
