/**
 * Locates a syntax error the importer was not told the place of. V8 reports an ES module's
 * syntax error to `import()` without a position; `node --check` parses the file with the same
 * parser and prints `path:line`, the source line and a caret. Only run on the error path.
 */
import { spawnSync } from 'node:child_process';

/** `node --check file`'s report (its stderr) when the file does not parse, else undefined. */
export function checkSyntax(file: string): string | undefined {
  const result = spawnSync(process.execPath, ['--no-warnings', '--check', file], { encoding: 'utf8', timeout: 10_000 });
  if (result.status === 0 || typeof result.stderr !== 'string') return undefined;
  return result.stderr;
}
