/**
 * A unit's freshness check as the scheduler runs it: Make's mtime rule or, with
 * `freshness: 'hash'`, the content fingerprint; then the task's custom `ready`/`stale`, whose
 * throw fails the unit (it is never taken as "run it": the work may be a paid call).
 */
import type { ResolvedTask } from '../config/resolved.ts';
import type { Unit } from '../graph/unit.ts';
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
  const fingerprint = fingerprintParts(ctx.root, task, inputs, fingerprintCommand(task, unit, inputs));
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

/** A custom check threw: the unit fails with this. */
export class CheckError extends Error {
  readonly check: 'ready' | 'stale';

  constructor(check: 'ready' | 'stale', message: string) {
    super(message);
    this.check = check;
  }
}

async function guard(check: 'ready' | 'stale', fn: () => boolean | Promise<boolean> | undefined): Promise<boolean> {
  try {
    return Boolean(await fn());
  } catch (error) {
    throw new CheckError(check, `${check}() threw: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * The check of a task with a custom `ready` or `stale`: `'not-ready'` when ready() says no.
 * Rejects with a {@link CheckError} when a custom check throws.
 */
export async function customCheck(
  unit: Unit,
  task: ResolvedTask,
  ctx: CheckContext,
  onFingerprint: (parts: FingerprintParts) => void,
): Promise<CheckOutcome | 'not-ready'> {
  const observed = observeInputs(ctx.root, unit.inputs, ctx.isOrphan);
  if ('missing' in observed) return { kind: 'missing-input', input: observed.missing };
  const info = unitInfo(unit, inputsByName(unit, observed.files), 1);
  if (task.ready) {
    const ready = await guard('ready', () => task.ready?.(info));
    if (!ready) return 'not-ready';
  }
  const byDefault = defaultCheck(unit, task, ctx);
  if (byDefault.fingerprint) onFingerprint(byDefault.fingerprint);
  const defaultOutcome = byDefault.outcome;
  if (!task.stale || defaultOutcome.kind === 'missing-input') return defaultOutcome;
  const stale = await guard('stale', () => task.stale?.(info, { defaultStale: () => Promise.resolve(defaultOutcome.kind === 'stale') }));
  if (ctx.force) return { kind: 'stale', reason: { kind: 'forced' }, inputs: observed.files };
  if (!stale) return { kind: 'fresh', inputs: observed.files };
  const reason = defaultOutcome.kind === 'stale' ? defaultOutcome.reason : { kind: 'custom' as const };
  return { kind: 'stale', reason, inputs: observed.files };
}
