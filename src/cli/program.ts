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
    .option('--keep-going', 'run everything not downstream of a failure')
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

  return program;
}
