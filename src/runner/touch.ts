/**
 * `runcue touch`: marks the selected units fresh without running them (Make's `-t`), for a change
 * known to be cosmetic. Every output of every touchable unit gets one common mtime, so an output
 * that is also a downstream input is never newer than that unit's outputs (equal mtimes are
 * fresh). With `freshness: 'hash'` the unit's fingerprint is recorded too. Inputs are untouched
 * and no output is ever created: a unit with a missing output or input is skipped. The files a
 * glob output matches are recorded as the unit's (.runcue/outputs/).
 */
import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../config/resolved.ts';
import { tasksNeeded } from '../graph/select.ts';
import type { Unit } from '../graph/unit.ts';
import { describeThrown } from '../describe-thrown.ts';
import { err, ok, type Result } from '../result.ts';
import { filesOf, type FileStat } from './files.ts';
import { fingerprintParts, recordFingerprint } from './fingerprint.ts';
import { createInflightRecords, type InflightRecords } from './inflight.ts';
import type { StaticPlan } from './inspect.ts';
import { orphanCheck } from './orphans.ts';
import { recordOutputs } from './output-record.ts';
import { systemClock, type Clock } from './ports.ts';
import { observeInputs } from './staleness.ts';
import { fingerprintCommand } from './execute/unit-view.ts';
import { nodeFileSystem } from './file-system.ts';

/** A unit to touch: its existing output files and directories, and its inputs as observed now. */
export interface Touchable {
  readonly unit: Unit;
  readonly files: readonly string[];
  readonly dirs: readonly string[];
  readonly inputs: ReadonlyMap<string, FileStat>;
}

/** A unit that was not marked fresh, and why (`output missing: out/a.txt`). */
export interface TouchSkip {
  readonly unit: string;
  readonly reason: string;
}

/** Which units can be marked fresh, and why the others cannot. */
export interface TouchPlan {
  readonly touch: readonly Touchable[];
  readonly skipped: readonly TouchSkip[];
}

/** What `touch` did: the common mtime it set, the units and files it marked fresh, the units it skipped. */
export interface TouchResult {
  readonly time: number;
  readonly touched: number;
  readonly files: number;
  readonly skipped: readonly TouchSkip[];
}

/** Marks the selected units of `plan` fresh; a unit that cannot be is skipped with its reason. */
export function touchUnits(config: ResolvedConfig, plan: StaticPlan, clock: Clock = systemClock): TouchResult {
  const units = [...plan.selected].flatMap((id) => {
    const unit = plan.graph.units.get(id);
    return unit ? [unit] : [];
  });
  // A fan-in's recorded members are what build would read: never an orphan (orphans.ts).
  const isOrphan = orphanCheck(nodeFileSystem(config.root), config, plan.graph, tasksNeeded(plan.selection, plan.tasks));
  const touchPlan = planTouch(config, units, isOrphan);
  const time = clock.now();
  const inflight = createInflightRecords({ root: config.root, now: () => clock.now() });
  const skipped = [...touchPlan.skipped];
  let touched = 0;
  let files = 0;
  for (const entry of touchPlan.touch) {
    const marked = markFresh(config, entry, new Date(time), inflight);
    if (marked.ok) {
      touched++;
      files += entry.files.length + entry.dirs.length;
    } else {
      skipped.push({ unit: entry.unit.id, reason: marked.error });
    }
  }
  return { time, touched, files, skipped };
}

/** Sets the outputs' mtimes; for a hash task, then records the fingerprint of what is there now. */
function markFresh(config: ResolvedConfig, entry: Touchable, now: Date, inflight: InflightRecords): Result<void, string> {
  try {
    const state = inflight.inspect(entry.unit.id);
    if (state.kind === 'elsewhere') return err(`it runs in another runcue process (pid ${state.record.pid}) now`);
    const task = config.tasks.get(entry.unit.task);
    // Computed before touching anything, so a failure (an unreadable input) leaves no half-done unit.
    const parts =
      task?.freshness === 'hash'
        ? fingerprintParts(nodeFileSystem(config.root), task, entry.inputs, fingerprintCommand(task, entry.unit, entry.inputs))
        : undefined;
    if (parts && !parts.ok) return err(`cannot read input ${parts.error.input}`);
    for (const file of [...entry.files, ...entry.dirs]) utimesSync(join(config.root, file), now, now);
    const failure = parts ? recordFingerprint(nodeFileSystem(config.root), entry.unit, parts.value) : undefined;
    if (failure) return err(failure.message);
    // An interrupted run's record would keep the unit stale: touching says its outputs are good.
    if (state.kind === 'interrupted') inflight.forget(entry.unit.id);
    // The files matching a glob output now become the unit's own: touch is how a user adopts them.
    recordOutputs(nodeFileSystem(config.root), entry.unit, entry.files, entry.inputs);
    return ok(undefined);
  } catch (error) {
    // The file system's own refusals (a read-only output, a vanished file) skip the unit.
    return err(describeThrown(error));
  }
}

/** Which units can be touched: those whose inputs exist and whose every non-optional output exists (a glob: one file or more). */
function planTouch(config: ResolvedConfig, units: readonly Unit[], isOrphan?: (file: string) => boolean): TouchPlan {
  const touch: Touchable[] = [];
  const skipped: TouchSkip[] = [];
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
    const dirs: string[] = [];
    const fs = nodeFileSystem(config.root);
    const missing = unit.outputs.find((output) => {
      // A directory output (`output: 'site'`) is re-dated itself, as a build that wrote it does.
      if (!output.isGlob && fs.stat(output.path)?.isDirectory()) {
        dirs.push(output.path);
        return false;
      }
      const found = filesOf(fs, output);
      files.push(...found);
      // An optional output may be absent, as it may after a build.
      return found.length === 0 && output.optional !== true;
    });
    if (missing) {
      skipped.push({ unit: unit.id, reason: `output missing: ${missing.path}` });
      continue;
    }
    const observed = observeInputs(nodeFileSystem(config.root), unit.inputs, isOrphan);
    if ('missing' in observed) skipped.push({ unit: unit.id, reason: `input missing: ${observed.missing.path}` });
    else touch.push({ unit, files, dirs, inputs: observed.files });
  }
  return { touch, skipped };
}
