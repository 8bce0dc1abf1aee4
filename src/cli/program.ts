/**
 * The commander program. Each command's implementation is imported when it runs, so
 * `runcue --version` loads neither the engine nor listr2.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { VERSION } from './version.ts';

export interface CliContext {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  readonly setExitCode: (code: number) => void;
}

export interface CommonOptions {
  readonly config?: string;
  readonly cwd?: string;
  readonly reporter: 'auto' | 'tty' | 'ci' | 'json' | 'silent';
  readonly json?: boolean;
  readonly verbose?: boolean;
}

export interface GraphCommandOptions extends CommonOptions {
  readonly format: 'dot' | 'mermaid' | 'json';
  readonly units?: boolean;
}

export interface BuildCommandOptions extends CommonOptions {
  readonly force?: boolean;
  readonly keepGoing?: boolean;
  readonly jobs?: number;
  readonly deps: boolean;
  readonly dryRun?: boolean;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function common(cmd: Command): Command {
  return cmd
    .option('--config <path>', 'config file (default: runcue.config.* found from the working directory upward)')
    .option('--cwd <dir>', 'run as if started in this directory')
    .addOption(new Option('--reporter <kind>', 'progress output').choices(['auto', 'tty', 'ci', 'json', 'silent']).default('auto'))
    .option('--json', 'newline-delimited JSON events on stdout (= --reporter json)')
    .option('--verbose', 'show every unit and its live output');
}

function buildFlags(cmd: Command): Command {
  return common(cmd)
    .option('--force', 'treat the selected units as stale')
    .option('-k, --keep-going', 'run everything not downstream of a failure')
    .option('-j, --jobs <n>', 'cap on units running at once', positiveInt)
    .option('--no-deps', 'do not build the upstream units the targets need');
}

export function createProgram(context: CliContext): Command {
  const program = new Command('runcue')
    .description('Make for work that is slow, rate-limited and file-shaped')
    .version(VERSION, '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => context.stdout.write(s),
      writeErr: (s) => context.stderr.write(s),
    })
    .showSuggestionAfterError(true);

  buildFlags(program.command('build').argument('[targets...]', 'task names, output paths or globs, task[key=glob] filters'))
    .description('run the stale units of the targets and everything they need')
    .option('-n, --dry-run', 'show what would run (same as `runcue plan`)')
    .action(async (targets: string[], options: BuildCommandOptions) => {
      const { buildCommand } = await import('./commands/build.ts');
      context.setExitCode(await buildCommand(targets, options, context));
    });

  buildFlags(program.command('watch').argument('[targets...]', 'as for build'))
    .description('build, then rebuild what file changes touch, until Ctrl-C')
    .action(async (targets: string[], options: BuildCommandOptions) => {
      const { watchCommand } = await import('./commands/watch.ts');
      context.setExitCode(await watchCommand(targets, options, context));
    });

  buildFlags(program.command('plan').argument('[targets...]', 'as for build'))
    .description('what build would do and why, without running anything')
    .action(async (targets: string[], options: BuildCommandOptions) => {
      const { planCommand } = await import('./commands/plan.ts');
      context.setExitCode(await planCommand(targets, options, context));
    });

  common(program.command('why').argument('<target>', 'a file or a unit id such as extract[doc=a,page=3]'))
    .description('why a unit is stale, or why it is blocked')
    .action(async (target: string, options: CommonOptions) => {
      const { whyCommand } = await import('./commands/why.ts');
      context.setExitCode(await whyCommand(target, options, context));
    });

  common(program.command('list'))
    .description('tasks, services, unit counts and states')
    .action(async (options: CommonOptions) => {
      const { listCommand } = await import('./commands/list.ts');
      context.setExitCode(await listCommand(options, context));
    });

  common(program.command('graph').argument('[targets...]', 'as for build'))
    .description('the task graph, or the unit graph with --units')
    .addOption(new Option('--format <format>', 'output format').choices(['dot', 'mermaid', 'json']).default('dot'))
    .option('--units', 'one node per unit instead of per task')
    .action(async (targets: string[], options: GraphCommandOptions) => {
      const { graphCommand } = await import('./commands/graph.ts');
      context.setExitCode(await graphCommand(targets, options, context));
    });

  common(program.command('clean').argument('[targets...]', 'as for build (no target: every task)'))
    .description('delete the outputs of the selected units (never inputs)')
    .option('-n, --dry-run', 'only print what would be deleted')
    .option('--orphans', 'delete outputs recorded by units that no longer exist (with --dry-run: list them)')
    .action(async (targets: string[], options: CommonOptions & { readonly dryRun?: boolean; readonly orphans?: boolean }) => {
      const { cleanCommand } = await import('./commands/clean.ts');
      context.setExitCode(await cleanCommand(targets, options, context));
    });

  common(program.command('touch').argument('[targets...]', 'as for build (no target: every task)'))
    .description('mark the selected units fresh without running them (like make -t)')
    .action(async (targets: string[], options: CommonOptions) => {
      const { touchCommand } = await import('./commands/touch.ts');
      context.setExitCode(await touchCommand(targets, options, context));
    });

  program
    .command('init')
    .description('write a commented starter runcue.config.ts')
    .option('--cwd <dir>', 'write it in this directory')
    .action(async (options: { readonly cwd?: string }) => {
      const { initCommand } = await import('./commands/init.ts');
      context.setExitCode(await initCommand(options, context));
    });

  return program;
}
