/**
 * `runcue touch [targets...]`: marks the selected units fresh without running them (Make's
 * `-t`), for a change known to be cosmetic. Every output of every touchable unit gets one common
 * mtime, so an output that is also a downstream input is never newer than that unit's outputs
 * (equal mtimes are fresh). With `freshness: 'hash'` the unit's fingerprint is recorded too.
 * Inputs are untouched and no output is ever created: a unit with a missing output or input is
 * skipped. The files a glob output matches are recorded as the unit's (.runcue/outputs/).
 */
import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../../config/resolved.ts';
import { tasksNeeded } from '../../graph/select.ts';
import type { Unit } from '../../graph/unit.ts';
import { filesOf, type FileStat } from '../../runner/files.ts';
import { fingerprintParts, recordFingerprint } from '../../runner/fingerprint.ts';
import { createInflightRecords, type InflightRecords } from '../../runner/inflight.ts';
import { orphanCheck } from '../../runner/orphans.ts';
import { recordOutputs } from '../../runner/output-record.ts';
import { observeInputs } from '../../runner/staleness.ts';
import { fingerprintCommand } from '../../runner/unit-run.ts';
import type { CliContext, CommonOptions } from '../options.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { loadPlan } from './shared.ts';

/** A unit to touch: its existing output files and its inputs as observed now. */
export interface Touchable {
  readonly unit: Unit;
  readonly files: readonly string[];
  readonly inputs: ReadonlyMap<string, FileStat>;
}

/** Which units can be marked fresh, and why the others cannot. */
export interface TouchPlan {
  readonly touch: readonly Touchable[];
  readonly skipped: readonly { readonly unit: string; readonly reason: string }[];
}

/** Touches the outputs of the selected units; exit 1 when some unit could not be marked fresh. */
export async function touchCommand(targets: readonly string[], options: CommonOptions, context: CliContext): Promise<number> {
  const loaded = await loadPlan(targets, options, context, true);
  if (!loaded.ok) return loaded.exitCode;
  const { config } = loaded;
  const units = [...loaded.plan.selected].flatMap((id) => {
    const unit = loaded.plan.graph.units.get(id);
    return unit ? [unit] : [];
  });
  // A fan-in's recorded members are what build would read: never an orphan (orphans.ts).
  const isOrphan = orphanCheck(config, loaded.plan.graph, tasksNeeded(loaded.plan.selection, loaded.plan.tasks));
  const touchPlan = planTouch(config, units, isOrphan);
  const now = new Date();
  const inflight = createInflightRecords({ root: config.root, now: Date.now });
  const skipped = [...touchPlan.skipped];
  let touched = 0;
  let files = 0;
  for (const entry of touchPlan.touch) {
    try {
      markFresh(config, entry, now, inflight);
      touched++;
      files += entry.files.length;
    } catch (error) {
      skipped.push({ unit: entry.unit.id, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  if (options.json) {
    context.stdout.write(`${JSON.stringify({ version: 1, time: now.getTime(), touched, files, skipped }, null, 2)}\n`);
  } else {
    for (const s of skipped) context.stderr.write(`runcue: skipped ${s.unit}: ${s.reason}\n`);
    const tail = skipped.length > 0 ? `, ${skipped.length} skipped` : '';
    context.stdout.write(`runcue: touched ${touched} unit${touched === 1 ? '' : 's'} (${files} file${files === 1 ? '' : 's'})${tail}\n`);
  }
  return skipped.length > 0 ? EXIT_CODES.failed : EXIT_CODES.ok;
}

/** Sets the outputs' mtimes; for a hash task, then records the fingerprint of what is there now. */
function markFresh(config: ResolvedConfig, entry: Touchable, now: Date, inflight: InflightRecords): void {
  const state = inflight.inspect(entry.unit.id);
  if (state.kind === 'elsewhere') throw new Error(`it runs in another runcue process (pid ${state.record.pid}) now`);
  const task = config.tasks.get(entry.unit.task);
  // Computed before touching anything, so a failure (an unreadable input) leaves no half-done unit.
  const parts =
    task?.freshness === 'hash'
      ? fingerprintParts(config.root, task, entry.inputs, fingerprintCommand(task, entry.unit, entry.inputs))
      : undefined;
  if (parts && !parts.ok) throw new Error(`cannot read input ${parts.error.input}`);
  for (const file of entry.files) utimesSync(join(config.root, file), now, now);
  const failure = parts ? recordFingerprint(config.root, entry.unit, parts.value) : undefined;
  if (failure) throw new Error(failure.message);
  // An interrupted run's record would keep the unit stale: touching says its outputs are good.
  if (state.kind === 'interrupted') inflight.forget(entry.unit.id);
  // The files matching a glob output now become the unit's own: touch is how a user adopts them.
  recordOutputs(config.root, entry.unit, entry.files, entry.inputs);
}

/** Which units can be touched: those whose inputs exist and whose every output exists (a glob: one file or more). */
export function planTouch(config: ResolvedConfig, units: readonly Unit[], isOrphan?: (file: string) => boolean): TouchPlan {
  const touch: Touchable[] = [];
  const skipped: { unit: string; reason: string }[] = [];
  for (const unit of units) {
    if (unit.placeholder) {
      skipped.push({ unit: unit.id, reason: 'not known yet: the dynamic producer upstream has not run' });
      continue;
    }
    if (unit.outputs.length === 0) {
      skipped.push({ unit: unit.id, reason: 'it has no outputs (it runs on every build)' });
      continue;
    }
    const files: string[] = [];
    const missing = unit.outputs.find((output) => {
      const found = filesOf(config.root, output);
      files.push(...found);
      return found.length === 0;
    });
    if (missing) {
      skipped.push({ unit: unit.id, reason: `output missing: ${missing.path}` });
      continue;
    }
    const observed = observeInputs(config.root, unit.inputs, isOrphan);
    if ('missing' in observed) skipped.push({ unit: unit.id, reason: `input missing: ${observed.missing.path}` });
    else touch.push({ unit, files, inputs: observed.files });
  }
  return { touch, skipped };
}
