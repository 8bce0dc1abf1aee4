import { describe, expect, it } from 'vitest';
import { createLimiter } from '../../../../src/runner/limiter.ts';
import { RunQueue } from '../../../../src/runner/queue.ts';
import { Admission } from '../../../../src/runner/schedule/admission.ts';
import { configOf } from '../../../rig/config-builder.ts';
import { FakeClock, fixedRandom } from '../../../rig/fake-clock.ts';

const config = configOf(
  { call: { input: 'in/{n}.txt', output: 'out/{n}.txt', uses: 'api', backoff: '1m' } },
  { extra: { services: { api: { rate: '2/min', burst: 2 } } } },
);

function setup(): { clock: FakeClock; admission: Admission; queue: RunQueue; started: string[] } {
  const clock = new FakeClock(0);
  const admission = new Admission({ config, limiter: createLimiter(config.services, undefined), clock, random: fixedRandom(0.5) });
  const queue = new RunQueue();
  for (const id of ['a', 'b', 'c']) queue.push(id, ['api'], 0);
  return { clock, admission, queue, started: [] };
}

describe('Admission', () => {
  it('starts what the limiter admits, and says when a refused lane may go on, and why it waits', () => {
    const { admission, queue, started } = setup();
    const pass = admission.admit(queue, { divert: () => false, start: (id) => started.push(id) });
    expect(started).toEqual(['a', 'b']);
    expect(pass).toEqual({ started: 2, wakeAt: 60_000 });
    expect(admission.refusal(['api'])).toMatchObject({ kind: 'rate_limited', service: 'api', until: 60_000 });
  });

  it('pauses a pushed-back service with jitter growing by streak, and a success ends the streak', async () => {
    const { clock, admission, queue, started } = setup();
    const task = config.tasks.get('call') ?? expect.fail('no task');
    expect(admission.pushBack(task, undefined)).toEqual({ delayMs: 30_000, services: ['api'] });
    expect(admission.pushBack(task, undefined)).toEqual({ delayMs: 60_000, services: ['api'] });
    const pass = admission.admit(queue, { divert: () => false, start: (id) => started.push(id) });
    expect(pass).toEqual({ started: 0, wakeAt: 60_000 });
    expect(admission.refusal(['api'])?.message).toBe('api pushed back; paused until 1970-01-01T00:01:00.000Z');
    admission.succeeded(['api']);
    await clock.advance(60_000);
    expect(admission.pushBack(task, undefined)).toEqual({ delayMs: 30_000, services: ['api'] });
  });

  it('does not raise the backoff for attempts already running when the service pushed back', async () => {
    const { clock, admission } = setup();
    const task = config.tasks.get('call') ?? expect.fail('no task');
    await clock.advance(1000);
    // Three attempts started at 0 push back at 1000: one storm, one step of backoff.
    for (let i = 0; i < 3; i++) expect(admission.pushBack(task, undefined, 0)).toEqual({ delayMs: 30_000, services: ['api'] });
    // One started after that push-back, and pushed back too: the pause was too short.
    await clock.advance(60_000);
    expect(admission.pushBack(task, undefined, 31_000)).toEqual({ delayMs: 60_000, services: ['api'] });
  });

  it('does not look at (divert) the head of a lane whose service is full, and says why it waits', () => {
    const clock = new FakeClock(0);
    const capped = configOf(
      { call: { input: 'in/{n}.txt', output: 'out/{n}.txt', uses: 'api' } },
      { extra: { services: { api: { concurrent: 1 } } } },
    );
    const admission = new Admission({
      config: capped,
      limiter: createLimiter(capped.services, undefined),
      clock,
      random: fixedRandom(0.5),
    });
    const queue = new RunQueue();
    for (const id of ['a', 'b']) queue.push(id, ['api'], 0);
    const looked: string[] = [];
    const started: string[] = [];
    const pass = admission.admit(queue, {
      divert: (id) => {
        looked.push(id);
        return false;
      },
      start: (id) => started.push(id),
    });
    expect({ looked, started, pass }).toEqual({ looked: ['a'], started: ['a'], pass: { started: 1, wakeAt: undefined } });
    expect(admission.refusal(['api'])).toMatchObject({ kind: 'service_full', service: 'api' });
  });

  it('lets the loop divert a unit without a slot', () => {
    const { admission, queue, started } = setup();
    const pass = admission.admit(queue, { divert: (id) => id === 'a', start: (id) => started.push(id) });
    expect(started).toEqual(['b', 'c']);
    expect(pass.started).toBe(2);
  });
});
