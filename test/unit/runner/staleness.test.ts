import { rmSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveSchedule } from '../../../src/config/schedule.ts';
import type { UnitPath } from '../../../src/graph/unit.ts';
import { changedInputs, checkUnit, observeInputs, type CheckContext } from '../../../src/runner/staleness.ts';
import { tempProject, type TempProject } from '../../rig/config-builder.ts';
import { nodeFileSystem } from '../../../src/runner/file-system.ts';

/** A fixed instant (whole seconds: every file system keeps them exactly). */
const T = 1_700_000_000_000;
const MINUTE = 60_000;

function file(path: string, name = 'input0'): UnitPath {
  return { name, path, isGlob: false };
}

function glob(path: string, name = 'input0'): UnitPath {
  return { name, path, isGlob: true };
}

let project: TempProject;

beforeEach(() => {
  project = tempProject();
});

afterEach(() => {
  project.remove();
});

function ctx(overrides: Partial<CheckContext> = {}): CheckContext {
  return { fs: nodeFileSystem(project.root), now: T + 10 * MINUTE, maxAgeMs: undefined, force: false, ...overrides };
}

/** Writes each file with its mtime. */
function files(mtimes: Record<string, number>): void {
  for (const [rel, mtimeMs] of Object.entries(mtimes)) project.write(rel, { mtimeMs });
}

describe('checkUnit: inputs', () => {
  it('reports a missing input', () => {
    files({ 'out/a.txt': T });
    const missing = file('src/a.txt');
    expect(checkUnit([file('src/other.txt'), missing], [file('out/a.txt')], ctx())).toEqual({
      kind: 'missing-input',
      input: file('src/other.txt'),
    });
    files({ 'src/other.txt': T });
    expect(checkUnit([file('src/other.txt'), missing], [file('out/a.txt')], ctx())).toEqual({ kind: 'missing-input', input: missing });
  });

  it('reports a glob input that matches no file as missing', () => {
    files({ 'text/a/notes.md': T, 'out/a.md': T });
    const input = glob('text/a/*.txt');
    expect(checkUnit([input], [file('out/a.md')], ctx())).toEqual({ kind: 'missing-input', input });
  });

  it('reports a missing input before anything else, even when forced', () => {
    expect(checkUnit([file('src/a.txt')], [file('out/a.txt')], ctx({ force: true }))).toEqual({
      kind: 'missing-input',
      input: file('src/a.txt'),
    });
  });

  it("takes a directory for a concrete input (another task's directory output, say), by its own mtime", () => {
    files({ 'src/dir/inner.txt': T });
    const outcome = checkUnit([file('src/dir')], [], ctx());
    expect(outcome.kind).toBe('stale');
    if (outcome.kind === 'stale') expect([...outcome.inputs.keys()]).toEqual(['src/dir']);
  });

  it('observes every file of a glob input', () => {
    files({ 'text/a/1.txt': T, 'text/a/2.txt': T + 1000, 'text/a/skip.md': T, 'text/b/1.txt': T });
    const observed = observeInputs(nodeFileSystem(project.root), [glob('text/a/*.txt'), file('meta.json', 'meta')]);
    expect(observed).toEqual({ missing: file('meta.json', 'meta') });
    files({ 'meta.json': T });
    const again = observeInputs(nodeFileSystem(project.root), [glob('text/a/*.txt'), file('meta.json', 'meta')]);
    if (!('files' in again)) throw new Error('expected files');
    expect([...again.files.keys()].sort()).toEqual(['meta.json', 'text/a/1.txt', 'text/a/2.txt']);
    expect(again.files.get('text/a/2.txt')?.mtimeMs).toBe(T + 1000);
  });
});

