/** runcue's version, for `--version` and the internal-error line; loads nothing but package.json. */
import { readFileSync } from 'node:fs';

/** The package version, read once from package.json (two levels up from dist/cli or src/cli). */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;
