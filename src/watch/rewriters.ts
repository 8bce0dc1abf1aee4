/**
 * Which units watch holds back because they rewrite their own inputs (`sed -i ... {input}`),
 * which would otherwise loop: run, change the input, be stale again, run...
 *
 * A unit's run cannot be told apart from an edit made while it ran, and a unit whose
 * input changed while it ran is rerun. So one such run only makes the unit a suspect, and it
 * reruns; when that rerun changes its inputs again, it is taken for a rewriter and held back
 * until its inputs change from outside. A known rewriter is held after its first run of each
 * later change. A run that changes nothing clears it.
 */
import type { InputRewrite } from '../runner/self-rewrite.ts';

/** The suspects and known rewriters of one watch session, updated after each cycle. */
export class SelfRewriters {
  /** Units whose last run changed their inputs, once. */
  private readonly suspects = new Set<string>();
  /** Units seen rewriting their inputs on two runs in a row. */
  private readonly known = new Set<string>();
  private readonly holds = new Map<string, InputRewrite>();

  /** Units to hold back while their inputs are as their last run left them (for the next build). */
  get held(): ReadonlyMap<string, InputRewrite> {
    return this.holds;
  }

  /** After a cycle: the units that ran to success, and those of them whose run changed their inputs. */
  afterCycle(ran: ReadonlySet<string>, rewrote: ReadonlyMap<string, InputRewrite>): void {
    for (const unit of ran) {
      const rewrite = rewrote.get(unit);
      this.holds.delete(unit);
      if (rewrite === undefined) {
        this.suspects.delete(unit);
        this.known.delete(unit);
      } else if (this.suspects.has(unit) || this.known.has(unit)) {
        this.suspects.delete(unit);
        this.known.add(unit);
        this.holds.set(unit, rewrite);
      } else {
        this.suspects.add(unit);
      }
    }
  }

  /** Forgets everything (the config changed: the command may no longer rewrite anything). */
  clear(): void {
    this.suspects.clear();
    this.known.clear();
    this.holds.clear();
  }
}
