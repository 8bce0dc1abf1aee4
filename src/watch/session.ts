/**
 * The `runcue watch` loop: the initial build, then one cycle each time the rerun policy asks for
 * one, until the signal aborts. A cycle is a `build` over the changed paths (or over everything
 * after a config reload, a maxAge expiry or a scheduled time); failures are reported and watching goes on.
 *
 * Session states: `starting` (opening the watcher) -> `watching` (cycles come and go) ->
 * `stopping` (the signal fired: the running cycle is aborted and awaited, the watcher closed).
 */
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadConfig } from '../config/load.ts';
import { formatConfigFailure } from '../config/resolve.ts';
import type { ConfigFailure, ResolvedConfig } from '../config/resolved.ts';
import { ok, type Result } from '../result.ts';
import { build, runWarning, type BuildOptions, type BuildResult } from '../runner/build.ts';
import { clockExpiry } from '../runner/expiry.ts';
import type { RateStore } from '../runner/rate-store.ts';
import { createWarningRateStore } from '../runner/rate-warnings.ts';
import { checkJobs } from '../runner/limiter.ts';
import type { RunEvent } from '../runner/events.ts';
import type { StuckWatch } from '../runner/execute/function-executor.ts';
import type { WatchEvent } from './events.ts';
import type { TargetFailure } from '../graph/select.ts';
import type { CycleFailure } from '../graph/tasks.ts';
import { keepFailuresOfUnchangedTasks } from './failed-tasks.ts';
import { SelfRewriters } from './rewriters.ts';
import { RerunPolicy, type CycleOutcome, type CycleRequest, type PolicyClock } from './policy.ts';
import { watchScope, type WatchScope } from './scope.ts';
import { openChokidarWatcher, type FileWatcher, type OpenWatcher } from './watcher.ts';
import { WorkerPools } from '../runner/workers/pools.ts';
import { timerMs, type TimerHandle, type Timers } from '../runner/ports.ts';
import { settlesWithin } from '../runner/bounded-wait.ts';

/** How to watch; the build options apply to every cycle (`force` to the initial one only). */
export interface WatchOptions {
  readonly config: ResolvedConfig;
  /** As for build; empty means every task. */
  readonly targets?: readonly string[];
  /** Treat the selected units as stale in the initial cycle. */
  readonly force?: boolean;
  readonly jobs?: number;
  readonly noDeps?: boolean;
  readonly verbose?: boolean;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly killGraceMs?: number;
  /** Stops watching: the running cycle's process trees get SIGTERM, then SIGKILL after the grace. */
  readonly signal: AbortSignal;
  /** Aborted after `signal`: the grace period ends, trees get SIGKILL now (see build's `stopNow`). */
  readonly stopNow?: AbortSignal;
  /** As for build. */
  readonly stuckWatch?: StuckWatch;
  /** Watch events, and each cycle's run events between its `watch:cycle` start and done. */
  readonly onEvent: (event: RunEvent | WatchEvent) => void;
  /** A watcher error (too many watches, permissions): watching goes on. */
  readonly onWarning?: (message: string) => void;
  /** Loads the config file again (default: `loadConfig` on that file). */
  readonly reload?: (file: string) => Promise<Result<ResolvedConfig, ConfigFailure>>;
  /** How long a reload may take before the last good config is kept (default 30 s). */
  readonly reloadTimeoutMs?: number;
  /** Default: chokidar. */
  readonly openWatcher?: OpenWatcher;
  /** Default: the system clock and `setTimeout`. */
  readonly clock?: PolicyClock;
  /** Debounce: quiet time after the last change of a burst, after a lone change, and longest wait after the first. */
  readonly quietMs?: number;
  readonly firstQuietMs?: number;
  readonly maxWaitMs?: number;
}

/** How a watch session ended. */
export interface WatchSummary {
  /** The abort reason (`SIGINT`, `SIGTERM`, ...). */
  readonly interrupted: string;
  readonly cycles: number;
}

/** A failure before watching starts: the targets or the task graph are invalid. */
export type WatchFailure = CycleFailure | TargetFailure;

