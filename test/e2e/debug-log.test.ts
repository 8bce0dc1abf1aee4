/**
 * `RUNCUE_DEBUG_LOG=<file>`: build and watch append every event to the file as one JSON line,
 * whatever reporter draws the run, and a file that cannot be opened never stops a build.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/runner/events.ts';
import type { WatchEvent } from '../../src/watch/events.ts';
import { REPO, Rig, collect, waitFor } from '../rig/index.ts';

type AnyEvent = RunEvent | WatchEvent;

const schema = JSON.parse(readFileSync(join(REPO, 'docs', 'events.schema.json'), 'utf8')) as object;
const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
const validate = ajv.compile(schema);

/** Every line of the log as a schema-valid event; a blank or partial line fails the test. */
function readLog(rig: Rig, rel: string): AnyEvent[] {
  const lines = rig.read(rel).split('\n');
  expect(lines.pop()).toBe('');
  return lines.map((line) => {
    const event = JSON.parse(line) as AnyEvent;
    if (!validate(event)) throw new Error(`invalid event ${line}\n${ajv.errorsText(validate.errors)}`);
    return event;
  });
}

const CHAIN = `export default { tasks: {
  upper: { input: 'src/{name}.txt', output: 'work/{name}.up', run: 'echo making {name}; tr a-z A-Z < {input} > {output}' },
  wrap: { input: 'work/{name}.up', output: 'out/{name}.md', run: 'cp {input} {output}' },
} };
`;

let rig: Rig | undefined;
afterEach(() => {
  rig?.cleanup();
  rig = undefined;
});

describe('RUNCUE_DEBUG_LOG', () => {
  it('appends one JSON line per event of a build, run:start first and run:done last', async () => {
    const r = (rig = new Rig());
    r.write({ 'runcue.config.mjs': CHAIN, 'src/a.txt': 'a', 'src/b.txt': 'b' });
    const result = await r.run(['build'], { env: { RUNCUE_DEBUG_LOG: 'debug.jsonl' } });
    expect(result.code).toBe(0);
    // the chosen reporter still draws the run
    expect(result.stderr).toContain('runcue: 4 built');
    const events = readLog(r, 'debug.jsonl');
    expect(events[0]).toMatchObject({ type: 'run:start', uses: { upper: ['cpu'], wrap: ['cpu'] } });
    expect(events.at(-1)).toMatchObject({ type: 'run:done', ok: true, counts: { built: 4 } });
    expect(events.filter((e) => e.type === 'unit:done')).toHaveLength(4);

    // appended, not replaced: a second run adds its own run:start ... run:done
    await r.run(['build'], { env: { RUNCUE_DEBUG_LOG: 'debug.jsonl' } });
    const both = readLog(r, 'debug.jsonl');
    expect(both.slice(0, events.length)).toEqual(events);
    expect(both.slice(events.length).map((e) => e.type)).toEqual([
      'run:start',
      'unit:skip',
      'unit:skip',
      'unit:skip',
      'unit:skip',
      'run:done',
    ]);
  });

  it('holds exactly the events --json prints, at a path relative to where runcue was started', async () => {
    const r = (rig = new Rig());
    r.write({ 'proj/runcue.config.mjs': CHAIN, 'proj/src/a.txt': 'a' });
    const result = await r.run(['build', '--cwd', 'proj', '--json', '--verbose'], { env: { RUNCUE_DEBUG_LOG: 'debug.jsonl' } });
    expect(result.code).toBe(0);
    expect(r.exists('proj/debug.jsonl')).toBe(false);
    expect(r.read('debug.jsonl')).toBe(result.stdout);
    expect(readLog(r, 'debug.jsonl').some((e) => e.type === 'unit:log')).toBe(true);
  });

  it('logs watch events and every cycle of runcue watch', async () => {
    const r = (rig = new Rig());
    r.write({ 'runcue.config.mjs': CHAIN, 'src/a.txt': 'a' });
    const child = r.spawn(['watch'], { env: { RUNCUE_DEBUG_LOG: 'debug.jsonl' } });
    const done = collect(child);
    const logged = (): string => (r.exists('debug.jsonl') ? r.read('debug.jsonl') : '');
    await waitFor(() => logged().includes('"phase":"done"'), 20_000, 'the first cycle in the log');
    child.kill('SIGINT');
    expect((await done).code).toBe(130);
    const events = readLog(r, 'debug.jsonl');
    const types = events.map((e) => e.type);
    expect(types).toContain('watch:ready');
    expect(types.indexOf('run:start')).toBeLessThan(types.indexOf('run:done'));
    expect(events).toContainEqual(expect.objectContaining({ type: 'watch:cycle', cycle: 1, phase: 'done', ok: true }));
  });

  it('a log file that cannot be opened is reported, and the build goes on', async () => {
    const r = (rig = new Rig());
    r.write({ 'runcue.config.mjs': CHAIN, 'src/a.txt': 'a' });
    const result = await r.run(['build'], { env: { RUNCUE_DEBUG_LOG: 'no/such/dir/debug.jsonl' } });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('cannot open RUNCUE_DEBUG_LOG file');
    expect(result.stderr).toContain('going on without it');
    expect(r.exists('out/a.md')).toBe(true);
  });
});
