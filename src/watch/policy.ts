/**
 * When `runcue watch` starts a cycle, and with which changes: a pure state machine over injected
 * time, so every rule below is tested on a fake clock.
 *
 *   idle ──change──▶ debouncing ──change──▶ debouncing (timer re-armed)
 *   idle ──expiry──▶ running                (a clock does not fire in storms: no debounce)
 *   debouncing ──timer──▶ running
 *   running ──change / expiry──▶ running-dirty ──change──▶ running-dirty
 *   running ──cycle done──▶ idle
 *   running-dirty ──cycle done──▶ debouncing, or idle when every change was its own write
 *   any ──stop──▶ stopped
 *
 * - Debounce: a lone change starts a cycle `firstQuietMs` (25 ms) after it, so an edit is picked
 *   up at once. A second change within that time makes the batch a burst: the cycle then starts
 *   `quietMs` (100 ms) after the last change, but no later than `maxWaitMs` after the first one,
 *   so an editor's save (write, rename, chmod), a save storm or a `git checkout` of 1,000 files is
 *   one cycle. The watcher reports a change only after it has looked at the file, which on a
 *   loaded machine can lag the operating system's notice by more than `firstQuietMs`; so a notice
 *   about another relevant file that has not been reported yet (a "stir") also makes the batch a
 *   burst, and the cycle waits until `quietMs` after the latest stir as well. So does a notice
 *   about a file already reported that comes more than 10 ms after the report: the file is
 *   being written again (the watcher reports a file once per 50 ms at most). And so does a change
 *   to a file the last cycle started with, within `maxWaitMs` of that start: one file written
 *   every 30 or 80 ms is a storm that began before the first cycle, which the rest of it follows
 *   as one more cycle, not one cycle per write.
 * - Changes during a cycle never interrupt it (a running unit may be a paid API call): they queue
 *   exactly one follow-up cycle with everything that changed meanwhile.
 * - A change to a file that a cycle started with, whose mtime is still the one it had then, is
 *   dropped: that cycle sees this version (chokidar reports a file written twice within 50 ms a
 *   second time, 50 ms after the first: it must not start a second cycle).
 * - runcue's own writes never trigger a cycle: a change to a file a cycle wrote, whose mtime is
 *   still the one the cycle recorded, is dropped (also when it arrives after the cycle ended), and
 *   so is the removal of an output a failed unit's cleanup deleted. `.runcue/` never triggers.
 * - `maxAge` and `schedule`: a cycle starts when the earliest expiry among fresh units comes (a
 *   unit's next scheduled time is an expiry like any other).
 */
import { unreachable } from '../result.ts';

/** The policy's states; `stopped` is terminal. */
export type PolicyState = 'idle' | 'debouncing' | 'running' | 'running-dirty' | 'stopped';

/** Time as the policy sees it: injected, so tests run on a fake clock. */
export interface PolicyClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once after `delayMs`; the returned function cancels it. */
  schedule(delayMs: number, fn: () => void): () => void;
}

/** A cycle the policy wants started. */
export interface CycleRequest {
  /** The first build of the session. */
  readonly initial: boolean;
  /** Paths (relative to the config directory) changed since the last cycle started, sorted. */
  readonly changed: readonly string[];
  /** The config file changed: reload it before this cycle. */
  readonly config: boolean;
  /** A fresh unit's `maxAge` ran out, or its task's scheduled time came. */
  readonly expired: boolean;
}

/** What a finished cycle tells the policy. */
export interface CycleOutcome {
  /** Every selected unit was checked (not only those the changes affect). */
  readonly full: boolean;
  /** Files the cycle wrote, with the mtimes it recorded. */
  readonly written: ReadonlyMap<string, number>;
  /** Outputs that failed units' cleanup removed. */
  readonly removed: readonly string[];
  /** The earliest time a unit checked in this cycle goes stale by `maxAge` or `schedule`. */
  readonly nextExpiry: number | undefined;
}

/** What the policy needs from outside: a clock, file mtimes and a way to start a cycle. */
export interface RerunPolicyOptions {
  readonly clock: PolicyClock;
  /** A file's mtime now, or undefined when it does not exist (relative to the config directory). */
  readonly mtimeOf: (path: string) => number | undefined;
  /** Starts a cycle; the caller reports its end with `cycleFinished`. */
  readonly startCycle: (request: CycleRequest) => void;
  /** Quiet time after the last change of a burst before a cycle starts (default 100 ms). */
  readonly quietMs?: number;
  /** Quiet time after a lone change, before the batch counts as a burst (default 25 ms). */
  readonly firstQuietMs?: number;
  /** Longest wait after the first change of a storm (default 1,000 ms). */
  readonly maxWaitMs?: number;
  /** An expiry cycle is never scheduled sooner than this from now (default 50 ms). */
  readonly minExpiryDelayMs?: number;
}

/** A notice about a reported file this long after the report is another write of it. */
const SAME_SAVE_MS = 10;