/** Watches until `options.signal` aborts. Fails only when the targets or the graph are invalid. */
export async function watch(options: WatchOptions): Promise<Result<WatchSummary, WatchFailure>> {
  checkJobs(options.jobs);
  const scope = watchScope(options.config, options.targets ?? []);
  if (!scope.ok) return scope;
  return ok(await new WatchSession(options, scope.value).run());
}

const systemClock: PolicyClock = {
  now: () => Date.now(),
  schedule: (delayMs, fn) => {
    const timer = setTimeout(fn, timerMs(delayMs));
    return () => clearTimeout(timer);
  },
};

/** Events of one cycle that the session keeps after it. */
interface CycleLog {
  readonly settled: Set<string>;
  /** Units that ran to success. */
  readonly ran: Set<string>;
  readonly removed: string[];
  builtExpiry: number | undefined;
}

class WatchSession {
  private state: 'starting' | 'watching' | 'stopping' = 'starting';
  private config: ResolvedConfig;
  private scope: WatchScope;
  private watcher: FileWatcher | undefined;
  private readonly policy: RerunPolicy;
  /** Units that failed and the inputs they failed on: not rerun until one changes. */
  private readonly failedEarlier = new Map<string, string>();
  /** Units that rewrite their own inputs: held back until one changes from outside. */
  private readonly rewriters = new SelfRewriters();
  private cycles = 0;
  /** When the last cycle started: a scheduled time after it is what an expiry cycle is for. */
  private lastCycleAt = -Infinity;
  private running: Promise<void> = Promise.resolve();
  private crash: (error: unknown) => void = () => undefined;
  private readonly o: WatchOptions;
  private readonly clock: PolicyClock;
  /** Shared by every cycle: starts it could not write stay remembered, and it warns once. */
  private readonly rateStore: RateStore;
  /** Persistent workers stay loaded across cycles (a task whose worker config changed gets new ones). */
  private readonly workers: WorkerPools;

  constructor(options: WatchOptions, scope: WatchScope) {
    this.o = options;
    this.clock = options.clock ?? systemClock;
    this.config = options.config;
    this.scope = scope;
    this.workers = new WorkerPools(options.env ?? {});
    this.rateStore = createWarningRateStore(
      this.config.root,
      runWarning(options.onEvent, () => this.clock.now()),
    );
    this.policy = new RerunPolicy({
      clock: this.clock,
      mtimeOf: (path) => mtimeOf(join(this.config.root, path)),
      startCycle: (request) => {
        this.running = this.cycle(request).catch((error: unknown) => this.crash(error));
      },
      ...(options.quietMs !== undefined ? { quietMs: options.quietMs } : {}),
      ...(options.firstQuietMs !== undefined ? { firstQuietMs: options.firstQuietMs } : {}),
      ...(options.maxWaitMs !== undefined ? { maxWaitMs: options.maxWaitMs } : {}),
    });
  }

  async run(): Promise<WatchSummary> {
    const { signal } = this.o;
    const crashed = new Promise<never>((_, reject) => (this.crash = reject));
    const stopped = new Promise<string>((resolve) => {
      if (signal.aborted) resolve(String(signal.reason));
      else signal.addEventListener('abort', () => resolve(String(signal.reason)), { once: true });
    });
    try {
      await this.openWatcher();
      if (!signal.aborted) {
        this.state = 'watching';
        this.policy.start();
      }
      const reason = await Promise.race([stopped, crashed]);
      this.state = 'stopping';
      this.policy.stop();
      await Promise.race([this.running, crashed]);
      return { interrupted: reason, cycles: this.cycles };
    } finally {
      this.policy.stop();
      await this.watcher?.close();
      await this.workers.close();
    }
  }

  private async openWatcher(): Promise<void> {
    await this.watcher?.close();
    const open = this.o.openWatcher ?? openChokidarWatcher;
    this.watcher = await open({
      root: this.config.root,
      scope: this.scope,
      onChange: (path) => {
        if (path === this.scope.configFile) this.policy.configChanged();
        else this.policy.fileChanged(path);
      },
      onStir: (path) => {
        if (path !== this.scope.configFile) this.policy.fileStirred(path);
      },
      onError: (error) => this.o.onWarning?.(`watcher: ${error.message}`),
    });
    const watching = this.scope.roots.map((r) => (r === '' ? '.' : r));
    this.o.onEvent({ type: 'watch:ready', time: this.clock.now(), watching });
  }

