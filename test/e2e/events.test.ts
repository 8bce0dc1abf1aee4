/**
 * The `--json` event contract (docs/events.md): real builds whose every stdout line must be one
 * event valid against docs/events.schema.json, and a check that the schema lists exactly the
 * event types and fields of src/runner/events.ts (the type-level maps below fail to compile
 * when events.ts changes, the runtime checks fail when the schema does not follow).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { BlockedReason, RunEvent, StaleReason, UnitFailure } from '../../src/runner/events.ts';
import type { WatchEvent } from '../../src/watch/events.ts';
import { REPO, Rig, collect, waitFor } from '../rig/index.ts';

// ---- the schema follows the types ------------------------------------------------------------

/** Each field of T: 'required', or 'optional' when it may be absent. */
type Fields<T> = { readonly [K in keyof T]-?: undefined extends T[K] ? 'optional' : 'required' };
type Variants<U, K extends keyof U & string> = { readonly [V in U[K] & string]: Fields<Extract<U, Record<K, V>>> };

const EVENT_FIELDS = {
  'run:start': { type: 'required', time: 'required', version: 'required', tasks: 'required', services: 'required', uses: 'optional' },
  'plan:update': { type: 'required', time: 'required', tasks: 'required' },
  'unit:queued': {
    type: 'required',
    time: 'required',
    task: 'required',
    unit: 'required',
    attempt: 'required',
    reason: 'required',
    command: 'optional',
  },
  'unit:start': {
    type: 'required',
    time: 'required',
    task: 'required',
    unit: 'required',
    attempt: 'required',
    reason: 'required',
    command: 'optional',
    host: 'optional',
  },
  'unit:done': {
    type: 'required',
    time: 'required',
    task: 'required',
    unit: 'required',
    durationMs: 'required',
    inputsChanged: 'required',
    host: 'optional',
  },
  'unit:fail': {
    type: 'required',
    time: 'required',
    task: 'required',
    unit: 'required',
    durationMs: 'required',
    attempt: 'required',
    error: 'required',
    command: 'optional',
    outputTail: 'required',
    removed: 'required',
    host: 'optional',
  },
  'unit:skip': { type: 'required', time: 'required', task: 'required', unit: 'required' },
  'unit:blocked': { type: 'required', time: 'required', task: 'required', unit: 'required', reason: 'required' },
  'unit:retry': {
    type: 'required',
    time: 'required',
    task: 'required',
    unit: 'required',
    attempt: 'required',
    delayMs: 'required',
    kind: 'required',
    error: 'required',
    services: 'optional',
  },
  'run:stall': { type: 'required', time: 'required', fatal: 'required', message: 'required', blocked: 'required' },
  'unit:log': { type: 'required', time: 'required', task: 'required', unit: 'required', stream: 'required', text: 'required' },
  'run:done': {
    type: 'required',
    time: 'required',
    ok: 'required',
    durationMs: 'required',
    counts: 'required',
    interrupted: 'optional',
    notStarted: 'optional',
    pushBacks: 'optional',
  },
  'worker:start': { type: 'required', time: 'required', task: 'required', worker: 'required', pid: 'required', replaces: 'optional' },
  'worker:ready': { type: 'required', time: 'required', task: 'required', worker: 'required', loadMs: 'required' },
  'worker:busy': { type: 'required', time: 'required', task: 'required', worker: 'required', unit: 'required' },
  'worker:exit': {
    type: 'required',
    time: 'required',
    task: 'required',
    worker: 'required',
    reason: 'required',
    code: 'required',
    signal: 'required',
    message: 'optional',
  },
} as const satisfies Variants<RunEvent, 'type'>;

type CycleOf<P> = Extract<WatchEvent, { type: 'watch:cycle'; phase: P }>;
/** `watch:cycle` has one shape per `phase`: keyed `type/phase`. */
const WATCH_FIELDS = {
  'watch:cycle/start': {
    type: 'required',
    time: 'required',
    cycle: 'required',
    phase: 'required',
    trigger: 'required',
    changed: 'required',
  } as const satisfies Fields<CycleOf<'start'>>,
  'watch:cycle/done': {
    type: 'required',
    time: 'required',
    cycle: 'required',
    phase: 'required',
    ok: 'required',
    durationMs: 'required',
    counts: 'required',
  } as const satisfies Fields<CycleOf<'done'>>,
  'watch:config': { type: 'required', time: 'required', ok: 'required', message: 'required' } as const satisfies Fields<
    Extract<WatchEvent, { type: 'watch:config' }>
  >,
  'watch:ready': { type: 'required', time: 'required', watching: 'required' } as const satisfies Fields<
    Extract<WatchEvent, { type: 'watch:ready' }>
  >,
};
// A new watch event type must get an entry above.
const WATCH_TYPES = { 'watch:cycle': true, 'watch:config': true, 'watch:ready': true } as const satisfies Record<WatchEvent['type'], true>;
const WATCH_PHASES = { start: true, done: true } as const satisfies Record<Extract<WatchEvent, { type: 'watch:cycle' }>['phase'], true>;

