/**
 * "The service pushed back": a command exits 75 (EX_TEMPFAIL), optionally after writing a
 * Retry-After value to $RUNCUE_RETRY_AFTER_FILE, or a function throws {@link RateLimited}.
 */
import { readFileSync, rmSync } from 'node:fs';
import { parseDuration } from '../config/duration.ts';
import type { ResolvedConfig, ResolvedTask } from '../config/resolved.ts';
import type { Duration } from '../config/types.ts';

/** The exit code of a command whose service pushed back (sysexits.h EX_TEMPFAIL). */
export const EX_TEMPFAIL = 75;

/** Thrown by a function task when its service answered "too many requests". */
export class RateLimited extends Error {
  /** How long the service asked to wait, in ms, when it said. */
  readonly retryAfterMs: number | undefined;
  /** A `retryAfter` that is no duration (`'soon'`): the backoff applies, and the retry says so. */
  readonly unreadable: string | undefined;

  /** `retryAfter` may be the response's header as it is: `null` when the service sent none. */
  constructor(options: { readonly retryAfter?: Duration | null; readonly message?: string } = {}) {
    super(options.message ?? 'rate limited');
    this.name = 'RateLimited';
    const retryAfter = options.retryAfter ?? undefined;
    // A string may be the header itself (`'30'`, an HTTP date), as the Retry-After file may.
    const ms = typeof retryAfter === 'string' ? parseRetryAfter(retryAfter, Date.now()) : retryAfter;
    const parsed = ms === undefined ? undefined : parseDuration(ms);
    this.retryAfterMs = parsed?.ok ? parsed.value : undefined;
    this.unreadable = retryAfter !== undefined && this.retryAfterMs === undefined ? String(retryAfter) : undefined;
  }
}

/** Duck-typed too, so a RateLimited from another copy of the package is still recognised. */
export function asRateLimited(error: unknown): { retryAfterMs: number | undefined; unreadable?: string } | undefined {
  if (!(error instanceof RateLimited) && !(error instanceof Error && error.name === 'RateLimited')) return undefined;
  const { retryAfterMs, unreadable } = error as { retryAfterMs?: unknown; unreadable?: unknown };
  return {
    retryAfterMs: typeof retryAfterMs === 'number' ? retryAfterMs : undefined,
    ...(typeof unreadable === 'string' ? { unreadable } : {}),
  };
}

/**
 * A Retry-After value as HTTP sends it: delta-seconds or an HTTP date; also a runcue duration
 * (`30s`). Undefined when absent or unreadable.
 */
function parseRetryAfter(text: string, now: number): number | undefined {
  const value = text.trim();
  if (value === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const duration = parseDuration(value);
  if (duration.ok) return duration.value;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Reads and removes the Retry-After file a command may have written: the pause it asks for, or
 * the text it held when that is no Retry-After value (`unreadable`, shortened).
 */
export function takeRetryAfterFile(path: string, now: number): { retryAfterMs: number | undefined; unreadable?: string } {
  try {
    const text = readFileSync(path, 'utf8');
    const retryAfterMs = parseRetryAfter(text, now);
    if (retryAfterMs !== undefined || text.trim() === '') return { retryAfterMs };
    const value = text.trim();
    return { retryAfterMs, unreadable: value.length > 60 ? `${value.slice(0, 60)}...` : value };
  } catch {
    return { retryAfterMs: undefined };
  } finally {
    rmSync(path, { force: true });
  }
}

/**
 * The services a push-back pauses: the task's rate-limited ones; failing that, every service it
 * uses except the default `cpu` (a 429 says nothing about local cores).
 */
export function pausableServices(task: ResolvedTask, config: ResolvedConfig): string[] {
  const limited = task.uses.filter((s) => (config.services.get(s)?.rates.length ?? 0) > 0);
  if (limited.length > 0) return limited;
  return task.uses.filter((s) => s !== 'cpu');
}
