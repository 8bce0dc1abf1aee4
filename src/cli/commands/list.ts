/** `runcue list` (not implemented yet). */
import type { CliContext, CommonOptions } from '../program.ts';

export function listCommand(_options: CommonOptions, context: CliContext): Promise<number> {
  context.stderr.write('runcue list: not implemented yet\n');
  return Promise.resolve(2);
}
