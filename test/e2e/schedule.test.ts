/**
 * `schedule` end to end: outputs dated before the most recent scheduled time (set with utimes,
 * never by waiting) are due; `plan`, `why` and `build` agree on which, and a build refreshes
 * exactly those. Bad schedules are config errors (exit 2).
 */
import { utimesSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveSchedule } from '../../src/config/schedule.ts';
import { Rig, waitFor } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

const HOUR = 3_600_000;
/** Child processes read times in UTC, whatever the machine's zone. */
const ENV = { env: { TZ: 'UTC' } };

const CONFIG = `export default { tasks: {
  report: {
    input: 'src/{name}.txt',
    output: 'out/{name}.txt',
    run: "echo {name} >> runs.log; cp {input} {output}",
    schedule: { cron: '0 6 * * *', timezone: 'UTC' },
  },
  wrap: { input: 'out/{name}.txt', output: 'final/{name}.md', run: "cp {input} {output}" },
} };`;

/** The most recent 06:00 UTC at or before now. */
function lastSixAm(): number {
  const due = resolveSchedule({ cron: '0 6 * * *', timezone: 'UTC' })?.latest(Date.now());
  if (due === undefined) throw new Error('no scheduled time');
  return due;
}

function setMtime(rel: string, time: number): void {
  utimesSync(rig.path(rel), new Date(time), new Date(time));
}

/**
 * report[name=a]'s output predates the last 06:00 (due); report[name=b]'s was written at it
 * (fresh). Inputs are older than both; each final/*.md is as new as its out/*.txt.
 */
function project(): number {
  rig = new Rig();
  rig.write({
    'runcue.config.mjs': CONFIG,
    'src/a.txt': 'a',
    'src/b.txt': 'b',
    'out/a.txt': 'a',
    'out/b.txt': 'b',
    'final/a.md': 'a',
    'final/b.md': 'b',
  });
  const due = lastSixAm();
  for (const rel of ['src/a.txt', 'src/b.txt']) setMtime(rel, due - 3 * HOUR);
  setMtime('out/a.txt', due - HOUR);
  setMtime('final/a.md', due - HOUR);
  setMtime('out/b.txt', due);
  setMtime('final/b.md', due);
  return due;
}

/** `06:00` when that instant falls today (UTC), else with its date, as runcue writes it. */
function dueText(due: number): string {
  const today = new Date().toISOString().slice(0, 10);
  const day = new Date(due).toISOString().slice(0, 10);
  return day === today ? '06:00' : `${day} 06:00`;
}

/**
 * The expectations are computed from the clock before runcue runs: a test that straddled 06:00
 * UTC (the due time moves) or midnight UTC (the date in the text moves) would fail for no fault,
 * so it starts only when the next such boundary is more than half a minute away.
 */
async function clearOfBoundaries(): Promise<void> {
  const sinceMidnight = Date.now() % (24 * HOUR);
  const toBoundary = Math.min(...[6 * HOUR, 24 * HOUR].map((b) => b - sinceMidnight).filter((d) => d > 0));
  if (toBoundary < 30_000) await new Promise((resolve) => setTimeout(resolve, toBoundary + 1000));
}

describe('schedule: plan, why and build', () => {
  beforeEach(clearOfBoundaries, 60_000);

  it('plan says a due unit runs for a scheduled refresh and the other is fresh', async () => {
    const due = project();
    const plan = await rig.run(['plan'], ENV);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain(`report[name=a]  scheduled refresh (due since ${dueText(due)})`);
    expect(plan.stdout).not.toContain('report[name=b]');
    const json = await rig.run(['plan', '--json'], ENV);
    const doc = JSON.parse(json.stdout) as { units: { unit: string; verdict: string; reason?: unknown }[] };
    expect(doc.units.filter((u) => u.verdict === 'run')).toEqual([
      { unit: 'report[name=a]', task: 'report', verdict: 'run', reason: { kind: 'scheduled', output: 'out/a.txt', due } },
      { unit: 'wrap[name=a]', task: 'wrap', verdict: 'run', reason: { kind: 'upstream', upstream: 'report[name=a]' } },
    ]);
    expect(doc.units.find((u) => u.unit === 'report[name=b]')?.verdict).toBe('fresh');
  });

  it('why shows the schedule among the checks, due or next due', async () => {
    const due = project();
    const a = await rig.run(['why', 'report[name=a]'], ENV);
    expect(a.stdout).toContain(`schedule '0 6 * * *' (UTC): due since ${dueText(due)}, the oldest output predates it`);
    expect(a.stdout).toContain(`verdict: stale: would run (scheduled refresh (due since ${dueText(due)}))`);
    const b = await rig.run(['why', 'report[name=b]'], ENV);
    expect(b.stdout).toContain(`schedule '0 6 * * *' (UTC): next due ${dueText(due + 24 * HOUR)}`);
    expect(b.stdout).toContain('verdict: fresh');
  });

  it('build refreshes exactly the due unit (and what depends on it); then nothing is due', async () => {
    const due = project();
    const build = await rig.runJson(['build'], ENV);
    expect(build.code).toBe(0);
    const started = build.events.filter((e) => e.type === 'unit:start').map((e) => [e['unit'], e['reason']]);
    expect(started).toEqual([
      ['report[name=a]', { kind: 'scheduled', output: 'out/a.txt', due }],
      ['wrap[name=a]', { kind: 'input-newer', input: 'out/a.txt', output: 'final/a.md' }],
    ]);
    expect(rig.read('runs.log')).toBe('a\n');
    const again = await rig.run(['plan'], ENV);
    expect(again.stdout).toContain('plan: 0 to run, 4 fresh');
  });
});

describe('schedule: freshness by hash', () => {
  it('a hash task whose fingerprint matches is still due when its scheduled time passes', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        stamp: { input: 'src/a.txt', output: 'out/a.txt', freshness: 'hash', schedule: '* * * * * *', run: "cp {input} {output}" },
      } };`,
      'src/a.txt': 'a',
    });
    expect((await rig.run(['build'], ENV)).code).toBe(0);
    // The next whole second is the next scheduled time: wait until the clock is past it.
    const next = Math.floor(rig.mtime('out/a.txt') / 1000) * 1000 + 1000;
    await waitFor(() => Date.now() > next + 10, 10_000, 'the next second');
    const plan = await rig.run(['plan', '--json'], ENV);
    const doc = JSON.parse(plan.stdout) as { units: { unit: string; reason?: { kind: string } }[] };
    expect(doc.units.map((u) => [u.unit, u.reason?.kind])).toEqual([['stamp', 'scheduled']]);
  });
});

describe('schedule: config errors', () => {
  it('an invalid cron or time zone exits 2, naming the key path and what was expected', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        a: { output: 'a.txt', run: 'true', schedule: '0 6 * *' },
        b: { output: 'b.txt', run: 'true', schedule: { cron: '0 6 * * *', timezone: 'Mars/Olympus' } },
      } };`,
    });
    const result = await rig.run(['build'], ENV);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('runcue.config.mjs: tasks.a.schedule: invalid cron expression "0 6 * *"');
    expect(result.stderr).toContain("expected minute hour day-of-month month day-of-week, like '0 6 * * *'");
    expect(result.stderr).toContain(
      `runcue.config.mjs: tasks.b.schedule.timezone: unknown time zone "Mars/Olympus"; expected an IANA name like 'Europe/Berlin' or 'UTC'`,
    );
  });
});
