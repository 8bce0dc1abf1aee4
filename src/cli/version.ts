/** runcue's version, for `--version` and the internal-error line; loads nothing but package.json. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package version, from the nearest package.json named runcue above this module: the module
 * is src/cli/version.ts when run from source and a chunk of dist/ when bundled.
 */
export const VERSION: string = readVersion(dirname(fileURLToPath(import.meta.url)));

function readVersion(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = readManifest(join(dir, 'package.json'));
    if (manifest?.name === 'runcue' && typeof manifest.version === 'string') return manifest.version;
    if (dirname(dir) === dir) return 'unknown';
  }
}

function readManifest(file: string): { name?: unknown; version?: unknown } | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
  } catch {
    return undefined;
  }
}
