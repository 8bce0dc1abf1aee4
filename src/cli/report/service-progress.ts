/**
 * One service's live use for the tty display: units running on it now, its starts within its
 * shortest rate window, and a push-back's pause. O(1) per start (amortised).
 */
import type { RateWindow, ServiceLimits } from '../../runner/events.ts';
import { formatTimeOfDay, type Palette } from './format.ts';

/** Compaction threshold of the start-time queue: below it, dropped entries just wait. */
const COMPACT_AT = 1024;

/** One service's live use: units running on it now, and its starts within its shortest rate window. */
export class ServiceProgress {
  readonly name: string;
  readonly concurrent: number | null;
  /** The rate with the shortest window (what the display counts against), when it has any. */
  readonly rate: RateWindow | undefined;
  /** Units using it that are running now. */
  running = 0;
  /** Start times, oldest first; those before `head` have left the window (a queue without shifts). */
  private readonly starts: number[] = [];
  private head = 0;
  /** A push-back's pause: until when, and the unit whose push-back set it. */
  private pause: { readonly until: number; readonly unit: string } | undefined;

  constructor(name: string, limits: ServiceLimits) {
    this.name = name;
    this.concurrent = limits.concurrent;
    let shortest: RateWindow | undefined;
    for (const rate of limits.rates) if (shortest === undefined || rate.windowMs < shortest.windowMs) shortest = rate;
    this.rate = shortest;
  }

  /** A unit using it started at `time` (every attempt counts, as it does for the limiter). */
  start(time: number): void {
    if (this.rate === undefined) return;
    this.starts.push(time);
    // trimming here too keeps the queue at about one window's starts even if nothing renders
    this.trim(time);
  }

  /** A unit's push-back paused the service until `until`; a longer pause already set stays. */
  pauseUntil(until: number, unit: string): void {
    if (this.pause === undefined || until > this.pause.until) this.pause = { until, unit };
  }

  /** Forgets starts that left the window, and a pause that ended, by `now`; returns whether any did. */
  trim(now: number): boolean {
    const pauseEnded = this.pause !== undefined && this.pause.until <= now;
    if (pauseEnded) this.pause = undefined;
    return this.trimStarts(now) || pauseEnded;
  }

  private trimStarts(now: number): boolean {
    if (this.rate === undefined) return false;
    const edge = now - this.rate.windowMs;
    let dropped = 0;
    for (;;) {
      const time = this.starts[this.head];
      if (time === undefined || time > edge) break;
      this.head += 1;
      dropped += 1;
    }
    if (this.head >= COMPACT_AT && this.head * 2 >= this.starts.length) {
      this.starts.splice(0, this.head);
      this.head = 0;
    }
    return dropped > 0;
  }

  /** Starts within the window as of the last trim. */
  get recentStarts(): number {
    return this.starts.length - this.head;
  }

  /** At its rate or concurrency limit: the display highlights it as the bottleneck. */
  get full(): boolean {
    const rateFull = this.rate !== undefined && this.recentStarts >= this.rate.count;
    return rateFull || (this.concurrent !== null && this.running >= this.concurrent);
  }

  /** Paused by a push-back (as of the last trim). */
  get paused(): boolean {
    return this.pause !== undefined;
  }

  /**
   * `ocr 60/min (42 in the last minute), 5/5 running`: the rate as SPEC's progress line writes it
   * (`▸ ocr 60/min`) with its starts in the window, then the units running (`/5` only with a
   * cap), and `, paused until 12:03:05 (pushed back by extract[page=3])` while a push-back
   * pauses it. Without a rate: `ocr 5/5 running`.
   */
  text(palette: Palette): string {
    const parts: string[] = [];
    parts.push(this.concurrent === null ? `${this.running} running` : `${this.running}/${this.concurrent} running`);
    if (this.pause !== undefined) parts.push(`paused until ${formatTimeOfDay(this.pause.until)} (pushed back by ${this.pause.unit})`);
    const rate =
      this.rate === undefined
        ? ''
        : `${formatRate(this.rate.count, this.rate.windowMs)} (${this.recentStarts} in the last ${formatWindow(this.rate.windowMs)}), `;
    const text = `${this.name} ${rate}${parts.join(', ')}`;
    return this.full || this.paused ? palette.yellow(text) : palette.dim(text);
  }
}

/** `60/min`, `5/s`, `5000/hour`, `100/10s`: a rate the way the config writes it. */
function formatRate(count: number, windowMs: number): string {
  return `${count}/${formatPerWindow(windowMs).slice('per '.length)}`;
}

/** `second`, `minute`, `hour`, `day`; `10s`, `5min`, `1500ms` for other windows. */
function formatWindow(windowMs: number): string {
  const long: Record<number, string> = { 1000: 'second', 60_000: 'minute', 3_600_000: 'hour', 86_400_000: 'day' };
  return long[windowMs] ?? formatPerWindow(windowMs).slice('per '.length);
}

/** Window lengths by name: one of them reads `per min`, several `per 5min`. */
const WINDOW_UNITS: readonly (readonly [ms: number, one: string, several: string])[] = [
  [86_400_000, 'day', 'd'],
  [3_600_000, 'hour', 'h'],
  [60_000, 'min', 'min'],
  [1000, 's', 's'],
];

/** `per s`, `per min`, `per hour`, `per day`; `per 10s`, `per 5min`, `per 1500ms` for other windows. */
export function formatPerWindow(windowMs: number): string {
  for (const [ms, one, several] of WINDOW_UNITS) {
    if (windowMs === ms) return `per ${one}`;
    if (windowMs % ms === 0) return `per ${windowMs / ms}${several}`;
  }
  return `per ${windowMs}ms`;
}