  /** One cycle: reload the config if asked, build, then tell the policy what was written. */
  private async cycle(request: CycleRequest): Promise<void> {
    const reloaded = request.config && (await this.reloadConfig());
    if (this.state !== 'watching') return;
    const trigger = request.initial
      ? 'initial'
      : reloaded
        ? 'config'
        : request.expired
          ? this.expiryTrigger()
          : request.changed.length > 0
            ? 'files'
            : undefined;
    if (trigger === undefined) {
      // Only a broken config edit: nothing to build.
      this.policy.cycleFinished({ full: false, written: new Map(), removed: [], nextExpiry: undefined });
      return;
    }
    const cycle = ++this.cycles;
    this.lastCycleAt = this.clock.now();
    const changed = reloaded ? [this.scope.configFile, ...request.changed] : request.changed;
    this.o.onEvent({ type: 'watch:cycle', time: this.clock.now(), cycle, phase: 'start', trigger, changed: changed.slice(0, 100) });
    const log: CycleLog = { settled: new Set(), ran: new Set(), removed: [], builtExpiry: undefined };
    const full = trigger !== 'files';
    const outcome = await withCycleSignal(this.o.signal, (signal) =>
      build(this.buildOptions(request, { signal, log, affected: full ? undefined : new Set(request.changed) })),
    );
    if (!outcome.ok) {
      // Files changed under the config (a target's source is gone, two tasks now claim one
      // output): report it and keep watching, as with any failure.
      this.o.onWarning?.(outcome.error.message);
      const counts = { built: 0, fresh: 0, failed: 0, blocked: 0 };
      this.o.onEvent({ type: 'watch:cycle', time: this.clock.now(), cycle, phase: 'done', ok: false, durationMs: 0, counts });
      this.policy.cycleFinished({ full, written: new Map(), removed: log.removed, nextExpiry: undefined });
      return;
    }
    const result = outcome.value;
    this.rememberFailures(result, log);
    this.o.onEvent({
      type: 'watch:cycle',
      time: this.clock.now(),
      cycle,
      phase: 'done',
      ok: result.ok,
      durationMs: result.durationMs,
      counts: result.counts,
    });
    if (result.interrupted !== undefined) return;
    const finished: CycleOutcome = {
      full,
      written: result.written,
      removed: [...log.removed, ...result.cleared],
      nextExpiry: minDefined(result.nextExpiry, log.builtExpiry),
    };
    this.policy.cycleFinished(finished);
  }

  /** `schedule` when a task's scheduled time passed since the last cycle, else `max-age`. */
  private expiryTrigger(): 'schedule' | 'max-age' {
    const now = this.clock.now();
    for (const task of this.config.tasks.values()) if ((task.schedule?.latest(now) ?? -Infinity) > this.lastCycleAt) return 'schedule';
    return 'max-age';
  }

  private buildOptions(
    request: CycleRequest,
    cycle: { signal: AbortSignal; log: CycleLog; affected: ReadonlySet<string> | undefined },
  ): BuildOptions {
    const o = this.o;
    const { log, affected } = cycle;
    return {
      config: this.config,
      targets: o.targets ?? [],
      force: request.initial && (o.force ?? false),
      // A failure never stops watching, nor the rest of the cycle.
      keepGoing: true,
      noDeps: o.noDeps ?? false,
      verbose: o.verbose ?? false,
      signal: cycle.signal,
      ...(o.stopNow ? { stopNow: o.stopNow } : {}),
      ...(o.stuckWatch ? { stuckWatch: o.stuckWatch } : {}),
      failedEarlier: this.failedEarlier,
      rewroteEarlier: this.rewriters.held,
      rateStore: this.rateStore,
      workers: this.workers,
      onEvent: (event) => {
        this.observe(event, log);
        o.onEvent(event);
      },
      ...(o.jobs !== undefined ? { jobs: o.jobs } : {}),
      ...(o.env !== undefined ? { env: o.env } : {}),
      ...(o.killGraceMs !== undefined ? { killGraceMs: o.killGraceMs } : {}),
      ...(affected !== undefined ? { affected } : {}),
    };
  }

