/**
 * Who may start now: the queue drained against service pauses (push-backs) and the limiter, with
 * the reason each lane was last refused (for stall diagnostics) and the time to look again.
 */
import type { ResolvedConfig, ResolvedTask } from '../../config/resolved.ts';
import type { BlockedReason } from '../events.ts';
import type { Limiter } from '../limiter.ts';
import type { Clock, Random } from '../ports.ts';
import { pausableServices } from '../push-back.ts';
import type { RunQueue } from '../queue.ts';
import { fullJitter } from './backoff.ts';

/** What the loop does with a unit at the head of its lane. */
export interface AdmissionLoop {
  /** True when the unit was dealt with another way (it leaves the queue without a slot). */
  divert(id: string): boolean;
  /** The unit got its slots at `now` (one clock reading, shared with `unit:start`). */
  start(id: string, services: readonly string[], now: number): void;
}

/** One pass over the queue: how many started, and when a refused lane may go on. */
export interface AdmissionPass {
  readonly started: number;
  readonly wakeAt: number | undefined;
}

/** A push-back's effect: how long the unit waits, and which services pause with it. */
export interface PushBackPause {
  readonly delayMs: number;
  readonly services: readonly string[];
}

/** What admission reads: the services (for push-back pauses), the limiter, time and chance. */
export interface AdmissionOptions {
  readonly config: ResolvedConfig;
  readonly limiter: Limiter;
  readonly clock: Clock;
  readonly random: Random;
}

const LANE_SEPARATOR = '\u0000';

/** The run's admission: pauses, push-back streaks and lane refusals live here. */
export class Admission {
  private readonly o: AdmissionOptions;
  /** Services paused by a push-back, until when. */
  private readonly pausedUntil = new Map<string, number>();
  /** Consecutive push-backs per service, for exponential backoff when no Retry-After is given. */
  private readonly pushBackStreak = new Map<string, number>();
  /** When each service last pushed back. */
  private readonly pushedBackAt = new Map<string, number>();
  /**
   * Why each lane's head was last refused a slot (for diagnostics); undefined once it was
   * admitted (kept, not deleted: a set and a delete per start reallocated the table).
   */
  private readonly laneRefusal = new Map<string, BlockedReason | undefined>();
  private readonly fullReasons = new Map<string, { readonly running: number; readonly reason: BlockedReason }>();
  /** The lane key last made, and of which services (a task's units share one array): no join per admitted unit. */
  private lastServices: readonly string[] | undefined;
  private lastLane = '';

  constructor(options: AdmissionOptions) {
    this.o = options;
  }

  /**
   * The pass in progress: fields and one method made once, not a closure and its context per
   * pass (a pass per unit that ends, 10,000s in a rehearsal).
   */
  private pass: { loop: AdmissionLoop | undefined; wakeAt: number | undefined; started: number } = {
    loop: undefined,
    wakeAt: undefined,
    started: 0,
  };
  private readonly offer = (id: string, services: readonly string[]): boolean => this.tryStart(id, services);

  /** Starts every queued unit that may start now. */
  admit(queue: RunQueue, loop: AdmissionLoop): AdmissionPass {
    // A pass started from inside another (not done by the scheduler, whose loop does not
    // re-enter) gets its own state, and gives the outer one back.
    const outer = this.pass.loop === undefined ? undefined : this.pass;
    if (outer) this.pass = { loop: undefined, wakeAt: undefined, started: 0 };
    const pass = this.pass;
    pass.loop = loop;
    pass.wakeAt = undefined;
    pass.started = 0;
    try {
      queue.drain(this.offer);
    } finally {
      pass.loop = undefined;
      if (outer) this.pass = outer;
    }
    return { started: pass.started, wakeAt: pass.wakeAt };
  }

