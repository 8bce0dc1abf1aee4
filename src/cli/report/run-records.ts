/**
 * Keeps a record of each run next to whichever reporter draws it: every build and every watch
 * cycle is accumulated from its events and written to `.runcue/runs/` when it ends (Ctrl-C
 * included: the runner still reports `run:done`), or when the reporter closes on a run cut
 * short. Then the file reports of the last run (JUnit, the GitHub step summary) are written.
 * Nothing here can fail a run: a write error is one warning on stderr.
 */
import { createRecordAccumulator, type FreshUnit, type RecordAccumulator, type RecordContext } from '../../runner/records/accumulate.ts';
import type { RunRecord } from '../../runner/records/record.ts';
import { recordId, writeRunRecord } from '../../runner/records/store.ts';
import type { RunEvent } from '../../runner/events.ts';
import type { WatchEvent } from '../../watch/events.ts';
import type { Reporter, ReportStream } from './types.ts';

/** A report written from the last run once it ended: resolves to a warning, or undefined. */
export type AfterRun = (record: RunRecord, fresh: readonly FreshUnit[]) => Promise<string | undefined>;

/** Where records go and what the events do not say. */
export interface RunRecordOptions {
  readonly root: string;
  /** Records kept; 0: none written (the file reports still are). */
  readonly keep: number;
  readonly command: 'build' | 'watch';
  readonly targets: readonly string[];
  readonly pid: number;
  readonly now: () => number;
  readonly stderr: ReportStream;
  readonly exitCode: RecordContext['exitCode'];
  /** File reports of the last run, written in this order when the reporter closes. */
  readonly afterRun: readonly AfterRun[];
}

/** `reporter`, also recording each run under `.runcue/runs/`. */
export function withRunRecords(reporter: Reporter, options: RunRecordOptions): Reporter {
  let current: RecordAccumulator | undefined;
  let cycle: { readonly cycle: number; readonly trigger: string } | undefined;
  let last: { readonly record: RunRecord; readonly fresh: readonly FreshUnit[] } | undefined;
  let writes: Promise<void> = Promise.resolve();
  let warned = false;
  const warn = (message: string): void => {
    if (warned) return;
    warned = true;
    options.stderr.write(`runcue: ${message} (runcue report will not show this run)\n`);
  };
  const save = (accumulator: RecordAccumulator): void => {
    const record = accumulator.record(options.now());
    last = { record, fresh: accumulator.fresh };
    if (options.keep === 0) return;
    writes = writes
      .then(async () => {
        const written = await writeRunRecord(options.root, record, options.keep);
        if (!written.ok) warn(written.error);
      })
      .catch((error: unknown) => {
        warn(`could not write the run record: ${error instanceof Error ? error.message : String(error)}`);
      });
  };
  const onRunEvent = (event: RunEvent): void => {
    if (event.type === 'run:start') {
      current = createRecordAccumulator({
        id: recordId(event.time, options.pid, cycle?.cycle),
        command: options.command,
        targets: options.targets,
        ...(cycle ? cycle : {}),
        exitCode: options.exitCode,
        listFresh: options.afterRun.length > 0,
      });
    }
    if (current === undefined) return;
    current.onEvent(event);
    if (event.type === 'run:done') {
      save(current);
      current = undefined;
    }
  };
  return {
    onEvent(event: RunEvent | WatchEvent): void {
      try {
        if (event.type === 'watch:cycle' && event.phase === 'start') cycle = { cycle: event.cycle, trigger: event.trigger };
        else if (!event.type.startsWith('watch:')) onRunEvent(event as RunEvent);
      } catch (error) {
        warn(`could not record the run: ${error instanceof Error ? error.message : String(error)}`);
      }
      reporter.onEvent(event);
    },
    async close(): Promise<void> {
      await reporter.close();
      if (current?.started === true) save(current);
      await writes;
      if (last === undefined) return;
      for (const report of options.afterRun) {
        const warning = await report(last.record, last.fresh).catch((error: unknown) => String(error));
        if (warning !== undefined) options.stderr.write(`runcue: ${warning}\n`);
      }
    },
  };
}
