/** `runcue watch` (not implemented yet). */
import type { BuildCommandOptions, CliContext } from '../program.ts';

export function watchCommand(_targets: readonly string[], _options: BuildCommandOptions, context: CliContext): Promise<number> {
  context.stderr.write('runcue watch: not implemented yet\n');
  return Promise.resolve(2);
}
