/** In-flight records (.runcue/inflight): who holds a unit, and what a dead holder's record means. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Unit } from '../../../src/graph/unit.ts';
import { createInflightRecords, FOREIGN_STALE_MS } from '../../../src/runner/inflight.ts';
import { runningElsewhere } from '../../../src/runner/inflight-wait.ts';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'runcue-inflight-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const unit = {
  id: 'copy[n=a]',
  task: 'copy',
  wildcards: { n: 'a' },
  inputs: [],
  outputs: [{ name: 'out', path: 'out/a.txt', isGlob: false }],
} as unknown as Unit;
const records = () => createInflightRecords({ root, now: Date.now });
const dir = () => join(root, '.runcue', 'inflight');

/** Writes the record another process would have written for `unit`, via a throwaway claim. */
function foreignRecord(fields: Record<string, unknown>, ageMs = 0): void {
  rmSync(dir(), { recursive: true, force: true });
  const mine = records();
  expect(mine.claim(unit).ok).toBe(true);
  const file = readdirSync(dir())[0] ?? '';
  mine.releaseAll();
  const path = join(dir(), file);
  writeFileSync(
    path,
    JSON.stringify({ version: 1, unit: unit.id, task: 'copy', startedAt: Date.now() - ageMs, outputs: ['out/a.txt'], ...fields }),
  );
  const t = new Date(Date.now() - ageMs);
  utimesSync(path, t, t);
}

function deadPid(): number {
  return spawnSync('true').pid ?? 999_999;
}

