/**
 * What every command receives: the process it runs in (`CliContext`) and the options commander
 * parsed for it. Types only, shared by program.ts (which declares the flags) and the commands
 * (which read them), so neither imports the other.
 */

/** The process a command runs in, passed in so commands can be run without touching `process`. */
export interface CliContext {
  /** The shell's working directory (not yet `--cwd`). */
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: NodeJS.WriteStream;
  /**
   * Made on first read (main.ts): read it only to write or to look at it, so that a run with
   * nothing to say (`--reporter silent`) never makes it.
   */
  readonly stderr: NodeJS.WriteStream;
  /** Sets the exit code the process ends with; a command never exits the process itself. */
  readonly setExitCode: (code: number) => void;
  /**
   * From now on the console of user code (the config while it loads, function tasks, hooks)
   * writes to stderr: stdout carries JSON and is never mixed.
   */
  readonly consoleToStderr: () => void;
}

/**
 * The progress output `--reporter` chooses (`auto`: tty on a terminal, ci elsewhere). `junit`
 * (build only) is a file report, not a display: the display is `auto`'s and `--report-file`
 * names the file.
 */
export type ReporterChoice = 'auto' | 'tty' | 'ci' | 'json' | 'silent' | 'junit';

/** Flags every config-reading command takes. */
export interface CommonOptions {
  readonly config?: string;
  readonly cwd?: string;
  readonly reporter: ReporterChoice;
  readonly json?: boolean;
  readonly verbose?: boolean;
}

/** `runcue graph`: the output format, and units instead of tasks. */
export interface GraphCommandOptions extends CommonOptions {
  readonly format: 'dot' | 'mermaid' | 'json';
  readonly units?: boolean;
}

/** `runcue build`, `watch` and `plan`. */
export interface BuildCommandOptions extends CommonOptions {
  readonly force?: boolean;
  readonly keepGoing?: boolean;
  readonly jobs?: number;
  /** False with `--no-deps`. */
  readonly deps: boolean;
  readonly dryRun?: boolean;
  /** (build) Where to write the JUnit XML report. */
  readonly reportFile?: string;
  /** (build) Run the units through the BullMQ queue on this Redis (`redis://host:port/db`). */
  readonly queue?: string;
}

/** `runcue worker`: the queue to take jobs from, and how many to run at once. */
export interface WorkerCommandOptions extends CommonOptions {
  readonly queue?: string;
  readonly concurrency?: number;
}

/** `runcue clean`: list only (`--dry-run`), and outputs of units that no longer exist (`--orphans`). */
export interface CleanCommandOptions extends CommonOptions {
  readonly dryRun?: boolean;
  readonly orphans?: boolean;
}

/** `runcue report [run]`: the record (`--json`), a trace file, or the list of kept runs. */
export interface ReportCommandOptions {
  readonly config?: string;
  readonly cwd?: string;
  readonly json?: boolean;
  readonly trace?: string;
  readonly list?: boolean;
}

/** `runcue init`: the directory to write the starter config in. */
export interface InitCommandOptions {
  readonly cwd?: string;
}

/** `runcue sim`: a built-in scenario or the user's config, the model, and what to print. */
export interface SimCommandOptions {
  readonly config?: string;
  readonly cwd?: string;
  readonly json?: boolean;
  readonly verbose?: boolean;
  readonly scenario?: string;
  readonly listScenarios?: boolean;
  /** (scenario) Default 100; an error with the config. */
  readonly count?: number;
  readonly latency?: string;
  readonly jitter?: string;
  readonly errorRate?: string;
  readonly rate?: string;
  /** (scenario) Default 5; an error with the config. */
  readonly concurrent?: number;
  readonly seed: string;
  readonly retries?: number;
  readonly files: readonly string[];
  readonly fanout?: string;
  readonly trace?: string;
  readonly force?: boolean;
  readonly keepGoing?: boolean;
  readonly jobs?: number;
}
