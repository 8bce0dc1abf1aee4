/**
 * The config as a user writes it (`runcue.config.ts`). Everything here is optional sugar that
 * `resolve.ts` turns into a {@link ResolvedConfig}.
 */
import type { Wildcards } from '../patterns/wildcards.ts';

export type { Wildcards };

/** `'500ms'`, `'30s'`, `'2m'`, `'1h'`, `'1d'`, or a number of milliseconds. */
export type Duration = string | number;

/** A limit bucket (not a long-running server): how many units may start and run. */
export interface ServiceConfig {
  /** Units of this service running at once. No cap when absent (except `cpu`: the core count). */
  readonly concurrent?: number;
  /** `'60/min'`, `'100/10s'`, or several at once: at most N starts in any window of that length. */
  readonly rate?: string | readonly string[];
  /** Starts allowed at once; default `max(1, ceil(N per second))`. */
  readonly burst?: number;
}

/** An input pattern, or a function of the wildcards that returns one (record form only). */
export type InputPattern = string | ((wildcards: Wildcards) => string);

export type InputSpec = string | readonly string[] | Readonly<Record<string, InputPattern>>;
/** A named output that may be left unwritten: a unit that exits 0 without it still succeeds. */
export interface OutputEntry {
  readonly path: string;
  readonly optional?: boolean;
}

export type OutputSpec = string | readonly string[] | Readonly<Record<string, string | OutputEntry>>;

/** What a function task and the `ready`/`stale` hooks see of one unit. */
export interface UnitInfo {
  /** `task[key=value,...]`, or the task name for a task without wildcards. */
  readonly id: string;
  readonly task: string;
  readonly wildcards: Wildcards;
  /** The first input file (empty when the task has none). */
  readonly input: string;
  /** Every input file, fan-in globs expanded. */
  readonly inputs: readonly string[];
  /** Input files by the names of a record `input` (`input0`, `input1`... for arrays). */
  readonly namedInputs: Readonly<Record<string, readonly string[]>>;
  /** The first output path (a glob for a dynamic output set). */
  readonly output: string;
  readonly outputs: readonly string[];
  readonly namedOutputs: Readonly<Record<string, string>>;
  /** 1 for the first attempt. */
  readonly attempt: number;
}

export interface TaskContext {
  /** Aborted on timeout, Ctrl-C or when the run stops. */
  readonly signal: AbortSignal;
  /** A line for the unit's log (shown when it fails, or with --verbose). */
  readonly log: (message: string) => void;
}

export type TaskFunction = (unit: UnitInfo, ctx: TaskContext) => void | Promise<void>;

export interface StaleContext {
  /** The default verdict (Make's mtime rule, maxAge, --force), so a check can extend it. */
  readonly defaultStale: () => Promise<boolean>;
}

export interface TaskConfig {
  /** Service name(s) this task takes a slot in; default `cpu`. */
  readonly uses?: string | readonly string[];
  readonly input?: InputSpec;
  /** Output patterns; a task without outputs runs on every build (like a phony Make target). */
  readonly output?: OutputSpec;
  /** A shell string (`sh -c`), an argv array (no shell), or an async function. */
  readonly run: string | readonly string[] | TaskFunction;
  /** Ordering-only dependencies on other tasks. */
  readonly after?: readonly string[];
  readonly ready?: (unit: UnitInfo) => boolean | Promise<boolean>;
  readonly stale?: (unit: UnitInfo, ctx: StaleContext) => boolean | Promise<boolean>;
  /** Outputs older than this are stale. */
  readonly maxAge?: Duration;
  readonly retries?: number;
  /** Push-backs (exit 75 / RateLimited) one unit may get before it fails; default 10. */
  readonly maxPushBacks?: number;
  readonly backoff?: Duration;
  readonly timeout?: Duration;
  /** How long a custom `ready`/`stale` may take before the unit fails; default the top-level one. */
  readonly checkTimeout?: Duration;
  readonly priority?: number;
  readonly freshness?: 'mtime' | 'hash';
  readonly env?: Readonly<Record<string, string>>;
  readonly keepFailedOutputs?: boolean;
  readonly description?: string;
}

export interface HookInfo {
  readonly durationMs?: number;
  readonly attempt?: number;
  readonly error?: string;
  readonly exitCode?: number;
}

export type Hook = (unit: UnitInfo, info: HookInfo) => void | Promise<void>;

export interface Hooks {
  readonly start?: Hook;
  readonly complete?: Hook;
  readonly failure?: Hook;
  readonly skip?: Hook;
  readonly stallWarning?: (blocked: readonly string[]) => void | Promise<void>;
}

export interface RuncueConfig {
  readonly services?: Readonly<Record<string, ServiceConfig>>;
  readonly tasks: Readonly<Record<string, TaskConfig>>;
  readonly freshness?: 'mtime' | 'hash';
  readonly stallTimeout?: Duration;
  readonly pendingTimeout?: Duration;
  /** How long a custom `ready`/`stale` may take before its unit fails; default `'60s'`. */
  readonly checkTimeout?: Duration;
  /** How long a stopped or timed-out command gets between SIGTERM and SIGKILL; default `'3s'`. */
  readonly killGrace?: Duration;
  readonly stallWarnAfter?: Duration;
  readonly pendingWarnAfter?: Duration;
  readonly on?: Hooks;
}

/** Identity function that gives a config file types and editor completion. */
export function defineConfig(config: RuncueConfig): RuncueConfig {
  return config;
}
