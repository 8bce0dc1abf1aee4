/**
 * Function attempts that ignored their abort signal past the grace period. The unit has failed
 * and its outputs were removed, but the function still runs and may write later: a late write
 * must not leave an output that looks fresh. Each one is swept (outputs created or changed since
 * it was abandoned are removed) when its promise settles, and at the latest when the run ends,
 * after a bounded wait. The unit is not retried while its attempt may still run.
 */
import type { Unit } from '../graph/unit.ts';
import { settlesWithin } from './bounded-wait.ts';
import type { FileSystem } from './file-system.ts';
import { removeChangedOutputs, snapshot } from './files.ts';
import { directoryOutputs, removeChangedDirectories } from './outputs-written.ts';
import { systemTimers, type Timers } from './ports.ts';

/** A function attempt that may still write after its unit failed. */
export interface AbandonedAttempt {
  readonly unit: string;
  readonly attempt: number;
  /** Settles when the function's promise does (never rejects). */
  readonly settled: Promise<void>;
  /** Removes outputs created or changed since the attempt was abandoned; returns their paths. */
  sweep(): string[];
}

/**
 * Units whose abandoned attempt still runs in this process, by project root and unit id. It
 * outlives one run: in watch, a later cycle must not start the unit beside it either.
 */
const stillRunning = new Set<string>();

/** Whether an abandoned attempt of this unit may still be running in this process. */
export function abandonedAttemptRuns(root: string, unit: string): boolean {
  // Asked for every unit a build checks: no key is built while nothing was abandoned.
  return stillRunning.size > 0 && stillRunning.has(`${root}\u0000${unit}`);
}

/** Call right after the failed attempt's outputs were removed: later changes are its late writes. */
export function abandonAttempt(options: {
  readonly fs: FileSystem;
  readonly unit: Unit;
  readonly attempt: number;
  readonly settled: Promise<void>;
  /** `keepFailedOutputs`: the user keeps what a failed unit wrote, late or not. */
  readonly keepOutputs: boolean;
}): AbandonedAttempt {
  const { fs, unit } = options;
  const after = snapshot(fs, unit.outputs);
  const dirsAfter = directoryOutputs(fs, unit.outputs);
  const key = `${fs.root}\u0000${unit.id}`;
  stillRunning.add(key);
  void options.settled.then(() => stillRunning.delete(key));
  return {
    unit: unit.id,
    attempt: options.attempt,
    settled: options.settled,
    sweep: () =>
      options.keepOutputs ? [] : [...removeChangedDirectories(fs, unit, dirsAfter), ...removeChangedOutputs(fs, unit.outputs, after)],
  };
}

/** Told what a late write of an abandoned attempt left, once it was removed. */
export type LateWriteListener = (attempt: AbandonedAttempt, removed: readonly string[]) => void;

/** The abandoned attempts of one run. */
export class AbandonedAttempts {
  private readonly live = new Set<AbandonedAttempt>();
  private readonly timers: Timers;

  /** `timers` measure the bound of {@link drain}. */
  constructor(timers: Timers = systemTimers) {
    this.timers = timers;
  }

  /** Tracks `attempt`, sweeping it as soon as it settles; then `onSwept` (its in-flight record may go). */
  add(attempt: AbandonedAttempt, onLateWrite: LateWriteListener, onSwept: () => void = () => undefined): void {
    this.live.add(attempt);
    void attempt.settled.then(() => {
      if (!this.live.delete(attempt)) return;
      const removed = attempt.sweep();
      if (removed.length > 0) onLateWrite(attempt, removed);
      onSwept();
    });
  }

  /** Whether an attempt of `unitId` is tracked (may still run). */
  holds(unitId: string): boolean {
    return [...this.live].some((a) => a.unit === unitId);
  }

  /** The units whose attempts may still run. */
  units(): string[] {
    return [...this.live].map((a) => a.unit);
  }

  /**
   * Waits up to `boundMs` for every attempt to settle, then sweeps those still running (they
   * stay tracked, and are swept again if they settle while the process lives). Returns them.
   */
  async drain(boundMs: number, onLateWrite: LateWriteListener): Promise<AbandonedAttempt[]> {
    if (this.live.size === 0) return [];
    await settlesWithin(Promise.all([...this.live].map((a) => a.settled)), boundMs, { timers: this.timers });
    const still = [...this.live];
    for (const attempt of still) {
      const removed = attempt.sweep();
      if (removed.length > 0) onLateWrite(attempt, removed);
    }
    return still;
  }
}
