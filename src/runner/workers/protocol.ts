/**
 * The persistent-worker protocol, as runqy's Python SDK (runqy-python) speaks it: JSON lines over
 * the worker's stdin and stdout. Written down once here for both sides: the pool that drives
 * workers (src/runner/workers) and the helper that Node workers serve with (src/worker).
 *
 * 1. The worker loads, then writes `{"status": "ready"}` (or `{"status": "error", "error": "..."}`
 *    and exits when loading failed).
 * 2. It reads one task per stdin line: `{"task_id": "...", "payload": {...}}`.
 * 3. It answers one stdout line per task: `{"task_id", "result", "error": string | null, "retry"}`.
 *    Any other stdout line (print debugging) is the worker's log, not an error.
 */
import type { UnitInfo } from '../../config/types.ts';

/**
 * The payload of one task: the unit as a `run` template and a function task see it, with the
 * attempt number (the same {@link UnitInfo} hooks get).
 */
export type WorkerPayload = UnitInfo;

/** One stdin line: a task for the worker. */
export interface WorkerRequest {
  readonly task_id: string;
  readonly payload: WorkerPayload;
}

/** One stdout line answering a task. */
export interface WorkerAnswer {
  readonly task_id: string;
  readonly result: unknown;
  readonly error: string | null;
  readonly retry: boolean;
}

/** What one stdout line of a worker says. */
export type WorkerLine =
  | { readonly kind: 'ready' }
  | { readonly kind: 'load-error'; readonly error: string }
  | { readonly kind: 'answer'; readonly answer: WorkerAnswer }
  /** Anything else the worker printed: its log. */
  | { readonly kind: 'log'; readonly text: string };

/** Reads one stdout line of a worker. Lenient where runqy's SDK is: a missing `retry` is false. */
export function parseWorkerLine(line: string): WorkerLine {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return { kind: 'log', text: line };
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return { kind: 'log', text: line };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'log', text: line };
  const record = value as Record<string, unknown>;
  if ('task_id' in record) {
    const error = record['error'];
    return {
      kind: 'answer',
      answer: {
        task_id: String(record['task_id']),
        result: record['result'] ?? null,
        error: error === null || error === undefined ? null : typeof error === 'string' ? error : JSON.stringify(error),
        retry: record['retry'] === true,
      },
    };
  }
  if (record['status'] === 'ready') return { kind: 'ready' };
  if (record['status'] === 'error') {
    const error = record['error'];
    return { kind: 'load-error', error: typeof error === 'string' ? error : 'the worker reported a load error' };
  }
  return { kind: 'log', text: line };
}

/** The stdin line of a task. */
export function requestLine(request: WorkerRequest): string {
  return `${JSON.stringify(request)}\n`;
}

/** The stdout line of an answer. */
export function answerLine(answer: WorkerAnswer): string {
  return `${JSON.stringify(answer)}\n`;
}

/** The ready line. */
export const READY_LINE = `${JSON.stringify({ status: 'ready' })}\n`;

/** The line of a worker whose load failed. */
export function loadErrorLine(error: string): string {
  return `${JSON.stringify({ status: 'error', error })}\n`;
}
