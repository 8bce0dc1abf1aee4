/**
 * `runcue watch` with a task that rewrites its own input (`sed -i ... {input}`): it is rerun once
 * the first time (an input changed while it ran), then held back with a warning, and from then on
 * runs once per change from outside; it never loops. Every wait is on a condition, bounded.
 */
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/runner/events.ts';
import type { WatchEvent } from '../../src/watch/events.ts';
import { collect, Rig, type RunResult, waitFor } from '../rig/index.ts';

type Event = RunEvent | WatchEvent;

let rig: Rig;
let child: ChildProcess | undefined;
let done: Promise<RunResult> | undefined;

afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await done?.catch(() => undefined);
  child = undefined;
  rig.cleanup();
});

/** Starts `runcue watch --json`; the returned array fills with its events. */
function watchJson(): Event[] {
  const events: Event[] = [];
  let buffer = '';
  child = rig.spawn(['watch', '--json']);
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') events.push(JSON.parse(line) as Event);
  });
  done = collect(child, 60_000);
  return events;
}

type CycleStart = Extract<Event, { type: 'watch:cycle'; phase: 'start' }>;

/** Waits until the cycle that `path` started is done; returns its number. */
async function cycleFor(events: readonly Event[], path: string): Promise<number> {
  const start = (): CycleStart | undefined =>
    events.find((e): e is CycleStart => e.type === 'watch:cycle' && e.phase === 'start' && e.changed.includes(path));
  const ended = (n: number): boolean => events.some((e) => e.type === 'watch:cycle' && e.phase === 'done' && e.cycle === n);
  const finished = (): boolean => {
    const s = start();
    return s !== undefined && ended(s.cycle);
  };
  await waitFor(finished, 20_000, `a cycle for ${path}`);
  return start()?.cycle ?? -1;
}

const warnings = (events: readonly Event[]): Event[] =>
  events.filter((e) => e.type === 'unit:log' && e.stream === 'warning' && e.unit === 'fix[n=a]');

/** Waits for the `count`th warning about fix[n=a] and for the end of the cycle that gave it. */
async function untilWarnings(events: readonly Event[], count: number): Promise<void> {
  const cycleOfWarning = (): number | undefined => {
    const at = events.indexOf(warnings(events)[count - 1] as Event);
    if (at < 0) return undefined;
    const start = events.slice(0, at).findLast((e) => e.type === 'watch:cycle' && e.phase === 'start');
    return start?.type === 'watch:cycle' ? start.cycle : undefined;
  };
  const finished = (): boolean => {
    const n = cycleOfWarning();
    return n !== undefined && events.some((e) => e.type === 'watch:cycle' && e.phase === 'done' && e.cycle === n);
  };
  await waitFor(finished, 20_000, `warning ${count} and its cycle`);
}

const starts = (events: readonly Event[], unit: string): number => events.filter((e) => e.type === 'unit:start' && e.unit === unit).length;

describe('watch: a task that rewrites its own input', () => {
  it('runs it once per change from outside and warns, instead of looping', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        fix: { input: 'src/{n}.txt', output: 'fixed/{n}.txt', run: "sed -i 's/a/A/g' {input} && cp {input} {output}" },
        count: { input: 'src/{n}.txt', output: 'count/{n}.txt', run: 'wc -c < {input} > {output}' },
        other: { input: 'other/{n}.txt', output: 'otherout/{n}.txt', run: 'cp {input} {output}' },
      } };`,
      'src/a.txt': 'banana',
    });
    rig.age(['src/a.txt'], -60_000);
    const events = watchJson();

    // Run 1 changes the input: rerun as for any input changed meanwhile. Run 2 changes it again:
    // a rewriter, held back from the cycle its own write starts, with a warning.
    await untilWarnings(events, 1);
    rig.write({ 'other/m.txt': 'm' });
    const marker = await cycleFor(events, 'other/m.txt');
    expect(events.find((e) => e.type === 'watch:cycle' && e.phase === 'start' && e.cycle === marker)).toMatchObject({
      changed: ['other/m.txt'],
    });
    expect(starts(events, 'fix[n=a]')).toBe(2);
    expect(rig.read('fixed/a.txt')).toBe('bAnAnA');
    expect(warnings(events)[0]).toMatchObject({
      text: 'changes its own input src/a.txt each time it runs; not rerunning it until it changes from outside',
    });

    // An edit from outside: one more run, then quiet again.
    rig.write({ 'src/a.txt': 'papaya' });
    await untilWarnings(events, 2);
    expect(rig.read('fixed/a.txt')).toBe('pApAyA');
    rig.write({ 'other/n.txt': 'n' });
    const last = await cycleFor(events, 'other/n.txt');
    expect(events.find((e) => e.type === 'watch:cycle' && e.phase === 'start' && e.cycle === last)).toMatchObject({
      changed: ['other/n.txt'],
    });
    expect(starts(events, 'fix[n=a]')).toBe(3);
    expect(rig.read('count/a.txt').trim()).toBe('6');
  });
});
