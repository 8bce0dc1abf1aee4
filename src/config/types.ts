/**
 * The config as a user writes it (`runcue.config.ts`). Everything here is optional sugar that
 * `resolve.ts` turns into a {@link ResolvedConfig}.
 */
import type { Wildcards } from '../patterns/wildcards.ts';

/** The values a unit binds to its task's named wildcards (`{ doc: 'a', page: '3' }`). */
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
  /**
   * With `runcue build --queue`: `'global'` (default) holds `concurrent` and `rate` over all
   * workers together, in Redis; `'host'` holds them in each `runcue worker` (a GPU per machine).
   * `cpu` is `'host'` unless set.
   */
  readonly scope?: 'global' | 'host';
}

/** An input pattern, or a function of the wildcards that returns one (record form only). */
export type InputPattern = string | ((wildcards: Wildcards) => string);

/** A task's `input`: a pattern, several, or named patterns (`{ image: ..., prompt: ... }`). */
export type InputSpec = string | readonly string[] | Readonly<Record<string, InputPattern>>;
/** An output that may be left unwritten: a unit that exits 0 without it still succeeds. */
export interface OutputEntry {
  /** The output pattern. */
  readonly path: string;
  /** `true`: a unit that exits 0 without writing it still succeeds. */
  readonly optional?: boolean;
}

/** A task's `output`: a pattern, several, or named outputs (an entry of a list or record may be optional). */
export type OutputSpec =
  | string
  | readonly (string | OutputEntry)[]
  | (OutputEntry & { readonly optional: boolean })
  | Readonly<Record<string, string | OutputEntry>>;

/** What a function task and the `ready`/`stale` hooks see of one unit. */
export interface UnitInfo {
  /** `task[key=value,...]`, or the task name for a task without wildcards. */
  readonly id: string;
  /** The task the unit belongs to. */
  readonly task: string;
  /** The unit's wildcard values. */
  readonly wildcards: Wildcards;
  /** The first input file (empty when the task has none). */
  readonly input: string;
  /** Every input file, fan-in globs expanded. */
  readonly inputs: readonly string[];
  /** Input files by the names of a record `input` (`input0`, `input1`... for arrays). */
  readonly namedInputs: Readonly<Record<string, readonly string[]>>;
  /** The first output path (a glob for a dynamic output set). */
  readonly output: string;
  /** Every output path (globs for dynamic output sets). */
  readonly outputs: readonly string[];
  /** Output paths by the names of a record `output` (`output0`, `output1`... for arrays). */
  readonly namedOutputs: Readonly<Record<string, string>>;
  /** 1 for the first attempt. */
  readonly attempt: number;
}

/** What a function task gets besides its unit: how to stop and where to log. */
export interface TaskContext {
  /** Aborted on timeout, Ctrl-C or when the run stops. */
  readonly signal: AbortSignal;
  /** A line for the unit's log (shown when it fails, or with --verbose). */
  readonly log: (message: string) => void;
}

/** A task's `run` as a function: does the unit's work, resolves when its outputs are written. */
export type TaskFunction = (unit: UnitInfo, ctx: TaskContext) => void | Promise<void>;

/** What a custom `stale` check gets besides its unit. */
export interface StaleContext {
  /** The default verdict (Make's mtime rule, maxAge, --force), so a check can extend it. */
  readonly defaultStale: () => Promise<boolean>;
}

/**
 * A cron schedule: `'0 6 * * *'` (minute hour day-of-month month day-of-week, in the machine's
 * time zone; a sixth leading field counts seconds) or `{ cron: '0 6 * * *', timezone: 'Europe/Berlin' }`.
 */
export type ScheduleConfig = string | { readonly cron: string; readonly timezone?: string };

