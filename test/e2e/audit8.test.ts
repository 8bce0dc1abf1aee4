/** Fixes from the eighth audit of the built CLI against SPEC.md: each test failed on the code before its fix. */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { collect, Rig, waitFor } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

/**
 * The workflow commands the GitHub Actions runner takes from a log, as it reads them: a line that
 * starts with `::` after its leading whitespace, or holds a legacy `##[`, is a command unless
 * `::stop-commands::TOKEN` is in force; `::TOKEN::` resumes.
 */
function runnerCommands(log: string): string[] {
  const commands: string[] = [];
  let stopToken: string | undefined;
  for (const line of log.split('\n')) {
    const text = line.trimStart();
    const v2 = text.startsWith('::') ? /^::([^\s:]+)/.exec(text)?.[1] : undefined;
    const v1 = /##\[([^\]\s;]+)/.exec(line)?.[1];
    const command = v2 ?? v1;
    if (command === undefined) continue;
    if (stopToken !== undefined) {
      if (command === stopToken) stopToken = undefined;
      continue;
    }
    if (command === 'stop-commands') stopToken = text.slice('::stop-commands::'.length);
    else commands.push(command);
  }
  return commands;
}

describe('under GitHub Actions, a failed unit whose output reads as workflow commands', () => {
  it('keeps them as text: its group is not ended early, no annotation or mask is added', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        t: { output: 'out.txt', run: 'echo "::endgroup::"; echo "  ::error::forged"; echo "x ##[warning]old"; echo "::add-mask::secret"; exit 1' },
      } };`,
    });
    const result = await rig.run(['build'], { env: { GITHUB_ACTIONS: 'true' } });
    expect(result.code).toBe(1);
    expect(runnerCommands(result.stderr)).toEqual(['error', 'group', 'endgroup']);
    // The log is still shown in full inside the group.
    expect(result.stderr).toContain('    ::error::forged');
    expect(result.stderr).toContain('    ::add-mask::secret');
    // A plain log gets no fence.
    rig.write({ 'runcue.config.mjs': `export default { tasks: { t: { output: 'out.txt', run: 'echo plain; exit 1' } } };` });
    const plain = await rig.run(['build'], { env: { GITHUB_ACTIONS: 'true' } });
    expect(plain.stderr).not.toContain('stop-commands');
    expect(runnerCommands(plain.stderr)).toEqual(['error', 'group', 'endgroup']);
  });
});

describe('a run stopped while a hook-configured build runs', () => {
  it.each([
    ['a stall (stallTimeout)', 'stallTimeout: "500ms",', undefined],
    ['Ctrl-C', '', 'SIGINT' as const],
  ])('after %s does not say hooks long settled "had not settled"', async (_, option, signal) => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { ${option}
        on: { start: () => {} },
        tasks: { a: { output: 'a', run: 'echo started > started; sleep 5; touch a' } } };`,
    });
    const child = rig.spawn(['build']);
    const ended = collect(child);
    if (signal) {
      await waitFor(() => rig.exists('started'), 10_000, 'the unit to start');
      child.kill(signal);
    }
    const result = await ended;
    expect(result.code).toBe(signal ? 130 : 1);
    expect(result.stderr).toContain(signal ? 'interrupted' : 'run stalled');
    expect(result.stderr).not.toContain('had not settled');
  });
});

