/** Fixes from the ninth audit of the built CLI against SPEC.md: each test failed on the code before its fix. */
import { afterEach, describe, expect, it } from 'vitest';
import { Rig } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

describe('RateLimited given the Retry-After header as the service sent it', () => {
  it('pauses for its delta-seconds or until its HTTP date, as the Retry-After file does (both were "unreadable")', async () => {
    rig = new Rig();
    rig.write({
      'in/seconds': '',
      'in/date': '',
      'runcue.config.mjs': `import { RateLimited } from 'runcue';
        import { existsSync, writeFileSync } from 'node:fs';
        const header = { seconds: () => '2', date: () => new Date(Date.now() + 3_000).toUTCString() };
        export default { services: { api: { concurrent: 1 } }, tasks: {
          t: { uses: 'api', input: 'in/{how}', output: 'out/{how}', run: async ({ wildcards, output }) => {
            const asked = 'asked-' + wildcards.how;
            if (!existsSync(asked)) { writeFileSync(asked, ''); throw new RateLimited({ retryAfter: header[wildcards.how]() }); }
            writeFileSync(output, '');
          } },
        } };`,
    });
    const result = await rig.runJson(['build', 't[how=seconds]']);
    expect(result.code).toBe(0);
    const asked = (events: typeof result.events): unknown => events.find((e) => e.type === 'unit:retry')?.['error'];
    expect(asked(result.events)).toMatchObject({ reason: 'pushed-back', retryAfterMs: 2000 });
    expect(asked(result.events)).not.toHaveProperty('unreadableRetryAfter');
    // An HTTP date has whole seconds: the pause ends within the second before it.
    const dated = await rig.runJson(['build', 't[how=date]']);
    expect(dated.code).toBe(0);
    const { retryAfterMs } = asked(dated.events) as { retryAfterMs?: number };
    expect(retryAfterMs).toBeGreaterThan(1500);
    expect(retryAfterMs).toBeLessThanOrEqual(3000);
  }, 60_000);
});
