import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDuration, parseRate } from '../../../src/config/duration.ts';

const EXPECTED = "expected a duration like '30s', '2m' or '1h'";

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1.5h', 5_400_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['1h 30m', 5_400_000],
    [' 2m ', 120_000],
    ['10min', 600_000],
    ['2 hours', 7_200_000],
    ['0s', 0],
    ['.5s', 500],
    ['1.0005s', 1001],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, value: ms });
  });

  it('takes a number as milliseconds, rounded to an integer', () => {
    expect(parseDuration(250)).toEqual({ ok: true, value: 250 });
    expect(parseDuration(2.6)).toEqual({ ok: true, value: 3 });
    expect(parseDuration(0)).toEqual({ ok: true, value: 0 });
  });

  it.each(['', '30', 's', '2 minutes ago', '1x', '-1s', '1..5s', '1h-30m', 'constructor', '1e3s'])('rejects %j', (text) => {
    expect(parseDuration(text)).toEqual({ ok: false, error: EXPECTED });
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, 1e300])('rejects the number %d', (value) => {
    expect(parseDuration(value)).toEqual({ ok: false, error: EXPECTED });
  });

  it('sums its parts, in any unit order', () => {
    fc.assert(
      fc.property(fc.nat(99), fc.nat(59), fc.nat(59), fc.nat(999), (h, m, s, ms) => {
        const expected = ((h * 60 + m) * 60 + s) * 1000 + ms;
        expect(parseDuration(`${h}h${m}m${s}s${ms}ms`)).toEqual({ ok: true, value: expected });
        expect(parseDuration(`${ms}ms ${s}s ${m}m ${h}h`)).toEqual({ ok: true, value: expected });
      }),
    );
  });
});

describe('parseRate', () => {
  it.each([
    ['60/min', 60, 60_000],
    ['60/m', 60, 60_000],
    ['60/minute', 60, 60_000],
    ['10/s', 10, 1000],
    ['10/sec', 10, 1000],
    ['10/second', 10, 1000],
    ['5000/hour', 5000, 3_600_000],
    ['5000/h', 5000, 3_600_000],
    ['100000/day', 100_000, 86_400_000],
    ['100/10s', 100, 10_000],
    ['3/1h30m', 3, 5_400_000],
    [' 60 / min ', 60, 60_000],
  ])('%s is %d per %d ms', (source, count, windowMs) => {
    expect(parseRate(source)).toEqual({ ok: true, value: { count, windowMs, source } });
  });

  it.each(['60', '60/', '60/fortnight', '60/0s', '60/-1s', '60 per min', '60/constructor'])('rejects %j', (text) => {
    expect(parseRate(text)).toEqual({ ok: false, error: "expected a rate like '60/min', '10/s' or '100/10s'" });
  });

  it.each(['/min', '0/min', '1.5/s', '-2/s', 'many/s'])('rejects the count of %j', (text) => {
    expect(parseRate(text)).toEqual({
      ok: false,
      error: "expected a rate like '60/min', '10/s' or '100/10s': the count before '/' must be a positive integer",
    });
  });
});
