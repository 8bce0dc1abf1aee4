/**
 * Which queue a task's units go to and the limits Redis holds it to (pure), the job id that makes
 * adding a job idempotent, and the Redis URL a user types.
 */
import { describe, expect, it } from 'vitest';
import type { UnitView } from '../../../../src/runner/execute/unit-view.ts';
import { jobId } from '../../../../src/runner/remote/job.ts';
import { limitsOf, queueNameOf, queuesOf, sharedServices } from '../../../../src/runner/remote/names.ts';
import { parseRedisUrl, versionCheck } from '../../../../src/runner/remote/redis.ts';
import { configOf } from '../../../rig/config-builder.ts';

const config = configOf(
  {
    ocr: { uses: ['ocr', 'api'] },
    call: { uses: 'api' },
    render: { uses: ['gpu', 'cpu'] },
    local: {},
  },
  {
    extra: {
      services: {
        api: { concurrent: 4, rate: ['20/s', '600/min'] },
        ocr: { concurrent: 2, rate: '3/s' },
        gpu: { concurrent: 1, scope: 'host' },
      },
    },
  },
);
const task = (name: string) => {
  const t = config.tasks.get(name);
  if (!t) throw new Error(name);
  return t;
};

describe('queues of a config', () => {
  it('one queue per combination of globally limited services; host-scoped ones (cpu, gpu) leave it', () => {
    expect(queueNameOf(task('ocr'), config)).toBe('api+ocr');
    expect(queueNameOf(task('call'), config)).toBe('api');
    expect(queueNameOf(task('render'), config)).toBe('default');
    expect(queueNameOf(task('local'), config)).toBe('default');
    expect([...queuesOf(config).keys()]).toEqual(['api+ocr', 'api', 'default']);
  });

  it('names the global services with a concurrent that tasks of several queues share (their slots are held in Redis)', () => {
    // api is in api+ocr and api; ocr in one queue only (its queue holds it); gpu is per host.
    expect([...sharedServices(config)]).toEqual(['api']);
    expect([...sharedServices(configOf({ a: { uses: 'api' } }, { extra: { services: { api: { concurrent: 1 } } } }))]).toEqual([]);
  });

  it('holds a queue to the smallest concurrent and the slowest pace of its services', () => {
    // 20/s paces 50 ms, 600/min 100 ms, 3/s 334 ms (ceil(window/N)): the slowest start rate wins.
    expect(limitsOf(task('ocr'), config)).toEqual({ concurrency: 2, paceMs: 334 });
    expect(limitsOf(task('call'), config)).toEqual({ concurrency: 4, paceMs: 100 });
    expect(limitsOf(task('render'), config)).toEqual({ concurrency: undefined, paceMs: undefined });
  });
});

describe('job ids', () => {
  const view = (inputs: Record<string, string>, command: string): UnitView => ({
    unit: { id: 'ocr[n=1]', task: 'ocr', wildcards: { n: '1' }, inputs: [], outputs: [], placeholder: false },
    inputs: new Map(),
    info: { id: 'ocr[n=1]', task: 'ocr', wildcards: {}, input: '', inputs: [], namedInputs: {}, output: '', outputs: [], namedOutputs: {} },
    run: { kind: 'command', form: 'shell', argv: [], env: {}, text: command },
    env: {},
    timeoutMs: undefined,
    keepFailedOutputs: false,
    fingerprint: { inputs, command: 'c', env: 'e' },
  });

  it('is the same for the same unit, input contents, command and attempt, and differs otherwise', () => {
    const id = jobId(view({ 'a.txt': 'h1' }, 'ocr a.txt'), 1);
    expect(jobId(view({ 'a.txt': 'h1' }, 'ocr a.txt'), 1)).toBe(id);
    expect(jobId(view({ 'a.txt': 'h2' }, 'ocr a.txt'), 1)).not.toBe(id);
    expect(jobId(view({ 'a.txt': 'h1' }, 'ocr --fast a.txt'), 1)).not.toBe(id);
    expect(jobId(view({ 'a.txt': 'h1' }, 'ocr a.txt'), 2)).not.toBe(id);
    // BullMQ job ids must not be integers nor contain ':'.
    expect(id).toMatch(/^[0-9a-f]{32}-1$/);
  });
});

describe('Redis URLs', () => {
  it('reads host, port, database and credentials', () => {
    expect(parseRedisUrl('redis://queue:6380/2')).toEqual({
      ok: true,
      value: { url: 'redis://queue:6380/2', host: 'queue', port: 6380, db: 2, tls: false },
    });
    expect(parseRedisUrl('rediss://u:p%40ss@[::1]')).toMatchObject({
      ok: true,
      value: { host: '::1', port: 6379, db: 0, username: 'u', password: 'p@ss', tls: true },
    });
  });

  it('says what it expects of a wrong one', () => {
    for (const url of ['localhost:6379', 'http://q:6379', 'redis://q:6379/x']) {
      const parsed = parseRedisUrl(url);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.error).toContain('redis://host[:port][/db]');
    }
  });
});

describe('the Redis version', () => {
  const info = (version: string): string => `# Server\r\nredis_version:${version}\r\nredis_mode:standalone\r\n`;

  it('accepts 6.2 and newer', () => {
    for (const v of ['6.2.0', '6.2.14', '7.0.15', '10.0.0'])
      expect(versionCheck(info(v), 'redis://r')).toEqual({ ok: true, value: undefined });
  });

  it('refuses an older one, naming both versions', () => {
    for (const v of ['5.0.7', '6.0.16', '6.1.9', '2.8']) {
      expect(versionCheck(info(v), 'redis://r')).toEqual({
        ok: false,
        error: `Redis at redis://r is version ${v}; runcue's queue (BullMQ) needs 6.2.0 or newer`,
      });
    }
  });

  it('refuses a server that does not say its version', () => {
    expect(versionCheck('# Server\r\n', 'redis://r')).toMatchObject({
      ok: false,
      error: expect.stringContaining('did not say its Redis version'),
    });
  });
});
