/** `runcue plan` (not implemented yet). */
import type { BuildCommandOptions, CliContext } from '../program.ts';

export function planCommand(_targets: readonly string[], _options: BuildCommandOptions, context: CliContext): Promise<number> {
  context.stderr.write('runcue plan: not implemented yet\n');
  return Promise.resolve(2);
}
