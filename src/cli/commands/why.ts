/** `runcue why` (not implemented yet). */
import type { CliContext, CommonOptions } from '../program.ts';

export function whyCommand(_target: string, _options: CommonOptions, context: CliContext): Promise<number> {
  context.stderr.write('runcue why: not implemented yet\n');
  return Promise.resolve(2);
}