describe("freshness: 'hash' with a directory output", () => {
  it('is stale when the directory, or a file in it, is deleted or edited (the directory was fresh even when gone)', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { freshness: 'hash', tasks: {
        site: { input: 'src.txt', output: 'site', run: 'echo run >> log; mkdir -p site/sub; cp src.txt site/index.html; cp src.txt site/sub/page.html' },
      } };`,
      'src.txt': 'hi\n',
    });
    const runs = (): number => rig.read('log').trim().split('\n').length;
    expect((await rig.run(['build'])).code).toBe(0);
    expect((await rig.run(['build'])).stderr).toContain('0 built, 1 fresh');
    rig.write({ 'site/sub/page.html': 'edited by hand\n' });
    expect((await rig.run(['build'])).stderr).toContain('output site/sub/page.html was changed after it was built');
    expect(rig.read('site/sub/page.html')).toBe('hi\n');
    rig.remove('site/index.html');
    expect((await rig.run(['build'])).code).toBe(0);
    expect(rig.read('site/index.html')).toBe('hi\n');
    rmSync(rig.path('site'), { recursive: true });
    expect((await rig.run(['build'])).stderr).toContain('output missing: site');
    expect(rig.read('site/sub/page.html')).toBe('hi\n');
    expect(runs()).toBe(4);
    // Touching the source, same content: still fresh.
    rig.touch('src.txt', 5_000);
    expect((await rig.run(['build'])).stderr).toContain('0 built, 1 fresh');
  });
});

describe("freshness: 'hash' reading a directory (another task's directory output)", () => {
  it('fingerprints the files in it: built, fresh after a touch, rerun when a file in it changes (it was blocked for good)', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        site: { input: 'src.txt', output: 'site', run: 'mkdir -p site/sub; cp src.txt site/index.html; echo page > site/sub/page.html' },
        pack: { freshness: 'hash', input: 'site', output: 'site.txt', run: 'echo pack >> log; cat site/index.html site/sub/page.html > site.txt' },
      } };`,
      'src.txt': 'one\n',
    });
    const first = await rig.run(['build']);
    expect(first.stderr).toContain('2 built');
    expect(first.code).toBe(0);
    expect(rig.read('site.txt')).toBe('one\npage\n');
    rig.touch('site/index.html', 5_000);
    rig.touch('site', 5_000);
    expect((await rig.run(['build'])).stderr).toContain('0 built, 2 fresh');
    rig.write({ 'site/sub/page.html': 'edited\n' });
    const edited = await rig.run(['build', 'pack', '--no-deps']);
    expect(edited.stderr).toContain('content of site changed');
    expect(rig.read('site.txt')).toBe('one\nedited\n');
    expect(rig.read('log')).toBe('pack\npack\n');
  });
});

describe('why on a path a fan-in glob matches but no file is at', () => {
  it('does not call it a source file no task produces when it fits an output pattern', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        extract: { input: 'docs/{doc}/{page}.png', output: 'text/{doc}/{page}.txt', run: 'cp {input} {output}' },
        summarize: { input: 'text/{doc}/*.txt', output: 'out/{doc}.md', run: 'cat {inputs} > {output}' },
      } };`,
      'docs/a/001.png': '1',
      'docs/a/002.png': '2',
    });
    expect((await rig.run(['build'])).code).toBe(0);
    const missing = await rig.run(['why', 'text/a/003.txt']);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toBe('runcue: "text/a/003.txt" matches no unit: no input gives those wildcard values\n');
    expect(missing.code).toBe(2);
    const glob = await rig.run(['why', 'text/a/*.txt']);
    expect(glob.stderr).toContain(
      '"text/a/*.txt" matches 2 units; ask about one of them: extract[doc=a,page=001], extract[doc=a,page=002]',
    );
    expect(glob.code).toBe(2);
    // A file that is there and that no unit makes is still a source file.
    rig.write({ 'text/a/notes.txt': 'by hand' });
    const source = await rig.run(['why', 'text/a/notes.txt']);
    expect(source.stdout).toBe('text/a/notes.txt is a source file: no task produces it. Read by:\n  summarize[doc=a]\n');
    expect(source.code).toBe(0);
  });
});

describe('touch', () => {
  it('re-dates a directory output, marking its unit fresh (it was skipped as "output missing")', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        site: { input: 'src.txt', output: 'site', run: 'echo run >> log; mkdir -p site; cp src.txt site/index.html' },
      } };`,
      'src.txt': 'one\n',
    });
    expect((await rig.run(['build'])).code).toBe(0);
    rig.touch('site', -60_000);
    expect((await rig.run(['plan'])).stdout).toContain('site  input newer: src.txt');
    const touched = await rig.run(['touch', 'site']);
    expect(touched.stdout).toBe('runcue: touched 1 unit (1 file)\n');
    expect(touched.code).toBe(0);
    expect(rig.mtime('site')).toBeGreaterThanOrEqual(rig.mtime('src.txt'));
    expect((await rig.run(['build'])).stderr).toContain('0 built, 1 fresh');
    expect(rig.read('log')).toBe('run\n');
  });
});

