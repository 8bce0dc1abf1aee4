/** How a unit's start is told: at once for a local attempt; queued, then started where and when its worker says, for a queued one. */
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../../../src/runner/events.ts';
import { announceStart } from '../../../../src/runner/schedule/start-event.ts';

const facts = { task: 'ocr', unit: 'ocr[n=1]', attempt: 1, reason: { kind: 'forced' } as const, command: 'ocr 1' };

describe('announceStart', () => {
  it('says unit:start at admission for a local attempt, and runs the start hook', () => {
    const events: RunEvent[] = [];
    let hooks = 0;
    const started = announceStart(
      (e) => events.push(e),
      facts,
      100,
      false,
      () => hooks++,
    );
    expect(events).toEqual([{ type: 'unit:start', time: 100, ...facts }]);
    expect(hooks).toBe(1);
    expect(started.onStart).toBeUndefined();
    expect(started.startedAt()).toBe(100);
  });

  it('says unit:queued at admission for a queued attempt, then unit:start once, with the host, when the worker starts it', () => {
    const events: RunEvent[] = [];
    let hooks = 0;
    const started = announceStart(
      (e) => events.push(e),
      facts,
      100,
      true,
      () => hooks++,
    );
    expect(events).toEqual([{ type: 'unit:queued', time: 100, ...facts }]);
    expect(hooks).toBe(0);
    expect(started.startedAt()).toBe(100);
    started.onStart?.({ time: 250, host: 'box-b' });
    // A second word (a redelivered job, the result after the progress event) changes nothing.
    started.onStart?.({ time: 900, host: 'box-c' });
    expect(events).toEqual([
      { type: 'unit:queued', time: 100, ...facts },
      { type: 'unit:start', time: 250, ...facts, host: 'box-b' },
    ]);
    expect(hooks).toBe(1);
    expect(started.startedAt()).toBe(250);
  });

  it('leaves out an absent command', () => {
    const events: RunEvent[] = [];
    announceStart(
      (e) => events.push(e),
      { ...facts, command: undefined },
      1,
      true,
      () => undefined,
    );
    expect(events[0]).not.toHaveProperty('command');
  });
});