  /** Offers the unit at the head of its lane a start; false when its lane must wait. */
  private tryStart(id: string, services: readonly string[]): boolean {
    const pass = this.pass;
    const loop = pass.loop as AdmissionLoop;
    // One clock reading per unit, shared by the limiter and unit:start: starting a burst of
    // units takes real time, and a stale reading would let the window admit too many.
    const now = this.o.clock.now();
    const lane = this.laneOf(services);
    const paused = this.paused(services, now);
    if (paused) {
      pass.wakeAt = Math.min(pass.wakeAt ?? Infinity, paused.until);
      this.laneRefusal.set(lane, paused);
      return false;
    }
    // A full service refuses before the unit is looked at: the loop frees a slot and comes
    // back after each unit that ends, so a look per refusal (a stat of its outputs) doubled
    // the look per start.
    const full = this.o.limiter.full(services);
    if (full) {
      this.laneRefusal.set(lane, this.fullReason(full.service));
      return false;
    }
    if (loop.divert(id)) return true;
    const admission = this.o.limiter.tryAcquire(services, now);
    if (admission.ok) {
      if (this.laneRefusal.get(lane) !== undefined) this.laneRefusal.set(lane, undefined);
      pass.started++;
      loop.start(id, services, now);
      return true;
    }
    if (admission.kind === 'rate-limited') {
      pass.wakeAt = Math.min(pass.wakeAt ?? Infinity, admission.until);
      this.laneRefusal.set(lane, {
        kind: 'rate_limited',
        service: admission.service,
        until: admission.until,
        message: `${admission.service} rate limit reached; next start at ${new Date(admission.until).toISOString()}`,
      });
    } else {
      this.laneRefusal.set(lane, this.fullReason(admission.service));
    }
    return false;
  }

  private laneOf(services: readonly string[]): string {
    if (services !== this.lastServices) {
      this.lastServices = services;
      this.lastLane = services.join(LANE_SEPARATOR);
    }
    return this.lastLane;
  }

  /** Why a full service refuses, made again only when its count of running units changed. */
  private fullReason(service: string): BlockedReason {
    const running = this.o.limiter.running(service);
    const known = this.fullReasons.get(service);
    if (known?.running === running) return known.reason;
    const reason: BlockedReason = { kind: 'service_full', service, message: `${service} is full (${running} running)` };
    this.fullReasons.set(service, { running, reason });
    return reason;
  }

  private paused(services: readonly string[], now: number): Extract<BlockedReason, { kind: 'rate_limited' }> | undefined {
    // Nothing paused (most runs): no lookups, and no iterator per unit admitted.
    if (this.pausedUntil.size === 0) return undefined;
    for (const s of services) {
      const until = this.pausedUntil.get(s) ?? 0;
      if (until > now)
        return { kind: 'rate_limited', service: s, until, message: `${s} pushed back; paused until ${new Date(until).toISOString()}` };
    }
    return undefined;
  }

  /**
   * The service said "too many requests": pause it for the longest pause asked so far
   * (simultaneous 429s do not stack), or back off exponentially with full jitter when no
   * Retry-After was given. Only an attempt that started after the service last pushed back
   * raises the backoff: one already running then is part of the same storm of 429s (ten units
   * in flight pushed back at once would otherwise pause the service for 2^9 backoffs).
   */
  pushBack(task: ResolvedTask, retryAfterMs: number | undefined, startedAt?: number): PushBackPause {
    const services = pausableServices(task, this.o.config);
    const now = this.o.clock.now();
    const started = startedAt ?? now;
    const inStorm = services.some((s) => started < (this.pushedBackAt.get(s) ?? -Infinity));
    const step = inStorm ? 0 : 1;
    const streak = Math.max(1, ...services.map((s) => (this.pushBackStreak.get(s) ?? 0) + step));
    for (const s of services) {
      this.pushBackStreak.set(s, streak);
      this.pushedBackAt.set(s, now);
    }
    const delayMs = retryAfterMs ?? fullJitter(this.o.random, task.backoffMs, streak - 1);
    const until = now + delayMs;
    for (const s of services) this.pausedUntil.set(s, Math.max(this.pausedUntil.get(s) ?? 0, until));
    return { delayMs, services };
  }

  /** A unit of `services` succeeded: their push-back streak ends. */
  succeeded(services: readonly string[]): void {
    if (this.pushBackStreak.size === 0) return;
    for (const s of services) this.pushBackStreak.delete(s);
  }

  /** Why the lane of `services` was last refused, if it was. */
  refusal(services: readonly string[]): BlockedReason | undefined {
    return this.laneRefusal.get(services.join(LANE_SEPARATOR));
  }
}
