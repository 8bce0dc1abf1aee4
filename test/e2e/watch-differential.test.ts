/**
 * `runcue watch` cases that scripts/watchcheck.mjs found (a watch session ending where a clean
 * build would not, or a cycle runcue started for its own writes). The real binary, real files;
 * every wait is bounded and on a condition (an event, a file), never a sleep.
 */
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/runner/events.ts';
import type { WatchEvent } from '../../src/watch/events.ts';
import { collect, Rig, type RunResult, waitFor } from '../rig/index.ts';

type Event = RunEvent | WatchEvent;
type CycleStart = Extract<Event, { type: 'watch:cycle'; phase: 'start' }>;

let rig: Rig;
let child: ChildProcess | undefined;
let done: Promise<RunResult> | undefined;

afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await done?.catch(() => undefined);
  child = undefined;
  done = undefined;
  rig.cleanup();
});

/** Starts `runcue watch --json`; returns the events it prints, as they come. */
function watch(): Event[] {
  const events: Event[] = [];
  child = rig.spawn(['watch', '--json']);
  let buffer = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') events.push(JSON.parse(line) as Event);
  });
  done = collect(child, 60_000);
  return events;
}

const cycleStarts = (events: readonly Event[]): CycleStart[] =>
  events.filter((e): e is CycleStart => e.type === 'watch:cycle' && e.phase === 'start');
const cyclesDone = (events: readonly Event[]): number => events.filter((e) => e.type === 'watch:cycle' && e.phase === 'done').length;

describe('watch: directory outputs', () => {
  it("a file inside a directory output that another task reads is runcue's own write: no cycle for it", async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        site: { input: 'src/*.txt', output: 'site', run: 'mkdir -p site && cat {inputs} > site/index.html' },
        copy: { input: 'site/index.html', output: 'copy.txt', run: 'cp {input} {output}' },
      } };`,
      'src/a.txt': 'a',
    });
    rig.age(['src/a.txt'], -60_000);
    const events = watch();
    await waitFor(() => cyclesDone(events) >= 1, 20_000, 'the initial build');
    expect(rig.read('copy.txt')).toBe('a');

    rig.write({ 'src/b.txt': 'b' });
    await waitFor(() => rig.exists('copy.txt') && rig.read('copy.txt') === 'ab', 20_000, 'copy.txt rebuilt');
    // The next edit's cycle comes after any the rewrite of site/index.html would have started.
    rig.write({ 'src/c.txt': 'c' });
    await waitFor(() => rig.exists('copy.txt') && rig.read('copy.txt') === 'abc', 20_000, 'copy.txt rebuilt again');
    await waitFor(() => cyclesDone(events) >= cycleStarts(events).length, 20_000, 'the last cycle to end');
    expect(cycleStarts(events).map((c) => c.changed)).toEqual([[], ['src/b.txt'], ['src/c.txt']]);
  });
});
