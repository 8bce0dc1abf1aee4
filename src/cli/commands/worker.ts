/**
 * `runcue worker --queue URL`: runs the jobs a `runcue build --queue` coordinator adds, with the
 * executors of a local build, in this checkout (its config must be the coordinator's). Prints
 * what it runs, one line per start and end (NDJSON unit events with --json), until a signal.
 */
import { hostname } from 'node:os';
import { createProcessGroups } from '../../runner/process-groups.ts';
import type { QueueWorkerEvent } from '../../runner/remote/worker.ts';
import { localExecutors } from '../../runner/execute/local.ts';
import { WorkerPools } from '../../runner/workers/pools.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import type { CliContext, WorkerCommandOptions } from '../options.ts';
import { loadForCommand } from './load.ts';
import { connectQueue, queueUrlOf } from './queue-mode.ts';
import { interruptedExitCode, withSignals } from './signals.ts';
import { createStuckWatch } from '../stuck-watch.ts';

/** Takes jobs until a signal; resolves to the exit code. */
export async function workerCommand(options: WorkerCommandOptions, context: CliContext): Promise<number> {
  const loaded = await loadForCommand(options, context);
  if (!loaded.ok) return loaded.exitCode;
  const url = queueUrlOf(options.queue, context, loaded);
  if (url === undefined) {
    context.stderr.write(
      'runcue: worker: no queue: pass --queue redis://host:port (or set RUNCUE_QUEUE, or queue: { url } in the config)\n',
    );
    return EXIT_CODES.usage;
  }
  const connected = await connectQueue(url, context);
  if (!connected.ok) return connected.exitCode;
  const { config } = loaded;
  const { runQueueWorker } = await import('../../runner/remote/worker.ts');
  const print = printer(options, context);
  const groups = createProcessGroups({ graceMs: config.killGraceMs });
  const pools = new WorkerPools(context.env);
  pools.begin(config, (event) => (event.type === 'unit:log' ? print(event) : undefined), Boolean(options.verbose));
  const stuckWatch = createStuckWatch();
  const executorFor = localExecutors({ root: config.root, env: context.env, killGraceMs: config.killGraceMs, groups, stuckWatch }, pools);
  // As many as a local build runs at once: the host's cores (`cpu`), unless told.
  const concurrency = options.concurrency ?? config.services.get('cpu')?.concurrent ?? 1;
  // `scope: 'host'` services are held per host name: RUNCUE_HOST names the machine otherwise (a container, a test).
  const host = context.env['RUNCUE_HOST'] || hostname();
  let stoppedBy: string | undefined;
  await withSignals(async (signal, stopNow) => {
    stopNow.addEventListener('abort', () => groups.killAll('SIGKILL'), { once: true });
    signal.addEventListener('abort', () => (stoppedBy = String(signal.reason)), { once: true });
    const onReady = (): void => {
      context.stderr.write(`runcue worker: taking jobs from ${url.url} (concurrency ${concurrency}, config ${config.file})\n`);
    };
    await runQueueWorker({
      target: connected.target,
      config,
      host,
      concurrency,
      executorFor,
      signal,
      onEvent: print,
      onReady,
      ...lockOf(context),
    });
  }, context);
  await stuckWatch.dispose();
  await pools.close();
  groups.close();
  return interruptedExitCode(stoppedBy) ?? EXIT_CODES.ok;
}

/** `RUNCUE_QUEUE_LOCK_MS`: how soon a dead worker's job is redelivered (tests shorten it). */
function lockOf(context: CliContext): { lockMs?: number } {
  const ms = Number(context.env['RUNCUE_QUEUE_LOCK_MS']);
  return Number.isInteger(ms) && ms >= 1000 ? { lockMs: ms } : {};
}

/** One line per event: JSON with --json, else `time ▸ unit`, `time ✓ unit 1.2s`, `time ✗ unit: why`. */
function printer(options: WorkerCommandOptions, context: CliContext): (event: QueueWorkerEvent) => void {
  if (options.json) return (event) => context.stdout.write(`${JSON.stringify(event)}\n`);
  return (event) => {
    const time = new Date(event.time).toISOString().slice(11, 23);
    switch (event.type) {
      case 'unit:start':
        context.stdout.write(`${time} ▸ ${event.unit}${event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}\n`);
        return;
      case 'unit:done':
        context.stdout.write(`${time} ✓ ${event.unit} ${(event.durationMs / 1000).toFixed(1)}s\n`);
        return;
      case 'unit:fail':
        context.stdout.write(`${time} ✗ ${event.unit}: ${event.error.message}\n`);
        return;
      case 'unit:log':
        if (event.stream === 'warning' || event.stream === 'hook' || options.verbose)
          context.stdout.write(`${time} ${event.unit}: ${event.text}`.trimEnd() + '\n');
        return;
    }
  };
}
