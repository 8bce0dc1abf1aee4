/**
 * `runcue clean [targets...] [--dry-run] [--orphans]`: deletes the existing output files of the
 * selected units, or with `--orphans` those of units that no longer exist. Which files may go is
 * the runner's decision (src/runner/clean.ts); this command only reports it.
 */
import { cleanFiles, planClean, planOrphans, type CleanResult } from '../../runner/clean.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import type { CleanCommandOptions, CliContext } from '../options.ts';
import { loadPlan } from './load.ts';
import { escapeName } from '../report/escape-names.ts';

/** Removes (or with --dry-run lists) the outputs of the selected units; exit 1 if a removal failed. */
export async function cleanCommand(targets: readonly string[], options: CleanCommandOptions, context: CliContext): Promise<number> {
  if (options.orphans && targets.length > 0) {
    context.stderr.write('runcue: clean --orphans takes no targets: orphans are outputs of units that no longer exist\n');
    return EXIT_CODES.usage;
  }
  const loaded = await loadPlan(targets, options, context, true);
  if (!loaded.ok) return loaded.exitCode;
  const { config, plan } = loaded;
  const cleanPlan = options.orphans ? planOrphans(config, plan.graph) : planClean(config, plan.graph, plan.selected);
  const result = cleanFiles(config, cleanPlan, Boolean(options.dryRun));
  if (options.json) {
    const { dryRun, removed, kept, failed } = result;
    context.stdout.write(`${JSON.stringify({ version: 1, dryRun, removed, kept, failed }, null, 2)}\n`);
  } else {
    renderClean(result, context);
  }
  return result.failed.length > 0 ? EXIT_CODES.failed : EXIT_CODES.ok;
}

/** The human report: each file on stdout, kept and failed files on stderr, then a count. */
function renderClean(result: CleanResult, context: CliContext): void {
  const verb = result.dryRun ? 'would remove' : 'removed';
  for (const path of result.removed) context.stdout.write(`${verb} ${escapeName(path)}\n`);
  for (const k of result.kept) context.stderr.write(`runcue: kept ${escapeName(k.path)}: ${escapeName(k.reason)}\n`);
  for (const f of result.failed) context.stderr.write(`runcue: could not remove ${escapeName(f.path)}: ${escapeName(f.reason)}\n`);
  context.stdout.write(`runcue: ${verb} ${plural(result.removed.length, 'file')} of ${plural(result.units, 'unit')}\n`);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