/** Margin after an expiry so the unit is strictly older than its `maxAge` (or its scheduled time is past) when checked. */
const EXPIRY_MARGIN_MS = 5;

/** Changes gathered for the next cycle. */
class Pending {
  readonly paths = new Set<string>();
  config = false;
  expired = false;
  /** When the first and the last change of this batch arrived, and how many there were. */
  first = 0;
  last = 0;
  count = 0;

  get empty(): boolean {
    return this.paths.size === 0 && !this.config && !this.expired;
  }

  note(now: number): void {
    if (this.empty) this.first = now;
    this.last = now;
    this.count += 1;
  }
}

/** The rerun policy of `runcue watch` (see the module comment for the state diagram). */
export class RerunPolicy {
  private current: PolicyState = 'idle';
  private pending = new Pending();
  private cancelDebounce: (() => void) | undefined;
  private cancelExpiry: (() => void) | undefined;
  private expiry: number | undefined;
  /** Files runcue wrote, with the mtimes it recorded: their change events are its own. */
  private readonly ownWrites = new Map<string, number>();
  /** Outputs a failed unit's cleanup removed: their removal events are runcue's own. */
  private readonly ownRemovals = new Set<string>();
  /** Relevant files the operating system named that the watcher has not reported yet, with when. */
  private readonly stirs = new Map<string, number>();
  /** Changed files a cycle started with, with their mtimes then: a later event for that version is stale. */
  private readonly launched = new Map<string, number>();
  /** When the last cycle started for changes, and the files it started with. */
  private lastLaunch: { readonly at: number; readonly paths: ReadonlySet<string> } | undefined;
  private readonly o: RerunPolicyOptions;
  private readonly quietMs: number;
  private readonly firstQuietMs: number;
  private readonly maxWaitMs: number;

  constructor(options: RerunPolicyOptions) {
    this.o = options;
    this.quietMs = options.quietMs ?? 100;
    this.firstQuietMs = Math.min(options.firstQuietMs ?? 25, this.quietMs);
    this.maxWaitMs = options.maxWaitMs ?? 1000;
  }

  get state(): PolicyState {
    return this.current;
  }

  /** The time the next expiry cycle is due, if one is scheduled. */
  get nextExpiry(): number | undefined {
    return this.expiry;
  }

  /** Starts the initial cycle. */
  start(): void {
    if (this.current !== 'idle') throw new Error(`internal error: watch policy started in state ${this.current}`);
    this.current = 'running';
    this.o.startCycle({ initial: true, changed: [], config: false, expired: false });
  }

  /** A file was added, changed or removed (`path` relative to the config directory). */
  fileChanged(path: string): void {
    if (path === '.runcue' || path.startsWith('.runcue/')) return;
    this.stirs.delete(path);
    if (this.isOwnWrite(path) || this.isLaunchedVersion(path)) return;
    this.pending.note(this.o.clock.now());
    this.pending.paths.add(path);
    this.changed();
  }

  /**
   * The operating system noticed something about a relevant file, which the watcher will report
   * once it has looked at it (or not, if nothing changed). Only the timing of a batch depends on it.
   */
  fileStirred(path: string): void {
    if (path === '.runcue' || path.startsWith('.runcue/')) return;
    if (this.pending.paths.has(path)) {
      // A save's own notices come with its report; one well after it is the file written again
      // (one file saved over and over: a storm too, which the watcher reports only once).
      if (this.current === 'debouncing' && this.o.clock.now() - this.pending.last > SAME_SAVE_MS) {
        this.stirs.set(path, this.o.clock.now());
        this.armDebounce();
      }
      return;
    }
    // A file this session wrote stirs when it is written: no user is busy there.
    if (this.ownWrites.has(path) || this.current === 'stopped') return;
    if (this.stirs.size >= MAX_STIRS) this.stirs.clear();
    this.stirs.set(path, this.o.clock.now());
    if (this.current === 'debouncing') this.armDebounce();
  }

  /** The config file changed. */
  configChanged(): void {
    this.pending.note(this.o.clock.now());
    this.pending.config = true;
    this.changed();
  }

  /** The running cycle ended. */
  cycleFinished(outcome: CycleOutcome): void {
    const state = this.current;
    if (state === 'stopped') return;
    if (state !== 'running' && state !== 'running-dirty') {
      throw new Error(`internal error: watch cycle finished in state ${state}`);
    }
    for (const [path, mtime] of outcome.written) {
      this.stirs.delete(path);
      this.ownWrites.set(path, mtime);
      this.ownRemovals.delete(path);
    }
    for (const path of outcome.removed) this.ownRemovals.add(path);
    this.updateExpiry(outcome);
    // Changes seen while the cycle ran may be its own writes, which it only now has reported.
    for (const path of this.pending.paths) if (this.isOwnWrite(path)) this.pending.paths.delete(path);
    if (this.pending.empty) {
      this.current = 'idle';
      return;
    }
    this.current = 'debouncing';
    this.armDebounce();
  }