const STALE_FIELDS = {
  forced: { kind: 'required' },
  'no-outputs': { kind: 'required' },
  'missing-output': { kind: 'required', output: 'required' },
  'input-newer': { kind: 'required', input: 'required', output: 'required' },
  'max-age': { kind: 'required', output: 'required', ageMs: 'required' },
  scheduled: { kind: 'required', output: 'required', due: 'required' },
  custom: { kind: 'required' },
  unrecorded: { kind: 'required', output: 'required', files: 'required' },
  'members-changed': { kind: 'required', input: 'required', change: 'required' },
  fingerprint: { kind: 'required', part: 'required', detail: 'required' },
  upstream: { kind: 'required', upstream: 'required' },
  interrupted: { kind: 'required', pid: 'required', startedAt: 'required' },
} as const satisfies Variants<StaleReason, 'kind'>;

const BLOCKED_FIELDS = {
  not_ready: { kind: 'required', input: 'required', producer: 'optional', message: 'required' },
  upstream_failed: { kind: 'required', upstream: 'required', message: 'required' },
  service_full: { kind: 'required', service: 'required', message: 'required' },
  rate_limited: { kind: 'required', service: 'required', until: 'required', message: 'required' },
  waiting_retry: { kind: 'required', until: 'required', message: 'required' },
  failed_earlier: { kind: 'required', message: 'required' },
  running_elsewhere: { kind: 'required', pid: 'required', host: 'required', since: 'required', message: 'required' },
} as const satisfies Variants<BlockedReason, 'kind'>;

const FAILURE_FIELDS = {
  'exit-non-zero': { reason: 'required', exitCode: 'required', message: 'required' },
  signal: { reason: 'required', signal: 'required', message: 'required' },
  'spawn-error': { reason: 'required', message: 'required' },
  timeout: { reason: 'required', timeoutMs: 'required', message: 'required' },
  'function-error': { reason: 'required', message: 'required' },
  'file-error': { reason: 'required', path: 'required', message: 'required' },
  'missing-output': { reason: 'required', outputs: 'required', message: 'required' },
  'input-removed': { reason: 'required', inputs: 'required', exitCode: 'optional', message: 'required' },
  'check-error': { reason: 'required', check: 'required', message: 'required' },
  aborted: { reason: 'required', message: 'required' },
  'pushed-back': {
    reason: 'required',
    pushBacks: 'required',
    retryAfterMs: 'optional',
    unreadableRetryAfter: 'optional',
    message: 'required',
  },
  'push-back-limit': { reason: 'required', pushBacks: 'required', message: 'required' },
  stalled: { reason: 'required', message: 'required' },
  'worker-error': { reason: 'required', retry: 'required', message: 'required' },
  'worker-crashed': { reason: 'required', message: 'required' },
  'worker-failed': { reason: 'required', message: 'required' },
  'queue-error': { reason: 'required', message: 'required' },
} as const satisfies Variants<UnitFailure, 'reason'>;

interface SchemaObject {
  readonly title?: string;
  readonly properties?: Record<string, { readonly const?: string }>;
  readonly required?: readonly string[];
  readonly allOf?: readonly { readonly $ref: string }[];
  readonly oneOf?: readonly SchemaObject[];
}

const schema = JSON.parse(readFileSync(join(REPO, 'docs', 'events.schema.json'), 'utf8')) as SchemaObject & {
  readonly $defs: Record<string, SchemaObject>;
};

