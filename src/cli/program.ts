/**
 * The commander program: every command's flags and help text. Each command's implementation is
 * imported when it runs (`lazy`), so `runcue --version` and `--help` load neither the config
 * loader, the engine nor listr2.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type {
  BuildCommandOptions,
  CleanCommandOptions,
  CliContext,
  CommonOptions,
  GraphCommandOptions,
  InitCommandOptions,
  ReportCommandOptions,
  SimCommandOptions,
  WorkerCommandOptions,
} from './options.ts';
import { VERSION } from './version.ts';

/** A command's entry point: its parsed arguments and options, then the context; resolves to the exit code. */
type CommandRun<A extends unknown[]> = (...args: [...A, CliContext]) => Promise<number>;

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
}

function collect(value: string, previous: readonly string[]): string[] {
  return [...previous, value];
}

function simFlags(cmd: Command): Command {
  return cmd
    .option('--config <path>', 'config file (default: runcue.config.* found from the working directory upward)')
    .option('--cwd <dir>', 'run as if started in this directory')
    .option('--json', 'print the summary as one JSON document')
    .option('-v, --verbose', 'print the event log (TIME EVENT TASK UNIT DETAILS, simulated time)')
    .option('--scenario <name>', 'a built-in scenario instead of the config: single_queue, pipeline, fanout, dynamic')
    .option('--list-scenarios', 'list the built-in scenarios')
    .option('--count <n>', '(scenario) how many units (default: 100)', positiveInt)
    .option('--rate <rate>', "(scenario) the service's rate, such as 60/min")
    .option('--concurrent <n>', "(scenario) the service's cap on units at once (default: 5)", positiveInt)
    .option('--latency <spec>', 'time per attempt: 200ms, or per task/service: extract=2s,summarize=100ms (default 200ms)')
    .option('--jitter <spec>', 'each attempt takes latency x [1-j, 1+j]: 0.2, or per task/service (default 0)')
    .option('--error-rate <spec>', 'chance an attempt fails: 0.1, or per task/service: ocr=0.05 (default 0)')
    .option('--fanout <spec>', 'files per producer of a dynamic (glob) output: 30, or split=30 (default 3)')
    .option('--files <glob=count>', "synthetic input files, such as 'docs/*.pdf=20' (repeatable)", collect, [])
    .option('--retries <n>', "override every task's retries", nonNegativeInt)
    .option('--seed <seed>', 'seed of latency jitter, failures and retry jitter', '1')
    .option('--trace <file>', 'write a Chrome trace-event file (Perfetto, chrome://tracing)')
    .option('--force', 'treat the selected units as stale')
    .option('-k, --keep-going', 'run everything not downstream of a failure')
    .option('-j, --jobs <n>', 'cap on units running at once', positiveInt);
}

const LIVE_REPORTERS = ['auto', 'tty', 'ci', 'json', 'silent'];

function common(cmd: Command, reporters: readonly string[] = LIVE_REPORTERS): Command {
  return cmd
    .option('--config <path>', 'config file (default: runcue.config.* found from the working directory upward)')
    .option('--cwd <dir>', 'run as if started in this directory')
    .addOption(new Option('--reporter <kind>', 'progress output (json: the same as --json)').choices(reporters).default('auto'))
    .option(
      '--json',
      'JSON on stdout: events, one per line, for build and watch; one document for list, graph, plan, why, clean, touch and queue status (= --reporter json)',
    )
    .option('--verbose', 'show every unit and its live output');
}

function buildFlags(cmd: Command, reporters?: readonly string[]): Command {
  return common(cmd, reporters)
    .option('--force', 'treat the selected units as stale')
    .option('-k, --keep-going', 'run everything not downstream of a failure')
    .option('-j, --jobs <n>', 'cap on units running at once', positiveInt)
    .option('--no-deps', 'do not build the upstream units the targets need');
}

