/** Fixes from the fifth audit of the built CLI: each test failed on the code before its fix. */
import { afterEach, describe, expect, it } from 'vitest';
import { collect, Rig, waitFor } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

/** Lines of log.txt, which the commands append to. */
const logLines = (): string[] => (rig.exists('log.txt') ? rig.read('log.txt').trim().split('\n') : []);

/** docs/{doc}.pdf holds a page count; split writes that many pages (after `pause` seconds). */
const splitTask = (pause: number): string => `{
      uses: 'cpu',
      input: 'docs/{doc}.pdf',
      output: 'work/{doc}/pages/*.png',
      run: 'echo split {doc} >> log.txt; sleep ${pause}; n=$(cat {input}); i=0; while [ $i -lt $n ]; do i=$((i+1)); echo page$i > work/{doc}/pages/p$i.png; done',
    }`;

/** The extracts of docs a, b and c of two pages each, first come first served. */
const PAGES_IN_DOC_ORDER = ['extract a p1', 'extract a p2', 'extract b p1', 'extract b p2', 'extract c p1', 'extract c p2'];

/**
 * One cpu slot for split and extract (which copies each page, and logs it when `logExtract`);
 * `docs` (a, b and c) of `pages` pages each.
 */
function oneSlotProject({ pages, logExtract, docs = ['a', 'b', 'c'] }: { pages: number; logExtract: boolean; docs?: string[] }): void {
  const extractRun = `${logExtract ? 'echo extract {doc} {page} >> log.txt; ' : ''}cp {input} {output}`;
  rig = new Rig();
  rig.write({
    'runcue.config.mjs': `export default {
        services: { cpu: { concurrent: 1 } },
        tasks: {
          split: ${splitTask(0)},
          extract: { uses: 'cpu', input: 'work/{doc}/pages/{page}.png', output: 'work/{doc}/text/{page}.txt', run: '${extractRun}' },
        },
      };`,
    ...Object.fromEntries(docs.map((doc) => [`docs/${doc}.pdf`, String(pages)])),
  });
}

describe('dynamic producers on a busy service', () => {
  it("start the pages of the first producer first, not the last one's (first come among equals)", async () => {
    oneSlotProject({ pages: 2, logExtract: true });
    expect((await rig.run(['build'])).code).toBe(0);
    rig.remove('log.txt');
    rig.age(['docs/a.pdf', 'docs/b.pdf', 'docs/c.pdf'], 0);
    expect((await rig.run(['build'])).code).toBe(0);
    // The expansion waited while splits were queued, but the last split's pages (units of the
    // graph from before) were counted down at once and went first.
    expect(logLines().filter((l) => l.startsWith('extract'))).toEqual(PAGES_IN_DOC_ORDER);
  });

  it('start the pages of the first producer first in a watch cycle too', async () => {
    oneSlotProject({ pages: 1, logExtract: true, docs: ['a', 'b'] });
    rig.age(['docs/a.pdf', 'docs/b.pdf'], -60_000);
    const child = rig.spawn(['watch', '--json']);
    const done = collect(child, 60_000);
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const cycles = (): number => stdout.split('\n').filter((l) => l.includes('"watch:cycle"') && l.includes('"done"')).length;
    try {
      await waitFor(() => cycles() >= 1, 20_000, 'the first build');
      rig.remove('log.txt');
      rig.write({ 'docs/a.pdf': '2', 'docs/b.pdf': '2', 'docs/c.pdf': '2' });
      await waitFor(() => logLines().filter((l) => l.startsWith('extract')).length >= 6, 20_000, 'six extracts');
    } finally {
      child.kill('SIGINT');
      await done;
    }
    // The walk of what a change affects reversed siblings: c's pages went first, then b's, then a's.
    expect(logLines().filter((l) => l.startsWith('extract'))).toEqual(PAGES_IN_DOC_ORDER);
  });

  it('do not hold back what consumers that turn out fresh (hash) feed on another service', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default {
        services: { cpu: { concurrent: 1 }, llm: { concurrent: 1 } },
        tasks: {
          split: ${splitTask(1)},
          extract: { freshness: 'hash', uses: 'cpu', input: 'work/{doc}/pages/{page}.png', output: 'work/{doc}/text/{page}.txt', run: 'cp {input} {output}' },
          summarize: { uses: 'llm', input: 'work/{doc}/text/*.txt', output: 'out/{doc}.md', run: 'echo summarize {doc} >> log.txt; cat {inputs} > {output}' },
        },
      };`,
      'docs/a.pdf': '2',
      'docs/b.pdf': '2',
      'docs/c.pdf': '2',
    });
    expect((await rig.run(['build'])).code).toBe(0);
    // Every split reruns and writes the same pages: each extract is fresh, so a summary can
    // start as soon as its split is done, while the next splits run.
    rig.remove('log.txt');
    for (const doc of ['a', 'b', 'c']) rig.remove(`out/${doc}.md`);
    rig.age(['docs/a.pdf', 'docs/b.pdf', 'docs/c.pdf'], 0);
    expect((await rig.run(['build'])).code).toBe(0);
    const log = logLines();
    expect(log.indexOf('summarize a')).toBeGreaterThan(-1);
    expect(log.indexOf('summarize a')).toBeLessThan(log.indexOf('split c'));
  });
});

describe('a unit filter over units a dynamic producer will discover', () => {
  it('builds its producer first, as the output path of that unit does, instead of exit 2', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default {
        tasks: {
          split: ${splitTask(0)},
          extract: { input: 'work/{doc}/pages/{page}.png', output: 'work/{doc}/text/{page}.txt', run: 'echo extract {doc} {page} >> log.txt; cp {input} {output}' },
        },
      };`,
      'docs/a.pdf': '2',
      'docs/b.pdf': '2',
    });
    const plan = await rig.run(['plan', 'extract[doc=a,page=p2]']);
    expect(plan.stderr).toBe('');
    expect(plan.stdout).toContain('split[doc=a]');
    expect(plan.stdout).not.toContain('split[doc=b]');
    expect((await rig.run(['build', 'extract[doc=a,page=p2]'])).code).toBe(0);
    expect(logLines()).toEqual(['split a', 'extract a p2']);
    rig.remove('log.txt');
    expect((await rig.run(['build', 'extract[page=p1]'])).code).toBe(0);
    expect(logLines().sort()).toEqual(['extract a p1', 'extract b p1', 'split b']);
  });

  it('is a usage error with --no-deps, which builds no producer to discover it (it was exit 0, building nothing)', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default {
        tasks: {
          split: ${splitTask(0)},
          extract: { input: 'work/{doc}/pages/{page}.png', output: 'work/{doc}/text/{page}.txt', run: 'cp {input} {output}' },
        },
      };`,
      'docs/a.pdf': '1',
    });
    for (const target of ['work/a/text/p1.txt', 'extract[doc=a,page=p1]']) {
      const result = await rig.run(['build', '--no-deps', target]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`no unit makes "${target}" yet`);
    }
    expect(logLines()).toEqual([]);
    expect((await rig.run(['build', 'split'])).code).toBe(0);
    expect((await rig.run(['build', '--no-deps', 'work/a/text/p1.txt'])).code).toBe(0);
    expect(rig.read('work/a/text/p1.txt')).toBe('page1\n');
  });
});

describe('a target', () => {
  it('starts the units it needs in the order a build of everything does', async () => {
    oneSlotProject({ pages: 1, logExtract: false });
    expect((await rig.run(['build', 'extract'])).code).toBe(0);
    // The walk from the target to its upstream reversed them: split c, b, a.
    expect(logLines()).toEqual(['split a', 'split b', 'split c']);
  });
});
