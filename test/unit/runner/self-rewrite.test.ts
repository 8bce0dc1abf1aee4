/**
 * A unit that rewrites its own input (`sed -i ... {input}`): in watch it must not loop. The
 * runner reports such runs; a build given the units to hold back skips them, with a warning,
 * until their inputs change again, while their siblings still see the new content. Which units
 * watch holds back is decided by SelfRewriters (pure, tested here too).
 */
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TaskFunction } from '../../../src/config/types.ts';
import { build, type BuildOptions, type BuildResult } from '../../../src/runner/build.ts';
import type { RunEvent } from '../../../src/runner/events.ts';
import type { InputRewrite } from '../../../src/runner/self-rewrite.ts';
import { SelfRewriters } from '../../../src/watch/rewriters.ts';
import { configOf, tempProject, type TempProject } from '../../rig/config-builder.ts';

const T = 1_700_000_000_000;
const MINUTE = 60_000;

let project: TempProject;
beforeEach(() => {
  project = tempProject();
});
afterEach(() => project.remove());

async function run(options: Omit<BuildOptions, 'onEvent'>): Promise<{ result: BuildResult; events: RunEvent[] }> {
  const events: RunEvent[] = [];
  const result = await build({ ...options, onEvent: (event) => events.push(event) });
  if (!result.ok) throw new Error(result.error.message);
  return { result: result.value, events };
}

const started = (events: readonly RunEvent[]): string[] => events.flatMap((e) => (e.type === 'unit:start' ? [e.unit] : [])).sort();

describe('a unit that rewrites its own input', () => {
  let rewrites = 0;
  /** `sed -i`: normalises its input in place (a new mtime each time), then copies it. */
  const fix: TaskFunction = ({ input, output }) => {
    rewrites++;
    const text = readFileSync(join(project.root, input), 'utf8').toUpperCase();
    writeFileSync(join(project.root, input), text);
    const t = new Date(T + (10 + rewrites) * MINUTE);
    utimesSync(join(project.root, input), t, t);
    writeFileSync(join(project.root, output), text);
  };
  const copy: TaskFunction = ({ input, output }) => writeFileSync(join(project.root, output), readFileSync(join(project.root, input)));

  beforeEach(() => {
    rewrites = 0;
    project.write('src/a.txt', { content: 'a', mtimeMs: T });
    project.write('count/a.txt', { content: 'a', mtimeMs: T + MINUTE });
  });

  it('is reported, then held back (with a warning) until the file changes from outside; its sibling reruns once', async () => {
    const config = configOf(
      {
        fix: { input: 'src/{n}.txt', output: 'fixed/{n}.txt', run: fix },
        count: { input: 'src/{n}.txt', output: 'count/{n}.txt', run: copy },
      },
      { file: project.file },
    );
    const first = await run({ config });
    expect(started(first.events)).toEqual(['fix[n=a]']);
    expect([...first.result.rewrote]).toEqual([['fix[n=a]', expect.objectContaining({ paths: ['src/a.txt'] }) as InputRewrite]]);

    // The cycle its own write starts: the sibling sees the new content, the unit is held back.
    const rewroteEarlier = new Map(first.result.rewrote);
    const second = await run({ config, rewroteEarlier, affected: new Set(['src/a.txt']) });
    expect(started(second.events)).toEqual(['count[n=a]']);
    expect(readFileSync(project.path('count/a.txt'), 'utf8')).toBe('A');
    const warnings = second.events.filter((e) => e.type === 'unit:log' && e.stream === 'warning');
    expect(warnings).toEqual([
      expect.objectContaining({
        unit: 'fix[n=a]',
        text: 'changes its own input src/a.txt each time it runs; not rerunning it until it changes from outside',
      }),
    ]);
    expect(second.result.ok).toBe(true);
    expect(second.result.rewrote.size).toBe(0);

    // Nothing changed: a full cycle leaves it alone too.
    expect(started((await run({ config, rewroteEarlier })).events)).toEqual([]);

    // An edit from outside: it runs once more (and rewrites again).
    project.write('src/a.txt', { content: 'b', mtimeMs: Date.now() + MINUTE });
    const third = await run({ config, rewroteEarlier, affected: new Set(['src/a.txt']) });
    expect(started(third.events)).toEqual(['count[n=a]', 'fix[n=a]']);
    expect(rewrites).toBe(2);
    expect(third.result.rewrote.has('fix[n=a]')).toBe(true);
  });

  it('a file that appears in a glob input while the unit runs is not taken for its own write', async () => {
    const config = configOf(
      {
        all: {
          input: 'src/*.txt',
          output: 'all.txt',
          run: ({ output }) => {
            writeFileSync(project.path('src/late.txt'), 'late');
            writeFileSync(join(project.root, output), 'x');
          },
        },
      },
      { file: project.file },
    );
    const { result, events } = await run({ config });
    expect(events.find((e) => e.type === 'unit:done')).toMatchObject({ inputsChanged: true });
    expect(result.rewrote.size).toBe(0);
  });
});

describe('which units watch holds back', () => {
  const rw = (signature: string): InputRewrite => ({ signature, paths: ['src/a.txt'] });
  const held = (r: SelfRewriters): string[] => [...r.held.keys()];

  it('one run that changed its input is a suspect, rerun like any unit whose input changed while it ran; a second in a row holds it', () => {
    const r = new SelfRewriters();
    r.afterCycle(new Set(['u', 'v']), new Map([['u', rw('1')]]));
    expect(held(r)).toEqual([]);
    r.afterCycle(new Set(['u']), new Map([['u', rw('2')]]));
    expect([...r.held]).toEqual([['u', rw('2')]]);
    // Held units do not run, so a cycle without them keeps them held.
    r.afterCycle(new Set(['v']), new Map());
    expect(held(r)).toEqual(['u']);
  });

  it('a known rewriter is held after its first run of a later change; a clean run clears it', () => {
    const r = new SelfRewriters();
    r.afterCycle(new Set(['u']), new Map([['u', rw('1')]]));
    r.afterCycle(new Set(['u']), new Map([['u', rw('2')]]));
    r.afterCycle(new Set(['u']), new Map([['u', rw('3')]]));
    expect([...r.held]).toEqual([['u', rw('3')]]);
    r.afterCycle(new Set(['u']), new Map());
    expect(held(r)).toEqual([]);
    r.afterCycle(new Set(['u']), new Map([['u', rw('4')]]));
    expect(held(r)).toEqual([]);
  });

  it('an input edited during one run only (an editor, not the unit) is not held', () => {
    const r = new SelfRewriters();
    r.afterCycle(new Set(['u']), new Map([['u', rw('1')]]));
    r.afterCycle(new Set(['u']), new Map());
    r.afterCycle(new Set(['u']), new Map([['u', rw('2')]]));
    expect(held(r)).toEqual([]);
  });

  it('forgets everything when the config changes', () => {
    const r = new SelfRewriters();
    r.afterCycle(new Set(['u']), new Map([['u', rw('1')]]));
    r.afterCycle(new Set(['u']), new Map([['u', rw('2')]]));
    r.clear();
    expect(held(r)).toEqual([]);
    r.afterCycle(new Set(['u']), new Map([['u', rw('3')]]));
    expect(held(r)).toEqual([]);
  });
});