/** `runcue report`'s arguments and flags (it reads records, not the config's tasks: no --reporter). */
function reportFlags(cmd: Command): Command {
  return cmd
    .argument('[run]', '1 = the latest run (default), 2 = the one before, ...; or a run id from --list')
    .description('what a past build or watch cycle did: slowest units, failures, services against their limits')
    .option('--config <path>', 'config file (default: runcue.config.* found from the working directory upward)')
    .option('--cwd <dir>', 'run as if started in this directory')
    .option('--json', 'print the run record as JSON')
    .option('--trace <file>', 'write the run as Chrome trace-event JSON (open in Perfetto)')
    .option('--list', 'list the kept runs, newest first');
}

/** `runcue build`'s arguments, description and flags. */
function buildCommandFlags(cmd: Command): Command {
  return buildFlags(cmd.argument('[targets...]', 'task names, output paths or globs, task[key=glob] filters'), [...LIVE_REPORTERS, 'junit'])
    .description('run the stale units of the targets and everything they need')
    .option('-n, --dry-run', 'show what would run (same as `runcue plan`)')
    .option('--report-file <file>', 'also write the run as JUnit XML to this file (--reporter junit: the same)')
    .option('--queue <url>', 'run the units on `runcue worker` processes through BullMQ on this Redis (or RUNCUE_QUEUE)');
}

/** `runcue queue status`'s description and flags. */
function queueFlags(cmd: Command): Command {
  return common(cmd)
    .description('waiting, running and failed jobs of each queue of the config, and its workers')
    .option('--queue <url>', 'the Redis of the queue, redis://host:port[/db] (or RUNCUE_QUEUE)');
}

/** `runcue worker`'s description and flags. */
function workerFlags(cmd: Command): Command {
  return common(cmd)
    .description('run the units that `runcue build --queue` adds, until Ctrl-C')
    .option('--queue <url>', 'the Redis of the queue, redis://host:port[/db] (or RUNCUE_QUEUE)')
    .option(
      '--concurrency <n>',
      "jobs run at once by this worker, per queue (default: the cpu service's concurrent, the core count)",
      positiveInt,
    );
}

/**
 * Whether the command prints JSON on stdout. `--reporter json` is `--json` for every command
 * that has both (SPEC), so commands test one flag: this sets `json` on commander's parsed options.
 */
function printsJson(options: unknown): boolean {
  if (typeof options !== 'object' || options === null) return false;
  const flags = options as { json?: boolean; reporter?: string; format?: string };
  if (flags.reporter === 'json') flags.json = true;
  return flags.json === true || flags.format === 'json';
}

/** An action that imports its command's module only when the command runs. */
type Lazy = <A extends unknown[]>(load: () => Promise<CommandRun<A>>) => (...args: [...A, Command]) => Promise<void>;

/** Adds one command (or, for `queue`, a group) to the program. */
type AddCommand = (program: Command, lazy: Lazy) => void;

/**
 * Every command, by the name it is invoked by. Defining one costs a few options' parsing each,
 * about 10 ms for all of them: a run of one command defines only that one (see createProgram).
 */
