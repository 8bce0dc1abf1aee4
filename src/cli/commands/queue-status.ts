/** `runcue queue status`: waiting, running and failed jobs of each queue of the config, from Redis. */
import { EXIT_CODES } from '../exit-codes.ts';
import type { CliContext, WorkerCommandOptions } from '../options.ts';
import { loadForCommand } from './load.ts';
import { connectQueue, queueUrlOf } from './queue-mode.ts';
import { formatTable } from './table.ts';

/** Prints the table (JSON with --json); resolves to the exit code. */
export async function queueStatusCommand(options: WorkerCommandOptions, context: CliContext): Promise<number> {
  const loaded = await loadForCommand(options, context);
  if (!loaded.ok) return loaded.exitCode;
  const url = queueUrlOf(options.queue, context, loaded);
  if (url === undefined) {
    context.stderr.write(
      'runcue: queue status: no queue: pass --queue redis://host:port (or set RUNCUE_QUEUE, or queue: { url } in the config)\n',
    );
    return EXIT_CODES.usage;
  }
  const connected = await connectQueue(url, context);
  if (!connected.ok) return connected.exitCode;
  const { queueStatus } = await import('../../runner/remote/status.ts');
  const rows = await queueStatus(connected.target, loaded.config);
  if (options.json) {
    context.stdout.write(`${JSON.stringify(rows)}\n`);
    return EXIT_CODES.ok;
  }
  const limit = (r: (typeof rows)[number]): string => {
    const parts = [
      r.limits.concurrency === undefined ? '' : `${r.limits.concurrency} at once`,
      r.limits.paceMs === undefined ? '' : `1 start per ${r.limits.paceMs} ms`,
    ];
    return parts.filter(Boolean).join(', ') || '-';
  };
  const table = formatTable(
    ['queue', 'waiting', 'active', 'failed', 'done', 'workers', 'limits', 'paused'],
    rows.map((r) => [
      r.queue,
      String(r.waiting),
      String(r.active),
      String(r.failed),
      String(r.completed),
      String(r.workers),
      limit(r),
      r.pausedMs > 0 ? `${(r.pausedMs / 1000).toFixed(1)}s` : '-',
    ]),
    { right: new Set([1, 2, 3, 4, 5]) },
  );
  context.stdout.write(`${table.join('\n')}\n`);
  return EXIT_CODES.ok;
}
