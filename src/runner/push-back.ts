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

  constructor(options: { readonly retryAfter?: Duration; readonly message?: string } = {}) {
    super(options.message ?? 'rate limited');
    this.name = 'RateLimited';
    const parsed = options.retryAfter === undefined ? undefined : parseDuration(options.retryAfter);
    this.retryAfterMs = parsed?.ok ? parsed.value : undefined;
  }
}

/** Duck-typed too, so a RateLimited from another copy of the package is still recognised. */
export function asRateLimited(error: unknown): { retryAfterMs: number | undefined } | undefined {
  if (error instanceof RateLimited) return { retryAfterMs: error.retryAfterMs };
  if (error instanceof Error && error.name === 'RateLimited') {
    const ms = (error as { retryAfterMs?: unknown }).retryAfterMs;
    return { retryAfterMs: typeof ms === 'number' ? ms : undefined };
  }
  return undefined;
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

/** Reads and removes the Retry-After file a command may have written. */
export function takeRetryAfterFile(path: string, now: number): number | undefined {
  try {
    return parseRetryAfter(readFileSync(path, 'utf8'), now);
  } catch {
    return undefined;
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
