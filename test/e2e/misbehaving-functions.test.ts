/**
 * Function tasks and custom checks that misbehave (issue 9, items 4, 11, 12): promises that never
 * settle, signals ignored past the grace period, odd thrown values, exceptions thrown from timers.
 * Each must fail its unit (or end the run) with a readable message, never crash, hang or exit 13.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { alive, collect, Rig, waitFor, type JsonEvent } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

function failures(events: readonly JsonEvent[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of events) if (e.type === 'unit:fail') out[e.unit ?? ''] = (e['error'] as { message: string }).message;
  return out;
}

/** No stack of runcue's own code (src, or dist and its bundle chunks) reached the user (a function's own stack may, in its output tail). */
function expectNoInternalStack(text: string): void {
  expect(text).not.toMatch(/^\s+at .*\/(dist|src)\/(cli|runner|config|graph|chunks)\//m);
  expect(text).not.toContain('node:internal/process');
  expect(text).not.toContain('[object Object]');
}

describe('custom checks that never settle', () => {
  it('a stale() that never settles fails its unit at checkTimeout (never exit 13)', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: { t: { input: 'in.txt', output: 'out.txt', checkTimeout: '300ms',
        stale: () => new Promise(() => {}), run: 'cp in.txt out.txt' } } };`,
      'in.txt': 'x',
    });
    const result = await rig.run(['build']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('stale() did not settle within 300ms');
    // The failure says how long the check ran, not "after 0ms".
    expect(result.stderr).not.toContain('after 0ms');
    expect(rig.exists('out.txt')).toBe(false);
    expectNoInternalStack(result.stderr);
  });

  it('a ready() that never settles, with a timer alive, ends at stallTimeout naming the unit and the check', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { stallTimeout: '400ms', tasks: { t: { input: 'in/{n}.txt', output: 'out/{n}.txt',
        ready: () => new Promise(() => { setInterval(() => {}, 1000); }), run: 'cp {input} {output}' } } };`,
      'in/a.txt': 'x',
    });
    const result = await rig.runJson(['build'], { timeoutMs: 20_000 });
    expect(result.code).toBe(1);
    const stall = result.events.find((e) => e.type === 'run:stall');
    expect(stall?.['fatal']).toBe(true);
    const blocked = stall?.['blocked'] as { unit: string; reason: { message: string } }[];
    expect(blocked.map((b) => [b.unit, b.reason.message])).toEqual([['t[n=a]', expect.stringContaining('ready()')]]);
    expect(failures(result.events)['t[n=a]']).toContain('ready()');
  });

  it('the first SIGTERM ends a run whose stale() never settles', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `import { writeFileSync } from 'node:fs';
      export default { tasks: { t: { input: 'in.txt', output: 'out.txt',
        stale: () => new Promise(() => { writeFileSync('checking', ''); setInterval(() => {}, 1000); }), run: 'cp in.txt out.txt' } } };`,
      'in.txt': 'x',
    });
    const child = rig.spawn(['build']);
    const done = collect(child, 20_000);
    await waitFor(() => rig.exists('checking'), 20_000, 'the check to start');
    child.kill('SIGTERM');
    const result = await done;
    expect(result.code).toBe(143);
    expect(rig.exists('out.txt')).toBe(false);
    // There are no hooks: nothing to say about hooks that did not settle.
    expect(result.stderr).not.toContain('hooks had not settled');
  });

  it('the first SIGTERM ends a run whose on.complete hook never settles', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `import { writeFileSync } from 'node:fs';
      export default { on: { complete: () => new Promise(() => { writeFileSync('hooked', ''); setInterval(() => {}, 1000); }) },
        tasks: { t: { input: 'in.txt', output: 'out.txt', run: 'cp in.txt out.txt' } } };`,
      'in.txt': 'x',
    });
    const child = rig.spawn(['build']);
    const done = collect(child, 20_000);
    await waitFor(() => rig.exists('hooked'), 20_000, 'the hook to start');
    child.kill('SIGTERM');
    expect((await done).code).toBe(143);
  });

  it('a function that never settles, with nothing else alive, ends at stallTimeout (never exit 13)', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { stallTimeout: '300ms', tasks: { t: { input: 'in.txt', output: 'out.txt',
        run: () => new Promise(() => {}) } } };`,
      'in.txt': 'x',
    });
    const result = await rig.run(['build'], { timeoutMs: 20_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('stalled');
    expect(result.stderr).toContain('t');
  });
});

describe('a function that never yields the thread', () => {
  /** u runs a long command; t, started after it, writes a partial out.txt, then holds the thread (`hold`). */
  function project(hold: string): void {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `import { writeFileSync } from 'node:fs';
        export default { killGrace: '300ms', tasks: {
          u: { input: 'in.txt', output: 'u.txt', run: 'echo $$ > u.pid; sleep 60; cp in.txt u.txt' },
          t: { input: 'in.txt', output: 'out.txt', timeout: '300ms',
            run: async ({ output }) => { writeFileSync(output, 'partial'); ${hold} } },
        } };`,
      'in.txt': 'x',
    });
    rig.age(['in.txt'], -60_000);
  }

  it.each([
    ['from its first line', 'for (;;) {}'],
    ['after an await', 'await new Promise((r) => setTimeout(r, 20)); for (;;) {}'],
  ])('%s ends runcue as kill -9 would, saying why; its command ends too, and the next build runs both units', async (_, hold) => {
    project(hold);
    const result = await rig.run(['build'], { timeoutMs: 60_000 });
    // A timeout is a timer on the very thread the loop holds: before, runcue hung until killed from outside.
    expect(result.signal).toBe('SIGKILL');
    expect(result.stderr).toContain('runcue: t: its function has held the JavaScript thread for');
    expect(result.stderr).toContain('will run again on the next build');
    expectNoInternalStack(result.stderr);
    const pid = Number(rig.read('u.pid'));
    await waitFor(() => !alive(pid), 20_000, 'the command of u to end with runcue');
    // out.txt is newer than in.txt, yet t never finished: the in-flight record makes it stale.
    rig.write({ 'runcue.config.mjs': rig.read('runcue.config.mjs').replace(hold, '').replace('sleep 60; ', '') });
    const next = await rig.run(['build']);
    expect(next.code).toBe(0);
    expect(next.stderr).toContain('2 built');
  });
});

describe('a custom check that never yields the thread', () => {
  it('ends runcue past its checkTimeout, as kill -9 would, saying why (it hung before)', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: { t: { input: 'in.txt', output: 'out.txt', checkTimeout: '300ms',
        ready: () => { for (;;) {} }, run: 'cp in.txt out.txt' } } };`,
      'in.txt': 'x',
    });
    const result = await rig.run(['build'], { timeoutMs: 60_000 });
    expect(result.signal).toBe('SIGKILL');
    expect(result.stderr).toContain('runcue: t: its ready() check has held the JavaScript thread for');
    expectNoInternalStack(result.stderr);
  });
});

