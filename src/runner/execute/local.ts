/**
 * The executors of a local run: processes for shell and argv tasks, in-process calls for
 * functions, and the task's worker pool for persistent-worker tasks.
 */
import type { WorkerPools } from '../workers/pools.ts';
import type { ExecutorFor } from './executor.ts';
import { functionExecutor, type FunctionContext } from './function-executor.ts';
import { processExecutor, type ProcessContext } from './process-executor.ts';

/** Chooses, per task, the process, the function or the worker executor, the first two sharing `context`. */
export function localExecutors(context: ProcessContext & FunctionContext, workers: WorkerPools): ExecutorFor {
  const processes = processExecutor(context);
  const functions = functionExecutor(context);
  return (task) => {
    switch (task.run.kind) {
      case 'function':
        return functions;
      case 'worker':
        return workers.executor(task);
      default:
        return processes;
    }
  };
}