/** One task: how to turn its inputs into its outputs, one unit per binding of its wildcards. */
export interface TaskConfig {
  /** Service name(s) this task takes a slot in; default `cpu`. */
  readonly uses?: string | readonly string[];
  /** Input patterns; the files whose changes make a unit stale. */
  readonly input?: InputSpec;
  /** Output patterns; a task without outputs runs on every build (like a phony Make target). */
  readonly output?: OutputSpec;
  /**
   * A shell string (`sh -c`), an argv array (no shell), or an async function. A task has either
   * `run` or `worker`.
   */
  readonly run?: string | readonly string[] | TaskFunction;
  /**
   * A persistent worker instead of `run`: a command (shell string or argv) started once per pool
   * slot that answers one unit per JSON line on stdin (runqy's protocol; see the README).
   */
  readonly worker?: string | readonly string[];
  /** (worker) Write the worker's `result` to the task's single output: as JSON, or as text. */
  readonly writeResult?: 'json' | 'text';
  /** (worker) How long a worker may take to say it is ready; default the top-level one, else 60 s. */
  readonly workerStartTimeout?: Duration;
  /** (worker) Workers that crash or fail to start this many times in a row fail the task; default 3. */
  readonly workerCrashLimit?: number;
  /** Ordering-only dependencies on other tasks: one task's name or a list. */
  readonly after?: string | readonly string[];
  /** A custom check: `false` keeps the unit waiting (it takes no slot meanwhile). */
  readonly ready?: (unit: UnitInfo) => boolean | Promise<boolean>;
  /** Replaces Make's freshness rule for this task (`ctx.defaultStale()` gives that verdict). */
  readonly stale?: (unit: UnitInfo, ctx: StaleContext) => boolean | Promise<boolean>;
  /** Outputs older than this are stale. */
  readonly maxAge?: Duration;
  /** Outputs older than the most recent scheduled time are stale (see {@link ScheduleConfig}). */
  readonly schedule?: ScheduleConfig;
  /** How many times a failed unit is run again; default 0. */
  readonly retries?: number;
  /** Push-backs (exit 75 / RateLimited) one unit may get before it fails; default 10. */
  readonly maxPushBacks?: number;
  /** The base of the exponential, jittered wait between retries; default `'1s'`. */
  readonly backoff?: Duration;
  /** Per attempt: the command's process tree is killed, a function's `signal` aborted. */
  readonly timeout?: Duration;
  /** How long a custom `ready`/`stale` may take before the unit fails; default the top-level one. */
  readonly checkTimeout?: Duration;
  /** Among units waiting for the same service, higher starts first; default 0. */
  readonly priority?: number;
  /** Compare mtimes (default) or content fingerprints to decide staleness. */
  readonly freshness?: 'mtime' | 'hash';
  /** Environment variables for the command (part of the fingerprint with `freshness: 'hash'`). */
  readonly env?: Readonly<Record<string, string>>;
  /** Keep what a failed unit wrote instead of removing it. */
  readonly keepFailedOutputs?: boolean;
  /** Shown by `runcue list`. */
  readonly description?: string;
}

/** What a hook learns about the event besides the unit (each field only where it applies). */
export interface HookInfo {
  /** How long the unit ran. */
  readonly durationMs?: number;
  /** 1 for the first attempt. */
  readonly attempt?: number;
  /** Why the unit failed. */
  readonly error?: string;
  /** The command's exit code, when it exited with one. */
  readonly exitCode?: number;
  /** (stallWarning) Why the unit waits: `not_ready`, `service_full`, `rate_limited`, `upstream_failed`... */
  readonly reason?: string;
  /** (stallWarning) What it waits for, as the warning prints it. */
  readonly message?: string;
  /** (stallWarning) Every unit that waits, one line each (`unit: reason: message`). */
  readonly blocked?: readonly string[];
}

/** A hook: called for a unit event; what it throws is reported and changes nothing. */
export type Hook = (unit: UnitInfo, info: HookInfo) => void | Promise<void>;

/** The config's `on`: hooks called as units start, finish, fail or are skipped. */
export interface Hooks {
  /** A unit started (each attempt). */
  readonly start?: Hook;
  /** A unit succeeded. */
  readonly complete?: Hook;
  /** A unit failed (after its last retry). */
  readonly failure?: Hook;
  /** A unit was fresh and did not run. */
  readonly skip?: Hook;
  /**
   * Work waited past `stallWarnAfter`/`pendingWarnAfter`: called for each waiting unit, with why
   * in `info.reason` and `info.message` (and every waiting unit in `info.blocked`).
   */
  readonly stallWarning?: Hook;
}

/** A config file's default export (`export default defineConfig({ ... })`). */
export interface RuncueConfig {
  /** A JSON or YAML config's schema URL for editors; runcue ignores it. */
  readonly $schema?: string;
  /** Limit buckets by name; `cpu` always exists (default `concurrent`: the core count). */
  readonly services?: Readonly<Record<string, ServiceConfig>>;
  /** Tasks by name. */
  readonly tasks: Readonly<Record<string, TaskConfig>>;
  /** The default `freshness` of every task: `'mtime'` unless set. */
  readonly freshness?: 'mtime' | 'hash';
  /** Fail the run when nothing finished for this long while work is pending. */
  readonly stallTimeout?: Duration;
  /** Fail the run when one unit waited this long. */
  readonly pendingTimeout?: Duration;
  /** How long a custom `ready`/`stale` may take before its unit fails; default `'60s'`. */
  readonly checkTimeout?: Duration;
  /** How long a stopped or timed-out command gets between SIGTERM and SIGKILL; default `'3s'`. */
  readonly killGrace?: Duration;
  /** How long a persistent worker may take to say it is ready; default 60 s. */
  readonly workerStartTimeout?: Duration;
  /** Like `stallTimeout`, but warn once (and call `on.stallWarning`) instead of failing. */
  readonly stallWarnAfter?: Duration;
  /** Like `pendingTimeout`, but warn once (and call `on.stallWarning`) instead of failing. */
  readonly pendingWarnAfter?: Duration;
  /** How many run records `.runcue/runs/` keeps for `runcue report`; default 20, 0 writes none. */
  readonly keepRuns?: number;
  /** Hooks called as units start, finish, fail or are skipped. */
  readonly on?: Hooks;
  /** The Redis of `runcue build --queue` and `runcue worker` (`--queue` and `RUNCUE_QUEUE` come first). */
  readonly queue?: { readonly url: string };
}

/** Identity function that gives a config file types and editor completion. */
export function defineConfig(config: RuncueConfig): RuncueConfig {
  return config;
}
