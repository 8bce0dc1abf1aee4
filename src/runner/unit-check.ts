/**
 * A unit's freshness check as the scheduler runs it: Make's mtime rule or, with
 * `freshness: 'hash'`, the content fingerprint; then the task's custom `ready`/`stale`, whose
 * throw fails the unit (it is never taken as "run it": the work may be a paid call).
 */
import type { ResolvedTask } from '../config/resolved.ts';
import { describeThrown } from '../describe-thrown.ts';
import type { Unit } from '../graph/unit.ts';
import { err, ok, type Result } from '../result.ts';
import { attemptInfo, unitView, viewCommand, withFingerprint, type UnitView } from './execute/unit-view.ts';
import type { StuckWatch } from './execute/function-executor.ts';
import { runInScope, type EscapeKind } from './function-scope.ts';
import { systemTimers, type TimerHandle, type Timers } from './ports.ts';
import { needsRecord, onlyOptionalOutputs, readOutputRecord, recordedAt } from './output-record.ts';
import { fingerprintParts, fingerprintStale } from './fingerprint.ts';
import { checkUnit, observeInputs, type CheckContext, type CheckOutcome } from './staleness.ts';

/**
 * A verdict. `view`: the unit's view, when the check built one (hash freshness renders the
 * command to fingerprint it; the view carries that fingerprint, recorded when the unit succeeds).
 */
export interface Checked {
  readonly kind: 'checked';
  readonly outcome: CheckOutcome;
  readonly view?: UnitView;
}

/** The default verdict: Make's mtime rule, or the content fingerprint of a hash task. */
export function defaultCheck(unit: Unit, task: ResolvedTask, ctx: CheckContext): Checked {
  if (task.freshness !== 'hash') {
    const record = needsRecord(unit) ? readOutputRecord(ctx.fs, unit.id) : undefined;
    if (record === undefined) return { kind: 'checked', outcome: checkUnit(unit.inputs, unit.outputs, ctx) };
    const at = record !== null && onlyOptionalOutputs(unit) ? recordedAt(ctx.fs, unit.id) : undefined;
    return { kind: 'checked', outcome: checkUnit(unit.inputs, unit.outputs, { ...ctx, record, recordedAt: at }) };
  }
  const observed = observeInputs(ctx.fs, unit.inputs, ctx.isOrphan);
  if ('missing' in observed) return { kind: 'checked', outcome: { kind: 'missing-input', input: observed.missing } };
  const inputs = observed.files;
  const unhashed = unitView(unit, task, inputs);
  const hashed = fingerprintParts(ctx.fs, task, inputs, viewCommand(unhashed));
  // An input that vanished (or may not be read) between listing and hashing is not there to use.
  if (!hashed.ok)
    return { kind: 'checked', outcome: { kind: 'missing-input', input: { name: 'input', path: hashed.error.input, isGlob: false } } };
  const fingerprint = hashed.value;
  const view = withFingerprint(unhashed, fingerprint);
  const verdict = (outcome: CheckOutcome): Checked => ({ kind: 'checked', outcome, view });
  if (ctx.force) return verdict({ kind: 'stale', reason: { kind: 'forced' }, inputs });
  if (unit.outputs.length === 0) return verdict({ kind: 'stale', reason: { kind: 'no-outputs' }, inputs });
  const reason = fingerprintStale(ctx.fs, unit, fingerprint);
  if (reason) return verdict({ kind: 'stale', reason, inputs });
  // maxAge and schedule still count by the outputs' mtimes.
  const byAge = checkUnit([], unit.outputs, ctx);
  if (byAge.kind === 'stale' && (byAge.reason.kind === 'max-age' || byAge.reason.kind === 'scheduled'))
    return verdict({ kind: 'stale', reason: byAge.reason, inputs });
  return verdict(
    byAge.kind === 'fresh' && byAge.expiresAt !== undefined
      ? { kind: 'fresh', inputs, expiresAt: byAge.expiresAt }
      : { kind: 'fresh', inputs },
  );
}

/** A custom check threw or never settled (the unit fails), or the run stopped while it ran. */
export interface CheckFailure {
  readonly kind: 'check-failed';
  readonly check: 'ready' | 'stale';
  readonly why: 'threw' | 'timeout' | 'stopped';
  readonly message: string;
}

/** How a custom check ends: a verdict, "not ready yet" (ready() said no), or a failure. */
export type CustomCheckResult = Checked | { readonly kind: 'not-ready' } | CheckFailure;

