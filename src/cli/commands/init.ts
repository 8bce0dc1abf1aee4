/** `runcue init` (not implemented yet). */
import type { CliContext } from '../program.ts';

export function initCommand(_options: { readonly cwd?: string }, context: CliContext): Promise<number> {
  context.stderr.write('runcue init: not implemented yet\n');
  return Promise.resolve(2);
}
