/**
 * The one place the config's `on.*` hooks are called. A hook never fails the run: what it throws
 * (or what escapes from a timer it started) is reported as a `hook` log line. The end of a run
 * waits for hooks still running, within a bound.
 */
import type { ResolvedConfig } from '../../config/resolved.ts';
import type { UnitInfo } from '../../config/types.ts';
import type { Unit } from '../../graph/unit.ts';
import { describeThrown } from '../../describe-thrown.ts';
import { settlesWithin } from '../bounded-wait.ts';
import type { BlockedUnit, RunEvent } from '../events.ts';
import { inputsByName, unitInfo } from '../execute/unit-view.ts';
import { runInScope, type EscapeKind } from '../function-scope.ts';
import type { Clock, Timers } from '../ports.ts';

/** How long the end of a run waits for hooks still running (a Slack post, say). */
const HOOKS_BOUND_MS = 60_000;

/** The hooks about one unit. */
export type UnitHook = 'start' | 'complete' | 'failure' | 'skip' | 'stallWarning';

/** The config's hooks, and where their failures are reported. */
export interface HooksOptions {
  readonly config: ResolvedConfig;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly emit: (event: RunEvent) => void;
  /** True once `run:done` went out: an escape reported after it would break the stream's end. */
  readonly reported: () => boolean;
}

/** The hooks of one run, and the promises of those still running. */
export class Hooks {
  private readonly o: HooksOptions;
  /** Hooks not settled yet: a stopped run waits for none, and must not say so of hooks long done. */
  private readonly running = new Set<Promise<void>>();

  constructor(options: HooksOptions) {
    this.o = options;
  }

  /** Whether the config has hook `name` (callers skip describing a unit for none). */
  has(name: UnitHook): boolean {
    return this.o.config.hooks[name] !== undefined;
  }

  /**
   * Calls hook `name` about `unit` (if the config has one), without waiting for it. `describe`:
   * what the hook is told about the unit, asked only when there is a hook.
   */
  unit(name: UnitHook, unit: Unit, describe: () => UnitInfo, info: Record<string, unknown>): void {
    const hook = this.o.config.hooks[name];
    if (!hook) return;
    const unitView = describe();
    const report = (text: string): void =>
      this.o.emit({ type: 'unit:log', time: this.o.clock.now(), task: unit.task, unit: unit.id, stream: 'hook', text });
    // An error escaping from a timer the hook started is the hook's failure too: reported only.
    const scope = {
      unit: unit.id,
      fail: (error: unknown, kind: EscapeKind): boolean => {
        if (this.o.reported()) return false;
        report(`on.${name} hook raised an ${kind}: ${describeThrown(error)}`);
        return true;
      },
    };
    this.track(
      runInScope(scope, async () => {
        try {
          await hook(unitView, info);
        } catch (error) {
          report(`on.${name} hook failed: ${describeThrown(error)}`);
        }
      }),
    );
  }

  /**
   * Calls `on.stallWarning` as SPEC's hooks are called, `(unit, info)`: once for each unit that
   * waits, `info` saying why (`reason`, `message`) and listing every waiting unit (`blocked`).
   */
  stall(blocked: readonly BlockedUnit[], unitOf: (id: string) => Unit | undefined): void {
    if (!this.has('stallWarning')) return;
    const lines = blocked.map((b) => `${b.unit}: ${b.reason.kind}: ${b.reason.message}`);
    for (const b of blocked) {
      const unit = unitOf(b.unit);
      if (!unit) continue;
      const info = { attempt: 0, reason: b.reason.kind, message: b.reason.message, blocked: lines };
      this.unit('stallWarning', unit, () => unitInfo(unit, inputsByName(unit, new Map()), 0), info);
    }
  }

  private track(hook: Promise<void>): void {
    this.running.add(hook);
    const done = (): void => void this.running.delete(hook);
    hook.then(done, done);
  }

  /** True when every hook called so far settled within the bound (all settled: at once), false if cut short. */
  settled(signal: AbortSignal): Promise<boolean> {
    if (this.running.size === 0) return Promise.resolve(true);
    return settlesWithin(Promise.all(this.running), HOOKS_BOUND_MS, { signal, timers: this.o.timers });
  }
}
