/** `runcue graph` (not implemented yet). */
import type { CliContext, GraphCommandOptions } from '../program.ts';

export function graphCommand(_targets: readonly string[], _options: GraphCommandOptions, context: CliContext): Promise<number> {
  context.stderr.write('runcue graph: not implemented yet\n');
  return Promise.resolve(2);
}