describe('odd thrown values', () => {
  it('fail only their unit, with a readable message', async () => {
    rig = new Rig();
    const odd: Record<string, string> = {
      nullproto: 'Object.create(null)',
      str: "'a string'",
      code: '({ code: 42 })',
      undef: 'undefined',
      sym: "Symbol('odd')",
      big: '42n',
      cyclic: "(() => { const o = { name: 'loop' }; o.self = o; return o; })()",
      getter: "Object.defineProperty({}, 'x', { enumerable: true, get() { throw new Error('no'); } })",
    };
    const files = Object.fromEntries([...Object.keys(odd), 'sync'].map((n) => [`in/${n}.txt`, n]));
    rig.write({
      'runcue.config.mjs': `const odd = { ${Object.entries(odd)
        .map(([k, v]) => `${k}: () => ${v}`)
        .join(', ')} };
      export default { tasks: { t: { input: 'in/{n}.txt', output: 'out/{n}.txt',
        run: ({ wildcards }) => { if (wildcards.n === 'sync') throw 'thrown synchronously'; return Promise.resolve().then(() => { throw odd[wildcards.n](); }); } } } };`,
      ...files,
    });
    const result = await rig.runJson(['build', '--keep-going']);
    expect(result.code).toBe(1);
    expect(failures(result.events)).toEqual({
      't[n=nullproto]': '{}',
      't[n=str]': 'a string',
      't[n=code]': '{"code":42}',
      't[n=undef]': 'undefined',
      't[n=sym]': 'Symbol(odd)',
      't[n=big]': '42n',
      't[n=cyclic]': '{"name":"loop","self":"(circular)"}',
      't[n=getter]': '{"x":"(getter threw)"}',
      't[n=sync]': 'thrown synchronously',
    });
    expectNoInternalStack(result.stderr);
  });

  it('a ready() rejecting with a null-prototype object fails its unit readably', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: { t: { input: 'in.txt', output: 'out.txt',
        ready: async () => { throw Object.assign(Object.create(null), { code: 42 }); }, run: 'cp in.txt out.txt' } } };`,
      'in.txt': 'x',
    });
    const result = await rig.run(['build']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('ready() threw: {"code":42}');
    expectNoInternalStack(result.stderr);
  });
});

describe('exceptions thrown outside the awaited chain', () => {
  // The shell unit waits until the function's timer has thrown, so it is running beside it.
  const config = (raise: string): string => `import { existsSync, writeFileSync } from 'node:fs';
    export default { tasks: {
      sh: { input: 'in.txt', output: 'sh.out', run: 'echo $$ > sh.pid; while [ ! -f thrown ]; do sleep 0.05; done; cp in.txt sh.out' },
      fn: { input: 'in.txt', output: 'fn.out', run: (unit, { signal }) => new Promise((resolve, reject) => {
        const poll = setInterval(() => {
          if (!existsSync('sh.pid')) return;
          clearInterval(poll);
          setTimeout(() => { writeFileSync('thrown', ''); ${raise}; }, 10);
        }, 20);
        signal.addEventListener('abort', () => { clearInterval(poll); reject(new Error('stopped')); });
      }) },
    } };`;

  it.each([
    ['an uncaught exception', "throw new Error('timer boom')", 'uncaught exception: timer boom'],
    ['an unhandled rejection', 'void Promise.reject({ code: 7 })', 'unhandled rejection: {"code":7}'],
  ])('%s in a function task fails that unit; the shell unit beside it completes', async (_name, raise, message) => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': config(raise), 'in.txt': 'x' });
    const result = await rig.runJson(['build']);
    expect(result.code).toBe(1);
    expect(failures(result.events)).toEqual({ fn: message });
    expect(rig.read('sh.out')).toBe('x');
    expect(alive(Number(rig.read('sh.pid')))).toBe(false);
    expect(rig.exists('fn.out')).toBe(false);
    expectNoInternalStack(result.stderr);
  });

  it('an exception no unit owns fails the run cleanly: children stopped, outputs removed, no stack', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `import { existsSync } from 'node:fs';
      // A timer of the config module itself belongs to no unit.
      const poll = setInterval(() => { if (existsSync('sh.pid')) { clearInterval(poll); throw new Error('config timer boom'); } }, 20);
      export default { tasks: { sh: { input: 'in.txt', output: 'sh.out', run: 'echo partial > sh.out; echo $$ > sh.pid; sleep 60' } } };`,
      'in.txt': 'x',
    });
    const result = await rig.run(['build'], { timeoutMs: 30_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('internal error: uncaught exception: config timer boom');
    expect(alive(Number(rig.read('sh.pid')))).toBe(false);
    expect(rig.exists('sh.out')).toBe(false);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it("an exception from a hook's timer is reported as the hook's failure and changes no outcome", async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `import { writeFileSync } from 'node:fs';
      export default {
        on: { start: () => { setTimeout(() => { throw new Error('hook timer boom'); }, 10); } },
        tasks: { t: { input: 'in.txt', output: 'out.txt', run: async ({ output }) => { await new Promise((r) => setTimeout(r, 200)); writeFileSync(output, 'x'); } } },
      };`,
      'in.txt': 'x',
    });
    const result = await rig.runJson(['build']);
    expect(result.code).toBe(0);
    const hooks = result.events.filter((e) => e.type === 'unit:log' && e['stream'] === 'hook');
    expect(hooks.map((e) => e['text'])).toEqual(['on.start hook raised an uncaught exception: hook timer boom']);
  });
});

describe("a function's error stack", () => {
  it("shows the function's own frames, before and after an await, and none of runcue's", async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `function checkPage(n) { throw new Error('bad page ' + n); }
        export default { tasks: {
          now: { input: 'a.txt', output: 'a.out', run: () => checkPage('a') },
          later: { input: 'b.txt', output: 'b.out', run: async () => { await new Promise((r) => setTimeout(r, 5)); checkPage('b'); } },
        } };`,
      'a.txt': 'a',
      'b.txt': 'b',
    });
    const result = await rig.run(['build', '--keep-going']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Error: bad page a\n\s+at checkPage \(.*runcue\.config\.mjs.*\)\n\s+at run \(/);
    expect(result.stderr).toMatch(/Error: bad page b\n\s+at checkPage \(.*runcue\.config\.mjs.*\)\n\s+at run \(/);
    expect(result.stderr).not.toMatch(/^\s+at .*(engine\.cjs|node:internal)/m);
    expectNoInternalStack(result.stderr);
  });
});

describe('process.exit() in user code', () => {
  it('fails the unit (or the hook) instead of ending runcue silently with partial outputs left', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `import { writeFileSync } from 'node:fs';
        export default {
          on: { complete: (unit) => { if (unit.id === 'a[n=c]') process.exit(0); } },
          tasks: { a: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: async (u) => {
            writeFileSync(u.output, 'partial');
            if (u.wildcards.n === 'b') process.exit(3);
            if (u.wildcards.n === 'd') await new Promise(() => setTimeout(() => process.exit(4), 10));
            writeFileSync(u.output, 'done');
          } } } };`,
      'in/a.txt': '1',
      'in/b.txt': '2',
      'in/c.txt': '3',
      'in/d.txt': '4',
    });
    const result = await rig.runJson(['build', '--keep-going']);
    expect(result.code).toBe(1);
    const failed = failures(result.events);
    expect(Object.keys(failed).sort()).toEqual(['a[n=b]', 'a[n=d]']);
    expect(failed['a[n=b]']).toContain('called process.exit(3), which would end runcue');
    expect(failed['a[n=d]']).toContain('called process.exit(4)');
    expect(result.stdout).toContain('on.complete hook failed: called process.exit(0)');
    expect(rig.read('out/a.txt')).toBe('done');
    expect(rig.read('out/c.txt')).toBe('done');
    expect(rig.exists('out/b.txt')).toBe(false);
    expect(rig.exists('out/d.txt')).toBe(false);
  });
});

describe('a config whose top-level await never settles', () => {
  it('is a config error naming the file (exit 2), not exit 13 with a warning about runcue', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.ts': `await new Promise(() => {});\nexport default { tasks: {} };\n` });
    for (const command of [['build'], ['list'], ['plan', '--json']]) {
      const result = await rig.run(command);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('runcue.config.ts never finished loading: a top-level await');
      expect(result.stderr).not.toContain('unsettled top-level await');
      expect(result.stdout).toBe('');
    }
  });
});

describe('plan', () => {
  it('an error escaping from a check fails that unit in the plan, not the process', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: { t: { input: 'in.txt', output: 'out.txt', run: 'cp in.txt out.txt',
        stale: () => new Promise(() => { setTimeout(() => { throw new Error('check timer boom'); }, 10); }) } } };`,
      'in.txt': 'x',
    });
    const result = await rig.run(['plan', '--json']);
    expect(result.code).toBe(0);
    const plan = JSON.parse(result.stdout) as { units: { unit: string; verdict: string; error?: { message: string } }[] };
    expect(plan.units).toEqual([
      expect.objectContaining({
        unit: 't',
        verdict: 'fails',
        error: expect.objectContaining({ message: 'stale() raised an uncaught exception: check timer boom' }),
      }),
    ]);
  });
});