/** What bounds the custom checks of a run. */
export interface CheckLimits {
  /** Aborted when the run stops: checks still in flight end with a `stopped` {@link CheckFailure}. */
  readonly signal: AbortSignal;
  /** Called as each custom check starts (stall diagnostics name the check a unit waits for). */
  readonly onCheck?: (check: 'ready' | 'stale') => void;
  /** The run's timers, for `checkTimeout` (a scheduler on a virtual clock times checks out on it); default: real ones. */
  readonly timers?: Timers;
  /** Told each check's deadline: a check that never yields holds the timer that would time it out. */
  readonly stuckWatch?: StuckWatch;
}

/**
 * Runs one custom check to a verdict. A promise that never settles must not hold the run (or
 * let Node exit with 13 once nothing else is pending): it fails after `timeoutMs`, and ends at
 * once when the run stops. Errors escaping from timers the check started fail it too.
 */
async function guard(
  check: 'ready' | 'stale',
  unit: Unit,
  timeoutMs: number,
  limits: CheckLimits,
  fn: () => boolean | Promise<boolean> | undefined,
): Promise<Result<boolean, CheckFailure>> {
  limits.onCheck?.(check);
  const timers = limits.timers ?? systemTimers;
  const disarm = limits.stuckWatch?.arm(unit.id, `${check}() check`, timeoutMs, Date.now() + timeoutMs);
  let over = false;
  let timer: TimerHandle | undefined;
  let onStop = (): void => undefined;
  try {
    return await new Promise<Result<boolean, CheckFailure>>((resolve) => {
      const fail = (why: CheckFailure['why'], message: string): void => resolve(err({ kind: 'check-failed', check, why, message }));
      timer = timers.set(() => fail('timeout', `${check}() did not settle within ${shortDuration(timeoutMs)} (checkTimeout)`), timeoutMs);
      onStop = () => fail('stopped', `${check}() had not settled when the run stopped`);
      if (limits.signal.aborted) onStop();
      else limits.signal.addEventListener('abort', onStop, { once: true });
      const scope = {
        unit: unit.id,
        fail: (error: unknown, kind: EscapeKind): boolean => {
          if (over) return false;
          fail('threw', `${check}() raised an ${kind}: ${describeThrown(error)}`);
          return true;
        },
      };
      runInScope(scope, async () => fn()).then(
        (verdict) => resolve(ok(Boolean(verdict))),
        (error: unknown) => fail('threw', `${check}() threw: ${describeThrown(error)}`),
      );
    });
  } finally {
    over = true;
    disarm?.();
    timers.clear(timer);
    limits.signal.removeEventListener('abort', onStop);
  }
}

/** `300ms`, `60s`, `1.5s`: the runner has no access to the CLI's formatter. */
function shortDuration(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${ms / 1000}s`;
}

/**
 * The check of a task with a custom `ready` or `stale`: `not-ready` when ready() says no, a
 * {@link CheckFailure} when a custom check throws, times out or is stopped.
 */
export async function customCheck(unit: Unit, task: ResolvedTask, ctx: CheckContext, limits: CheckLimits): Promise<CustomCheckResult> {
  const observed = observeInputs(ctx.fs, unit.inputs, ctx.isOrphan);
  if ('missing' in observed) return { kind: 'checked', outcome: { kind: 'missing-input', input: observed.missing } };
  const view = unitView(unit, task, observed.files);
  const info = attemptInfo(view, 1);
  if (task.ready) {
    const ready = await guard('ready', unit, task.checkTimeoutMs, limits, () => task.ready?.(info));
    if (!ready.ok) return ready.error;
    if (!ready.value) return { kind: 'not-ready' };
  }
  const byDefault = defaultCheck(unit, task, ctx);
  const defaultOutcome = byDefault.outcome;
  if (!task.stale || defaultOutcome.kind === 'missing-input') return byDefault;
  const stale = await guard('stale', unit, task.checkTimeoutMs, limits, () =>
    task.stale?.(info, { defaultStale: () => Promise.resolve(defaultOutcome.kind === 'stale') }),
  );
  if (!stale.ok) return stale.error;
  // A hash task's view holds the fingerprint of the inputs its default check read.
  const checked = byDefault.view ?? view;
  const verdict = (outcome: CheckOutcome): Checked => ({ kind: 'checked', outcome, view: checked });
  if (ctx.force) return verdict({ kind: 'stale', reason: { kind: 'forced' }, inputs: checked.inputs });
  if (!stale.value) return verdict({ kind: 'fresh', inputs: checked.inputs });
  const reason = defaultOutcome.kind === 'stale' ? defaultOutcome.reason : { kind: 'custom' as const };
  return verdict({ kind: 'stale', reason, inputs: checked.inputs });
}
