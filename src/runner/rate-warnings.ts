/**
 * What a run says when the rate store cannot do its job: every reporter shows these run-level
 * warnings (a `unit:log` of stream `warning` from unit `(run)`), `--json` included, because a
 * quota that silently stops being shared is how a paid API gets overrun.
 */
import { describeFsError, errorCode, projectPath } from './fs-errors.ts';
import { createRateStore, type RateStore } from './rate-store.ts';

/** A rate store under `root` whose troubles are told to `warn` as whole sentences. */
export function createWarningRateStore(root: string, warn: (text: string) => void): RateStore {
  return createRateStore(root, {
    onError: (error) => warn(storeFailureText(root, error)),
    onFutureStarts: (file, skewMs) => warn(futureStartsText(root, file, skewMs)),
  });
}

function storeFailureText(root: string, error: Error): string {
  const path = 'path' in error && typeof error.path === 'string' ? error.path : `${root}/.runcue/rates`;
  const problem = errorCode(error) === undefined ? { path: '.runcue/rates', reason: error.message } : describeFsError(error, root, path);
  return (
    `rate limits are kept in memory only: cannot write ${problem.path}: ${problem.reason}. ` +
    `They still hold within this run, but a second runcue process, or a rerun within a window, ` +
    `can exceed a service's quota. Make .runcue/ a writable directory to share the windows again.`
  );
}

function futureStartsText(root: string, file: string, skewMs: number): string {
  const shown = projectPath(root, file);
  return (
    `${shown} holds rate-limit starts up to ${formatSkew(skewMs)} in the future (the clock stepped back, ` +
    `or another machine's clock runs ahead): they are counted as starts now.`
  );
}

function formatSkew(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}
