/** `runcue build [targets...]`. */
import { build } from '../../runner/build.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import type { BuildCommandOptions, CliContext } from '../options.ts';
import { resolve } from 'node:path';
import type { AfterRun } from '../report/run-records.ts';
import { loadForCommand } from './load.ts';
import { queueUrlOf } from './queue-mode.ts';
import { runFlags, runReported } from './run.ts';
import { interruptedExitCode } from './signals.ts';

/** Builds the targets with the chosen reporter, stopping cleanly on a signal; resolves to the exit code. */
export async function buildCommand(targets: readonly string[], options: BuildCommandOptions, context: CliContext): Promise<number> {
  if (options.reporter === 'junit' && options.reportFile === undefined) {
    context.stderr.write(
      'runcue build: --reporter junit writes a JUnit XML file: name it with --report-file FILE (e.g. --report-file junit.xml)\n',
    );
    return EXIT_CODES.usage;
  }
  if (options.dryRun) {
    const { planCommand } = await import('./plan.ts');
    return planCommand(targets, options, context);
  }
  const loaded = await loadForCommand(options, context);
  if (!loaded.ok) return loaded.exitCode;
  const queueUrl = queueUrlOf(options.queue, context, loaded);
  const queue = queueUrl === undefined ? undefined : await (await import('./queue-build.ts')).queueRun(queueUrl, loaded, context);
  if (queue && !queue.ok) return queue.exitCode;
  const run = queue ? { ...loaded, config: queue.config } : loaded;
  try {
    const ran = await runReported(
      options,
      context,
      run,
      (hooks) =>
        build({
          ...runFlags(targets, options, run, context),
          keepGoing: Boolean(options.keepGoing),
          workingDirectory: () => process.cwd(),
          ...queue?.buildOptions,
          ...hooks,
        }),
      { command: 'build', targets, afterRun: await fileReports(options, context, loaded.cwd) },
    );
    if (!ran.ok) return ran.exitCode;
    return interruptedExitCode(ran.value.interrupted) ?? (ran.value.ok ? EXIT_CODES.ok : EXIT_CODES.failed);
  } finally {
    await queue?.close();
  }
}

/** The reports written once the run ended: the JUnit file (`--report-file`) and the GitHub step summary. */
async function fileReports(options: BuildCommandOptions, context: CliContext, cwd: string): Promise<AfterRun[]> {
  const reports: AfterRun[] = [];
  const { reportFile } = options;
  if (reportFile !== undefined) {
    const { writeJunitFile } = await import('../report/junit.ts');
    reports.push((record, fresh) => writeJunitFile(resolve(cwd, reportFile), record, fresh));
  }
  const summary = context.env['GITHUB_STEP_SUMMARY'];
  if (summary !== undefined && summary !== '') {
    const { appendStepSummary } = await import('../report/step-summary.ts');
    reports.push((record) => appendStepSummary(resolve(cwd, summary), record));
  }
  return reports;
}
