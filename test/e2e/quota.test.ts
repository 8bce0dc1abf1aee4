/**
 * Rate limits end to end: the real binary drives 100+ units, each a process (python3, else node)
 * doing one HTTP request to a real server that enforces the same quota and answers 429 past it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { collect, Rig, waitFor } from '../rig/index.ts';
import { quotaClient, startQuotaServer, type QuotaServer } from '../rig/quota-server.ts';

let rig: Rig | undefined;
let server: QuotaServer | undefined;
afterEach(async () => {
  rig?.cleanup();
  await server?.close();
  rig = undefined;
  server = undefined;
});

/**
 * Start jitter the server tolerates (see quota-server.ts): it counts a request when its client
 * process started, a few hundred milliseconds at most after its unit started on two loaded cores.
 * runcue's own start times are checked exactly, from `--json`.
 */
const SLACK_MS = 1000;

function project(r: Rig, s: QuotaServer, units: number, service: string): void {
  const client = quotaClient(s.url);
  const files: Record<string, string> = {
    ...client.files,
    'runcue.config.mjs': `export default {
      services: { api: ${service} },
      tasks: {
        fetch: { uses: 'api', input: 'in/{n}.txt', output: 'out/{n}.txt', run: '${client.command} {input} {output}' },
      },
    };`,
  };
  for (let i = 0; i < units; i++) files[`in/${String(i).padStart(3, '0')}.txt`] = `item-${i}`;
  r.write(files);
}

/** `unit:start` times from `--json` output, ascending. */
function starts(stdout: string): number[] {
  const out: number[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const event = JSON.parse(line) as { type: string; time: number };
    if (event.type === 'unit:start') out.push(event.time);
  }
  return out.sort((a, b) => a - b);
}

/** The most starts in any window of `windowMs` (half-open: [t, t + windowMs)). */
function busiest(times: readonly number[], windowMs: number): number {
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < times.length; hi++) {
    while ((times[hi] ?? 0) - (times[lo] ?? 0) >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

function outputs(r: Rig, units: number): number {
  let n = 0;
  for (let i = 0; i < units; i++) if (r.exists(`out/${String(i).padStart(3, '0')}.txt`)) n++;
  return n;
}

describe('rate limits against a real quota', () => {
  it('100 units through a 50/5s quota (paced 10/s): zero 429s and every output written', async () => {
    server = await startQuotaServer({ limit: 50, windowMs: 5000, slackMs: SLACK_MS });
    rig = new Rig();
    project(rig, server, 100, `{ rate: '50/5s' }`);
    const result = await rig.run(['build', '--json'], { timeoutMs: 60_000 });
    expect(result.code).toBe(0);
    expect(server.rejected).toBe(0);
    expect(server.accepted).toBe(100);
    expect(outputs(rig, 100)).toBe(100);
    expect(rig.read('out/007.txt')).toBe('ok /item/item-7\n');
    const times = starts(result.stdout);
    expect(times).toHaveLength(100);
    expect(busiest(times, 5000)).toBeLessThanOrEqual(50);
  });

  // Needs the scheduler to read the clock for each admitted unit and give that same time to
  // the limiter and to unit:start: with one clock reading per drain, spawning a burst of units
  // takes long enough that real starts drift past the times the limiter recorded.
  it('unit:start times never put more than N starts in any window', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default {
        services: { api: { rate: '10/1s' } },
        tasks: { go: { uses: 'api', input: 'in/{n}.txt', output: 'out/{n}.txt', run: 'cp {input} {output}' } },
      };`,
      ...Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`in/${i}.txt`, String(i)])),
    });
    const result = await rig.run(['build', '--json'], { timeoutMs: 60_000 });
    expect(result.code).toBe(0);
    const times = starts(result.stdout);
    expect(times).toHaveLength(40);
    expect(busiest(times, 1000)).toBe(10);
  });

  // Needs build() to give the limiter a rate store: createRateStore(config.root).
  it('Ctrl-C and a rerun within the window do not exceed the quota', async () => {
    server = await startQuotaServer({ limit: 10, windowMs: 4000, slackMs: SLACK_MS });
    const s = server;
    rig = new Rig();
    project(rig, s, 15, `{ rate: '10/4s', burst: 10 }`);
    const first = rig.spawn(['build', '--json']);
    const firstDone = collect(first);
    await waitFor(() => s.accepted >= 10, 20_000, 'the first window of requests');
    first.kill('SIGINT');
    const interrupted = await firstDone;
    expect(interrupted.code).toBe(130);
    // Without the recorded window, this run would send 10 more at once.
    const second = await rig.run(['build', '--json'], { timeoutMs: 60_000 });
    expect(second.code).toBe(0);
    expect(s.rejected).toBe(0);
    expect(outputs(rig, 15)).toBe(15);
    expect(
      busiest(
        [...starts(interrupted.stdout), ...starts(second.stdout)].sort((a, b) => a - b),
        4000,
      ),
    ).toBeLessThanOrEqual(10);
    expect(rig.exists('.runcue/rates/api.log')).toBe(true);
  });

  // Needs build() to give the limiter a rate store, as above.
  it('two runcue processes in one project share the quota', async () => {
    server = await startQuotaServer({ limit: 10, windowMs: 2000, slackMs: SLACK_MS });
    rig = new Rig();
    const client = quotaClient(server.url);
    const files: Record<string, string> = {
      ...client.files,
      'runcue.config.mjs': `export default {
        services: { api: { rate: '10/2s', burst: 10 } },
        tasks: {
          a: { uses: 'api', input: 'in/a/{n}.txt', output: 'out/a/{n}.txt', run: '${client.command} {input} {output}' },
          b: { uses: 'api', input: 'in/b/{n}.txt', output: 'out/b/{n}.txt', run: '${client.command} {input} {output}' },
        },
      };`,
    };
    for (let i = 0; i < 15; i++) files[`in/a/${i}.txt`] = `a-${i}`;
    for (let i = 0; i < 15; i++) files[`in/b/${i}.txt`] = `b-${i}`;
    rig.write(files);
    const [a, b] = await Promise.all([rig.run(['build', 'a', '--json']), rig.run(['build', 'b', '--json'])]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(server.rejected).toBe(0);
    expect(server.accepted).toBe(30);
    expect(
      busiest(
        [...starts(a.stdout), ...starts(b.stdout)].sort((x, y) => x - y),
        2000,
      ),
    ).toBe(10);
  });
});