  /** Stops for good: no timer stays armed, nothing starts. */
  stop(): void {
    this.current = 'stopped';
    this.cancelDebounce?.();
    this.cancelDebounce = undefined;
    this.cancelExpiry?.();
    this.cancelExpiry = undefined;
  }

  private changed(): void {
    const state = this.current;
    switch (state) {
      case 'idle':
        this.current = 'debouncing';
        this.armDebounce();
        return;
      case 'debouncing':
        this.armDebounce();
        return;
      case 'running':
        this.current = 'running-dirty';
        return;
      case 'running-dirty':
      case 'stopped':
        return;
      default:
        unreachable(state);
    }
  }

  /** Re-arms the debounce timer for the earlier of "quiet since the last change" and the cap. */
  private armDebounce(): void {
    this.cancelDebounce?.();
    const stirred = this.latestStir();
    const burst = this.pending.count > 1 || stirred !== undefined || this.continuesStorm();
    const last = Math.max(this.pending.last, stirred ?? 0);
    const due = Math.min(last + (burst ? this.quietMs : this.firstQuietMs), this.pending.first + this.maxWaitMs);
    this.cancelDebounce = this.o.clock.schedule(Math.max(0, due - this.o.clock.now()), () => {
      this.cancelDebounce = undefined;
      if (this.current === 'debouncing') this.launch();
    });
  }

  /** The batch began within `maxWaitMs` of the last cycle's start, with a file that cycle started with. */
  private continuesStorm(): boolean {
    const last = this.lastLaunch;
    if (last === undefined || this.pending.first - last.at > this.maxWaitMs) return false;
    for (const path of this.pending.paths) if (last.paths.has(path)) return true;
    return false;
  }

  /** The latest stir within `quietMs` of now; older ones are dropped (their file never changed). */
  private latestStir(): number | undefined {
    const since = this.o.clock.now() - this.quietMs;
    let latest: number | undefined;
    for (const [path, at] of this.stirs) {
      if (at <= since) this.stirs.delete(path);
      else if (latest === undefined || at > latest) latest = at;
    }
    return latest;
  }

  private launch(): void {
    const batch = this.pending;
    this.pending = new Pending();
    this.cancelDebounce?.();
    this.cancelDebounce = undefined;
    if (batch.config || batch.expired) {
      // A full cycle reports a fresh expiry; an old timer would only start a redundant one.
      this.cancelExpiry?.();
      this.cancelExpiry = undefined;
      this.expiry = undefined;
    }
    for (const path of batch.paths) {
      const mtime = this.o.mtimeOf(path);
      if (mtime === undefined) this.launched.delete(path);
      else this.launched.set(path, mtime);
    }
    this.current = 'running';
    if (batch.paths.size > 0) this.lastLaunch = { at: this.o.clock.now(), paths: batch.paths };
    this.o.startCycle({ initial: false, changed: [...batch.paths].sort(), config: batch.config, expired: batch.expired });
  }

  /**
   * A full cycle saw every unit: its expiry replaces the old one. A partial cycle saw only some,
   * so the earlier of both stands.
   */
  private updateExpiry(outcome: CycleOutcome): void {
    const next = outcome.full ? outcome.nextExpiry : minDefined(this.expiry, outcome.nextExpiry);
    this.cancelExpiry?.();
    this.cancelExpiry = undefined;
    this.expiry = next;
    if (next === undefined) return;
    const now = this.o.clock.now();
    const delay = Math.max(Math.ceil(next) + EXPIRY_MARGIN_MS - now, this.o.minExpiryDelayMs ?? 50);
    this.cancelExpiry = this.o.clock.schedule(delay, () => this.expired());
  }

  private expired(): void {
    this.cancelExpiry = undefined;
    this.expiry = undefined;
    if (this.current === 'stopped') return;
    this.pending.note(this.o.clock.now());
    this.pending.expired = true;
    // Nothing to wait for: a clock, unlike an editor, does not fire in storms.
    if (this.current === 'idle') this.launch();
    else if (this.current === 'running') this.current = 'running-dirty';
  }

  /** The version of the file that a cycle already started with (the event came late). */
  private isLaunchedVersion(path: string): boolean {
    const recorded = this.launched.get(path);
    if (recorded === undefined) return false;
    if (this.o.mtimeOf(path) === recorded) return true;
    this.launched.delete(path);
    return false;
  }

  /** A change runcue made itself: a file it wrote, unchanged since, or an output it removed. */
  private isOwnWrite(path: string): boolean {
    const recorded = this.ownWrites.get(path);
    const removed = this.ownRemovals.has(path);
    if (recorded === undefined && !removed) return false;
    const mtime = this.o.mtimeOf(path);
    if (recorded !== undefined && mtime === recorded) return true;
    if (removed && mtime === undefined) return true;
    // Someone else changed it since: later events for it are theirs.
    this.ownWrites.delete(path);
    this.ownRemovals.delete(path);
    return false;
  }
}

/** A bound on remembered stirs, so a storm of notices the watcher never reports cannot grow it. */
const MAX_STIRS = 10_000;

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}
