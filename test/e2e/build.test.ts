/**
 * `runcue build` end to end: the real binary in temp dirs, asserting on files, exit codes and
 * output. Commands append to runs.log so a test can see exactly which units ran.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Rig } from '../rig/index.ts';
import { CHAIN_CONFIG } from '../rig/fixtures.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

function runs(): string[] {
  return rig.exists('runs.log') ? rig.read('runs.log').trim().split('\n').filter(Boolean).sort() : [];
}

function clearRuns(): void {
  rig.write({ 'runs.log': '' });
}

const CHAIN = CHAIN_CONFIG;

function chainProject(): void {
  rig = new Rig();
  rig.write({ 'runcue.config.mjs': CHAIN, 'src/a.txt': 'alpha', 'src/b.txt': 'beta', 'src/c.txt': 'gamma' });
  rig.age(['src/a.txt', 'src/b.txt', 'src/c.txt'], -60_000);
}

describe('build', () => {
  it('builds a chain in dependency order, then a no-op rebuild runs nothing and changes no mtime', async () => {
    chainProject();
    const first = await rig.run(['build']);
    expect(first.stderr).toContain('6 built');
    expect(first.code).toBe(0);
    expect(rig.read('out/a.md')).toBe('# ALPHA');
    expect(rig.read('out/c.md')).toBe('# GAMMA');
    expect(runs()).toEqual(['upper:a', 'upper:b', 'upper:c', 'wrap:a', 'wrap:b', 'wrap:c']);

    const mtimes = ['work/a.up', 'out/a.md', 'out/b.md'].map((f) => rig.mtime(f));
    clearRuns();
    const second = await rig.run(['build']);
    expect(second.code).toBe(0);
    expect(runs()).toEqual([]);
    expect(['work/a.up', 'out/a.md', 'out/b.md'].map((f) => rig.mtime(f))).toEqual(mtimes);
    expect(second.stderr).toContain('0 built, 6 fresh');
  });

  it('touching one input reruns exactly that unit and its downstream', async () => {
    chainProject();
    await rig.run(['build']);
    clearRuns();
    rig.write({ 'src/b.txt': 'beta two' });
    rig.touch('src/b.txt', 5_000);
    const result = await rig.run(['build']);
    expect(result.code).toBe(0);
    expect(runs()).toEqual(['upper:b', 'wrap:b']);
    expect(rig.read('out/b.md')).toBe('# BETA TWO');
  });

  it('a deleted output is rebuilt, and only it', async () => {
    chainProject();
    await rig.run(['build']);
    clearRuns();
    rig.remove('out/c.md');
    const result = await rig.run(['build']);
    expect(result.code).toBe(0);
    expect(runs()).toEqual(['wrap:c']);
    expect(rig.read('out/c.md')).toBe('# GAMMA');
  });

  it('selects targets by task name, output path and output glob', async () => {
    chainProject();
    let result = await rig.run(['build', 'upper']);
    expect(result.code).toBe(0);
    expect(runs()).toEqual(['upper:a', 'upper:b', 'upper:c']);
    expect(rig.exists('out/a.md')).toBe(false);

    clearRuns();
    result = await rig.run(['build', 'out/b.md']);
    expect(result.code).toBe(0);
    expect(runs()).toEqual(['wrap:b']);

    clearRuns();
    result = await rig.run(['build', 'out/[ac].md']);
    expect(result.code).toBe(0);
    expect(runs()).toEqual(['wrap:a', 'wrap:c']);
  });

  it('an unknown target is a usage error with a suggestion', async () => {
    chainProject();
    const result = await rig.run(['build', 'uper']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown target "uper"');
    expect(result.stderr).toContain('did you mean "upper"?');
  });

  it('--force on an output glob reruns just those units (and what is stale because of them)', async () => {
    chainProject();
    await rig.run(['build']);
    clearRuns();
    const result = await rig.run(['build', '--force', 'work/[ab].up']);
    expect(result.code).toBe(0);
    expect(runs()).toEqual(['upper:a', 'upper:b']);
    clearRuns();
    await rig.run(['build']);
    expect(runs()).toEqual(['wrap:a', 'wrap:b']);
  });

  it('fan-in: a new matching file reruns the fan-in unit with it', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default {
        tasks: {
          index: { input: 'notes/*.txt', output: 'index.txt', run: "cat {inputs} > {output} && echo index >> runs.log" },
        },
      };`,
      'notes/1.txt': 'one\n',
      'notes/2.txt': 'two\n',
    });
    rig.age(['notes/1.txt', 'notes/2.txt'], -60_000);
    expect((await rig.run(['build'])).code).toBe(0);
    expect(rig.read('index.txt')).toBe('one\ntwo\n');
    rig.write({ 'notes/3.txt': 'three\n' });
    rig.touch('notes/3.txt', 5_000);
    clearRuns();
    expect((await rig.run(['build'])).code).toBe(0);
    expect(runs()).toEqual(['index']);
    expect(rig.read('index.txt')).toBe('one\ntwo\nthree\n');
  });

  it('a fan-in glob input sees exactly the files it matches, beside files it does not', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default {
        tasks: {
          plan: { input: 'spec.txt', output: 'd/*.a', run: "mkdir -p d && touch d/x.a d/y.a d/z.a" },
          conv: { input: 'd/{n}.a', output: 'd/{n}.b', run: "echo {n} > {output}" },
          fanin: { input: 'd/*.b', output: 'all.txt', run: "echo {inputs} > {output}" },
        },
      };`,
      'spec.txt': 'x',
    });
    const result = await rig.run(['build']);
    expect(result.code).toBe(0);
    expect(rig.read('all.txt')).toBe('d/x.b d/y.b d/z.b\n');
  });

  it('dynamic glob outputs: consumers are discovered after the producer runs, and fan-in waits for all of them', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default {
        tasks: {
          split: {
            input: 'docs/{doc}.txt',
            output: 'work/{doc}/parts/*.txt',
            run: "mkdir -p work/{doc}/parts && split -l 1 -a 2 {input} work/{doc}/parts/p && for f in work/{doc}/parts/p*; do mv $f $f.txt; done && echo split:{doc} >> runs.log",
          },
          shout: {
            input: 'work/{doc}/parts/{part}.txt',
            output: 'work/{doc}/loud/{part}.txt',
            run: "tr a-z A-Z < {input} > {output} && echo shout:{doc}:{part} >> runs.log",
          },
          join: {
            input: 'work/{doc}/loud/*.txt',
            output: 'out/{doc}.txt',
            run: "cat {inputs} > {output} && echo join:{doc} >> runs.log",
          },
        },
      };`,
      'docs/a.txt': 'one\ntwo\nthree\n',
      'docs/b.txt': 'x\ny\n',
    });
    rig.age(['docs/a.txt', 'docs/b.txt'], -60_000);
    const result = await rig.run(['build']);
    expect(result.stderr).not.toContain('blocked:');
    expect(result.code).toBe(0);
    expect(rig.read('out/a.txt')).toBe('ONE\nTWO\nTHREE\n');
    expect(rig.read('out/b.txt')).toBe('X\nY\n');
    expect(runs()).toEqual([
      'join:a',
      'join:b',
      'shout:a:paa',
      'shout:a:pab',
      'shout:a:pac',
      'shout:b:paa',
      'shout:b:pab',
      'split:a',
      'split:b',
    ]);
    clearRuns();
    const again = await rig.run(['build']);
    expect(again.code).toBe(0);
    expect(runs()).toEqual([]);
  });

  it('never runs more units of a service at once than its concurrent cap', async () => {
    rig = new Rig();
    const files: Record<string, string> = {
      'runcue.config.mjs': `export default {
        services: { slow: { concurrent: 2 } },
        tasks: {
          work: {
            uses: 'slow',
            input: 'in/{n}.txt',
            output: 'out/{n}.txt',
            run: "echo start >> events.log && sleep 0.2 && cp {input} {output} && echo end >> events.log",
          },
        },
      };`,
    };
    for (let i = 0; i < 8; i++) files[`in/${i}.txt`] = String(i);
    rig.write(files);
    const result = await rig.run(['build', '--jobs', '8']);
    expect(result.code).toBe(0);
    const events = rig.read('events.log').trim().split('\n');
    let running = 0;
    let peak = 0;
    for (const e of events) {
      running += e === 'start' ? 1 : -1;
      peak = Math.max(peak, running);
    }
    expect(events).toHaveLength(16);
    expect(peak).toBe(2);
  });

  it('--jobs caps everything at once', async () => {
    rig = new Rig();
    const files: Record<string, string> = {
      'runcue.config.mjs': `export default {
        services: { a: {}, b: {} },
        tasks: {
          ta: { uses: 'a', input: 'in/{n}.a', output: 'out/{n}.a', run: "echo start >> events.log && sleep 0.1 && cp {input} {output} && echo end >> events.log" },
          tb: { uses: 'b', input: 'in/{n}.b', output: 'out/{n}.b', run: "echo start >> events.log && sleep 0.1 && cp {input} {output} && echo end >> events.log" },
        },
      };`,
    };
    for (let i = 0; i < 4; i++) {
      files[`in/${i}.a`] = 'a';
      files[`in/${i}.b`] = 'b';
    }
    rig.write(files);
    expect((await rig.run(['build', '--jobs', '1'])).code).toBe(0);
    let running = 0;
    let peak = 0;
    for (const e of rig.read('events.log').trim().split('\n')) {
      running += e === 'start' ? 1 : -1;
      peak = Math.max(peak, running);
    }
    expect(peak).toBe(1);
  });
});

describe('failure', () => {
  const FAILING = `export default {
    tasks: {
      make: {
        input: 'src/{n}.txt',
        output: 'work/{n}.out',
        run: "echo partial > {output}; echo 'about to fail' >&2; if [ {n} = bad ]; then exit 3; fi; cp {input} {output}; echo make:{n} >> runs.log",
      },
      use: {
        input: 'work/{n}.out',
        output: 'out/{n}.txt',
        run: "cp {input} {output} && echo use:{n} >> runs.log",
      },
    },
  };`;

  function failingProject(): void {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': FAILING, 'src/bad.txt': 'x', 'src/good.txt': 'y' });
    rig.age(['src/bad.txt', 'src/good.txt'], -60_000);
  }

  it('removes the partial output of a failed unit, shows its command and output, does not run downstream, exits 1', async () => {
    failingProject();
    const result = await rig.run(['build', '--jobs', '1']);
    expect(result.code).toBe(1);
    expect(rig.exists('work/bad.out')).toBe(false);
    expect(rig.exists('out/bad.txt')).toBe(false);
    expect(result.stderr).toContain('make[n=bad]');
    expect(result.stderr).toContain('exit 3');
    expect(result.stderr).toContain('about to fail');
    expect(result.stderr).toContain('1 failed');
    expect(runs()).not.toContain('use:bad');
  });

  it('--keep-going runs everything not downstream of the failure', async () => {
    failingProject();
    const result = await rig.run(['build', '--keep-going']);
    expect(result.code).toBe(1);
    expect(runs()).toEqual(['make:good', 'use:good']);
    expect(rig.read('out/good.txt')).toBe('y');
    expect(rig.exists('work/bad.out')).toBe(false);
  });

  it('never deletes an input, even when a failed command touched it', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default { tasks: { t: { input: 'in.txt', output: 'out.txt', run: "echo changed >> in.txt; echo x > out.txt; exit 1" } } };`,
      'in.txt': 'original\n',
    });
    const result = await rig.run(['build']);
    expect(result.code).toBe(1);
    expect(rig.exists('in.txt')).toBe(true);
    expect(rig.exists('out.txt')).toBe(false);
  });
});

describe('diagnostics', () => {
  it('reports an input that does not exist and that no task produces, naming unit and pattern', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default {
        tasks: {
          summarize: { input: { pages: 'work/{doc}/text/*.txt', meta: 'meta/{doc}.json' }, output: 'out/{doc}.md', run: 'cat {inputs} > {output}' },
        },
      };`,
      'meta/a.json': '{}',
    });
    const result = await rig.run(['build']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('summarize[doc=a] waits for work/a/text/*.txt: no file matches and no task produces it');
  });

  it('reports a cycle with its path and exits 2', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default {
        tasks: {
          extract: { input: 'b/{x}.txt', output: 'a/{x}.txt', run: 'cp {input} {output}' },
          summarize: { input: 'a/{x}.txt', output: 'b/{x}.txt', run: 'cp {input} {output}' },
        },
      };`,
    });
    const result = await rig.run(['build']);
    expect(result.code).toBe(2);
    // SPEC's example, from the first-declared task.
    expect(result.stderr).toContain('runcue.config.mjs: dependency cycle: extract -> summarize -> extract');
  });

  it('a config mistake names the file, the key and what was expected, and exits 2', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.mjs': `export default {
        services: { ocr: { concurrent: 2 } },
        tasks: { t: { uses: 'ocr2', input: 'a', output: 'b', run: 'true' } },
      };`,
    });
    const result = await rig.run(['build']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('runcue.config.mjs');
    expect(result.stderr).toContain('tasks.t.uses');
    expect(result.stderr).toContain('"ocr2"');
    expect(result.stderr).toContain('did you mean "ocr"');
  });

  it('a syntax error in the config prints the loader message and exits 2', async () => {
    rig = new Rig();
    rig.write({ 'runcue.config.mjs': 'export default { tasks: { ' });
    const result = await rig.run(['build']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('runcue.config.mjs');
    expect(result.stderr).toMatch(/SyntaxError|Unexpected/);
  });

  it('loads a TypeScript config that imports defineConfig from runcue', async () => {
    rig = new Rig();
    rig.write({
      'runcue.config.ts': `import { defineConfig } from 'runcue';
const suffix: string = '.out';
export default defineConfig({ tasks: { t: { input: 'in/{n}.txt', output: \`out/{n}\${suffix}\`, run: ['cp', '{input}', '{output}'] } } });
`,
      'in/a b.txt': 'spaces',
    });
    const result = await rig.run(['build']);
    expect(result.stderr).toContain('1 built');
    expect(result.code).toBe(0);
    expect(rig.read('out/a b.out')).toBe('spaces');
  });
});

describe('working directory', () => {
  it('function tasks and commands work from the config directory, also with --cwd', async () => {
    rig = new Rig();
    rig.write({
      'project/runcue.config.mjs': `import { readFileSync, writeFileSync } from 'node:fs';
      export default { tasks: {
        fn: { input: 'in.txt', output: 'out/fn.txt', run: ({ input, output }) => writeFileSync(output, readFileSync(input, 'utf8') + '!') },
        sh: { input: 'in.txt', output: 'out/sh.txt', run: 'cp {input} {output}' },
      } };`,
      'project/in.txt': 'hi',
    });
    const result = await rig.run(['build', '--cwd', 'project']);
    expect(result.stderr).toContain('2 built');
    expect(rig.read('project/out/fn.txt')).toBe('hi!');
    expect(rig.read('project/out/sh.txt')).toBe('hi');
    const sub = await rig.run(['build'], { cwd: 'project/out' });
    expect(sub.code).toBe(0);
    expect(sub.stderr).toContain('0 built, 2 fresh');
  });
});
