/**
 * `runcue report [run]`: a kept run record as a summary (`--json`: the record itself), the list
 * of kept runs (`--list`), or a Chrome trace of the run (`--trace FILE`) for Perfetto. `run` is
 * 1 (the latest, the default), 2 (the one before), ... or a run id (or the start of one).
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { readRunRecords, selectRunRecord } from '../../runner/records/store.ts';
import type { RunRecord } from '../../runner/records/record.ts';
import { traceOf } from '../../runner/records/trace.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import type { CliContext, ReportCommandOptions } from '../options.ts';
import { formatOptionsFor } from '../report/format.ts';
import { renderRunList, renderRunReport } from '../report/run-summary.ts';
import { loadForCommand } from './load.ts';

/** Prints (or writes) the chosen run; resolves to 0, 1 when there is no such run, 2 on a usage error. */
export async function reportCommand(run: string | undefined, options: ReportCommandOptions, context: CliContext): Promise<number> {
  const loaded = await loadForCommand(options, context);
  if (!loaded.ok) return loaded.exitCode;
  const { records, warnings } = await readRunRecords(loaded.config.root);
  for (const warning of warnings) context.stderr.write(`runcue report: warning: ${warning}\n`);
  const style = formatOptionsFor(context.stdout, { env: context.env, cwd: loaded.cwd });
  if (options.list) {
    if (records.length === 0) context.stderr.write('runcue report: no runs recorded yet (runcue build and runcue watch record each run)\n');
    if (options.json) context.stdout.write(`${JSON.stringify({ version: 1, runs: records.map(listEntry) })}\n`);
    else
      for (const line of renderRunList(records, { palette: style.palette, color: style.color === true })) context.stdout.write(`${line}\n`);
    return EXIT_CODES.ok;
  }
  const chosen = selectRunRecord(records, run);
  if (!chosen.ok) {
    context.stderr.write(`runcue report: ${chosen.error}\n`);
    return EXIT_CODES.failed;
  }
  if (options.trace !== undefined) {
    const file = resolve(loaded.cwd, options.trace);
    const trace = `${JSON.stringify(traceOf(chosen.value))}\n`;
    try {
      await writeFile(file, trace);
    } catch (error) {
      context.stderr.write(
        `runcue report: --trace ${options.trace}: cannot write ${file}: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      return EXIT_CODES.usage;
    }
    context.stderr.write(
      `runcue report: wrote the trace of run ${chosen.value.id} to ${options.trace} (open it in https://ui.perfetto.dev)\n`,
    );
  }
  if (options.json) context.stdout.write(`${JSON.stringify(chosen.value, null, 2)}\n`);
  else if (options.trace === undefined) {
    for (const line of renderRunReport(chosen.value, { palette: style.palette, color: style.color === true }))
      context.stdout.write(`${line}\n`);
  }
  return EXIT_CODES.ok;
}

/** A kept run as `--list --json` lists it: the record without its units, services and tasks. */
function listEntry(r: RunRecord): Record<string, unknown> {
  return {
    id: r.id,
    command: r.command,
    targets: r.targets,
    ...(r.cycle !== undefined ? { cycle: r.cycle, trigger: r.trigger } : {}),
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    durationMs: r.durationMs,
    status: r.status,
    ...(r.interrupted !== undefined ? { interrupted: r.interrupted } : {}),
    exitCode: r.exitCode,
    counts: r.counts,
  };
}
