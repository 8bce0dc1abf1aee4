/**
 * The examples under examples/, each run end to end by the real CLI on a copy in a temp dir (so
 * the repository's own examples/ stays untouched and tests can run side by side).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { delimiter, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { collect, REPO, Rig, waitFor } from '../rig/index.ts';

let rig: Rig | undefined;
let api: FakeApi | undefined;
afterEach(() => {
  api?.stop();
  rig?.cleanup();
  api = undefined;
  rig = undefined;
});

/** A fresh copy of `examples/NAME` (without build products) in a rig. */
function copyExample(name: string): Rig {
  const r = new Rig();
  const from = join(REPO, 'examples', name);
  const products = new Set(['work', 'out', '.runcue']);
  cpSync(from, r.dir, { recursive: true, filter: (src) => !products.has(relative(from, src)) });
  rig = r;
  return r;
}

interface Event {
  readonly type: string;
  readonly unit?: string;
  readonly kind?: string;
  readonly reason?: { readonly kind: string };
}

function events(stdout: string): Event[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Event);
}

/** Units that started, each once, sorted. */
function started(stdout: string): string[] {
  return [...new Set(events(stdout).flatMap((e) => (e.type === 'unit:start' && e.unit ? [e.unit] : [])))].sort();
}

/** Start reasons by unit (the first start of each). */
function reasons(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of events(stdout)) if (e.type === 'unit:start' && e.unit && !out.has(e.unit)) out.set(e.unit, e.reason?.kind ?? '');
  return out;
}

function onPath(command: string): boolean {
  return (process.env['PATH'] ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, command)));
}

