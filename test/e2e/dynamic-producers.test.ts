/**
 * Builds with many dynamic producers (a glob output, such as a PDF split into pages) that feed
 * other tasks: the graph is expanded again only when the new units could start sooner for it,
 * and the units of a producer that settled wait for that expansion instead of being checked
 * against the graph from before it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { collect, Rig, waitFor } from '../rig/index.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

/** docs/{doc}.pdf holds a page count; split writes that many pages, extract copies each one. */
const CONFIG = `export default {
  services: { cpu: { concurrent: 1 } },
  tasks: {
    split: {
      uses: 'cpu',
      input: 'docs/{doc}.pdf',
      output: 'work/{doc}/pages/*.png',
      run: 'rm -f work/{doc}/pages/*.png; n=$(cat {input}); i=0; while [ $i -lt $n ]; do i=$((i+1)); echo page$i > work/{doc}/pages/p$i.png; done',
    },
    extract: { uses: 'cpu', input: 'work/{doc}/pages/{page}.png', output: 'work/{doc}/text/{page}.txt', run: 'cp {input} {output}' },
    summarize: { uses: 'cpu', input: 'work/{doc}/text/*.txt', output: 'out/{doc}.md', run: 'cat {inputs} > {output}' },
  },
};`;

describe('dynamic producers', () => {
  it('a build of 30 producers feeding consumers expands the graph a few times, not once per producer', async () => {
    rig = new Rig();
    const docs: Record<string, string> = { 'runcue.config.mjs': CONFIG };
    for (let i = 1; i <= 30; i++) docs[`docs/d${i}.pdf`] = '2';
    rig.write(docs);
    const result = await rig.runJson(['build']);
    expect(result.code).toBe(0);
    expect(result.events.find((e) => e.type === 'run:done')?.['counts']).toMatchObject({ built: 30 + 60 + 30, failed: 0 });
    for (let i = 1; i <= 30; i++) expect(rig.read(`out/d${i}.md`)).toBe('page1\npage2\n');
    // Every split was queued before the first extract could be: the extracts would only have
    // queued behind them, so one expansion after the last split finds them all. (Before, each
    // of the 30 splits expanded the whole build again: 30 updates.)
    expect(result.events.filter((e) => e.type === 'plan:update').length).toBeLessThanOrEqual(2);
  });

  it('units of a producer that reran and made fewer files are dropped, not checked against the old graph', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': CONFIG, 'docs/a.pdf': '3', 'docs/b.pdf': '3' });
    expect((await rig.run(['build'])).code).toBe(0);
    expect(rig.read('out/a.md')).toBe('page1\npage2\npage3\n');
    // a loses two pages; b changes too, so its split is still queued when a's settles and the
    // expansion waits: extract[doc=a,page=p2] (input gone) must wait for it, not be checked.
    const made = ['a', 'b'].flatMap((d) => [1, 2, 3].flatMap((p) => [`work/${d}/pages/p${p}.png`, `work/${d}/text/p${p}.txt`]));
    rig.age([...made, 'out/a.md', 'out/b.md'], -120_000);
    rig.write({ 'docs/a.pdf': '1', 'docs/b.pdf': '2' });
    const result = await rig.run(['build']);
    expect(result.stderr).not.toContain('waits for');
    expect(result.code).toBe(0);
    expect(rig.read('out/a.md')).toBe('page1\n');
    expect(rig.read('out/b.md')).toBe('page1\npage2\n');
  });

  it('a simulated build of 400 producers whose consumers have a service of their own expands a few times and ends as soon', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default {
        services: { cpu: { concurrent: 2 }, ocr: { concurrent: 2 } },
        tasks: {
          split: { uses: 'cpu', input: 'docs/{doc}.pdf', output: 'work/{doc}/pages/*.png', run: 'true' },
          extract: { uses: 'ocr', input: 'work/{doc}/pages/{page}.png', output: 'work/{doc}/text/{page}.txt', run: 'true' },
          summarize: { input: 'work/{doc}/text/*.txt', output: 'out/{doc}.md', run: 'true' },
        },
      };`,
    });
    const args = ['sim', '--files', 'docs/*.pdf=400', '--fanout', 'split=1', '--latency', 'split=10ms,extract=5ms,summarize=1ms'];
    const log = await rig.run([...args, '-v']);
    expect(log.code).toBe(0);
    // The extracts idle on ocr between splits, so only time holds the expansion back: 0.25 ms of
    // (simulated) clock per planned unit. One expansion per split was 200 plan updates.
    const updates = log.stdout.split('\n').filter((line) => /^\S+\s+plan\s/.test(line));
    expect(updates.length).toBeGreaterThan(1);
    expect(updates.length).toBeLessThanOrEqual(10);
    const json = await rig.run([...args, '--json']);
    const summary = (JSON.parse(json.stdout) as { summary: { makespanMs: number; units: { built: number } } }).summary;
    expect(summary.units.built).toBe(1200);
    // 400 splits, 2 at a time, 10 ms each: 2 s, then the last page's extract and summary (2.2 s
    // with an expansion after every split); the held expansions cost at most one gap at the end.
    expect(summary.makespanMs).toBeGreaterThanOrEqual(2_200);
    expect(summary.makespanMs).toBeLessThanOrEqual(2_200 + 0.25 * 1_200);
  });

  it('two levels of dynamic outputs: files left by a vanished page make no units, so the total counts only what is there', async () => {
    rig = new Rig();
    // split makes N pages holding N; words makes N word files per page; count copies each; total counts them.
    const each = (dir: string, ext: string) =>
      `n=$(cat {input}); i=0; while [ $i -lt $n ]; do i=$((i+1)); echo $n > ${dir}/w$i.${ext}; done`;
    rig.write({
      'runcue.config.mjs': `export default {
        services: { cpu: { concurrent: 1 } },
        tasks: {
          split: { uses: 'cpu', input: 'docs/{doc}.pdf', output: 'work/{doc}/pages/*.png', run: ${JSON.stringify(each('work/{doc}/pages', 'png'))} },
          words: { uses: 'cpu', input: 'work/{doc}/pages/{page}.png', output: 'work/{doc}/words/{page}/*.w', run: ${JSON.stringify(each('work/{doc}/words/{page}', 'w'))} },
          count: { uses: 'cpu', input: 'work/{doc}/words/{page}/{w}.w', output: 'work/{doc}/c/{page}/{w}.c', run: 'cp {input} {output}' },
          total: { uses: 'cpu', input: 'work/{doc}/c/*/*.c', output: 'out/{doc}.txt', run: 'cat {inputs} | wc -l | tr -d " " > {output}' },
        },
      };`,
      'docs/b.pdf': '3',
    });
    expect((await rig.run(['build'])).code).toBe(0);
    expect(rig.read('out/b.txt')).toBe('9\n');
    rig.write({ 'docs/b.pdf': '1' });
    const rebuild = await rig.run(['build']);
    expect(rebuild.code).toBe(0);
    // One page of one word. The word files of pages 2 and 3 are still on disk (orphans until
    // clean --orphans), but no count unit is made of them: before, the total was 7.
    expect(rig.read('out/b.txt')).toBe('1\n');
    expect(rig.exists('work/b/words/w2/w1.w')).toBe(true);
    const again = await rig.run(['build']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('0 built');
  });

  it('a run stopped while an expansion waits counts the units of the producers that finished as not started', async () => {
    rig = new Rig();
    // Split c takes long: Ctrl-C comes while it runs, after a and b made their pages.
    rig.write({
      'runcue.config.mjs': CONFIG.replace("run: 'rm -f", "run: 'if [ {doc} = c ]; then sleep 60; fi; rm -f"),
      'docs/a.pdf': '2',
      'docs/b.pdf': '2',
      'docs/c.pdf': '2',
    });
    const child = rig.spawn(['build', '--json']);
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const done = collect(child, 60_000);
    // One slot: the third start is split c, once a and b settled (their expansion waited behind them).
    await waitFor(() => stdout.split('"unit:start"').length > 3, 30_000, 'split c to start');
    child.kill('SIGINT');
    expect((await done).code).toBe(130);
    const runDone = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((e) => e['type'] === 'run:done');
    // The pages of a and b (4 extracts) and their two summaries (summarize c is blocked by the
    // interrupted split c). Before, the expansion that finds the pages never ran: 3 not started.
    expect(runDone).toMatchObject({ interrupted: 'SIGINT', counts: { built: 2 }, notStarted: 6 });
  });
});
