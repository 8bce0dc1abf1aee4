/** `runcue plan [targets]` (= `build --dry-run`): what build would do and why; runs nothing. */
import { build } from '../../runner/build.ts';
import type { PlanEntry } from '../../runner/events.ts';
import type { BuildCommandOptions, CliContext } from '../options.ts';
import { describeBlocked, describeStale } from '../report/format.ts';
import { createReporter, withDebugLogFromEnv } from '../report/index.ts';
import { installLastResort } from './last-resort.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { describeBuildFailure, loadForCommand, resolveTargets } from './load.ts';
import { escapedEvent } from '../report/escape-names.ts';

/** Prints what build would do with the targets (text, or one JSON document); exit 0, or 2 on a bad config or target. */
export async function planCommand(targets: readonly string[], options: BuildCommandOptions, context: CliContext): Promise<number> {
  const loaded = await loadForCommand(options, context);
  if (!loaded.ok) return loaded.exitCode;
  const silent = await createReporter('silent', {
    stdout: context.stdout,
    stderr: context.stderr,
    env: context.env,
    verbose: false,
    cwd: loaded.cwd,
  });
  const log = withDebugLogFromEnv(silent, { env: context.env, cwd: context.cwd, stderr: context.stderr });
  // Custom checks run here too: an error escaping from one fails its unit, not the process.
  const lastResort = installLastResort(() => context.stderr);
  const outcome = await build({
    signal: lastResort.bind(),
    config: loaded.config,
    targets: resolveTargets(targets, loaded.config, loaded.cwd),
    force: Boolean(options.force),
    noDeps: !options.deps,
    dryRun: true,
    env: context.env,
    onEvent: (event) => log.onEvent(event),
  });
  await log.close();
  lastResort.dispose();
  const fatal = lastResort.fatalMessage(Boolean(options.verbose));
  if (fatal !== undefined) {
    context.stderr.write(`${fatal}\n`);
    return EXIT_CODES.failed;
  }
  if (!outcome.ok) {
    context.stderr.write(`${describeBuildFailure(outcome.error, loaded.config, loaded.cwd)}\n`);
    return EXIT_CODES.usage;
  }
  const plan = outcome.value.plan;
  if (options.json) {
    context.stdout.write(`${JSON.stringify({ version: 1, counts: countPlan(plan), units: plan })}\n`);
  } else {
    context.stdout.write(renderPlan(plan.map(escapedEvent), Boolean(options.verbose)));
  }
  return EXIT_CODES.ok;
}

function countPlan(plan: readonly PlanEntry[]): Record<PlanEntry['verdict'], number> {
  const counts = { run: 0, fresh: 0, blocked: 0, waiting: 0, fails: 0 };
  for (const e of plan) counts[e.verdict]++;
  return counts;
}

/** Human text: what would run in order with the reason, then blocked and waiting units. */
export function renderPlan(plan: readonly PlanEntry[], verbose: boolean): string {
  const counts = countPlan(plan);
  const width = Math.min(48, Math.max(0, ...plan.map((e) => e.unit.length)));
  const lines: string[] = [];
  const section = (title: string, entries: readonly PlanEntry[], why: (e: PlanEntry) => string): void => {
    if (entries.length === 0) return;
    lines.push(`${title} (${entries.length}):`);
    for (const e of entries) lines.push(`  ${e.unit.padEnd(width)}  ${why(e)}`.trimEnd());
  };
  section(
    'would run, in this order',
    plan.filter((e) => e.verdict === 'run'),
    (e) => (e.verdict === 'run' ? describeStale(e.reason) : ''),
  );
  section(
    'would fail (a custom check throws)',
    plan.filter((e) => e.verdict === 'fails'),
    (e) => (e.verdict === 'fails' ? e.error.message : ''),
  );
  section(
    'blocked',
    plan.filter((e) => e.verdict === 'blocked'),
    (e) => ('reason' in e && e.verdict !== 'run' ? describeBlocked(e.reason) : ''),
  );
  section(
    'waiting on work that would run first',
    plan.filter((e) => e.verdict === 'waiting'),
    (e) => ('reason' in e && e.verdict !== 'run' ? describeBlocked(e.reason) : ''),
  );
  if (verbose)
    section(
      'fresh',
      plan.filter((e) => e.verdict === 'fresh'),
      () => '',
    );
  const fails = counts.fails > 0 ? `, ${counts.fails} would fail` : '';
  lines.push(`plan: ${counts.run} to run, ${counts.fresh} fresh, ${counts.blocked} blocked, ${counts.waiting} waiting${fails}`);
  return `${lines.join('\n')}\n`;
}
