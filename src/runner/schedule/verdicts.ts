/**
 * What follows a unit's check: fresh units settle, stale ones are queued (or, in a plan, settle
 * as would-run), missing inputs block, and a unit another runcue process runs is waited for.
 */
import type { Unit, UnitPath } from '../../graph/unit.ts';
import type { StaleReason } from '../events.ts';
import type { FileSystem } from '../file-system.ts';
import { snapshot, statsOf, type FileStat } from '../files.ts';
import { abandonedAttemptRuns } from '../abandoned.ts';
import { inputsByName, unitInfo, viewFor, type UnitView } from '../execute/unit-view.ts';
import type { InflightRecord } from '../inflight.ts';
import { interruptedOutcome, runningElsewhere, type ElsewhereWaits } from '../inflight-wait.ts';
import { missingInputMessage } from '../missing-input.ts';
import { rewriteWarning, unchangedSinceRewrite } from '../self-rewrite.ts';
import { inputSignature, type CheckOutcome, type ClockSkew } from '../staleness.ts';
import type { RunContext } from './context.ts';
import { couldMake } from './plan-inputs.ts';

/** A unit another process holds: its record, and whether that process died and is being stopped. */
export interface Held {
  readonly record: InflightRecord;
  readonly stopping?: boolean;
}

/** Acts on check verdicts and on other processes holding units. */
export class Verdicts {
  private readonly ctx: RunContext;
  private readonly elsewhere: ElsewhereWaits;
  /** A plan settles stale units as would-run instead of queueing them. */
  private readonly dryRun: boolean;

  constructor(ctx: RunContext, elsewhere: ElsewhereWaits) {
    this.ctx = ctx;
    this.elsewhere = elsewhere;
    this.dryRun = ctx.o.dryRun ?? false;
  }

  /**
   * The in-flight record has the last word, read after the outputs were: a unit another process
   * runs waits for it (its outputs may be half-written), one whose earlier run died is stale.
   * `view`: the unit's view when the check built one (see onChecked).
   */
  afterCheck(unit: Unit, outcome: CheckOutcome, view?: UnitView): void {
    // An abandoned attempt of this process still holds the record: onChecked blocks the unit.
    const mineAbandoned = abandonedAttemptRuns(this.ctx.o.fs.root, unit.id);
    const state = outcome.kind === 'missing-input' || mineAbandoned ? undefined : this.ctx.o.inflight?.inspect(unit.id);
    if (state?.kind === 'elsewhere') this.awaitElsewhere(unit, state);
    else this.onChecked(unit, state?.kind === 'interrupted' ? interruptedOutcome(outcome, state.record) : outcome, view);
  }

  /** Waits (polling its record) for another runcue process to finish `unit`, then checks it again. */
  awaitElsewhere(unit: Unit, held: Held): void {
    const { ctx } = this;
    const reason = runningElsewhere(held.record, held.stopping);
    ctx.book.transition(unit.id, 'elsewhere', { blocked: reason });
    if (this.dryRun) {
      this.wouldRun(unit);
      return;
    }
    ctx.o.emit({ type: 'unit:log', time: ctx.now(), task: unit.task, unit: unit.id, stream: 'warning', text: reason.message });
    const stillHeld = (): boolean => ctx.o.inflight?.inspect(unit.id).kind === 'elsewhere';
    this.elsewhere.wait(unit.id, reason, stillHeld, () => {
      ctx.book.makeCheckable(unit.id);
      ctx.pump();
    });
  }

  /** Before a queued unit takes a slot: true when it waits for another process instead, or is checked again. */
  divert(id: string): boolean {
    const held = this.ctx.o.inflight?.inspect(id);
    // Alone (a rehearsal), a unit no other process holds is not diverted: no lookup of it.
    if (held?.kind !== 'elsewhere' && this.ctx.o.alone) return false;
    const unit = this.ctx.book.unit(id);
    if (held?.kind === 'elsewhere' && unit) {
      // Started elsewhere since it was checked: wait for it without spending a rate slot.
      this.awaitElsewhere(unit, held);
      return true;
    }
    return unit !== undefined && this.builtElsewhere(unit);
  }

  /**
   * Before its first start: did its outputs change since it was found stale? Then another runcue
   * process built it meanwhile (and released it): check it again rather than run it twice.
   */
  private builtElsewhere(unit: Unit): boolean {
    // Alone (a rehearsal): no other process builds it, and its outputs were not statted.
    if (this.ctx.o.alone) return false;
    const pending = this.ctx.pending.get(unit.id);
    if (!pending || pending.attempt > 1 || pending.pushBacks > 0 || sameStats(this.ctx.o.fs, unit.outputs, pending.outputs)) return false;
    this.ctx.book.makeCheckable(unit.id);
    this.ctx.pump();
    return true;
  }

