/**
 * CI-native output of `runcue build`: a JUnit XML file (`--report-file`, `--reporter junit`)
 * that GitLab and Jenkins read, and a markdown summary appended to `GITHUB_STEP_SUMMARY` next to
 * the `::error` annotations.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Rig } from '../rig/index.ts';
import { junitProblems, parseXml } from '../rig/xml.ts';

let rig: Rig;
afterEach(() => rig.cleanup());

const CONFIG = `export default {
  tasks: {
    check: { input: 'in/{n}.txt', output: 'out/{n}.txt', run: 'if grep -q bad {input}; then echo "broken: <{n}> & more" >&2; exit 4; fi; cp {input} {output}' },
    total: { input: 'out/*.txt', output: 'total.txt', run: 'cat {inputs} > {output}' },
  },
};`;

function project(): void {
  rig = new Rig();
  // a unit id with quotes, <, & and a newline in it, from the file name
  rig.write({ 'runcue.config.mjs': CONFIG, 'in/ok.txt': 'good', 'in/b"<&\nx.txt': 'bad', 'out/fresh.txt': 'x', 'in/fresh.txt': 'good' });
  rig.touch('in/fresh.txt', -60_000);
}

describe('--report-file (JUnit XML)', () => {
  it('writes one testcase per unit, failures with their output, fresh and blocked units skipped', async () => {
    project();
    const build = await rig.run(['build', '--keep-going', '--report-file', 'junit.xml']);
    expect(build.code).toBe(1);
    const root = parseXml(rig.read('junit.xml'));
    expect(junitProblems(root)).toEqual([]);
    expect(root.attrs).toMatchObject({ tests: '4', failures: '1', skipped: '2', errors: '0' });
    const cases = Object.fromEntries(root.children.flatMap((s) => s.children).map((c) => [c.attrs['name'], c]));
    expect(Object.keys(cases).sort()).toEqual(['check[n=b"<&\nx]', 'check[n=fresh]', 'check[n=ok]', 'total']);
    expect(cases['check[n=ok]']?.attrs['classname']).toBe('check');
    expect(cases['check[n=b"<&\nx]']?.children[0]).toMatchObject({ name: 'failure', attrs: { message: 'exit 4' } });
    expect(cases['check[n=b"<&\nx]']?.children[0]?.text).toContain('broken: <b"<&\nx> & more');
    expect(cases['check[n=fresh]']?.children[0]).toMatchObject({ name: 'skipped', attrs: { message: 'fresh: not run' } });
    expect(cases['total']?.children[0]?.name).toBe('skipped');
  });

  it('--reporter junit is the same file next to the usual display, and needs --report-file', async () => {
    project();
    const without = await rig.run(['build', '--reporter', 'junit']);
    expect(without.code).toBe(2);
    expect(without.stderr).toContain('--reporter junit writes a JUnit XML file: name it with --report-file FILE');
    const build = await rig.run(['build', '--reporter', 'junit', '--report-file', 'j.xml']);
    expect(build.code).toBe(1);
    expect(build.stderr).toMatch(/^✗ check\[n=b/m);
    expect(junitProblems(parseXml(rig.read('j.xml')))).toEqual([]);
  });

  it('an unwritable report file is a warning; the exit code is the run’s', async () => {
    project();
    rig.write({ 'in/b"<&\nx.txt': 'good' });
    const build = await rig.run(['build', '--report-file', 'no/such/dir/j.xml']);
    expect(build.code).toBe(0);
    expect(build.stderr).toMatch(/runcue: --report-file .*j\.xml: could not write the JUnit report: /);
  });
});

describe('GITHUB_STEP_SUMMARY', () => {
  it('gets a markdown summary appended; the ::error annotations stay', async () => {
    project();
    rig.write({ 'summary.md': '# earlier step\n' });
    const build = await rig.run(['build', '--keep-going'], {
      env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: rig.path('summary.md') },
    });
    expect(build.code).toBe(1);
    expect(build.stderr).toMatch(/^::error title=runcue%3A check\[n=b/m);
    const md = rig.read('summary.md');
    expect(md.startsWith('# earlier step\n### runcue build: ❌ failed\n')).toBe(true);
    expect(md).toContain('| 1 | 1 | 1 | 1 | 0 | 0 |');
    expect(md).toContain('| check\\[n=b"&lt;&amp; x\\] | exit 4: x&gt; &amp; more |');
    expect(md).toMatch(/\*\*Slowest units\*\*/);
  });

  it('is left alone when the variable is not set', async () => {
    project();
    const build = await rig.run(['build', '--keep-going'], { env: { GITHUB_ACTIONS: 'true' } });
    expect(build.code).toBe(1);
    expect(rig.exists('summary.md')).toBe(false);
  });
});