/** Field -> required/optional of each variant of a oneOf, keyed by the const of `key`. */
function schemaVariants(variants: readonly SchemaObject[], key: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const v of variants) {
    const base = (v.allOf ?? []).map((ref) => schema.$defs[ref.$ref.replace('#/$defs/', '')] ?? {});
    const props = Object.assign({}, ...base.map((b) => b.properties), v.properties) as Record<string, unknown>;
    const required = new Set([...base.flatMap((b) => b.required ?? []), ...(v.required ?? [])]);
    const phase = v.properties?.['phase']?.const;
    const name = `${v.properties?.[key]?.const ?? '?'}${phase === undefined ? '' : `/${phase}`}`;
    out[name] = Object.fromEntries(Object.keys(props).map((f) => [f, required.has(f) ? 'required' : 'optional']));
  }
  return out;
}

describe('docs/events.schema.json', () => {
  it('has exactly the event types and fields of src/runner/events.ts', () => {
    expect(schemaVariants(schema.oneOf ?? [], 'type')).toEqual({ ...EVENT_FIELDS, ...WATCH_FIELDS });
    expect(Object.keys(WATCH_FIELDS).map((k) => k.split('/')[0])).toEqual(expect.arrayContaining(Object.keys(WATCH_TYPES)));
    expect(
      Object.keys(WATCH_FIELDS)
        .filter((k) => k.includes('/'))
        .map((k) => k.split('/')[1]),
    ).toEqual(Object.keys(WATCH_PHASES));
    expect(schemaVariants(schema.$defs['staleReason']?.oneOf ?? [], 'kind')).toEqual(STALE_FIELDS);
    expect(schemaVariants(schema.$defs['blockedReason']?.oneOf ?? [], 'kind')).toEqual(BLOCKED_FIELDS);
    expect(schemaVariants(schema.$defs['unitFailure']?.oneOf ?? [], 'reason')).toEqual(FAILURE_FIELDS);
  });

  it('documents every event type in docs/events.md', () => {
    const doc = readFileSync(join(REPO, 'docs', 'events.md'), 'utf8');
    for (const type of [...Object.keys(EVENT_FIELDS), ...Object.keys(WATCH_TYPES)]) expect(doc).toContain(`### \`${type}\``);
  });
});

// ---- real builds ---------------------------------------------------------------------------------

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
const validate = ajv.compile(schema);

/** Anything `--json` prints: build events, and watch's own. */
type AnyEvent = RunEvent | WatchEvent;

/** Every stdout line as a schema-valid event; anything else on stdout fails the test. */
function parseEvents(stdout: string): AnyEvent[] {
  const lines = stdout.split('\n');
  expect(lines.pop()).toBe('');
  return lines.map((line) => {
    const event = JSON.parse(line) as AnyEvent;
    if (!validate(event)) throw new Error(`invalid event ${line}\n${ajv.errorsText(validate.errors)}`);
    return event;
  });
}

function ofType<T extends AnyEvent['type']>(events: readonly AnyEvent[], type: T): Extract<AnyEvent, { type: T }>[] {
  return events.filter((e): e is Extract<AnyEvent, { type: T }> => e.type === type);
}

let rig: Rig | undefined;
afterEach(() => {
  rig?.cleanup();
  rig = undefined;
});

/** The rig of the running test. */
function current(): Rig {
  if (!rig) throw new Error('no rig');
  return rig;
}

async function buildJson(
  config: string,
  files: Record<string, string>,
  args: readonly string[] = [],
): Promise<{ code: number | null; events: AnyEvent[]; stderr: string }> {
  const r = (rig = new Rig());
  r.write({ 'runcue.config.mjs': config, ...files });
  const result = await r.run(['build', '--json', ...args]);
  return { code: result.code, events: parseEvents(result.stdout), stderr: result.stderr };
}

const CHAIN = `export default { tasks: {
  upper: { input: 'src/{name}.txt', output: 'work/{name}.up', run: 'echo making {name}; tr a-z A-Z < {input} > {output}' },
  wrap: { input: 'work/{name}.up', output: 'out/{name}.md', run: 'cp {input} {output}' },
} };
`;

