/**
 * What a task runs: `run` (a shell string, an argv array or a function) or `worker` (a
 * persistent worker). The checks that need the task's shape, and the resolved {@link RunSpec}.
 */
import type { Pattern } from '../patterns/pattern.ts';
import type { RunSpec } from './resolved.ts';
import type { PathIssue } from './schema.ts';
import type { TaskConfig } from './types.ts';

type Segments = readonly (string | number)[];

const WORKER_ONLY = ['writeResult', 'workerStartTimeout', 'workerCrashLimit'] as const;

/**
 * A task has exactly one of `run` and `worker`; the worker keys only go with `worker`, and
 * `writeResult` needs one output that names one file.
 */
export function checkRunOrWorker(
  task: Readonly<Record<string, unknown>>,
  outputs: readonly { readonly pattern: Pattern }[],
  at: (...rest: Segments) => Segments,
  issues: PathIssue[],
): void {
  const hasRun = task['run'] !== undefined;
  const hasWorker = task['worker'] !== undefined;
  if (hasRun && hasWorker) issues.push({ path: at('worker'), message: 'a task has either "run" or "worker", not both' });
  if (!hasRun && !hasWorker) {
    issues.push({ path: at('run'), message: 'missing; expected a shell command string, an argv array or a function (or "worker")' });
  }
  if (!hasWorker) {
    for (const key of WORKER_ONLY) {
      if (task[key] !== undefined) issues.push({ path: at(key), message: `"${key}" goes with "worker"; this task has none` });
    }
    return;
  }
  if (task['writeResult'] === undefined) return;
  const [only, ...more] = outputs;
  if (only === undefined || more.length > 0 || only.pattern.isGlob) {
    const message = `writeResult writes one file: the task needs exactly one output without glob syntax (it has ${describeOutputs(outputs)})`;
    issues.push({ path: at('writeResult'), message });
  }
}

function describeOutputs(outputs: readonly { readonly pattern: Pattern }[]): string {
  if (outputs.length === 0) return 'none';
  if (outputs.length > 1) return `${outputs.length}`;
  return `the glob ${JSON.stringify(outputs[0]?.pattern.source)}`;
}

const DEFAULT_WORKER_START_TIMEOUT_MS = 60_000;
const DEFAULT_WORKER_CRASH_LIMIT = 3;

/** The resolved run of a valid task; `toMs` converts its checked durations. */
export function toRunSpec(
  task: TaskConfig,
  topStartTimeoutMs: number | undefined,
  toMs: (d: TaskConfig['timeout']) => number | undefined,
): RunSpec {
  const { run, worker } = task;
  if (worker !== undefined) {
    return {
      kind: 'worker',
      command: worker,
      writeResult: task.writeResult,
      startTimeoutMs: toMs(task.workerStartTimeout) ?? topStartTimeoutMs ?? DEFAULT_WORKER_START_TIMEOUT_MS,
      crashLimit: task.workerCrashLimit ?? DEFAULT_WORKER_CRASH_LIMIT,
    };
  }
  if (run === undefined) throw new Error('internal error: a task without run or worker passed the checks');
  if (typeof run === 'string') return { kind: 'shell', command: run };
  if (typeof run === 'function') return { kind: 'function', fn: run };
  return { kind: 'argv', argv: run };
}
