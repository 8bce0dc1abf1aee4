/** runcue's version, for `--version` and the internal-error line; loads nothing but package.json, and that only from source. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** package.json's version, written in by the build (rolldown.config.mjs); not defined in source. */
declare const __RUNCUE_VERSION__: string | undefined;

/**
 * The package version: the build's, or from source (src/cli/version.ts), the nearest package.json
 * named runcue above this module. Looking it up cost every start two failed reads (dist/chunks/,
 * dist/) and a parse of package.json, once in main.js and again in the engine script.
 */
export const VERSION: string =
  typeof __RUNCUE_VERSION__ === 'string' ? __RUNCUE_VERSION__ : readVersion(dirname(fileURLToPath(import.meta.url)));

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