describe('examples/pdf-ocr', () => {
  const tools = onPath('pdftoppm') && onPath('tesseract');

  it.skipIf(!tools)('OCRs every page, then rebuilds nothing, then reruns exactly pages 5-10 of one document', async () => {
    const r = copyExample('pdf-ocr');
    const first = await r.run(['build', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(started(first.stdout)).toHaveLength(3 + 17 + 3); // split per doc, extract per page, summarize per doc

    const report = r.read('out/report.md');
    expect(report).toContain('12 pages');
    for (let page = 1; page <= 12; page++) expect(report).toMatch(new RegExp(`^\\| ${page} \\| \\d+ \\| Report page ${page} \\|$`, 'm'));
    expect(r.read('work/report/text/p-05.txt')).toMatch(/Lemon sales grew/);
    expect(r.read('out/letter.md')).toMatch(/^\| 1 \| \d+ \| Dear Alice \|$/m);
    expect(r.read('out/invoice.md')).toContain('Invoice page 3');

    const again = await r.run(['build', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(started(again.stdout)).toEqual([]);

    const pages = await r.run(['build', '--json', '--force', 'extract[doc=report,page=p-0[5-9]]', 'extract[doc=report,page=p-10]']);
    expect(pages.code, pages.stderr).toBe(0);
    expect(started(pages.stdout)).toEqual(['05', '06', '07', '08', '09', '10'].map((p) => `extract[doc=report,page=p-${p}]`));

    // The summary was not selected; its pages are newer now, so a plain build redoes it alone.
    const summary = await r.run(['build', '--json']);
    expect(summary.code, summary.stderr).toBe(0);
    expect(started(summary.stdout)).toEqual(['summarize[doc=report]']);
  });
});

const PIES: Record<string, readonly string[]> = {
  classic: ['gala', 'granny'],
  crumble: ['bramley', 'cox'],
  dutch: ['elstar', 'jonagold'],
  tatin: ['braeburn', 'pinklady'],
};

/**
 * Checks work/bakery.log, where every slice and bake writes `start TOOL NAME` and `end TOOL NAME`:
 * the most of each tool busy at once, and that each pie went in after all of its slices were cut.
 */
function checkBakery(log: string): { knife: number; oven: number } {
  const lines = log.trim().split('\n');
  const busy = { knife: 0, oven: 0 };
  const most = { knife: 0, oven: 0 };
  for (const line of lines) {
    const [what, tool] = line.split(' ') as [string, 'knife' | 'oven'];
    busy[tool] += what === 'start' ? 1 : -1;
    most[tool] = Math.max(most[tool], busy[tool]);
  }
  for (const [pie, apples] of Object.entries(PIES)) {
    const baked = lines.indexOf(`start oven ${pie}`);
    expect(baked, `${pie} baked`).toBeGreaterThan(-1);
    for (const apple of apples) expect(lines.indexOf(`end knife ${pie}/${apple}`), `${pie}/${apple} cut before baking`).toBeLessThan(baked);
  }
  return most;
}

describe('examples/apple-pie', () => {
  it('cuts one apple at a time, bakes at most two pies at once, and cuts brown slices again before baking', async () => {
    const r = copyExample('apple-pie');
    const units = [
      ...Object.keys(PIES).map((pie) => `bake[pie=${pie}]`),
      ...Object.entries(PIES).flatMap(([pie, apples]) => apples.map((a) => `slice[pie=${pie},apple=${a}]`)),
    ].sort();
    const slices = Object.entries(PIES).flatMap(([pie, apples]) => apples.map((a) => `work/slices/${pie}/${a}.txt`));
    const pies = Object.keys(PIES).map((pie) => `out/${pie}.txt`);

    const first = await r.run(['build', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(started(first.stdout)).toEqual(units);
    const most = checkBakery(r.read('work/bakery.log'));
    expect(most.knife).toBe(1);
    expect(most.oven).toBeLessThanOrEqual(2);
    expect(r.read('out/classic.txt')).toMatch(/classic pie[^]*slices of Gala[^]*slices of Granny Smith/);

    // Explicit times, so the test does not depend on how fast it runs: slices cut "just now"
    // (within maxAge, 5 s) are fresh and nothing happens.
    r.age(slices, 30_000);
    r.age(pies, 31_000);
    const fresh = await r.run(['build', '--json']);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(started(fresh.stdout)).toEqual([]);

    // Slices cut 10 s ago have gone brown: every one is cut again, and every pie rebaked after.
    r.age(
      Object.entries(PIES).flatMap(([pie, apples]) => apples.map((a) => `baskets/${pie}/${a}.txt`)),
      -60_000,
    );
    r.age(slices, -10_000);
    r.age(pies, -9_000);
    r.remove('work/bakery.log');
    const stale = await r.run(['build', '--json']);
    expect(stale.code, stale.stderr).toBe(0);
    expect(started(stale.stdout)).toEqual(units);
    const why = reasons(stale.stdout);
    for (const unit of units) expect(why.get(unit), unit).toBe(unit.startsWith('slice') ? 'max-age' : 'input-newer');
    const again = checkBakery(r.read('work/bakery.log'));
    expect(again.knife).toBe(1);
    expect(again.oven).toBeLessThanOrEqual(2);
  });
});

interface ApiStats {
  readonly charges: number;
  readonly emails: number;
  readonly replays: number;
  readonly throttled: number;
  readonly byOrder: { readonly charges: Record<string, number>; readonly emails: Record<string, number> };
}

interface FakeApi {
  readonly url: string;
  /** Lines the API printed, one per request (`charge pay_0001 A1002`, `429 charges A1001`...). */
  readonly lines: readonly string[];
  stats(): Promise<ApiStats>;
  configure(knobs: { busy?: number; delayMs?: number }): Promise<void>;
  stop(): void;
}

/** Starts the example's own fake API (scripts/fake-api.mjs) on a free port. */
async function startApi(r: Rig, args: readonly string[] = []): Promise<FakeApi> {
  const child: ChildProcess = spawn(process.execPath, [r.path('scripts/fake-api.mjs'), '--port', '0', ...args], {
    cwd: r.dir,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const stdout = child.stdout;
  if (!stdout) throw new Error('no stdout');
  createInterface({ input: stdout }).on('line', (line) => lines.push(line));
  await waitFor(() => lines.length > 0, 10_000, 'the fake API to listen');
  const url = (lines.shift() ?? '').replace(/^listening on /, '');
  const server: FakeApi = {
    url,
    lines,
    stats: async () => (await (await fetch(`${url}/stats`)).json()) as ApiStats,
    configure: async (knobs) => {
      await fetch(`${url}/config`, { method: 'POST', body: JSON.stringify(knobs) });
    },
    stop: () => child.kill('SIGTERM'),
  };
  api = server;
  return server;
}

const ORDERS = ['A1001', 'A1002', 'A1003', 'A1004', 'A1005'];
const once = Object.fromEntries(ORDERS.map((o) => [o, 1]));

describe('examples/orders', () => {
  it('charges each order once, backs off on 429, never charges on a rerun, and re-charges only on a deleted proof', async () => {
    const r = copyExample('orders');
    const s = await startApi(r, ['--busy', '1']);
    const env = { PAYMENTS_URL: s.url, MAIL_URL: s.url };

    const first = await r.run(['build', '--json'], { env });
    expect(first.code, first.stderr).toBe(0);
    expect(events(first.stdout).some((e) => e.type === 'unit:retry' && e.kind === 'push-back')).toBe(true);
    let stats = await s.stats();
    expect(stats).toMatchObject({ charges: 5, emails: 5, throttled: 1, byOrder: { charges: once, emails: once } });
    const proof = JSON.parse(r.read('out/proof/charges/A1003.json')) as { paymentId: string };
    expect(proof.paymentId).toMatch(/^pay_\d{4}$/);
    expect(r.read('out/ledger.csv').trim().split('\n')).toHaveLength(1 + 5);

    const again = await r.run(['build', '--json'], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(started(again.stdout)).toEqual([]);

    // An edited order is newer than its proof: Make would charge again, the custom stale does not.
    r.touch('orders/A1002.json', 60_000);
    const edited = await r.run(['build', '--json'], { env });
    expect(edited.code, edited.stderr).toBe(0);
    expect(started(edited.stdout)).toEqual([]);
    expect((await s.stats()).charges).toBe(5);

    // Deleting a proof is how you charge again on purpose: one charge, one new receipt.
    r.remove('out/proof/charges/A1003.json');
    const recharge = await r.run(['build', '--json'], { env });
    expect(recharge.code, recharge.stderr).toBe(0);
    expect(started(recharge.stdout)).toEqual(['charge[order=A1003]', 'email[order=A1003]', 'ledger']);
    stats = await s.stats();
    expect(stats.charges).toBe(6);
    expect(stats.byOrder.charges['A1003']).toBe(2);
    expect(stats.emails).toBe(6);
    expect((JSON.parse(r.read('out/proof/charges/A1003.json')) as { paymentId: string }).paymentId).not.toBe(proof.paymentId);
  });

  /**
   * Ctrl-C while the API has charged but not yet answered: the proof is never written. The API
   * holds every answer for 5 s, so the interrupt always lands in that gap.
   */
  async function interruptedRun(apiArgs: readonly string[]): Promise<{ interrupted: number; stats: ApiStats }> {
    const r = copyExample('orders');
    const s = await startApi(r, ['--delay', '5000', ...apiArgs]);
    const env = { PAYMENTS_URL: s.url, MAIL_URL: s.url };
    const child = r.spawn(['build'], { env });
    const done = collect(child);
    await waitFor(() => s.lines.some((line) => line.startsWith('charge ')), 20_000, 'a first charge');
    child.kill('SIGINT');
    const stopped = await done;
    expect(stopped.code, stopped.stderr).toBe(130);
    const interrupted = (await s.stats()).charges;
    expect(interrupted).toBeGreaterThan(0);
    expect(readdirSync(r.path('out/proof/charges'))).toEqual([]);

    await s.configure({ delayMs: 0 });
    const rerun = await r.run(['build'], { env });
    expect(rerun.code, rerun.stderr).toBe(0);
    return { interrupted, stats: await s.stats() };
  }

  it('after Ctrl-C between charge and proof, the rerun replays the idempotency key: still one charge per order', async () => {
    const { stats } = await interruptedRun([]);
    expect(stats.charges).toBe(5);
    expect(stats.byOrder.charges).toEqual(once);
    expect(stats.replays).toBeGreaterThan(0);
  });

  it('without idempotency keys the same interruption charges twice (the gap the keys close)', async () => {
    const { interrupted, stats } = await interruptedRun(['--ignore-keys']);
    expect(stats.charges).toBe(5 + interrupted);
    expect(Object.values(stats.byOrder.charges)).toContain(2);
  });

  it('runs in one command with scripts/demo.mjs, which starts and stops the fake API itself', async () => {
    const r = copyExample('orders');
    const demo = (): Promise<{ code: number | null; stderr: string }> =>
      collect(spawn(process.execPath, ['scripts/demo.mjs'], { cwd: r.dir, env: { PATH: process.env['PATH'], CI: 'true' } }));
    const first = await demo();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('5 charges, 5 emails');
    const second = await demo();
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('5 charges, 5 emails');
  });
});

describe('examples/worker-python', () => {
  interface Labels {
    readonly label: string;
    readonly scores: Record<string, number>;
    readonly words: number;
  }
  const names = (r: Rig): string[] =>
    readdirSync(r.path('texts'))
      .map((file) => file.replace(/\.txt$/, ''))
      .sort();

  it.skipIf(!onPath('python3'))(
    'labels every text through at most two workers (one model load each), as the spawned variant does, then rebuilds nothing',
    async () => {
      const r = copyExample('worker-python');
      const env = r.systemPythonPath();
      const texts = names(r);
      expect(texts).toHaveLength(30);

      const first = await r.run(['build', 'classify', '--json'], { env });
      expect(first.code, first.stderr).toBe(0);
      expect(started(first.stdout)).toEqual(texts.map((name) => `classify[name=${name}]`).sort());
      // The service admits 2 at once: at most two workers, each loading the model once.
      const workers = events(first.stdout).filter((e) => e.type === 'worker:ready');
      expect(workers.length).toBeGreaterThanOrEqual(1);
      expect(workers.length).toBeLessThanOrEqual(2);
      for (const name of texts) {
        const labels = JSON.parse(r.read(`out/labels/${name}.json`)) as Labels;
        expect(labels.label, name).toBe(name.split('-')[0]);
      }

      const again = await r.run(['build', 'classify', '--json'], { env });
      expect(again.code, again.stderr).toBe(0);
      expect(started(again.stdout)).toEqual([]);

      // The same handler spawned per unit gives the same labels (a subset: each spawn loads the model).
      const weather = texts.filter((name) => name.startsWith('weather-'));
      const spawned = await r.run(['build', 'classify-spawned[name=weather-*]', '--json'], { env });
      expect(spawned.code, spawned.stderr).toBe(0);
      expect(started(spawned.stdout)).toEqual(weather.map((name) => `classify-spawned[name=${name}]`).sort());
      expect(events(spawned.stdout).filter((e) => e.type === 'worker:start')).toEqual([]);
      for (const name of weather) {
        expect(JSON.parse(r.read(`out/labels-spawned/${name}.json`)), name).toEqual(JSON.parse(r.read(`out/labels/${name}.json`)));
      }
    },
  );
});

describe('examples/mandelbrot', () => {
  it('plans 16 tiles, renders each, assembles a 512x512 PNG, then rebuilds nothing, then one touched tile and the PNG', async () => {
    const r = copyExample('mandelbrot');
    const first = await r.run(['build', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const tiles = [0, 1, 2, 3].flatMap((row) => [0, 1, 2, 3].map((col) => `r${row}c${col}`));
    expect(started(first.stdout)).toEqual(['assemble', 'plan', ...tiles.map((tile) => `render[tile=${tile}]`)].sort());
    const png = readFileSync(r.path('out/mandelbrot.png'));
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([512, 512]);

    const again = await r.run(['build', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(started(again.stdout)).toEqual([]);

    r.touch('work/tiles/r1c2.json');
    const one = await r.run(['build', '--json']);
    expect(one.code, one.stderr).toBe(0);
    expect(started(one.stdout)).toEqual(['assemble', 'render[tile=r1c2]']);
  });
});
