/**
 * Durations (`'30s'`, `'1h30m'`) and rates (`'60/min'`, `'100/10s'`) as users write them.
 */
import { err, ok, type Result } from '../result.ts';
import type { RateLimit } from './resolved.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Unit spellings; longer alternatives first so `ms` and `min` are not read as `m`. */
const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: SECOND,
  sec: SECOND,
  secs: SECOND,
  second: SECOND,
  seconds: SECOND,
  m: MINUTE,
  min: MINUTE,
  mins: MINUTE,
  minute: MINUTE,
  minutes: MINUTE,
  h: HOUR,
  hr: HOUR,
  hrs: HOUR,
  hour: HOUR,
  hours: HOUR,
  d: DAY,
  day: DAY,
  days: DAY,
};

const UNIT_ALTERNATION = Object.keys(UNIT_MS)
  .sort((a, b) => b.length - a.length)
  .join('|');
const PART = `(\\d+(?:\\.\\d+)?|\\.\\d+)\\s*(${UNIT_ALTERNATION})`;
const WHOLE = new RegExp(`^(?:\\s*${PART})+\\s*$`);
const PARTS = new RegExp(PART, 'g');

/** The message of every duration error, also used by the config schema. */
export const DURATION_EXPECTED = "expected a duration like '30s', '2m' or '1h'";

/** The message of every rate error, also used by the config schema. */
const RATE_EXPECTED = "expected a rate like '60/min', '10/s' or '100/10s'";

/**
 * Milliseconds (an integer) of a duration: `'500ms'`, `'30s'`, `'2m'`, `'1.5h'`, `'1d'`, `'1h30m'`,
 * or a non-negative number of milliseconds.
 */
export function parseDuration(value: string | number): Result<number, string> {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? checkedMs(value) : err(DURATION_EXPECTED);
  }
  if (!WHOLE.test(value)) return err(DURATION_EXPECTED);
  let total = 0;
  for (const [, amount = '', unit = ''] of value.matchAll(PARTS)) {
    total += Number(amount) * (UNIT_MS[unit] ?? Number.NaN);
  }
  return checkedMs(total);
}

function checkedMs(ms: number): Result<number, string> {
  const rounded = Math.round(ms);
  return Number.isSafeInteger(rounded) ? ok(rounded) : err(DURATION_EXPECTED);
}

/**
 * A rate limit: `'N/s'`, `'N/min'`, `'N/hour'`, `'N/day'` (and their short or long spellings)
 * or `'N/<duration>'` such as `'100/10s'`, with N a positive integer.
 */
export function parseRate(value: string): Result<RateLimit, string> {
  const slash = value.indexOf('/');
  if (slash < 0) return err(RATE_EXPECTED);
  const countText = value.slice(0, slash).trim();
  const windowText = value.slice(slash + 1).trim();
  const count = Number(countText);
  if (!/^\d+$/.test(countText) || count < 1 || !Number.isSafeInteger(count)) {
    return err(`${RATE_EXPECTED}: the count before '/' must be a positive integer`);
  }
  // A bare unit (`min`) means one of it; anything else must be a full duration (`10s`).
  const windowMs = Object.hasOwn(UNIT_MS, windowText) ? UNIT_MS[windowText] : durationOrZero(windowText);
  if (windowMs === undefined || windowMs <= 0) return err(RATE_EXPECTED);
  return ok({ count, windowMs, source: value });
}

function durationOrZero(text: string): number {
  const parsed = parseDuration(text);
  return parsed.ok ? parsed.value : 0;
}
