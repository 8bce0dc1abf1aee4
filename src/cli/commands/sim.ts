/**
 * `runcue sim [targets]`: rehearses a build on a virtual clock (src/runner/sim/): a built-in
 * scenario (`--scenario`) or the user's config over an in-memory file system seeded from the
 * project's files (nothing on disk changes). Prints the summary (text or `--json`), the event
 * log with `-v`, and a Chrome trace with `--trace` (the one file it writes, when asked).
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseRate } from '../../config/duration.ts';
import { err, ok, type Result } from '../../result.ts';
import { parseFilesFlag } from '../../runner/sim/model.ts';
import { rehearse, type RehearsalSource } from '../../runner/sim/rehearse.ts';
import { SCENARIO_DESCRIPTIONS, SCENARIOS, type ScenarioName } from '../../runner/sim/scenarios.ts';
import { unreadSynthetic, type SyntheticFiles } from '../../runner/sim/seed.ts';
import type { SimEvent } from '../../runner/sim/simulate.ts';
import { traceOf } from '../../runner/records/trace.ts';
import type { RunRecord } from '../../runner/records/record.ts';
import { didYouMean } from '../../suggest.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import type { CliContext, SimCommandOptions } from '../options.ts';
import { escapedEvent, escapeName } from '../report/escape-names.ts';
import { logHeader, logLine, renderSummary } from '../report/sim-text.ts';
import { badPlace, describeBuildFailure, loadForCommand, resolveTargets } from './load.ts';
import { interruptedExitCode, withSignals } from './signals.ts';

interface Source {
  readonly source: RehearsalSource;
  readonly title: string;
  readonly targets: readonly string[];
  /** For a build that cannot start: the config's file and the shell's directory. */
  readonly describe: (error: { readonly reason: string; readonly message: string }) => string;
}

function scenarioSource(name: string, targets: readonly string[], options: SimCommandOptions, context: CliContext): Result<Source, string> {
  // A scenario reads no config, but --cwd still places a relative --trace: both are checked as for any command.
  if (options.config !== undefined) return err(`--config ${options.config}: a --scenario runs without your config; leave one of them out`);
  const place = badPlace(options, resolve(context.cwd, options.cwd ?? '.'));
  if (place !== undefined) return err(place);
  if (!(SCENARIOS as readonly string[]).includes(name)) {
    const near = didYouMean(name, SCENARIOS);
    return err(`--scenario ${name}: no such scenario${near ? ` (did you mean ${near}?)` : ''}; scenarios: ${SCENARIOS.join(', ')}`);
  }
  if (options.rate !== undefined) {
    const rate = parseRate(options.rate);
    if (!rate.ok) return err(`--rate ${options.rate}: ${rate.error}`);
  }
  if (options.files.length > 0) return err('--files adds inputs to your config: it does not apply to a --scenario');
  const limits = { count: options.count ?? 100, rate: options.rate, concurrent: options.concurrent ?? 5 };
  const rate = options.rate === undefined ? 'no rate' : options.rate;
  const title = `runcue sim: scenario ${name}, ${limits.count} units, api ${rate}, ${limits.concurrent} at once, seed ${options.seed} (virtual time: nothing ran)`;
  return ok({ source: { kind: 'scenario', name: name as ScenarioName, limits }, title, targets, describe: (e) => `runcue: ${e.message}` });
}

async function configSource(targets: readonly string[], options: SimCommandOptions, context: CliContext): Promise<Result<Source, number>> {
  if (options.rate !== undefined) {
    context.stderr.write('runcue sim: --rate applies to a --scenario; set rates in your config (or use --latency per task)\n');
    return err(EXIT_CODES.usage);
  }
  const scenarioOnly = options.count !== undefined ? '--count' : options.concurrent !== undefined ? '--concurrent' : undefined;
  if (scenarioOnly !== undefined) {
    context.stderr.write(
      `runcue sim: ${scenarioOnly} applies to a --scenario; your config sets its services' limits and its files make the units\n`,
    );
    return err(EXIT_CODES.usage);
  }
  const files: SyntheticFiles[] = [];
  for (const text of options.files) {
    const parsed = parseFilesFlag(text);
    if (!parsed.ok) {
      context.stderr.write(`runcue sim: ${parsed.error}\n`);
      return err(EXIT_CODES.usage);
    }
    files.push(parsed.value);
  }
  const loaded = await loadForCommand(options, context);
  if (!loaded.ok) return err(loaded.exitCode);
  const { config, cwd } = loaded;
  for (const spec of unreadSynthetic(config, files))
    context.stderr.write(`runcue sim: note: --files ${spec.glob}=${spec.count}: no pattern of any task matches these files\n`);
  const title = `runcue sim: ${resolve(cwd) === config.root ? config.file.slice(config.root.length + 1) : config.file}, seed ${options.seed} (virtual time: nothing ran, nothing written)`;
  return ok({
    source: { kind: 'config', config, files },
    title,
    targets: resolveTargets(targets, config, cwd),
    describe: (e) => describeBuildFailure(e, config, cwd),
  });
}