describe('build --json', () => {
  it('a successful build: run:start, unit:start/log/done, run:done; then unit:skip', async () => {
    const { code, events, stderr } = await buildJson(CHAIN, { 'src/a.txt': 'a', 'src/b.txt': 'b' }, ['--verbose']);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(events[0]?.type).toBe('run:start');
    expect(events.at(-1)).toMatchObject({ type: 'run:done', ok: true, counts: { built: 4, fresh: 0, failed: 0, blocked: 0 } });
    expect(ofType(events, 'unit:start')).toHaveLength(4);
    expect(ofType(events, 'unit:done')).toHaveLength(4);
    expect(ofType(events, 'unit:log').map((e) => e.text.trim())).toContain('making a');
    expect(ofType(events, 'unit:start')[0]).toMatchObject({ attempt: 1, reason: { kind: 'missing-output' } });

    const again = await current().run(['build', '--json']);
    const skipped = parseEvents(again.stdout);
    expect(
      ofType(skipped, 'unit:skip')
        .map((e) => e.unit)
        .sort(),
    ).toEqual(['upper[name=a]', 'upper[name=b]', 'wrap[name=a]', 'wrap[name=b]']);
  });

  it('run:start gives each service its limits as data: rates as { count, windowMs }', async () => {
    const config = `export default {
  services: { api: { rate: ['60/min', '100/10s'], concurrent: 3 } },
  tasks: { upper: { input: 'src/{name}.txt', output: 'out/{name}.up', uses: ['api'], run: 'cp {input} {output}' } },
};
`;
    const { code, events } = await buildJson(config, { 'src/a.txt': 'a' });
    expect(code).toBe(0);
    expect(ofType(events, 'run:start')[0]?.services['api']).toEqual({
      concurrent: 3,
      rates: [
        { count: 60, windowMs: 60_000 },
        { count: 100, windowMs: 10_000 },
      ],
    });
  });

  it('failures of every kind, and units blocked by them or by a missing input', async () => {
    const config = `export default { tasks: {
      exits: { output: 'e.txt', run: 'echo partial > e.txt; echo oops; exit 3' },
      after_exit: { input: 'e.txt', output: 'e2.txt', run: 'cp e.txt e2.txt' },
      signal: { output: 's.txt', run: 'kill -KILL $$' },
      spawn: { output: 'p.txt', run: ['runcue-no-such-command-xyz'] },
      slow: { output: 't.txt', run: 'sleep 30', timeout: '200ms' },
      throws: { output: 'f.txt', run: async () => { throw new Error('boom'); } },
      badcheck: { output: 'c.txt', run: 'true', stale: () => { throw new Error('check boom'); } },
      lonely: { input: 'missing.txt', output: 'l.txt', run: 'true' },
    } };
    `;
    const { code, events } = await buildJson(config, {}, ['--keep-going']);
    expect(code).toBe(1);
    const failures = Object.fromEntries(ofType(events, 'unit:fail').map((e) => [e.unit, e]));
    expect(failures['exits']).toMatchObject({ error: { reason: 'exit-non-zero', exitCode: 3 }, removed: ['e.txt'] });
    expect(failures['exits']?.outputTail).toContain('oops');
    expect(failures['signal']?.error).toMatchObject({ reason: 'signal', signal: 'SIGKILL' });
    expect(failures['spawn']?.error.reason).toBe('spawn-error');
    expect(failures['slow']?.error).toMatchObject({ reason: 'timeout', timeoutMs: 200 });
    expect(failures['throws']?.error).toMatchObject({ reason: 'function-error', message: expect.stringContaining('boom') as string });
    expect(failures['badcheck']?.error).toMatchObject({ reason: 'check-error', check: 'stale' });
    const blocked = Object.fromEntries(ofType(events, 'unit:blocked').map((e) => [e.unit, e.reason]));
    expect(blocked['lonely']).toMatchObject({ kind: 'not_ready', input: 'missing.txt' });
    expect(blocked['after_exit']?.kind).toBe('upstream_failed');
    expect(events.at(-1)).toMatchObject({ type: 'run:done', ok: false });
  });

  it('a unit that fails once and has a retry: unit:retry, then unit:done', async () => {
    const config = `export default { tasks: {
      flaky: {
        input: 'in.txt', output: 'out.txt', retries: 1, backoff: '10ms',
        run: 'n=$(cat count 2>/dev/null || echo 0); echo $((n+1)) > count; if [ "$n" = 0 ]; then echo first try fails; exit 1; fi; cp in.txt out.txt',
      },
    } };
    `;
    const { code, events } = await buildJson(config, { 'in.txt': 'x' });
    expect(code).toBe(0);
    expect(ofType(events, 'unit:retry')).toMatchObject([
      { unit: 'flaky', attempt: 1, kind: 'retry', error: { reason: 'exit-non-zero', exitCode: 1 } },
    ]);
    expect(ofType(events, 'unit:start').map((e) => e.attempt)).toEqual([1, 2]);
    expect(ofType(events, 'unit:done')).toHaveLength(1);
    expect(current().read('count').trim()).toBe('2');
  });

  it('dynamic outputs announce new units with plan:update', async () => {
    const config = `export default { tasks: {
      split: { input: 'docs/{doc}.txt', output: 'pages/{doc}/*.txt', run: 'mkdir -p pages/{doc} && for p in 1 2 3; do echo $p > pages/{doc}/$p.txt; done' },
      extract: { input: 'pages/{doc}/{page}.txt', output: 'text/{doc}/{page}.txt', run: 'cp {input} {output}' },
    } };
    `;
    const { code, events } = await buildJson(config, { 'docs/a.txt': 'a' });
    expect(code).toBe(0);
    const updates = ofType(events, 'plan:update');
    expect(updates.length).toBeGreaterThan(0);
    expect(updates.at(-1)?.tasks).toEqual({ split: 1, extract: 3 });
    expect(ofType(events, 'unit:done')).toHaveLength(4);
  });

  it('a stall warning is a run:stall event', async () => {
    const config = `export default { stallWarnAfter: '50ms', tasks: { slow: { output: 's.txt', run: 'sleep 1.5; touch s.txt' } } };`;
    const { code, events } = await buildJson(config, {});
    expect(code).toBe(0);
    expect(ofType(events, 'run:stall')[0]).toMatchObject({ fatal: false });
  });

  it('an interrupted run ends with run:done interrupted, still JSON only', async () => {
    const r = (rig = new Rig());
    r.write({ 'runcue.config.mjs': `export default { tasks: { slow: { output: 's.txt', run: 'sleep 30' } } };` });
    const child = r.spawn(['build', '--json']);
    let seen = '';
    child.stdout?.on('data', (c: Buffer) => (seen += c.toString()));
    const done = collect(child);
    await waitFor(() => seen.includes('"unit:start"'), 20_000, 'unit:start');
    child.kill('SIGINT');
    const result = await done;
    expect(result.code).toBe(130);
    const events = parseEvents(seen);
    expect(ofType(events, 'unit:fail')).toMatchObject([{ unit: 'slow', error: { reason: 'aborted' } }]);
    expect(events.at(-1)).toMatchObject({ type: 'run:done', ok: false, interrupted: 'SIGINT' });
  });

  it('watch --json: cycles and config reloads are events too, and stdout stays JSON only', async () => {
    const r = (rig = new Rig());
    r.write({ 'runcue.config.mjs': CHAIN, 'src/a.txt': 'a' });
    const child = r.spawn(['watch', '--json']);
    let seen = '';
    child.stdout?.on('data', (c: Buffer) => (seen += c.toString()));
    const done = collect(child);
    const cyclesDone = (): number => seen.split('\n').filter((l) => l.includes('"phase":"done"')).length;
    await waitFor(() => cyclesDone() >= 1, 20_000, 'the first cycle');
    r.write({ 'src/b.txt': 'b' });
    await waitFor(() => cyclesDone() >= 2, 20_000, 'a cycle after a new file');
    r.write({ 'runcue.config.mjs': 'export default { tasks: {' });
    await waitFor(() => seen.includes('"watch:config"'), 20_000, 'the config reload');
    child.kill('SIGINT');
    const result = await done;
    expect(result.code).toBe(130);
    const events = parseEvents(seen);
    const watch = events.filter((e): e is WatchEvent => e.type.startsWith('watch:'));
    expect(watch[0]).toMatchObject({ type: 'watch:ready' });
    expect(watch).toContainEqual(
      expect.objectContaining({ type: 'watch:cycle', cycle: 2, phase: 'start', trigger: 'files', changed: ['src/b.txt'] }),
    );
    expect(watch).toContainEqual(expect.objectContaining({ type: 'watch:config', ok: false }));
  });

  it('errors go to stderr and leave stdout empty', async () => {
    const r = (rig = new Rig());
    r.write({ 'runcue.config.mjs': CHAIN, 'src/a.txt': 'a' });
    let result = await r.run(['build', '--json', 'nope']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('unknown target "nope"');

    r.write({ 'runcue.config.mjs': `export default { tasks: { a: { run: 'true', uses: 'nope' } } };` });
    result = await r.run(['build', '--json']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('nope');
  });
});
