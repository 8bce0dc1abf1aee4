/**
 * A unit's freshness check as the scheduler runs it: Make's mtime rule or, with
 * `freshness: 'hash'`, the content fingerprint; then the task's custom `ready`/`stale`, whose
 * throw fails the unit (it is never taken as "run it": the work may be a paid call).
 */
import type { ResolvedTask } from '../config/resolved.ts';
import { describeThrown } from '../describe-thrown.ts';
import type { Unit } from '../graph/unit.ts';
import { runInScope, type EscapeKind } from './function-scope.ts';
import { needsRecord, readOutputRecord } from './output-record.ts';
import { fingerprintParts, fingerprintStale, type FingerprintParts } from './fingerprint.ts';
import { checkUnit, observeInputs, type CheckContext, type CheckOutcome } from './staleness.ts';
import { fingerprintCommand, inputsByName, unitInfo } from './unit-run.ts';

/** The default verdict, and for hash tasks the fingerprint to record when the unit succeeds. */
export function defaultCheck(unit: Unit, task: ResolvedTask, ctx: CheckContext): { outcome: CheckOutcome; fingerprint?: FingerprintParts } {
  if (task.freshness !== 'hash') {
    const record = needsRecord(unit) ? readOutputRecord(ctx.root, unit.id) : undefined;
    return { outcome: checkUnit(unit.inputs, unit.outputs, record === undefined ? ctx : { ...ctx, record }) };
  }
  const observed = observeInputs(ctx.root, unit.inputs, ctx.isOrphan);
  if ('missing' in observed) return { outcome: { kind: 'missing-input', input: observed.missing } };
  const inputs = observed.files;
  const hashed = fingerprintParts(ctx.root, task, inputs, fingerprintCommand(task, unit, inputs));
  // An input that vanished (or may not be read) between listing and hashing is not there to use.
  if (!hashed.ok) return { outcome: { kind: 'missing-input', input: { name: 'input', path: hashed.error.input, isGlob: false } } };
  const fingerprint = hashed.value;
  const verdict = (outcome: CheckOutcome): { outcome: CheckOutcome; fingerprint: FingerprintParts } => ({ outcome, fingerprint });
  if (ctx.force) return verdict({ kind: 'stale', reason: { kind: 'forced' }, inputs });
  if (unit.outputs.length === 0) return verdict({ kind: 'stale', reason: { kind: 'no_outputs' }, inputs });
  const reason = fingerprintStale(ctx.root, unit, fingerprint);
  if (reason) return verdict({ kind: 'stale', reason, inputs });
  // maxAge still counts by the outputs' age.
  const byAge = checkUnit([], unit.outputs, ctx);
  if (byAge.kind === 'stale' && byAge.reason.kind === 'max_age') return verdict({ kind: 'stale', reason: byAge.reason, inputs });
  return verdict(byAge.kind === 'fresh' && byAge.expiresAt !== undefined ? { kind: 'fresh', inputs, expiresAt: byAge.expiresAt } : { kind: 'fresh', inputs });
}

/** How a custom check ended without a verdict. */
export type CheckErrorKind = 'threw' | 'timeout' | 'stopped';

/** A custom check threw or never settled (the unit fails), or the run stopped while it ran. */
export class CheckError extends Error {
  readonly check: 'ready' | 'stale';
  readonly kind: CheckErrorKind;

  constructor(check: 'ready' | 'stale', kind: CheckErrorKind, message: string) {
    super(message);
    this.check = check;
    this.kind = kind;
  }
}

/** What bounds the custom checks of a run. */
export interface CheckLimits {
  /** Aborted when the run stops: checks still in flight end with a `stopped` {@link CheckError}. */
  readonly signal: AbortSignal;
  /** Called as each custom check starts (stall diagnostics name the check a unit waits for). */
  readonly onCheck?: (check: 'ready' | 'stale') => void;
}

/**
 * Runs one custom check to a verdict. A promise that never settles must not hold the run (or
 * let Node exit with 13 once nothing else is pending): it fails after `timeoutMs`, and ends at
 * once when the run stops. Errors escaping from timers the check started fail it too.
 */
async function guard(check: 'ready' | 'stale', unit: Unit, timeoutMs: number, limits: CheckLimits, fn: () => boolean | Promise<boolean> | undefined): Promise<boolean> {
  limits.onCheck?.(check);
  let over = false;
  let timer: NodeJS.Timeout | undefined;
  let onStop = (): void => undefined;
  try {
    return await new Promise<boolean>((resolve, reject) => {
      const fail = (kind: CheckErrorKind, message: string): void => reject(new CheckError(check, kind, message));
      timer = setTimeout(() => fail('timeout', `${check}() did not settle within ${shortDuration(timeoutMs)} (checkTimeout)`), timeoutMs);
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
        (verdict) => resolve(Boolean(verdict)),
        (error: unknown) => fail('threw', `${check}() threw: ${describeThrown(error)}`),
      );
    });
  } finally {
    over = true;
    clearTimeout(timer);
    limits.signal.removeEventListener('abort', onStop);
  }
}

/** `300ms`, `60s`, `1.5s`: the runner has no access to the CLI's formatter. */
function shortDuration(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${ms / 1000}s`;
}

/**
 * The check of a task with a custom `ready` or `stale`: `'not-ready'` when ready() says no.
 * Rejects with a {@link CheckError} when a custom check throws, times out or is stopped.
 */
export async function customCheck(
  unit: Unit,
  task: ResolvedTask,
  ctx: CheckContext,
  onFingerprint: (parts: FingerprintParts) => void,
  limits: CheckLimits,
): Promise<CheckOutcome | 'not-ready'> {
  const observed = observeInputs(ctx.root, unit.inputs, ctx.isOrphan);
  if ('missing' in observed) return { kind: 'missing-input', input: observed.missing };
  const info = unitInfo(unit, inputsByName(unit, observed.files), 1);
  if (task.ready) {
    const ready = await guard('ready', unit, task.checkTimeoutMs, limits, () => task.ready?.(info));
    if (!ready) return 'not-ready';
  }
  const byDefault = defaultCheck(unit, task, ctx);
  if (byDefault.fingerprint) onFingerprint(byDefault.fingerprint);
  const defaultOutcome = byDefault.outcome;
  if (!task.stale || defaultOutcome.kind === 'missing-input') return defaultOutcome;
  const stale = await guard('stale', unit, task.checkTimeoutMs, limits, () => task.stale?.(info, { defaultStale: () => Promise.resolve(defaultOutcome.kind === 'stale') }));
  if (ctx.force) return { kind: 'stale', reason: { kind: 'forced' }, inputs: observed.files };
  if (!stale) return { kind: 'fresh', inputs: observed.files };
  const reason = defaultOutcome.kind === 'stale' ? defaultOutcome.reason : { kind: 'custom' as const };
  return { kind: 'stale', reason, inputs: observed.files };
}
