/**
 * The config after validation and resolution: defaults applied, durations in milliseconds,
 * patterns parsed, paths absolute. Everything below `config` works on these types only.
 */
import type { Pattern } from '../patterns/pattern.ts';
import type { Schedule } from './schedule.ts';
import type { Hooks, StaleContext, TaskFunction, UnitInfo, Wildcards } from './types.ts';

/** One input of a task: a parsed pattern, or a function of the wildcards that gives one per unit. */
export type ResolvedInput =
  | { readonly name: string; readonly kind: 'pattern'; readonly pattern: Pattern }
  /** A record entry given as a function of the wildcards; resolved per unit. */
  | { readonly name: string; readonly kind: 'function'; readonly fn: (wildcards: Wildcards) => string };

/** One output of a task, named (`output0`... for arrays) and parsed. */
export interface ResolvedOutput {
  readonly name: string;
  readonly pattern: Pattern;
  /** A unit that exits 0 without writing it still succeeds (`{ path, optional: true }`). */
  readonly optional: boolean;
}

/** A persistent worker: the command of its processes and how its pool behaves. */
export interface WorkerSpec {
  readonly kind: 'worker';
  /** A shell string (`sh -c`) or an argv array. */
  readonly command: string | readonly string[];
  /** Write the answer's `result` to the single output. */
  readonly writeResult: 'json' | 'text' | undefined;
  readonly startTimeoutMs: number;
  /** Crashes or failed starts in a row after which the task's units fail. */
  readonly crashLimit: number;
}

/** What a task runs: a shell string, an argv array (no shell), a function, or a persistent worker. */
export type RunSpec =
  | { readonly kind: 'shell'; readonly command: string }
  | { readonly kind: 'argv'; readonly argv: readonly string[] }
  | { readonly kind: 'function'; readonly fn: TaskFunction }
  | WorkerSpec;

/** A task with defaults applied, durations in milliseconds and patterns parsed. */
export interface ResolvedTask {
  readonly name: string;
  /** Service names, never empty (`['cpu']` by default). */
  readonly uses: readonly string[];
  readonly inputs: readonly ResolvedInput[];
  readonly outputs: readonly ResolvedOutput[];
  /** The wildcards of the outputs: one unit per distinct binding of these. */
  readonly wildcards: readonly string[];
  readonly run: RunSpec;
  readonly after: readonly string[];
  readonly ready: ((unit: UnitInfo) => boolean | Promise<boolean>) | undefined;
  readonly stale: ((unit: UnitInfo, ctx: StaleContext) => boolean | Promise<boolean>) | undefined;
  readonly maxAgeMs: number | undefined;
  /** When outputs are due to be refreshed (`schedule`); undefined without one. */
  readonly schedule: Schedule | undefined;
  readonly retries: number;
  /** Push-backs one unit may get before it fails (an endless 429 loop becomes a failure). */
  readonly maxPushBacks: number;
  readonly backoffMs: number;
  readonly timeoutMs: number | undefined;
  /** How long a custom `ready`/`stale` may take (task, else top-level, else 60 s). */
  readonly checkTimeoutMs: number;
  readonly priority: number;
  readonly freshness: 'mtime' | 'hash';
  /** `freshness` was given (by the task or the config): a queue build keeps it instead of its default 'hash'. */
  readonly freshnessSet?: boolean;
  readonly env: Readonly<Record<string, string>>;
  readonly keepFailedOutputs: boolean;
  readonly description: string | undefined;
}

/** At most `count` starts in any window of `windowMs`. */
export interface RateLimit {
  readonly count: number;
  readonly windowMs: number;
  /** As written, for messages (`'60/min'`). */
  readonly source: string;
}

/** A service with its rates parsed; `concurrent` absent means no cap. */
export interface ResolvedService {
  readonly name: string;
  readonly concurrent: number | undefined;
  readonly rates: readonly RateLimit[];
  readonly burst: number | undefined;
  /** Where `concurrent` and `rate` hold in queue mode: over all workers (`global`) or per worker (`host`). */
  readonly scope: 'global' | 'host';
}

/** The whole config, validated and resolved: what every layer below `config` reads. */
export interface ResolvedConfig {
  /** Absolute path of the config file. */
  readonly file: string;
  /** Absolute directory of the config file: the root of every pattern and every command's cwd. */
  readonly root: string;
  /** Always contains `cpu`. */
  readonly services: ReadonlyMap<string, ResolvedService>;
  /** In declaration order. */
  readonly tasks: ReadonlyMap<string, ResolvedTask>;
  readonly stallTimeoutMs: number | undefined;
  readonly pendingTimeoutMs: number | undefined;
  /** Between SIGTERM and SIGKILL for a stopped or timed-out command (and the watchdog's). */
  readonly killGraceMs: number;
  readonly stallWarnAfterMs: number | undefined;
  readonly pendingWarnAfterMs: number | undefined;
  /** Run records kept under `.runcue/runs/`; 0: none written. */
  readonly keepRuns: number;
  /** (`queue.url`) The Redis of `runcue build --queue` and `runcue worker` when no flag names one. */
  readonly queueUrl: string | undefined;
  readonly hooks: Hooks;
}

/** One problem in a config, at a key path such as `tasks.extract.uses`. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

/** A place in a file: 1-based line and column, and the text of that line when known. */
export interface SourcePosition {
  readonly line: number;
  readonly column?: number;
  readonly text?: string;
}

/** Why a config could not be had: not found, not loadable, or invalid. */
export type ConfigFailure =
  /** No config file was found from the directory upward. */
  | { readonly reason: 'config-not-found'; readonly cwd: string; readonly message: string }
  /**
   * The file exists but could not be loaded (syntax error, import error, not an object);
   * `position` is where in it, when Node said.
   */
  | { readonly reason: 'config-load'; readonly file: string; readonly message: string; readonly position?: SourcePosition }
  /** The file loaded but its content is wrong; every issue names its key path. */
  | { readonly reason: 'config-invalid'; readonly file: string; readonly issues: readonly ConfigIssue[] };