describe('a function that ignores its abort signal', () => {
  it('is not retried beside itself, and its late write does not look fresh', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `import { appendFileSync, writeFileSync } from 'node:fs';
      export default { tasks: { t: { input: 'in.txt', output: 'out.txt', timeout: '200ms', retries: 2, backoff: '1ms',
        run: async ({ attempt, output }) => {
          appendFileSync('log', 'start ' + attempt + ' ' + Date.now() + '\\n');
          // Ignores its signal and outlives the 3 s grace period after the timeout.
          await new Promise((resolve) => setTimeout(resolve, 3600));
          writeFileSync(output, 'late');
          appendFileSync('log', 'end ' + attempt + ' ' + Date.now() + '\\n');
        } } } };`,
      'in.txt': 'x',
    });
    const result = await rig.runJson(['build'], { timeoutMs: 30_000 });
    expect(result.code).toBe(1);
    const log = rig
      .read('log')
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    const starts = log.filter(([what]) => what === 'start').map(([, attempt, time]) => [Number(attempt), Number(time)] as const);
    const ends = new Map(log.filter(([what]) => what === 'end').map(([, attempt, time]) => [Number(attempt), Number(time)]));
    for (const [attempt, time] of starts) {
      if (attempt === 1) continue;
      // Each later attempt starts only after the one before it has really ended.
      expect(ends.get(attempt - 1)).toBeDefined();
      expect(time).toBeGreaterThanOrEqual(ends.get(attempt - 1) ?? Infinity);
    }
    expect(rig.exists('out.txt')).toBe(false);
    const notes = result.events.filter((e) => e.type === 'unit:log' && e['stream'] === 'warning').map((e) => String(e['text']));
    expect(notes.join('\n')).toContain('ignored its abort signal');
    const plan = JSON.parse((await rig.run(['plan', '--json'])).stdout) as { units: { unit: string; verdict: string }[] };
    expect(plan.units).toEqual([expect.objectContaining({ unit: 't', verdict: 'run' })]);
  });
});