function listScenarios(context: CliContext): number {
  const width = Math.max(...SCENARIOS.map((s) => s.length));
  for (const name of SCENARIOS) context.stdout.write(`${name.padEnd(width)}  ${SCENARIO_DESCRIPTIONS[name]}\n`);
  return EXIT_CODES.ok;
}

/** Rehearses the targets or a scenario; exit 0 when the simulated build succeeds, 1 when not, 2 on usage. */
export async function simCommand(targets: string[], options: SimCommandOptions, context: CliContext): Promise<number> {
  if (options.listScenarios) return listScenarios(context);
  let source: Source;
  if (options.scenario !== undefined) {
    const chosen = scenarioSource(options.scenario, targets, options, context);
    if (!chosen.ok) {
      context.stderr.write(`runcue sim: ${chosen.error}\n`);
      return EXIT_CODES.usage;
    }
    source = chosen.value;
  } else {
    const chosen = await configSource(targets, options, context);
    if (!chosen.ok) return chosen.error;
    source = chosen.value;
  }
  const start = Math.ceil(Date.now() / 1000) * 1000;
  const verbose = options.verbose === true && options.json !== true;
  if (verbose) context.stdout.write(`${logHeader()}\n`);
  const onEvent = verbose
    ? (event: SimEvent): void => {
        const line = logLine(escapedEvent(event), start);
        if (line !== undefined) context.stdout.write(`${line}\n`);
      }
    : undefined;
  const outcome = await withSignals(
    (signal) =>
      rehearse({
        signal,
        source: source.source,
        targets: source.targets,
        flags: {
          ...(options.latency !== undefined ? { latency: options.latency } : {}),
          ...(options.jitter !== undefined ? { jitter: options.jitter } : {}),
          ...(options.errorRate !== undefined ? { errorRate: options.errorRate } : {}),
          ...(options.fanout !== undefined ? { fanout: options.fanout } : {}),
        },
        seed: options.seed,
        start,
        ...(options.retries !== undefined ? { retries: options.retries } : {}),
        ...(options.keepGoing ? { keepGoing: true } : {}),
        ...(options.force ? { force: true } : {}),
        ...(options.jobs ? { jobs: options.jobs } : {}),
        ...(onEvent ? { onEvent } : {}),
        ...(options.trace !== undefined ? { keepRecord: true } : {}),
      }),
    context,
  );
  if (!outcome.ok) {
    const error = outcome.error;
    context.stderr.write(error.reason === 'sim-usage' ? `runcue sim: ${error.message}\n` : `${source.describe(error)}\n`);
    return EXIT_CODES.usage;
  }
  const { summary, record, interrupted } = outcome.value;
  const stopped = interruptedExitCode(interrupted);
  if (stopped !== undefined) return stopped;
  const traceProblem = options.trace !== undefined && record ? writeTrace(options.trace, record, options, context) : undefined;
  if (options.json === true) {
    context.stdout.write(`${JSON.stringify({ version: 1, seed: options.seed, summary })}\n`);
  } else {
    if (verbose) context.stdout.write('\n');
    context.stdout.write(renderSummary(escapedEvent(summary), escapeName(source.title)));
  }
  // After the summary: the rehearsal itself is worth seeing. As `runcue report --trace`: exit 2.
  if (traceProblem !== undefined) {
    context.stderr.write(`runcue sim: ${traceProblem}\n`);
    return EXIT_CODES.usage;
  }
  return summary.ok ? EXIT_CODES.ok : EXIT_CODES.failed;
}

/** Writes the Chrome trace to `name` (relative to `--cwd`, as other files named by a flag); says why it could not. */
function writeTrace(name: string, record: RunRecord, options: SimCommandOptions, context: CliContext): string | undefined {
  const file = resolve(context.cwd, options.cwd ?? '.', name);
  try {
    writeFileSync(file, `${JSON.stringify(traceOf(record))}\n`);
    return undefined;
  } catch (error) {
    return `--trace ${name}: cannot write ${file}: ${error instanceof Error ? error.message : String(error)}`;
  }
}