  private observe(event: RunEvent, log: CycleLog): void {
    switch (event.type) {
      case 'unit:done': {
        log.settled.add(event.unit);
        log.ran.add(event.unit);
        // The runner reports expiries of fresh units only; a unit built now expires by maxAge or schedule.
        const task = this.config.tasks.get(event.task);
        const expiry = task && clockExpiry(task, event.time, event.time - event.durationMs);
        log.builtExpiry = minDefined(log.builtExpiry, expiry);
        return;
      }
      case 'unit:skip':
        log.settled.add(event.unit);
        return;
      case 'unit:fail':
        log.removed.push(...event.removed);
        return;
      default:
        return;
    }
  }

  /** A unit that built or was fresh no longer fails; this cycle's failures (new or kept) are added. */
  private rememberFailures(result: BuildResult, log: CycleLog): void {
    for (const unit of log.settled) this.failedEarlier.delete(unit);
    for (const [unit, signature] of result.failedInputs) this.failedEarlier.set(unit, signature);
    this.rewriters.afterCycle(log.ran, result.rewrote);
  }

  /**
   * Loads the edited config. A good one replaces the current config (and its watch scope) and
   * forgets the earlier failures of the tasks it changed, since the fix may be there; a broken
   * one, or one that never finishes loading, is reported and the last good config stays.
   */
  private async reloadConfig(): Promise<boolean> {
    const file = this.config.file;
    const reload = this.o.reload ?? ((f: string) => loadConfig({ cwd: dirname(f), configPath: f }));
    const timeoutMs = this.o.reloadTimeoutMs ?? RELOAD_TIMEOUT_MS;
    const reloading = reload(file);
    const settled = await settlesWithin(reloading, timeoutMs, { signal: this.o.signal, timers: clockTimers(this.clock) });
    if (this.state !== 'watching') return false;
    const fail = (message: string): false => {
      this.o.onEvent({ type: 'watch:config', time: this.clock.now(), ok: false, message: `${message}\n(keeping the last good config)` });
      return false;
    };
    if (!settled) {
      const what = `${this.scope.configFile} did not finish loading within ${String(timeoutMs / 1000)} s`;
      return fail(`${what}: a top-level await in it (or in a module it imports) never settled`);
    }
    const loaded = await reloading;
    if (!loaded.ok) return fail(formatConfigFailure(loaded.error, this.config.root));
    const scope = watchScope(loaded.value, this.o.targets ?? []);
    if (!scope.ok) return fail(`${this.scope.configFile}: ${scope.error.message}`);
    keepFailuresOfUnchangedTasks(this.failedEarlier, this.config, loaded.value);
    this.config = loaded.value;
    this.scope = scope.value;
    this.rewriters.clear();
    this.o.onEvent({ type: 'watch:config', time: this.clock.now(), ok: true, message: `reloaded ${this.scope.configFile}` });
    // A new scope needs a new watcher; the full cycle that follows sees whatever changed meanwhile.
    await this.openWatcher();
    return this.state === 'watching';
  }
}

/** A reload that takes longer keeps the last good config: a top-level await that never settles must not stop watching for good. */
const RELOAD_TIMEOUT_MS = 30_000;

/** The session's clock as the runner's timers: a timer's handle is the function that cancels it. */
function clockTimers(clock: PolicyClock): Timers {
  return {
    set: (fn, ms) => clock.schedule(ms, fn) as unknown as TimerHandle,
    clear: (handle) => (handle as unknown as (() => void) | undefined)?.(),
  };
}

/**
 * Runs one cycle under its own AbortSignal, aborted with the session's: a listener the runner
 * adds to it then lives as long as the cycle, not as long as the session.
 */
async function withCycleSignal<T>(session: AbortSignal, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const forward = (): void => controller.abort(session.reason);
  if (session.aborted) forward();
  else session.addEventListener('abort', forward, { once: true });
  try {
    return await work(controller.signal);
  } finally {
    session.removeEventListener('abort', forward);
  }
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

/** A path's mtime; undefined when it is gone or cannot be stat'ed (a link loop, a file in the way). */
function mtimeOf(path: string): number | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false })?.mtimeMs;
  } catch {
    return undefined;
  }
}
