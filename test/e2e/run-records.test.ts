/**
 * Run records and `runcue report`: every build (and watch cycle) leaves a record under
 * .runcue/runs/, bounded in number; report prints it, as JSON, as a Chrome trace, and skips a
 * record it cannot read with a warning.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/runner/records/record.ts';
import { collect, Rig, waitFor } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

const CONFIG = `export default {
  services: { api: { rate: '100/s', concurrent: 2 } },
  tasks: {
    fetch: { uses: 'api', input: 'in/{n}.txt', output: 'mid/{n}.txt', run: 'cp {input} {output}' },
    check: { input: 'mid/{n}.txt', output: 'out/{n}.txt', run: 'if grep -q bad {input}; then echo "<bad> & \\\\"input\\\\"" >&2; exit 4; fi; cp {input} {output}' },
    total: { input: 'out/*.txt', output: 'total.txt', run: 'cat {inputs} > {output}' },
  },
};`;

function project(extra: Record<string, string> = {}): void {
  rig = new Rig();
  rig.write({ 'runcue.config.mjs': CONFIG, 'in/a.txt': 'good', 'in/b.txt': 'bad', ...extra });
}

function runIds(): string[] {
  return readdirSync(rig.path('.runcue/runs'))
    .filter((f) => f.endsWith('.json'))
    .sort();
}

function latestRecord(): RunRecord {
  return JSON.parse(readFileSync(rig.path(`.runcue/runs/${runIds().at(-1) ?? ''}`), 'utf8')) as RunRecord;
}

describe('run records', () => {
  it('a build writes one record: each unit that ran or failed or was blocked, the services, the run', async () => {
    project();
    const build = await rig.run(['build', '--keep-going']);
    expect(build.code).toBe(1);
    expect(runIds()).toHaveLength(1);
    const record = latestRecord();
    expect(record).toMatchObject({
      version: 1,
      command: 'build',
      targets: [],
      status: 'failed',
      exitCode: 1,
      counts: { built: 3, fresh: 0, failed: 1, blocked: 1 },
      tasks: { fetch: 2, check: 2, total: 1 },
      services: { api: { concurrent: 2, starts: 2, rates: [{ count: 100, windowMs: 1000 }] } },
    });
    const byUnit = Object.fromEntries(record.units.map((u) => [u.unit, u]));
    expect(byUnit['fetch[n=a]']).toMatchObject({ outcome: 'built', attempts: 1, reason: { kind: 'missing-output' } });
    expect(byUnit['check[n=b]']).toMatchObject({ outcome: 'failed', exitCode: 4, outputTail: '<bad> & "input"' });
    expect(byUnit['total']).toMatchObject({ outcome: 'blocked' });
    expect(record.endedAt).toBeGreaterThanOrEqual(record.startedAt);
  });

  it('plan and build --dry-run write none; a no-op build writes a small record of fresh units', async () => {
    project({ 'in/b.txt': 'good' });
    await rig.run(['plan']);
    await rig.run(['build', '--dry-run']);
    expect(rig.exists('.runcue/runs')).toBe(false);
    expect((await rig.run(['build'])).code).toBe(0);
    expect((await rig.run(['build'])).code).toBe(0);
    expect(runIds()).toHaveLength(2);
    expect(latestRecord()).toMatchObject({ status: 'ok', exitCode: 0, counts: { built: 0, fresh: 5 }, units: [] });
  });

  it('keeps the newest 20 records, or keepRuns', async () => {
    project({ 'in/b.txt': 'good' });
    expect((await rig.run(['build'])).code).toBe(0);
    const first = readFileSync(rig.path(`.runcue/runs/${runIds()[0] ?? ''}`), 'utf8');
    // 21 older runs (ids sort by start time: these are from 2001)
    for (let i = 0; i < 21; i++) writeFileSync(rig.path(`.runcue/runs/20010101-000000-${String(i).padStart(3, '0')}-p1.json`), first);
    expect(runIds()).toHaveLength(22);
    expect((await rig.run(['build'])).code).toBe(0);
    const kept = runIds();
    expect(kept).toHaveLength(20);
    expect(kept.filter((id) => id.startsWith('2001'))).toHaveLength(18);

    rig.write({ 'runcue.config.mjs': CONFIG.replace('export default {', 'export default {\n  keepRuns: 2,') });
    expect((await rig.run(['build'])).code).toBe(0);
    expect(runIds().filter((id) => !id.startsWith('2001'))).toEqual(runIds());
    expect(runIds()).toHaveLength(2);
  });

  it('a record that cannot be written is one warning; the build and its exit code go on', async () => {
    project({ 'in/b.txt': 'good', '.runcue/runs': 'a file where the directory should be' });
    const build = await rig.run(['build']);
    expect(build.code).toBe(0);
    expect(build.stderr).toMatch(
      /^runcue: could not write the run record \.runcue\/runs\/\S+\.json: .* \(runcue report will not show this run\)$/m,
    );
    expect(rig.exists('total.txt')).toBe(true);
  });

  it('a build stopped by Ctrl-C still writes its record, interrupted', async () => {
    project({ 'runcue.config.mjs': CONFIG.replace("run: 'cp {input} {output}' },", "run: 'touch started; sleep 30' },") });
    const child = rig.spawn(['build']);
    const done = collect(child);
    await waitFor(() => rig.exists('started'), 20_000, 'a unit to start');
    child.kill('SIGINT');
    expect((await done).code).toBe(130);
    expect(latestRecord()).toMatchObject({ status: 'interrupted', interrupted: 'SIGINT', exitCode: 130, counts: { interrupted: 2 } });
  });

  it('each watch cycle writes one', async () => {
    project({ 'in/b.txt': 'good' });
    const child = rig.spawn(['watch']);
    const done = collect(child);
    await waitFor(() => rig.exists('.runcue/runs') && runIds().length === 1, 20_000, 'the first cycle record');
    rig.write({ 'in/c.txt': 'good' });
    await waitFor(() => runIds().length === 2, 20_000, 'the second cycle record');
    child.kill('SIGINT');
    await done;
    expect(latestRecord()).toMatchObject({ command: 'watch', cycle: 2, trigger: 'files', status: 'ok', counts: { built: 3 } });
  });
});

describe('runcue report', () => {
  it('prints the latest run: totals, slowest units, failures with their output, services against their limits', async () => {
    project();
    await rig.run(['build', '--keep-going']);
    const report = await rig.run(['report']);
    expect(report.code).toBe(0);
    expect(report.stderr).toBe('');
    const text = report.stdout;
    expect(text).toMatch(/^run \S+ {2}build {2}failed \(exit 1\)$/m);
    expect(text).toContain('3 built, 0 fresh, 1 failed, 1 blocked');
    expect(text).toMatch(/^Slowest units\n( +\S+ {2}[✓✗] \S+.*\n){4}/m);
    expect(text).toMatch(/^Failures\n {2}✗ check\[n=b\] exit 4 after \S+\n {4}\$ if grep .*\n {6}<bad> & "input"$/m);
    expect(text).toMatch(/^Blocked\n {2}⊘ total: /m);
    expect(text).toMatch(/^ {2}api {2}peak [12]\/2 running · 2 starts · limit 100 per s: avg \S+, busiest 2 \(2%\)$/m);
  });

  it('--json prints the record; --list the kept runs; a run is chosen by number or id', async () => {
    project({ 'in/b.txt': 'good' });
    await rig.run(['build']);
    await rig.run(['build']);
    const latest = JSON.parse((await rig.run(['report', '--json'])).stdout) as RunRecord;
    const older = JSON.parse((await rig.run(['report', '2', '--json'])).stdout) as RunRecord;
    expect(latest.counts).toMatchObject({ built: 0, fresh: 5 });
    expect(older.counts).toMatchObject({ built: 5, fresh: 0 });
    expect(JSON.parse((await rig.run(['report', older.id, '--json'])).stdout)).toEqual(older);
    const list = (await rig.run(['report', '--list'])).stdout.trimEnd().split('\n');
    expect(list).toHaveLength(2);
    expect(list[0]).toMatch(new RegExp(`^ {2}1 {2}${latest.id} .* ok {2}0 built, 5 fresh, 0 failed, 0 blocked in \\S+$`));
    const listed = JSON.parse((await rig.run(['report', '--list', '--json'])).stdout) as { version: number; runs: Partial<RunRecord>[] };
    expect(listed.version).toBe(1);
    expect(listed.runs.map((r) => [r.id, r.command, r.status, r.exitCode, r.counts])).toEqual([
      [latest.id, 'build', 'ok', 0, latest.counts],
      [older.id, 'build', 'ok', 0, older.counts],
    ]);
    expect(listed.runs[0]).not.toHaveProperty('units');
    const missing = await rig.run(['report', '3']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('runcue report: run 3: expected 1 (the latest) to 2');
  });

  it('--trace writes Chrome trace-event JSON: complete events on service lanes, lanes named', async () => {
    project({ 'in/b.txt': 'good' });
    await rig.run(['build']);
    const traced = await rig.run(['report', '--trace', 'trace.json']);
    expect(traced.code).toBe(0);
    expect(traced.stderr).toContain('wrote the trace of run');
    const trace = JSON.parse(rig.read('trace.json')) as {
      traceEvents: { ph: string; name: string; cat?: string; args?: { name?: string } }[];
    };
    const units = trace.traceEvents.filter((e) => e.ph === 'X' && e.cat !== undefined).map((e) => e.name);
    expect(units.sort()).toEqual(['check[n=a]', 'check[n=b]', 'fetch[n=a]', 'fetch[n=b]', 'total']);
    const lanes = trace.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => e.args?.name);
    expect(lanes).toContain('api slot 1');
  });

  it('skips a corrupt record with a warning and shows the one before; says when there are none', async () => {
    project({ 'in/b.txt': 'good' });
    const none = await rig.run(['report']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no run records in .runcue/runs');
    await rig.run(['build']);
    writeFileSync(join(rig.path('.runcue/runs'), '29991231-235959-999-p1.json'), '{"version":1,"id":"cut sh');
    const report = await rig.run(['report']);
    expect(report.code).toBe(0);
    expect(report.stderr).toBe(
      'runcue report: warning: skipped the run record .runcue/runs/29991231-235959-999-p1.json: not valid JSON (cut short or edited?)\n',
    );
    expect(report.stdout).toContain('5 built, 0 fresh, 0 failed, 0 blocked');
  });
});
