/**
 * The two checks of SPEC §2: is a unit ready (every input exists), and is it stale (Make's
 * mtime rule, maxAge, --force)? Custom `ready`/`stale` hooks are applied by the scheduler.
 */
import type { UnitPath } from '../graph/unit.ts';
import type { StaleReason } from './events.ts';
import { filesOf, statPath, type FileStat } from './files.ts';

export interface CheckContext {
  readonly root: string;
  readonly now: number;
  readonly maxAgeMs: number | undefined;
  readonly force: boolean;
}

export type CheckOutcome =
  /** An input does not exist (a glob input matches no file). */
  | { readonly kind: 'missing-input'; readonly input: UnitPath }
  /** `expiresAt`: when `maxAge` will make it stale (undefined without maxAge). */
  | { readonly kind: 'fresh'; readonly inputs: ReadonlyMap<string, FileStat>; readonly expiresAt?: number }
  | { readonly kind: 'stale'; readonly reason: StaleReason; readonly inputs: ReadonlyMap<string, FileStat> };

/** Input files with their stats as observed now, or the first missing input. */
export function observeInputs(root: string, inputs: readonly UnitPath[]): { missing: UnitPath } | { files: Map<string, FileStat> } {
  const files = new Map<string, FileStat>();
  for (const input of inputs) {
    if (!input.isGlob) {
      const s = statPath(root, input.path);
      if (!s) return { missing: input };
      files.set(input.path, s);
      continue;
    }
    const matched = filesOf(root, input);
    if (matched.length === 0) return { missing: input };
    for (const f of matched) {
      const s = statPath(root, f);
      if (s) files.set(f, s);
    }
  }
  return { files };
}

export function checkUnit(inputs: readonly UnitPath[], outputs: readonly UnitPath[], ctx: CheckContext): CheckOutcome {
  const observed = observeInputs(ctx.root, inputs);
  if ('missing' in observed) return { kind: 'missing-input', input: observed.missing };
  const files = observed.files;
  const verdict = staleReason(files, outputs, ctx);
  if (verdict.reason) return { kind: 'stale', reason: verdict.reason, inputs: files };
  const expiresAt = ctx.maxAgeMs !== undefined && verdict.oldest !== undefined ? verdict.oldest + ctx.maxAgeMs : undefined;
  return { kind: 'fresh', inputs: files, ...(expiresAt !== undefined ? { expiresAt } : {}) };
}

function staleReason(inputs: ReadonlyMap<string, FileStat>, outputs: readonly UnitPath[], ctx: CheckContext): { reason?: StaleReason; oldest?: number } {
  const reason = staleReasonOf(inputs, outputs, ctx);
  return typeof reason === 'number' ? { oldest: reason } : { reason };
}

/** A reason to run, or the oldest output's mtime when the unit is fresh. */
function staleReasonOf(inputs: ReadonlyMap<string, FileStat>, outputs: readonly UnitPath[], ctx: CheckContext): StaleReason | number {
  if (ctx.force) return { kind: 'forced' };
  if (outputs.length === 0) return { kind: 'no_outputs' };
  let oldest: { file: string; mtimeMs: number } | undefined;
  for (const out of outputs) {
    if (!out.isGlob) {
      // One stat per concrete output: this loop is most of a no-op build.
      const s = statPath(ctx.root, out.path);
      if (!s) return { kind: 'missing_output', output: out.path };
      if (!oldest || s.mtimeMs < oldest.mtimeMs) oldest = { file: out.path, mtimeMs: s.mtimeMs };
      continue;
    }
    const files = filesOf(ctx.root, out);
    if (files.length === 0) return { kind: 'missing_output', output: out.path };
    for (const f of files) {
      const s = statPath(ctx.root, f);
      if (!s) return { kind: 'missing_output', output: f };
      if (!oldest || s.mtimeMs < oldest.mtimeMs) oldest = { file: f, mtimeMs: s.mtimeMs };
    }
  }
  if (!oldest) return { kind: 'no_outputs' };
  for (const [file, s] of inputs) {
    if (s.mtimeMs > oldest.mtimeMs) return { kind: 'input_newer', input: file, output: oldest.file };
  }
  if (ctx.maxAgeMs !== undefined && ctx.now - oldest.mtimeMs > ctx.maxAgeMs) {
    return { kind: 'max_age', output: oldest.file, ageMs: ctx.now - oldest.mtimeMs };
  }
  return oldest.mtimeMs;
}

/**
 * Inputs whose stats differ from what was observed when the unit started, plus files that
 * appeared meanwhile in a glob input (pass `inputs` to look for those).
 */
export function changedInputs(root: string, observed: ReadonlyMap<string, FileStat>, inputs: readonly UnitPath[] = []): string[] {
  const changed: string[] = [];
  for (const [file, was] of observed) {
    const now = statPath(root, file);
    if (!now || now.mtimeMs !== was.mtimeMs || now.size !== was.size) changed.push(file);
  }
  for (const input of inputs) {
    if (!input.isGlob) continue;
    for (const file of filesOf(root, input)) if (!observed.has(file)) changed.push(file);
  }
  return changed;
}

/** What a unit's inputs looked like: changes when any input is added, removed or modified. */
export function inputSignature(inputs: ReadonlyMap<string, FileStat>): string {
  return JSON.stringify([...inputs].sort(([a], [b]) => (a < b ? -1 : 1)).map(([f, s]) => [f, s.mtimeMs, s.size]));
}
