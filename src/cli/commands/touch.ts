/**
 * `runcue touch [targets...]`: marks the selected units fresh without running them (Make's
 * `-t`). What may be touched and how is the runner's (src/runner/touch.ts); this command only
 * reports it.
 */
import { touchUnits } from '../../runner/touch.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import type { CliContext, CommonOptions } from '../options.ts';
import { loadPlan } from './load.ts';
import { escapeName } from '../report/escape-names.ts';

/** Touches the outputs of the selected units; exit 1 when some unit could not be marked fresh. */
export async function touchCommand(targets: readonly string[], options: CommonOptions, context: CliContext): Promise<number> {
  const loaded = await loadPlan(targets, options, context, true);
  if (!loaded.ok) return loaded.exitCode;
  const { time, touched, files, skipped } = touchUnits(loaded.config, loaded.plan);
  if (options.json) {
    context.stdout.write(`${JSON.stringify({ version: 1, time, touched, files, skipped }, null, 2)}\n`);
  } else {
    for (const s of skipped) context.stderr.write(`runcue: skipped ${escapeName(s.unit)}: ${escapeName(s.reason)}\n`);
    const tail = skipped.length > 0 ? `, ${skipped.length} skipped` : '';
    context.stdout.write(`runcue: touched ${touched} unit${touched === 1 ? '' : 's'} (${files} file${files === 1 ? '' : 's'})${tail}\n`);
  }
  return skipped.length > 0 ? EXIT_CODES.failed : EXIT_CODES.ok;
}