const COMMANDS: Readonly<Record<string, AddCommand>> = {
  build: (program, lazy) =>
    buildCommandFlags(program.command('build')).action(
      lazy<[string[], BuildCommandOptions]>(async () => (await import('./commands/build.ts')).buildCommand),
    ),
  /** `worker` and `queue status`: the scale-out commands (their modules load bullmq, so lazily). */
  worker: (program, lazy) =>
    workerFlags(program.command('worker')).action(
      lazy<[WorkerCommandOptions]>(async () => (await import('./commands/worker.ts')).workerCommand),
    ),
  queue: (program, lazy) =>
    queueFlags(program.command('queue').description('the BullMQ queues of `runcue build --queue`').command('status')).action(
      lazy<[WorkerCommandOptions]>(async () => (await import('./commands/queue-status.ts')).queueStatusCommand),
    ),
  watch: (program, lazy) =>
    buildFlags(program.command('watch').argument('[targets...]', 'as for build'))
      .description('build, then rebuild what file changes touch, until Ctrl-C')
      .action(lazy<[string[], BuildCommandOptions]>(async () => (await import('./commands/watch.ts')).watchCommand)),
  plan: (program, lazy) =>
    buildFlags(program.command('plan').argument('[targets...]', 'as for build'))
      .description('what build would do and why, without running anything')
      .action(lazy<[string[], BuildCommandOptions]>(async () => (await import('./commands/plan.ts')).planCommand)),
  why: (program, lazy) =>
    common(program.command('why').argument('<target>', 'a file or a unit id such as extract[doc=a,page=3]'))
      .description('why a unit is stale, or why it is blocked')
      .action(lazy<[string, CommonOptions]>(async () => (await import('./commands/why.ts')).whyCommand)),
  list: (program, lazy) =>
    common(program.command('list'))
      .description('tasks, services, unit counts and states')
      .action(lazy<[CommonOptions]>(async () => (await import('./commands/list.ts')).listCommand)),
  graph: (program, lazy) =>
    common(program.command('graph').argument('[targets...]', 'as for build'))
      .description('the task graph, or the unit graph with --units')
      .addOption(new Option('--format <format>', 'output format').choices(['dot', 'mermaid', 'json']).default('dot'))
      .option('--units', 'one node per unit instead of per task')
      .action(lazy<[string[], GraphCommandOptions]>(async () => (await import('./commands/graph.ts')).graphCommand)),
  clean: (program, lazy) =>
    common(program.command('clean').argument('[targets...]', 'as for build (no target: every task)'))
      .description('delete the outputs of the selected units (never inputs)')
      .option('-n, --dry-run', 'only print what would be deleted')
      .option('--orphans', 'delete outputs recorded by units that no longer exist (with --dry-run: list them)')
      .action(lazy<[string[], CleanCommandOptions]>(async () => (await import('./commands/clean.ts')).cleanCommand)),
  touch: (program, lazy) =>
    common(program.command('touch').argument('[targets...]', 'as for build (no target: every task)'))
      .description('mark the selected units fresh without running them (like make -t)')
      .action(lazy<[string[], CommonOptions]>(async () => (await import('./commands/touch.ts')).touchCommand)),
  sim: (program, lazy) =>
    simFlags(program.command('sim').argument('[targets...]', 'as for build (with the config, not a scenario)'))
      .description('rehearse a build on a virtual clock: how long it takes, what blocks, nothing runs')
      .action(lazy<[string[], SimCommandOptions]>(async () => (await import('./commands/sim.ts')).simCommand)),
  report: (program, lazy) =>
    reportFlags(program.command('report')).action(
      lazy<[string | undefined, ReportCommandOptions]>(async () => (await import('./commands/report.ts')).reportCommand),
    ),
  init: (program, lazy) =>
    program
      .command('init')
      .description('write a commented starter runcue.config.ts')
      .option('--cwd <dir>', 'write it in this directory')
      .action(lazy<[InitCommandOptions]>(async () => (await import('./commands/init.ts')).initCommand)),
};

/**
 * The program, writing to `context`'s streams and reporting each command's exit code to it.
 * `command`: the first argument; when it names a command, only that one is defined (its help and
 * its errors are the same); otherwise (`--help`, `help`, a typo to suggest a name for) all are.
 */
export function createProgram(context: CliContext, command?: string): Command {
  /**
   * An action that imports its command's module only when the command runs. commander calls an
   * action with the parsed arguments, then the options, then the Command itself, which is dropped.
   */
  const lazy: Lazy =
    <A extends unknown[]>(load: () => Promise<CommandRun<A>>) =>
    async (...args: [...A, Command]): Promise<void> => {
      const run = await load();
      const parsed = args.slice(0, -1) as unknown[] as A;
      if (printsJson(parsed.at(-1))) context.consoleToStderr();
      context.setExitCode(await run(...parsed, context));
    };

  const program = new Command('runcue')
    .description('Make for work that is slow, rate-limited and file-shaped')
    .version(VERSION, '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => context.stdout.write(s),
      writeErr: (s) => context.stderr.write(s),
    })
    .showSuggestionAfterError(true);

  const only = command !== undefined && Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (only) only(program, lazy);
  else for (const add of Object.values(COMMANDS)) add(program, lazy);
  return program;
}
