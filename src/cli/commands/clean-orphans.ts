/**
 * `runcue clean --orphans`: outputs that a unit recorded writing (`.runcue/outputs/`) when that
 * unit no longer exists (its input was removed, a re-split made fewer pages, its task was renamed
 * or deleted). Only recorded files are candidates, so nothing runcue did not write is touched;
 * a file that a current unit claims as an output or reads as an input is kept.
 */
import type { ResolvedConfig } from '../../config/resolved.ts';
import type { UnitGraph } from '../../graph/unit.ts';
import { filesOf } from '../../runner/files.ts';
import { allOutputRecords, readOutputRecord, recordedFilesOf } from '../../runner/output-record.ts';
import { checkRemovals, type CleanPlan } from './clean.ts';

export function planOrphans(config: ResolvedConfig, graph: UnitGraph): CleanPlan {
  // A fan-in's glob input is no claim: an orphan it matches is exactly the stale member to remove.
  const inUse = new Set<string>();
  for (const unit of graph.units.values()) {
    for (const p of [...unit.inputs, ...unit.outputs]) if (!p.isGlob) inUse.add(p.path);
    if (unit.placeholder || !unit.outputs.some((o) => o.isGlob)) continue;
    const record = readOutputRecord(config.root, unit.id);
    for (const file of record ? recordedFilesOf(record, unit.outputs) : []) inUse.add(file);
  }
  const owners = new Map<string, string>();
  const kept: { path: string; reason: string }[] = [];
  for (const record of allOutputRecords(config.root)) {
    if (graph.units.has(record.unit)) continue;
    for (const file of record.files) {
      if (filesOf(config.root, { name: '', path: file, isGlob: false }).length === 0) continue;
      if (inUse.has(file)) kept.push({ path: file, reason: `${record.unit} no longer exists, but a current unit reads or writes it` });
      else owners.set(file, record.unit);
    }
  }
  return checkRemovals(config, owners, kept);
}