describe('checkUnit: outputs', () => {
  it('is stale when an output is missing, naming it', () => {
    files({ 'src/a.txt': T, 'out/a.txt': T });
    const outcome = checkUnit([file('src/a.txt')], [file('out/a.txt', 'text'), file('out/a.json', 'json')], ctx());
    expect(outcome.kind === 'stale' && outcome.reason).toEqual({ kind: 'missing-output', output: 'out/a.json' });
  });

  it('is stale when a glob output matches nothing, naming the glob', () => {
    files({ 'docs/a.pdf': T, 'work/a/pages/readme.md': T + MINUTE });
    const outcome = checkUnit([file('docs/a.pdf')], [glob('work/a/pages/*.png', 'output0')], ctx());
    expect(outcome.kind === 'stale' && outcome.reason).toEqual({ kind: 'missing-output', output: 'work/a/pages/*.png' });
  });

  it('is stale without outputs (a phony task)', () => {
    files({ 'src/a.txt': T });
    const outcome = checkUnit([file('src/a.txt')], [], ctx());
    expect(outcome.kind === 'stale' && outcome.reason).toEqual({ kind: 'no-outputs' });
    expect(checkUnit([], [], ctx())).toMatchObject({ kind: 'stale', reason: { kind: 'no-outputs' } });
  });

  it('is fresh when every output is at least as new as every input', () => {
    files({ 'src/a.txt': T, 'src/b.txt': T - MINUTE, 'out/a.txt': T, 'out/b.txt': T + MINUTE });
    const outcome = checkUnit([file('src/a.txt'), file('src/b.txt')], [file('out/a.txt'), file('out/b.txt')], ctx());
    expect(outcome.kind).toBe('fresh');
    if (outcome.kind !== 'fresh') return;
    expect([...outcome.inputs.keys()]).toEqual(['src/a.txt', 'src/b.txt']);
    expect(outcome.inputs.get('src/a.txt')?.mtimeMs).toBe(T);
    expect('expiresAt' in outcome).toBe(false);
  });

  it('is fresh with equal mtimes (Make compares strictly)', () => {
    files({ 'src/a.txt': T, 'out/a.txt': T });
    expect(checkUnit([file('src/a.txt')], [file('out/a.txt')], ctx()).kind).toBe('fresh');
  });

  it('is fresh without inputs once its outputs exist', () => {
    files({ 'out/stamp': T });
    expect(checkUnit([], [file('out/stamp')], ctx()).kind).toBe('fresh');
  });
});

describe('checkUnit: input newer than output', () => {
  it('names the newer input and the oldest output', () => {
    files({ 'src/a.txt': T, 'src/b.txt': T + 2 * MINUTE, 'out/new.txt': T + 3 * MINUTE, 'out/old.txt': T + MINUTE });
    const outcome = checkUnit([file('src/a.txt'), file('src/b.txt')], [file('out/new.txt'), file('out/old.txt')], ctx());
    expect(outcome.kind === 'stale' && outcome.reason).toEqual({ kind: 'input-newer', input: 'src/b.txt', output: 'out/old.txt' });
  });

  it('is stale by one millisecond', () => {
    files({ 'src/a.txt': T + 1, 'out/a.txt': T });
    expect(checkUnit([file('src/a.txt')], [file('out/a.txt')], ctx())).toMatchObject({
      kind: 'stale',
      reason: { kind: 'input-newer', input: 'src/a.txt', output: 'out/a.txt' },
    });
  });

  it('compares every file of a glob input', () => {
    files({ 'text/a/1.txt': T, 'text/a/2.txt': T + 2 * MINUTE, 'out/a.md': T + MINUTE });
    const outcome = checkUnit([glob('text/a/*.txt')], [file('out/a.md')], ctx());
    expect(outcome.kind === 'stale' && outcome.reason).toEqual({ kind: 'input-newer', input: 'text/a/2.txt', output: 'out/a.md' });
    expect(outcome.kind === 'stale' && [...outcome.inputs.keys()].sort()).toEqual(['text/a/1.txt', 'text/a/2.txt']);
  });

  it('compares with the oldest file of a glob output', () => {
    files({ 'docs/a.pdf': T + MINUTE, 'pages/a/1.png': T + 2 * MINUTE, 'pages/a/2.png': T });
    const outcome = checkUnit([file('docs/a.pdf')], [glob('pages/a/*.png', 'output0')], ctx());
    expect(outcome.kind === 'stale' && outcome.reason).toEqual({ kind: 'input-newer', input: 'docs/a.pdf', output: 'pages/a/2.png' });
    project.touch('pages/a/2.png', T + MINUTE);
    expect(checkUnit([file('docs/a.pdf')], [glob('pages/a/*.png', 'output0')], ctx()).kind).toBe('fresh');
  });
});