describe('touch, an optional output absent', () => {
  it('marks the unit fresh, as build takes it (it was skipped as "output missing" and exit 1)', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        t: { input: 'in/{n}.txt', output: { main: 'o/{n}', log: { path: 'l/{n}', optional: true } }, run: 'echo run >> log; cp {input} {output.main}' },
      } };`,
      'in/x.txt': 'x',
    });
    expect((await rig.run(['build'])).code).toBe(0);
    rig.touch('o/x', -60_000);
    expect((await rig.run(['plan'])).stdout).toContain('input newer: in/x.txt');
    const touched = await rig.run(['touch']);
    expect(touched.stderr).toBe('');
    expect(touched.code).toBe(0);
    expect(rig.exists('l/x')).toBe(false);
    expect((await rig.run(['build'])).stderr).toContain('0 built, 1 fresh');
    expect(rig.read('log')).toBe('run\n');
  });
});

describe('clean, a directory output', () => {
  it('deletes it with what is in it, and only it (it was left in place: "removed 0 files of 0 units")', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        site: { input: 'src.txt', output: 'site', run: 'mkdir -p site/sub; cp src.txt site/index.html; cp src.txt site/sub/page.html' },
        pack: { input: 'site', output: 'site.txt', run: 'cat site/index.html > site.txt' },
      } };`,
      'src.txt': 'one\n',
    });
    expect((await rig.run(['build'])).code).toBe(0);
    const dry = await rig.run(['clean', '--dry-run']);
    expect(dry.stdout).toBe('would remove site\nwould remove site.txt\nruncue: would remove 2 files of 2 units\n');
    expect(rig.exists('site/index.html')).toBe(true);
    const cleaned = await rig.run(['clean', 'site']);
    expect(cleaned.stdout).toBe('removed site\nruncue: removed 1 file of 1 unit\n');
    expect(cleaned.code).toBe(0);
    expect(rig.exists('site')).toBe(false);
    expect(rig.read('site.txt')).toBe('one\n');
    expect(rig.read('src.txt')).toBe('one\n');
    const rebuilt = await rig.run(['build', 'site']);
    expect(rebuilt.stderr).toContain('site (output missing: site)');
    expect(rig.read('site/sub/page.html')).toBe('one\n');
  });
});

describe("a function task's error", () => {
  it("shows the user's frames, not runcue's own below them (the GitHub annotation showed only those)", async () => {
    rig = new Rig();
    rig.write({
      'helper.mjs': `export async function deep() { await new Promise((r) => setTimeout(r, 10)); inner(); }
function inner() { throw new RangeError('deep failure'); }`,
      'runcue.config.mjs': `import { deep } from './helper.mjs';
export default { tasks: { f: { output: 'f', run: async () => { await deep(); } } } };`,
    });
    const result = await rig.run(['build'], { env: { GITHUB_ACTIONS: 'true' } });
    expect(result.code).toBe(1);
    const log = result.stderr.split('\n');
    const first = log.findIndex((l) => l.includes('RangeError: deep failure'));
    const frames = log.slice(first + 1).filter((l) => l.trimStart().startsWith('at '));
    expect(frames.map((l) => l.trim().replace(/ \(.*/, ''))).toEqual(['at inner', 'at deep', 'at async run']);
    expect(result.stderr).not.toMatch(/engine|node:internal/);
    const annotation = log.find((l) => l.startsWith('::error '));
    expect(annotation?.split('%0A').at(-1)).toMatch(/^ +at async run \(file:.*runcue\.config\.mjs/);
  });
});

describe('clean while another runcue process runs the unit', () => {
  it('keeps its outputs and says so, as touch does (removed halfway, the rest of the write looked built)', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: {
        t: { input: 'in/{n}.txt', output: 'out/{n}', run: 'echo part1 > {output}; echo started > started; sleep 2; echo part2 >> {output}' },
      } };`,
      'in/x.txt': 'x',
    });
    const building = collect(rig.spawn(['build']));
    await waitFor(() => rig.exists('started'), 10_000, 'the unit to start');
    const cleaned = await rig.run(['clean']);
    expect(cleaned.stderr).toMatch(/^runcue: kept out\/x: t\[n=x\] runs in another runcue process \(pid \d+\) now\n$/);
    expect(cleaned.code).toBe(0);
    expect((await building).code).toBe(0);
    expect(rig.read('out/x')).toBe('part1\npart2\n');
    // Once that run ended, clean removes them.
    expect((await rig.run(['clean'])).stdout).toContain('removed out/x');
  });
});
