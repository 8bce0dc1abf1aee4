/** The contract between the CLI and the renderers; re-exported by ./index.ts. */
import type { RunEvent } from '../../runner/events.ts';
import type { WatchEvent } from '../../watch/events.ts';

/** Which renderer draws a run. */
export type ReporterKind = 'tty' | 'ci' | 'json' | 'silent';

/** A stream a reporter writes to; `isTTY` and `columns` as on `process.stderr`. */
export type ReportStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

/** Where and how a reporter writes. */
export interface ReporterOptions {
  /** Machine output only (the json reporter's events). */
  readonly stdout: ReportStream;
  /** All human output. */
  readonly stderr: ReportStream;
  /** For `GITHUB_ACTIONS`, `NO_COLOR`, `FORCE_COLOR`. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly verbose: boolean;
  /** Absolute paths under it are shown relative to it. */
  readonly cwd: string;
}

/** Turns runner events into a UI. */
export interface Reporter {
  /** Never throws: a renderer bug is reported once on stderr and rendering stops; the run goes on. */
  onEvent(event: RunEvent | WatchEvent): void;
  /** Flushes and stops any live display; called once, after `run:done`. */
  close(): Promise<void>;
}