  /** Acts on a check's verdict. `checked`: the view the check built (hash freshness fingerprints it), reused when the unit is stale. */
  onChecked(unit: Unit, outcome: CheckOutcome, checked?: UnitView): void {
    const { ctx } = this;
    if (outcome.kind !== 'missing-input' && outcome.skew) this.warnSkew(unit, outcome.skew);
    switch (outcome.kind) {
      case 'missing-input': {
        const producer = [...ctx.book.deps(unit.id)].find((d) => ctx.book.unit(d)?.outputs.some((o) => couldMake(o, outcome.input)));
        const message = producer
          ? `${unit.id} waits for ${outcome.input.path}: ${producer} did not produce it`
          : missingInputMessage(ctx.o.config, unit, outcome.input.path, ctx.o.noDeps);
        ctx.book.block(unit.id, { kind: 'not_ready', input: outcome.input.path, ...(producer ? { producer } : {}), message });
        return;
      }
      case 'fresh':
        if (outcome.expiresAt !== undefined) ctx.ledger.expiresAt(outcome.expiresAt);
        ctx.book.transition(unit.id, 'fresh');
        ctx.book.counts.fresh++;
        ctx.o.emit({ type: 'unit:skip', time: ctx.now(), task: unit.task, unit: unit.id });
        // No closure for a hook the config does not have: a no-op settles 100,000s of units here.
        if (ctx.hooks.has('skip')) ctx.hooks.unit('skip', unit, () => unitInfo(unit, inputsByName(unit, outcome.inputs), 1), {});
        ctx.settle(unit);
        return;
      case 'stale':
        this.onStale(unit, outcome.reason, outcome.inputs, checked);
        return;
    }
  }

  private onStale(unit: Unit, reason: StaleReason, inputs: ReadonlyMap<string, FileStat>, checked: UnitView | undefined): void {
    const { ctx } = this;
    const rewrite = unchangedSinceRewrite(ctx.o.rewroteEarlier, unit.id, inputs);
    if (rewrite) {
      ctx.o.emit({ type: 'unit:log', time: ctx.now(), task: unit.task, unit: unit.id, stream: 'warning', text: rewriteWarning(rewrite) });
      this.onChecked(unit, { kind: 'fresh', inputs });
      return;
    }
    const task = ctx.o.config.tasks.get(unit.task);
    const earlier = ctx.o.failedEarlier?.get(unit.id);
    if (abandonedAttemptRuns(ctx.o.fs.root, unit.id)) {
      ctx.book.block(unit.id, {
        kind: 'failed_earlier',
        message: `${unit.id} failed earlier and its function still runs (it ignored its abort signal)`,
      });
      return;
    }
    if (earlier !== undefined && earlier === inputSignature(inputs)) {
      ctx.ledger.failedOn(unit.id, earlier);
      ctx.book.block(unit.id, { kind: 'failed_earlier', message: `${unit.id} failed earlier; waits for one of its inputs to change` });
      return;
    }
    ctx.book.transition(unit.id, 'queued', { stale: reason });
    if (this.dryRun) {
      this.wouldRun(unit);
      return;
    }
    if (!task) return;
    const view = viewFor(unit, task, inputs, checked);
    const outputs = ctx.o.alone ? NO_STATS : statsOf(ctx.o.fs, unit.outputs);
    ctx.pending.set(unit.id, { reason, inputs, attempt: 1, pushBacks: 0, outputs, view });
    ctx.queue.push(unit.id, task.uses, task.priority);
  }

  /** (plan) Settles a unit that a real build would run (or wait for) without running it. */
  private wouldRun(unit: Unit): void {
    this.ctx.book.transition(unit.id, 'would-run');
    this.ctx.settle(unit);
  }

  /** Make's "Clock skew detected": the verdict stands, but mtimes cannot be trusted. */
  private warnSkew(unit: Unit, skew: ClockSkew): void {
    const text = `clock skew detected: ${skew.file} has modification time ${(skew.aheadMs / 1000).toFixed(1)} s in the future; freshness by mtime may be wrong (touch the file, or use freshness: 'hash')`;
    this.ctx.o.emit({ type: 'unit:log', time: this.ctx.now(), task: unit.task, unit: unit.id, stream: 'warning', text });
  }
}

const NO_STATS: ReadonlyMap<string, FileStat> = new Map();

/**
 * Whether `paths` are now exactly the files `before` holds, each with the same mtime and size
 * (what comparing their input signatures says), without a snapshot for concrete paths: this
 * runs before every start.
 */
function sameStats(fs: FileSystem, paths: readonly UnitPath[], before: ReadonlyMap<string, FileStat>): boolean {
  const only = paths.length === 1 ? paths[0] : undefined;
  if (!only || only.isGlob) return sameSnapshot(snapshot(fs, paths), before);
  const now = fs.stat(only.path);
  if (!now?.isFile()) return before.size === 0;
  const was = before.get(only.path);
  return before.size === 1 && was !== undefined && was.mtimeMs === now.mtimeMs && was.size === now.size;
}

function sameSnapshot(now: ReadonlyMap<string, FileStat>, before: ReadonlyMap<string, FileStat>): boolean {
  if (now.size !== before.size) return false;
  for (const [file, s] of now) {
    const was = before.get(file);
    if (!was || was.mtimeMs !== s.mtimeMs || was.size !== s.size) return false;
  }
  return true;
}