describe('checkUnit: maxAge and force', () => {
  it('is stale when the oldest output is older than maxAge', () => {
    files({ 'src/a.txt': T, 'out/a.txt': T + MINUTE, 'out/b.txt': T + 2 * MINUTE });
    const outcome = checkUnit(
      [file('src/a.txt')],
      [file('out/a.txt'), file('out/b.txt')],
      ctx({ maxAgeMs: 5 * MINUTE, now: T + 7 * MINUTE }),
    );
    expect(outcome.kind === 'stale' && outcome.reason).toEqual({ kind: 'max-age', output: 'out/a.txt', ageMs: 6 * MINUTE });
  });

  it('is fresh within maxAge and says when it expires', () => {
    files({ 'src/a.txt': T, 'out/a.txt': T + MINUTE, 'out/b.txt': T + 2 * MINUTE });
    const outcome = checkUnit(
      [file('src/a.txt')],
      [file('out/a.txt'), file('out/b.txt')],
      ctx({ maxAgeMs: 5 * MINUTE, now: T + 3 * MINUTE }),
    );
    expect(outcome).toMatchObject({ kind: 'fresh', expiresAt: T + 6 * MINUTE });
  });

  it('is fresh at exactly maxAge', () => {
    files({ 'out/a.txt': T });
    expect(checkUnit([], [file('out/a.txt')], ctx({ maxAgeMs: MINUTE, now: T + MINUTE })).kind).toBe('fresh');
    expect(checkUnit([], [file('out/a.txt')], ctx({ maxAgeMs: MINUTE, now: T + MINUTE + 1 })).kind).toBe('stale');
  });

  it('reports a newer input before an expired maxAge', () => {
    files({ 'src/a.txt': T + MINUTE, 'out/a.txt': T });
    const outcome = checkUnit([file('src/a.txt')], [file('out/a.txt')], ctx({ maxAgeMs: 1, now: T + 60 * MINUTE }));
    expect(outcome.kind === 'stale' && outcome.reason.kind).toBe('input-newer');
  });

  it('is stale when forced, even with fresh or missing outputs', () => {
    files({ 'src/a.txt': T, 'out/a.txt': T + MINUTE });
    const outcome = checkUnit([file('src/a.txt')], [file('out/a.txt')], ctx({ force: true }));
    expect(outcome.kind === 'stale' && outcome.reason).toEqual({ kind: 'forced' });
    expect(outcome.kind === 'stale' && [...outcome.inputs.keys()]).toEqual(['src/a.txt']);
    expect(checkUnit([file('src/a.txt')], [file('out/none.txt')], ctx({ force: true }))).toMatchObject({ reason: { kind: 'forced' } });
  });
});

describe('checkUnit: schedule', () => {
  /** On the hour, UTC: the last scheduled time before T + 10 minutes. */
  const H = Date.parse('2023-11-14T22:00:00Z');
  const hourly = resolveSchedule({ cron: '0 * * * *', timezone: 'UTC' });

  it('is stale when the oldest output predates the most recent scheduled time, naming it and the time', () => {
    files({ 'out/a.txt': H + MINUTE, 'out/b.txt': H - MINUTE });
    const outcome = checkUnit([], [file('out/a.txt'), file('out/b.txt')], ctx({ schedule: hourly, now: H + 10 * MINUTE }));
    expect(outcome.kind === 'stale' && outcome.reason).toEqual({ kind: 'scheduled', output: 'out/b.txt', due: H });
  });

  it('is fresh when written at or after it, and expires at the next scheduled time', () => {
    files({ 'out/a.txt': H });
    expect(checkUnit([], [file('out/a.txt')], ctx({ schedule: hourly, now: H + 10 * MINUTE }))).toMatchObject({
      kind: 'fresh',
      expiresAt: H + 60 * MINUTE,
    });
  });

  it('turns stale as the clock passes the next scheduled time', () => {
    files({ 'out/a.txt': H + MINUTE });
    const at = (now: number) => checkUnit([], [file('out/a.txt')], ctx({ schedule: hourly, now }));
    expect(at(H + 60 * MINUTE - 1).kind).toBe('fresh');
    expect(at(H + 60 * MINUTE)).toMatchObject({ kind: 'stale', reason: { kind: 'scheduled', due: H + 60 * MINUTE } });
  });

  it('with maxAge too, expires at whichever comes first', () => {
    files({ 'out/a.txt': H + MINUTE });
    const check = (maxAgeMs: number) => checkUnit([], [file('out/a.txt')], ctx({ schedule: hourly, maxAgeMs, now: H + 2 * MINUTE }));
    expect(check(10 * MINUTE)).toMatchObject({ kind: 'fresh', expiresAt: H + 11 * MINUTE });
    expect(check(600 * MINUTE)).toMatchObject({ kind: 'fresh', expiresAt: H + 60 * MINUTE });
  });

  it('reports a newer input before a due schedule', () => {
    files({ 'src/a.txt': H - MINUTE, 'out/a.txt': H - 2 * MINUTE });
    const outcome = checkUnit([file('src/a.txt')], [file('out/a.txt')], ctx({ schedule: hourly, now: H + MINUTE }));
    expect(outcome.kind === 'stale' && outcome.reason.kind).toBe('input-newer');
  });
});