describe('in-flight records', () => {
  it('a claimed unit is held elsewhere for every other build, and released by its own', () => {
    const a = records();
    const b = records();
    expect(a.claim(unit)).toEqual({ ok: true });
    expect(a.inspect(unit.id)).toEqual({ kind: 'none' });
    expect(b.inspect(unit.id).kind).toBe('elsewhere');
    expect(b.claim(unit)).toMatchObject({ ok: false, record: { unit: unit.id, pid: process.pid } });
    // A retry of the same build keeps its claim.
    expect(a.claim(unit)).toEqual({ ok: true });
    a.release(unit.id);
    expect(b.inspect(unit.id)).toEqual({ kind: 'none' });
    expect(readdirSync(dir())).toEqual([]);
  });

  it('a record whose process is dead means the unit was interrupted; a new claim takes it over', () => {
    const pid = deadPid();
    foreignRecord({ pid, host: hostname() });
    const r = records();
    expect(r.inspect(unit.id)).toMatchObject({ kind: 'interrupted', record: { pid } });
    expect(r.claim(unit)).toEqual({ ok: true });
    r.release(unit.id);
    expect(readdirSync(dir())).toEqual([]);
  });

  it('a zombie (a killed runcue its parent never reaped) holds nothing', async () => {
    // `sleep 0.3` becomes a zombie: its parent execs `sleep 5`, which never reaps it. (With
    // `sleep 0`, a loaded machine let it end before the exec, and sh reaped it: no zombie.)
    const parent = spawn('sh', ['-c', 'sleep 0.3 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const pid = await new Promise<number>((resolve) => parent.stdout.once('data', (c: Buffer) => resolve(Number(c.toString().trim()))));
    try {
      const zombie = (): boolean => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? false;
      const deadline = Date.now() + 10_000;
      while (!zombie() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      foreignRecord({ pid, host: hostname() });
      expect(records().inspect(unit.id).kind).toBe('interrupted');
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('a dead owner whose watchdog still runs (its command is being stopped) holds the unit, saying so', () => {
    const pid = deadPid();
    foreignRecord({ pid, host: hostname(), watchdog: { pid: process.ppid, host: hostname() } });
    const r = records();
    expect(r.inspect(unit.id)).toMatchObject({ kind: 'elsewhere', stopping: true, record: { pid } });
    expect(r.claim(unit)).toMatchObject({ ok: false, stopping: true, record: { pid } });
    // touch must not forget it either: the command may still write.
    r.forget(unit.id);
    expect(readdirSync(dir())).toHaveLength(1);
    const reason = runningElsewhere(
      { version: 1, pid, host: hostname(), unit: unit.id, task: 'copy', startedAt: 0, outputs: [], watchdog: { pid: 7, host: hostname() } },
      true,
    );
    expect(reason.message).toBe(`a runcue that died (pid ${pid} on ${hostname()}) is still stopping its command (watchdog pid 7): waiting`);
  });

  it('a dead owner whose watchdog exited (or whose watchdog pid was reused) was interrupted', () => {
    const pid = deadPid();
    foreignRecord({ pid, host: hostname(), watchdog: { pid: deadPid(), host: hostname() } });
    expect(records().inspect(unit.id).kind).toBe('interrupted');
    foreignRecord({ pid, host: hostname(), watchdog: { pid: process.ppid, host: hostname(), started: '1' } });
    expect(records().inspect(unit.id).kind).toBe('interrupted');
    // Garbage in the field is ignored, not trusted.
    foreignRecord({ pid, host: hostname(), watchdog: { pid: 'x', host: hostname() } });
    expect(records().inspect(unit.id).kind).toBe('interrupted');
  });

  it('a claim asks for the watchdog first and names it in the record', () => {
    const watchdog = { pid: 4242, host: hostname(), started: '99' };
    const asked: string[] = [];
    const r = createInflightRecords({ root, now: Date.now, watchdog: (u) => (asked.push(u.id), watchdog) });
    expect(r.claim(unit)).toEqual({ ok: true });
    expect(asked).toEqual([unit.id]);
    const file = readdirSync(dir())[0] ?? '';
    expect(JSON.parse(readFileSync(join(dir(), file), 'utf8'))).toMatchObject({ pid: process.pid, watchdog });
    r.release(unit.id);
  });

  it('a live process on this host holds the unit', () => {
    foreignRecord({ pid: process.ppid, host: hostname() });
    expect(records().inspect(unit.id).kind).toBe('elsewhere');
    expect(records().claim(unit).ok).toBe(false);
  });

  it('a record from another host is live while its owner keeps touching it', () => {
    foreignRecord({ pid: 1, host: 'elsewhere.example' });
    expect(records().inspect(unit.id).kind).toBe('elsewhere');
    foreignRecord({ pid: 1, host: 'elsewhere.example' }, FOREIGN_STALE_MS + 1000);
    expect(records().inspect(unit.id).kind).toBe('interrupted');
  });

  it('a record cut short (power loss while writing it) means interrupted', () => {
    foreignRecord({ pid: 1 });
    const file = readdirSync(dir())[0] ?? '';
    writeFileSync(join(dir(), file), '{"version":1,"pi');
    expect(records().inspect(unit.id)).toMatchObject({ kind: 'interrupted', record: { pid: 0 } });
  });

  it('forget removes an interrupted record, never a live one', () => {
    foreignRecord({ pid: deadPid(), host: hostname() });
    records().forget(unit.id);
    expect(records().inspect(unit.id)).toEqual({ kind: 'none' });
    const live = records();
    live.claim(unit);
    records().forget(unit.id);
    expect(records().inspect(unit.id).kind).toBe('elsewhere');
    live.releaseAll();
  });

  it('an unwritable state dir is reported once and the unit still runs', () => {
    writeFileSync(join(root, '.runcue'), 'not a directory');
    const errors: string[] = [];
    const r = createInflightRecords({ root, now: Date.now, onError: (e) => errors.push(e.message) });
    expect(r.claim(unit)).toEqual({ ok: true });
    expect(r.claim({ ...unit, id: 'copy[n=b]' } as Unit)).toEqual({ ok: true });
    expect(errors).toHaveLength(1);
    r.releaseAll();
  });

  describe('spare files (a record is a hard link of one: no file created or freed per unit)', () => {
    const spares = () => join(root, '.runcue', 'inflight-spares');
    const other = { ...unit, id: 'copy[n=b]', wildcards: { n: 'b' } } as unknown as Unit;

    it('a released record leaves its spare for the next claim; none is left after the build', () => {
      const r = records();
      r.claim(unit);
      const [first] = readdirSync(dir());
      const before = statSync(join(dir(), first ?? ''));
      expect(before.nlink).toBe(2);
      r.release(unit.id);
      expect(readdirSync(dir())).toEqual([]);
      expect(readdirSync(spares())).toHaveLength(1);
      r.claim(other);
      const [second] = readdirSync(dir());
      const path = join(dir(), second ?? '');
      expect(statSync(path).ino).toBe(before.ino);
      expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ unit: other.id, pid: process.pid });
      // Still the unit's lock: another build is refused, and the holder's record is unchanged.
      const refused = records();
      expect(refused.claim(other)).toMatchObject({ ok: false, record: { unit: other.id } });
      expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ unit: other.id });
      refused.releaseAll();
      r.releaseAll();
      expect(readdirSync(dir())).toEqual([]);
      expect(readdirSync(spares())).toEqual([]);
    });

    it('units running at once each have their own spare', () => {
      const r = records();
      r.claim(unit);
      r.claim(other);
      const inodes = readdirSync(dir()).map((f) => statSync(join(dir(), f)).ino);
      expect(new Set(inodes).size).toBe(2);
      expect(readdirSync(spares())).toHaveLength(2);
      r.releaseAll();
    });

    /** This process's open files under the spares directory: fd -> file. */
    const openSpares = (): Map<string, string> => {
      const open = new Map<string, string>();
      for (const fd of readdirSync('/proc/self/fd')) {
        const target = fdTarget(fd);
        if (target?.startsWith(`${spares()}/`)) open.set(fd, target);
      }
      return open;
    };

    it.runIf(process.platform === 'linux')(
      'a spare stays open for the build (no open and close per unit), and is closed at its end',
      () => {
        const r = records();
        r.claim(unit);
        const held = openSpares();
        expect(held.size).toBe(1);
        r.release(unit.id);
        r.claim(other);
        expect(openSpares()).toEqual(held);
        const [record] = readdirSync(dir());
        expect(JSON.parse(readFileSync(join(dir(), record ?? ''), 'utf8'))).toMatchObject({ unit: other.id });
        r.releaseAll();
        expect(openSpares().size).toBe(0);
      },
    );

    it('a spare rewritten with a shorter record holds that record alone', () => {
      const r = records();
      const long = { ...unit, id: `copy[n=${'x'.repeat(200)}]` } as unknown as Unit;
      r.claim(long);
      r.release(long.id);
      r.claim(unit);
      const [record] = readdirSync(dir());
      expect(JSON.parse(readFileSync(join(dir(), record ?? ''), 'utf8'))).toMatchObject({ unit: unit.id });
      r.releaseAll();
    });

    it('a spare left under this pid by an earlier process (pid reuse) holds the new record alone', () => {
      mkdirSync(spares(), { recursive: true });
      const left = Array.from({ length: 500 }, (_, i) => join(spares(), `${process.pid}-${i + 1}`));
      for (const path of left) writeFileSync(path, `${'x'.repeat(2000)}\n`);
      const r = records();
      r.claim(unit);
      const [record] = readdirSync(dir());
      expect(JSON.parse(readFileSync(join(dir(), record ?? ''), 'utf8'))).toMatchObject({ unit: unit.id });
      expect(r.inspect(unit.id).kind).toBe('none');
      expect(records().inspect(unit.id).kind).toBe('elsewhere');
      r.releaseAll();
    });

    it('the spares a killed run left are removed by the next build that needs one', () => {
      mkdirSync(spares(), { recursive: true });
      const dead = `${deadPid()}-7`;
      writeFileSync(join(spares(), dead), '');
      const r = records();
      r.claim(unit);
      expect(readdirSync(spares())).not.toContain(dead);
      r.releaseAll();
    });

    it('a record released after the build ended (an abandoned attempt) keeps no spare', () => {
      const r = records();
      r.claim(unit);
      r.releaseAll([unit.id]);
      expect(readdirSync(dir())).toHaveLength(1);
      r.release(unit.id);
      expect(readdirSync(dir())).toEqual([]);
      expect(readdirSync(spares())).toEqual([]);
    });
  });
});

/** What open file `fd` of this process is; undefined once closed. */
function fdTarget(fd: string): string | undefined {
  try {
    return readlinkSync(join('/proc/self/fd', fd));
  } catch {
    return undefined;
  }
}
