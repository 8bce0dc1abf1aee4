/** The executors of a local run: processes for shell and argv tasks, in-process calls for functions. */
import type { ExecutorFor } from './executor.ts';
import { functionExecutor } from './function-executor.ts';
import { processExecutor, type ProcessContext } from './process-executor.ts';

/** Chooses, per task, the process or the function executor, both sharing `context`. */
export function localExecutors(context: ProcessContext): ExecutorFor {
  const processes = processExecutor(context);
  const functions = functionExecutor(context);
  return (task) => (task.run.kind === 'function' ? functions : processes);
}
