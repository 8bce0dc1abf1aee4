import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../../../src/runner/records/record.ts';
import { listRunIds, readRunRecords, recordId, RUNS_DIR, selectRunRecord, writeRunRecord } from '../../../../src/runner/records/store.ts';
import { accumulated, T0 } from './fixture.ts';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'runcue-records-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

function recordAt(startedAt: number, cycle?: number): RunRecord {
  return { ...accumulated().record(0), id: recordId(startedAt, 42, cycle), startedAt };
}

describe('run record ids', () => {
  it('sort in start order as text, and name the process and the watch cycle', () => {
    expect(recordId(Date.UTC(2026, 11, 5, 9, 3, 7, 45), 123)).toBe('20261205-090307-045-p123');
    expect(recordId(Date.UTC(2026, 11, 5, 9, 3, 7, 45), 123, 4)).toBe('20261205-090307-045-p123-c4');
    // The UTC time as toISOString spells it, for any date from year 1000 on.
    for (const t of [0, Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(1000, 0, 1), Date.UTC(9999, 11, 31, 12), 1_796_658_220_357]) {
      const iso = new Date(t).toISOString();
      const digits = `${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19).replaceAll(':', '')}-${iso.slice(20, 23)}`;
      expect(recordId(t, 7)).toBe(`${digits}-p7`);
    }
    const ids = [T0 + 1000, T0 + 20, T0 + 3_600_000].map((t) => recordId(t, 1));
    expect([...ids].sort()).toEqual([ids[1], ids[0], ids[2]]);
  });
});

describe('writing run records', () => {
  it('writes the record whole (no temp file left) and reads it back', async () => {
    const record = recordAt(T0);
    const written = await writeRunRecord(root, record, 20);
    expect(written.ok).toBe(true);
    expect(readdirSync(join(root, RUNS_DIR))).toEqual([`${record.id}.json`]);
    expect(await readRunRecords(root)).toEqual({ records: [record], warnings: [] });
  });

  it('keeps only the newest `keep` records', async () => {
    for (let i = 0; i < 25; i++) await writeRunRecord(root, recordAt(T0 + i * 1000), 20);
    const ids = await listRunIds(root);
    expect(ids).toHaveLength(20);
    expect(ids[0]).toBe(recordId(T0 + 5000, 42));
    expect(ids.at(-1)).toBe(recordId(T0 + 24_000, 42));
  });

  it('says why when the directory cannot be written, and never throws', async () => {
    writeFileSync(join(root, '.runcue'), 'a file where the directory should be');
    const written = await writeRunRecord(root, recordAt(T0), 20);
    expect(written).toEqual({
      ok: false,
      error: expect.stringMatching(/^could not write the run record \.runcue\/runs\/.*\.json: .*\.runcue is a file/) as unknown,
    });
  });
});

describe('reading run records', () => {
  it('skips a corrupt, a cut short or a foreign record with a warning naming it', async () => {
    await writeRunRecord(root, recordAt(T0), 20);
    const dir = join(root, RUNS_DIR);
    writeFileSync(join(dir, `${recordId(T0 + 1000, 1)}.json`), '{"version":1,"id":');
    writeFileSync(join(dir, `${recordId(T0 + 2000, 1)}.json`), '{"version":99}');
    writeFileSync(join(dir, 'notes.json'), 'not a record name: ignored');
    const { records, warnings } = await readRunRecords(root);
    expect(records.map((r) => r.startedAt)).toEqual([T0]);
    expect(warnings).toEqual([
      `skipped the run record ${RUNS_DIR}/${recordId(T0 + 2000, 1)}.json: not a version 1 run record`,
      `skipped the run record ${RUNS_DIR}/${recordId(T0 + 1000, 1)}.json: not valid JSON (cut short or edited?)`,
    ]);
  });

  it('has none when the directory does not exist', async () => {
    expect(await readRunRecords(root)).toEqual({ records: [], warnings: [] });
  });
});

describe('choosing a run', () => {
  const newestFirst = [recordAt(T0 + 2000), recordAt(T0 + 1000, 1), recordAt(T0 + 1000, 2)];

  it('by index: 1 (and no selector) is the latest', () => {
    expect(selectRunRecord(newestFirst, undefined)).toEqual({ ok: true, value: newestFirst[0] });
    expect(selectRunRecord(newestFirst, '2')).toEqual({ ok: true, value: newestFirst[1] });
    expect(selectRunRecord(newestFirst, '4')).toEqual({
      ok: false,
      error: 'run 4: expected 1 (the latest) to 3 (the oldest kept run), or a run id',
    });
    expect(selectRunRecord(newestFirst, '0').ok).toBe(false);
  });

  it('by id or by a prefix of exactly one id', () => {
    const id = newestFirst[1]?.id ?? '';
    expect(selectRunRecord(newestFirst, id)).toEqual({ ok: true, value: newestFirst[1] });
    expect(selectRunRecord(newestFirst, id.slice(0, 20))).toEqual({
      ok: false,
      error: expect.stringContaining('matches 2 runs') as unknown,
    });
    expect(selectRunRecord(newestFirst, 'nope')).toEqual({ ok: false, error: expect.stringContaining('no run "nope"') as unknown });
  });

  it('says there are no runs yet', () => {
    expect(selectRunRecord([], undefined)).toEqual({
      ok: false,
      error: expect.stringContaining('no run records in .runcue/runs') as unknown,
    });
  });
});