describe('changedInputs', () => {
  it('is empty when nothing changed', () => {
    files({ 'src/a.txt': T, 'src/b.txt': T });
    const observed = observeInputs(nodeFileSystem(project.root), [file('src/a.txt'), file('src/b.txt')]);
    if (!('files' in observed)) throw new Error('expected files');
    expect(changedInputs(nodeFileSystem(project.root), observed.files)).toEqual([]);
  });

  it('lists inputs whose mtime or size changed, or that were removed', () => {
    files({ 'src/a.txt': T, 'src/b.txt': T, 'src/c.txt': T, 'src/d.txt': T });
    const observed = observeInputs(nodeFileSystem(project.root), [glob('src/*.txt')]);
    if (!('files' in observed)) throw new Error('expected files');
    project.touch('src/a.txt', T + 1000);
    writeFileSync(project.path('src/b.txt'), 'a longer content than before');
    project.touch('src/b.txt', T);
    rmSync(project.path('src/c.txt'));
    expect([...changedInputs(nodeFileSystem(project.root), observed.files)].sort()).toEqual(['src/a.txt', 'src/b.txt', 'src/c.txt']);
  });
});

describe('checkUnit: output records', () => {
  const record = (files: string[], members?: string[]) => ({
    version: 1 as const,
    unit: 'u',
    task: 't',
    files,
    ...(members ? { members } : {}),
  });

  it('judges a glob output by the files the unit recorded, not by whatever matches', () => {
    files({ 'src/in.txt': T, 'data/mine.json': T + MINUTE, 'data/a.json': T + MINUTE });
    const out = glob('data/*.json', 'output0');
    expect(checkUnit([file('src/in.txt')], [out], ctx({ record: null }))).toMatchObject({
      kind: 'stale',
      reason: { kind: 'unrecorded', output: 'data/*.json', files: 2 },
    });
    expect(checkUnit([file('src/in.txt')], [out], ctx({ record: record(['data/a.json']) })).kind).toBe('fresh');
    expect(checkUnit([file('src/in.txt')], [out], ctx({ record: record(['data/a.json', 'data/b.json']) }))).toMatchObject({
      kind: 'stale',
      reason: { kind: 'missing-output', output: 'data/b.json' },
    });
    rmSync(`${project.root}/data/a.json`);
    rmSync(`${project.root}/data/mine.json`);
    expect(checkUnit([file('src/in.txt')], [out], ctx({ record: null }))).toMatchObject({
      kind: 'stale',
      reason: { kind: 'missing-output', output: 'data/*.json' },
    });
  });

  it('a fan-in is stale when a member was added or removed since its record', () => {
    files({ 'parts/a.txt': T, 'parts/c.txt': T, 'all.txt': T + MINUTE });
    const inputs = [glob('parts/*.txt')];
    const outputs = [file('all.txt', 'output0')];
    expect(checkUnit(inputs, outputs, ctx({ record: record(['all.txt'], ['parts/a.txt', 'parts/c.txt']) })).kind).toBe('fresh');
    expect(checkUnit(inputs, outputs, ctx({ record: record(['all.txt'], ['parts/a.txt']) }))).toMatchObject({
      reason: { kind: 'members-changed', input: 'parts/c.txt', change: 'added' },
    });
    expect(checkUnit(inputs, outputs, ctx({ record: record(['all.txt'], ['parts/a.txt', 'parts/b.txt', 'parts/c.txt']) }))).toMatchObject({
      reason: { kind: 'members-changed', input: 'parts/b.txt', change: 'removed' },
    });
    // Without a member list (a record from before, or none) the mtime rule alone decides.
    expect(checkUnit(inputs, outputs, ctx({ record: null })).kind).toBe('fresh');
  });

  it('an optional output that is absent neither makes the unit stale nor counts as its oldest', () => {
    files({ 'src/a.txt': T, 'out/a.txt': T + MINUTE });
    const outputs = [file('out/a.txt', 'main'), { ...file('out/a.log', 'log'), optional: true as const }];
    expect(checkUnit([file('src/a.txt')], outputs, ctx()).kind).toBe('fresh');
  });

  it('reports the file furthest in the future as clock skew, without changing the verdict', () => {
    files({ 'src/a.txt': T, 'out/a.txt': T + 60 * MINUTE });
    expect(checkUnit([file('src/a.txt')], [file('out/a.txt', 'output0')], ctx())).toMatchObject({
      kind: 'fresh',
      skew: { file: 'out/a.txt', aheadMs: 50 * MINUTE },
    });
    files({ 'src/a.txt': T + 20 * MINUTE, 'out/a.txt': T });
    expect(checkUnit([file('src/a.txt')], [file('out/a.txt', 'output0')], ctx())).toMatchObject({
      kind: 'stale',
      skew: { file: 'src/a.txt', aheadMs: 10 * MINUTE },
    });
  });
});
