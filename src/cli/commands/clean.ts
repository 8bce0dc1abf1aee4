/** `runcue clean` (not implemented yet). */
import type { CliContext, CommonOptions } from '../program.ts';

export function cleanCommand(_targets: readonly string[], _options: CommonOptions, context: CliContext): Promise<number> {
  context.stderr.write('runcue clean: not implemented yet\n');
  return Promise.resolve(2);
}
