/**
 * Start-up cost is a feature: `runcue --version` loads no package, `--help` only commander and the
 * few CLI modules that declare the program, never the config loader (cosmiconfig), the engine or
 * listr2. A module hook in a child process lists every file it loads (src runs as is: Node strips
 * the types).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** Prints, at exit, every file: URL the process loaded, one per line, after a marker. */
const HOOK = `
import { registerHooks } from 'node:module';
const seen = new Set();
registerHooks({ load(url, context, next) { if (url.startsWith('file:')) seen.add(url); return next(url, context); } });
process.on('exit', () => process.stderr.write('\\n--loaded--\\n' + [...seen].join('\\n') + '\\n'));
`;

/** The files `runcue <args>` loads: repo files relative to the repo, packages by name. */
function loadedBy(args: readonly string[]): { stdout: string; files: string[]; packages: string[] } {
  const script = `const { main } = await import('./src/cli/main.ts'); await main(['node', 'runcue', ...${JSON.stringify(args)}]);`;
  const child = spawnSync(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(HOOK)}`, '--input-type=module', '-e', script],
    {
      cwd: REPO,
      encoding: 'utf8',
    },
  );
  const urls = (child.stderr.split('\n--loaded--\n')[1] ?? '').split('\n').filter((line) => line !== '');
  const paths = urls.map((url) => fileURLToPath(url));
  const packages = new Set(paths.flatMap((p) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(p)?.[1] ?? []));
  const files = paths.filter((p) => p.startsWith(REPO) && !p.includes('/node_modules/')).map((p) => p.slice(REPO.length));
  return { stdout: child.stdout, files: files.sort(), packages: [...packages].sort() };
}

describe('start-up', () => {
  it('--version is answered before commander is loaded', () => {
    for (const flag of ['--version', '-V']) {
      const loaded = loadedBy([flag]);
      expect(loaded.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
      expect(loaded.packages).toEqual([]);
      expect(loaded.files).toEqual([
        'src/cli/engine-script.ts',
        'src/cli/exit-codes.ts',
        'src/cli/main.ts',
        'src/cli/v8-flags.ts',
        'src/cli/version.ts',
      ]);
    }
  });

  it("--help and a command's --help load no more", () => {
    for (const args of [['--help'], ['build', '--help']]) {
      const loaded = loadedBy(args);
      expect(loaded.stdout).toContain('Usage: runcue');
      expect(loaded.packages).toEqual(['commander']);
      expect(loaded.files).toEqual([
        'src/cli/engine-entry.ts',
        'src/cli/engine-script.ts',
        'src/cli/exit-codes.ts',
        'src/cli/main.ts',
        'src/cli/program.ts',
        'src/cli/v8-flags.ts',
        'src/cli/version.ts',
      ]);
    }
  });

  it('a local build loads neither bullmq nor a Redis client: only --queue does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'runcue-startup-'));
    try {
      writeFileSync(join(dir, 'runcue.config.mjs'), `export default { tasks: { a: { output: 'a.txt', run: 'echo > a.txt' } } };`);
      writeFileSync(join(dir, 'a.txt'), '');
      const loaded = loadedBy(['build', '--cwd', dir, '--reporter', 'silent']);
      expect(loaded.files).toContain('src/runner/build.ts');
      expect(loaded.packages).not.toContain('bullmq');
      expect(loaded.packages).not.toContain('ioredis');
      expect(loaded.files.filter((f) => f.includes('/remote/'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('croner is loaded only for a config with a schedule', () => {
    const dir = mkdtempSync(join(tmpdir(), 'runcue-startup-'));
    try {
      const config = (schedule: string): string => `export default { tasks: { a: { output: 'out/a.txt', run: 'true'${schedule} } } };`;
      writeFileSync(join(dir, 'runcue.config.mjs'), config(''));
      expect(loadedBy(['plan', '--cwd', dir]).packages).not.toContain('croner');
      writeFileSync(join(dir, 'runcue.config.mjs'), config(", schedule: '0 6 * * *'"));
      expect(loadedBy(['plan', '--cwd', dir]).packages).toContain('croner');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