/**
 * A project of a unit `t[n=a]` that fails (`run`, its task's run, with `imports` above the
 * config) beside a slow one that keeps the run going: builds it with --keep-going, checks that the
 * slow unit was built, the failing one's output is gone and `plan` would run it again, and says
 * whether something wrote late (the file `late-written`).
 */
async function lateWrite(run: string, { imports = '', slowSeconds = 1.5 } = {}): Promise<boolean> {
  rig = new Rig();
  rig.write({
    'runcue.config.mjs': `${imports}
    export default { tasks: {
      t: { input: 'src/{n}.txt', output: 'out/{n}.x', run: ${run} },
      slow: { input: 'src/{n}.txt', output: 'out/{n}.s', run: 'sleep ${slowSeconds}; cp {input} {output}' },
    } };`,
    'src/a.txt': 'a',
  });
  const result = await rig.run(['build', '-k', '--json'], { timeoutMs: 30_000 });
  expect(result.code).toBe(1);
  expect(rig.read('out/a.s')).toBe('a');
  expect(rig.exists('out/a.x')).toBe(false);
  const plan = JSON.parse((await rig.run(['plan', '--json'])).stdout) as { units: { unit: string; verdict: string }[] };
  expect(plan.units).toContainEqual(expect.objectContaining({ unit: 't[n=a]', verdict: 'run' }));
  return rig.exists('late-written');
}

