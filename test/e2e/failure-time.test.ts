/**
 * Retries, timeouts, push-back, stalls and hooks, end to end (the task options `retries`,
 * `timeout` and `maxPushBacks`, the stall timeouts and `on`). Waits are bounded; nothing depends on the machine being fast.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Rig, runsIn, spawnForced } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

describe('retries', () => {
  it('retries a failing unit with backoff until it succeeds', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: { flaky: {
        input: 'in.txt', output: 'out.txt', retries: 3, backoff: '10ms',
        run: "n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; if [ $n -lt 3 ]; then exit 1; fi; cp in.txt out.txt",
      } } };`,
      'in.txt': 'x',
    });
    const result = await rig.runJson(['build']);
    expect(result.code).toBe(0);
    expect(rig.read('count').trim()).toBe('3');
    const retries = result.events.filter((e) => e.type === 'unit:retry');
    expect(retries.map((e) => [e['attempt'], e['kind']])).toEqual([
      [1, 'retry'],
      [2, 'retry'],
    ]);
  });

  it('fails after the last retry and reports the attempt', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: { bad: { input: 'in.txt', output: 'out.txt', retries: 1, backoff: '1ms', run: "echo $RUNCUE_ATTEMPT >> attempts; exit 4" } } };`,
      'in.txt': 'x',
    });
    const result = await rig.run(['build']);
    expect(result.code).toBe(1);
    expect(rig.read('attempts').trim().split('\n')).toEqual(['1', '2']);
    expect(result.stderr).toContain('exit 4');
  });
});

describe('timeouts', () => {
  it('kills the whole process tree of a unit that times out', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: { hang: { input: 'in.txt', output: 'out.txt', timeout: '300ms',
        run: "echo started > out.txt; sleep 60 & echo $$ $! > pids; wait" } } };`,
      'in.txt': 'x',
    });
    const result = await rig.run(['build']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('timed out');
    const pids = rig.read('pids').trim().split(' ').map(Number);
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(runsIn(rig.dir, pid)).toBe(false);
    expect(rig.exists('out.txt')).toBe(false);
  });

  it.skipIf(spawnForced())('aborts the signal of a function task that times out', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `import { writeFileSync } from 'node:fs';
      export default { tasks: { wait: { input: 'in.txt', output: 'out.txt', timeout: '200ms',
        run: (unit, { signal }) => new Promise((resolve, reject) => {
          signal.addEventListener('abort', () => { writeFileSync('aborted', 'yes'); reject(new Error('aborted')); });
        }) } } };`,
      'in.txt': 'x',
    });
    const result = await rig.run(['build']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('timed out');
    expect(rig.read('aborted')).toBe('yes');
  });
});

describe('push-back', () => {
  it('exit 75 with a Retry-After file requeues the unit without using a retry, then succeeds', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default {
        services: { api: { concurrent: 1 } },
        tasks: { call: { uses: 'api', input: 'in/{n}.txt', output: 'out/{n}.txt', retries: 0,
          run: "if [ ! -e seen-{n} ]; then touch seen-{n}; echo 0.2 > \\"$RUNCUE_RETRY_AFTER_FILE\\"; exit 75; fi; cp {input} {output}" } },
      };`,
      'in/a.txt': 'a',
      'in/b.txt': 'b',
    });
    const result = await rig.runJson(['build']);
    expect(result.code).toBe(0);
    expect(rig.read('out/a.txt')).toBe('a');
    expect(rig.read('out/b.txt')).toBe('b');
    const pushBacks = result.events.filter((e) => e.type === 'unit:retry');
    expect(pushBacks.length).toBe(2);
    expect(pushBacks.every((e) => e['kind'] === 'push-back' && e['delayMs'] === 200)).toBe(true);
  });

  it('an unreadable Retry-After (a file, or RateLimited) backs off and says which value it could not read', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `import { existsSync, writeFileSync, copyFileSync } from 'node:fs';
        import { RateLimited } from 'runcue';
        export default {
          services: { api: { concurrent: 2 } },
          tasks: {
            cmd: { uses: 'api', input: 'a.txt', output: 'a.out', backoff: '10ms',
              run: "if [ ! -e seen-a ]; then touch seen-a; echo soon > \\"$RUNCUE_RETRY_AFTER_FILE\\"; exit 75; fi; cp a.txt a.out" },
            fn: { uses: 'api', input: 'b.txt', output: 'b.out', backoff: '10ms', run: () => {
              if (!existsSync('seen-b')) { writeFileSync('seen-b', ''); throw new RateLimited({ retryAfter: 'later' }); }
              copyFileSync('b.txt', 'b.out');
            } },
          },
        };`,
      'a.txt': 'a',
      'b.txt': 'b',
    });
    const result = await rig.runJson(['build']);
    expect(result.code).toBe(0);
    const said = result.events
      .filter((e) => e.type === 'unit:retry')
      .map((e) => `${e.unit ?? ''}: ${(e['error'] as { message: string }).message}`)
      .sort();
    expect(said).toEqual([
      'cmd: its service pushed back (once); its Retry-After "soon" is no number of seconds, HTTP date or duration, so runcue backs off',
      'fn: its service pushed back (once); its Retry-After "later" is no number of seconds, HTTP date or duration, so runcue backs off',
    ]);
    rig.remove('seen-a');
    rig.remove('a.out');
    const plain = await rig.run(['build', 'cmd', '--reporter', 'ci']);
    expect(plain.stdout + plain.stderr).toContain('its Retry-After "soon" is unreadable, so runcue backs off');
  });

  it.skipIf(spawnForced())('a function task throwing RateLimited is requeued; an endless push-back fails clearly', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.ts': `import { defineConfig, RateLimited } from 'runcue';
      import { existsSync, writeFileSync, copyFileSync } from 'node:fs';
      export default defineConfig({
        services: { api: { concurrent: 2 } },
        tasks: {
          once: { uses: 'api', input: 'once.txt', output: 'once.out', run: ({ input, output }) => {
            if (!existsSync('seen')) { writeFileSync('seen', ''); throw new RateLimited({ retryAfter: '50ms' }); }
            copyFileSync(input, output);
          } },
          never: { uses: 'api', input: 'never.txt', output: 'never.out', run: () => { throw new RateLimited({ retryAfter: '1ms' }); } },
        },
      });`,
      'once.txt': 'ok',
      'never.txt': 'no',
    });
    const result = await rig.run(['build', '--keep-going']);
    expect(result.code).toBe(1);
    expect(rig.read('once.out')).toBe('ok');
    expect(result.stderr).toContain('pushed back 11 times (limit 10)');
  });

  it('maxPushBacks sets the cap', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { services: { api: {} }, tasks: { t: { uses: 'api', output: 'o.txt', maxPushBacks: 2, backoff: '1ms',
        run: "echo x >> tries; exit 75" } } };`,
    });
    const result = await rig.run(['build']);
    expect(result.code).toBe(1);
    expect(rig.read('tries').trim().split('\n')).toHaveLength(3);
    expect(result.stderr).toContain('pushed back 3 times (limit 2)');
  });
});

describe('stalls', () => {
  it('pendingTimeout fails the run with what is blocked and why', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default {
        pendingTimeout: '300ms',
        services: { one: { concurrent: 1 } },
        tasks: { t: { uses: 'one', input: 'in/{n}.txt', output: 'out/{n}.txt', run: "sleep 30; cp {input} {output}" } },
      };`,
      'in/a.txt': 'a',
      'in/b.txt': 'b',
    });
    const result = await rig.run(['build']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('run stalled');
    expect(result.stderr).toMatch(/t\[n=b\]: service_full: one is full/);
  });

  it('stallWarnAfter warns once and calls on.stallWarning, failing nothing', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `import { appendFileSync } from 'node:fs';
      export default {
        stallWarnAfter: '200ms',
        on: { stallWarning: (unit, info) => appendFileSync('warned', [unit.id, unit.task, info.reason, info.message, info.blocked.length].join(' | ') + '\\n') },
        services: { one: { concurrent: 1 } },
        tasks: { t: { uses: 'one', input: 'in/{n}.txt', output: 'out/{n}.txt', run: "sleep 0.6; cp {input} {output}" } },
      };`,
      'in/a.txt': 'a',
      'in/b.txt': 'b',
    });
    const result = await rig.run(['build']);
    expect(result.code).toBe(0);
    expect(result.stderr.match(/run is slow/g)).toHaveLength(1);
    // As SPEC's hooks are called, (unit, info): once per waiting unit, with why.
    const calls = rig.read('warned').trim().split('\n');
    expect(calls.length).toBeGreaterThanOrEqual(1);
    for (const call of calls) expect(call).toMatch(/^t\[n=\w\] \| t \| service_full \| .+ \| \d+$/);
  });
});

describe('hooks', () => {
  it('calls start, complete, failure and skip; a throwing hook changes no outcome', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `import { appendFileSync } from 'node:fs';
      const log = (what) => (unit, info) => appendFileSync('hooks.log', what + ' ' + unit.id + (info.exitCode !== undefined ? ' exit=' + info.exitCode : '') + '\\n');
      export default {
        on: { start: () => { throw new Error('hook bug'); }, complete: log('complete'), failure: log('failure'), skip: log('skip') },
        tasks: { t: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: "if [ {n} = bad ]; then exit 2; fi; cp {input} {output}" } },
      };`,
      'in/good.txt': 'g',
      'in/bad.txt': 'b',
    });
    const first = await rig.run(['build', '--keep-going']);
    expect(first.code).toBe(1);
    expect(first.stderr).toContain('on.start hook failed: hook bug');
    expect(rig.read('hooks.log').trim().split('\n').sort()).toEqual(['complete t[n=good]', 'failure t[n=bad] exit=2']);
    await rig.run(['build', '--keep-going']);
    expect(rig.read('hooks.log')).toContain('skip t[n=good]');
  });
});