describe('late writes after a unit failed', () => {
  it('a function that throws but left a timer: what the timer writes during the run is removed, and plan says it would run', async () => {
    const run = `async ({ output }) => {
      setTimeout(() => { writeFileSync(output, 'late'); writeFileSync('late-written', ''); }, 300);
      throw new Error('nope');
    }`;
    expect(await lateWrite(run, { imports: "import { writeFileSync } from 'node:fs';" })).toBe(true);
  });

  it('a function whose execSync left a background job, then threw: the job is stopped before its outputs are removed', async () => {
    const run = `async ({ output }) => {
      execSync('(sleep 0.5; echo late > "$OUT"; touch late-written) > /dev/null 2>&1 &', { env: { ...process.env, OUT: output } });
      throw new Error('nope');
    }`;
    expect(await lateWrite(run, { imports: "import { execSync } from 'node:child_process';" })).toBe(false);
  });

  it('a shell command that fails leaving a background job: the job is stopped before its outputs are removed', async () => {
    expect(await lateWrite(JSON.stringify('(sleep 0.5; echo late > {output}; touch late-written) & exit 1'))).toBe(false);
  });

  it('a job that left its group and, as it is stopped, starts another: that one is stopped too', async () => {
    // Its output goes elsewhere: a write to the unit's closed pipe would end it before its trap ran.
    const run =
      'setsid sh -c \'trap "(sleep 0.5; echo late > $0; touch late-written) & exit 0" TERM; while :; do sleep 0.1; done\' {output} > /dev/null 2>&1 & sleep 0.3; exit 1';
    expect(await lateWrite(JSON.stringify(run), { slowSeconds: 2 })).toBe(false);
  });
});

describe('a function task that runs a build in-process', () => {
  it("gives the inner build's commands their own run's tags, not the function's", async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `import { writeFileSync } from 'node:fs';
      import { build, loadConfig } from 'runcue';
      export default { tasks: {
        nest: { output: 'outer.txt', run: async ({ output }) => {
          const inner = await loadConfig({ cwd: import.meta.dirname + '/sub' });
          const result = await build({ config: inner.value });
          writeFileSync(output, String(result.ok && result.value.counts.built) + ' ' + process.env.RUNCUE_RUN);
        } },
      } };`,
      'sub/runcue.config.mjs': `export default { tasks: {
        t: { output: 'inner.txt', run: 'echo "$RUNCUE_UNIT $RUNCUE_RUN" > inner.txt' },
      } };`,
    });
    const result = await rig.run(['build']);
    expect(result.code).toBe(0);
    const [built, outerRun] = rig.read('outer.txt').split(' ');
    const [unit, innerRun] = rig.read('sub/inner.txt').trim().split(' ');
    expect(built).toBe('1');
    expect(unit).toBe('t');
    expect(innerRun).toMatch(/^[0-9a-f]{16}$/);
    expect(innerRun).not.toBe(outerRun);
  });
});
