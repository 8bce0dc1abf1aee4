/**
 * Text shared by the reporters and by the `why`/`plan` commands: durations, short reasons, and
 * the lines for a unit's start, end, failure and the run summary. Pure functions of their inputs.
 */
import { isAbsolute, relative, sep } from 'node:path';
import { unreachable } from '../../result.ts';
import type { BlockedReason, RunEvent, StaleReason, UnitFailure, WorkerEvent } from '../../runner/events.ts';
import { formatDueTime } from './due-time.ts';
import { githubData, githubGroup, githubProperty } from './github.ts';
import { safeLine } from './terminal-text.ts';

/** The event variant with the given `type`. */
export type EventOf<T extends RunEvent['type']> = Extract<RunEvent, { readonly type: T }>;

/** Paint functions; each is the identity when colors are off. */
export interface Palette {
  readonly green: (text: string) => string;
  readonly red: (text: string) => string;
  readonly yellow: (text: string) => string;
  readonly cyan: (text: string) => string;
  readonly dim: (text: string) => string;
  readonly bold: (text: string) => string;
}

/** What the line formatters need besides the event. */
export interface FormatOptions {
  readonly palette: Palette;
  /** Absolute paths under it are shown relative to it. */
  readonly cwd: string;
  /** Emit GitHub Actions workflow commands (`::error`, `::group::`). */
  readonly github: boolean;
  /** The palette paints: a tool's own colour in its output is kept too (see terminal-text.ts). */
  readonly color?: boolean;
}

/** Format options for a reporter writing human text to `stream`. */
export function formatOptionsFor(
  stream: { readonly isTTY?: boolean },
  options: { readonly env: Readonly<Record<string, string | undefined>>; readonly cwd: string },
): FormatOptions {
  const color = colorsEnabled(stream, options.env);
  return {
    palette: createPalette(color),
    color,
    cwd: options.cwd,
    github: options.env['GITHUB_ACTIONS'] === 'true',
  };
}

/** The symbols that start each line, shared by every reporter. */
export const SYMBOLS = {
  start: '▸',
  done: '✓',
  fail: '✗',
  blocked: '⊘',
  retry: '↻',
  fresh: '·',
  interrupted: '■',
} as const;

const identity = (text: string): string => text;

function sgr(open: number, close: number): (text: string) => string {
  return (text) => `\u001b[${open}m${text}\u001b[${close}m`;
}

/** A palette with ANSI colors when `enabled`, plain text otherwise. */
export function createPalette(enabled: boolean): Palette {
  if (!enabled) {
    return { green: identity, red: identity, yellow: identity, cyan: identity, dim: identity, bold: identity };
  }
  return { green: sgr(32, 39), red: sgr(31, 39), yellow: sgr(33, 39), cyan: sgr(36, 39), dim: sgr(2, 22), bold: sgr(1, 22) };
}

/**
 * Colors only on a terminal, and never with `NO_COLOR` set (no-color.org); `FORCE_COLOR` (other
 * than `0`) turns them on where a log viewer renders ANSI, such as CI.
 */
export function colorsEnabled(stream: { readonly isTTY?: boolean }, env: Readonly<Record<string, string | undefined>>): boolean {
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  const force = env['FORCE_COLOR'];
  if (force !== undefined && force !== '' && force !== '0' && force !== 'false') return true;
  return stream.isTTY === true;
}

/** `850ms`, `1.2s`, `2m 03s`, `1h 05m`. */
export function formatDuration(ms: number): string {
  const safe = Number.isFinite(ms) && ms > 0 ? ms : 0;
  if (Math.round(safe) < 1000) return `${Math.round(safe)}ms`;
  const tenths = Math.round(safe / 100);
  if (tenths < 600) return `${(tenths / 10).toFixed(1)}s`;
  const seconds = Math.round(safe / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${pad2(seconds % 60)}s`;
  const minutes = Math.round(safe / 60_000);
  return `${Math.floor(minutes / 60)}h ${pad2(minutes % 60)}m`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** `14:03:22`, local time. */
export function formatTimeOfDay(time: number): string {
  const d = new Date(time);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** A unit the run's interruption (Ctrl-C, SIGTERM) stopped while it ran: not a failure of its own. */
export function isInterrupted(event: EventOf<'unit:fail'>): boolean {
  return event.error.reason === 'aborted';
}

/** A path as the user should see it: absolute paths under `cwd` become relative. */
function displayPath(file: string, cwd: string): string {
  if (!isAbsolute(file)) return file;
  const shown = relative(cwd, file);
  if (shown === '' || shown.startsWith('..') || isAbsolute(shown)) return file;
  return shown.split(sep).join('/');
}

/** Why a unit runs, in a few words: `input newer: work/a/p1.png`. `now` places a scheduled time (today or a date). */
export function describeStale(reason: StaleReason, cwd = '', now = Date.now()): string {
  const show = (file: string): string => (cwd === '' ? file : displayPath(file, cwd));
  switch (reason.kind) {
    case 'forced':
      return 'forced';
    case 'no-outputs':
      return 'no outputs to check';
    case 'missing-output':
      return `output missing: ${show(reason.output)}`;
    case 'input-newer':
      return `input newer: ${show(reason.input)}`;
    case 'max-age':
      return `max age: ${show(reason.output)} is ${formatDuration(reason.ageMs)} old`;
    case 'scheduled':
      return `scheduled refresh (due since ${formatDueTime(reason.due, now)})`;
    case 'custom':
      return 'custom stale check';
    case 'upstream':
      return `${reason.upstream} runs first`;
    case 'fingerprint':
      return reason.detail;
    case 'interrupted':
      return `was interrupted while running in an earlier run${reason.pid > 0 ? ` (pid ${reason.pid})` : ''}`;
    case 'unrecorded':
      return `no record of the files it wrote for ${show(reason.output)} (${reason.files} match)`;
    case 'members-changed':
      // "removed" from the members: the file may still exist (an orphan no unit makes any more).
      return `${reason.change === 'added' ? 'new input' : 'no longer an input'}: ${show(reason.input)}`;
    default:
      return unreachable(reason);
  }
}

/** Why a unit is not running: the runner's message, or a stock text when it has none. */
export function describeBlocked(reason: BlockedReason): string {
  if (reason.message !== '') return reason.message;
  switch (reason.kind) {
    case 'not_ready':
      return `waits for ${reason.input}`;
    case 'upstream_failed':
      return `upstream ${reason.upstream} failed`;
    case 'service_full':
      return `service ${reason.service} is full`;
    case 'rate_limited':
      return `service ${reason.service} is rate limited`;
    case 'waiting_retry':
      return 'waiting to retry';
    case 'failed_earlier':
      return 'failed earlier; waits for an input to change';
    case 'running_elsewhere':
      return `runs in another runcue process (pid ${reason.pid})`;
    default:
      return unreachable(reason);
  }
}

/** How a unit failed, in a few words: `exit 1`, `killed by SIGTERM`, `timed out after 2m 00s`. */
export function describeFailure(failure: UnitFailure): string {
  const withMessage = (head: string): string => (failure.message === '' ? head : `${head}: ${failure.message}`);
  switch (failure.reason) {
    case 'exit-non-zero':
      return `exit ${failure.exitCode}`;
    case 'signal':
      return `killed by ${failure.signal}`;
    case 'timeout':
      return `timed out after ${formatDuration(failure.timeoutMs)}`;
    case 'spawn-error':
      return withMessage('could not start');
    case 'function-error':
      return withMessage('error');
    case 'file-error':
      return failure.message;
    case 'check-error':
      return withMessage(`${failure.check} check failed`);
    case 'aborted':
      return withMessage('aborted');
    case 'pushed-back':
    case 'push-back-limit':
    case 'missing-output':
    case 'input-removed':
      return failure.message;
    case 'stalled':
      return withMessage('stopped: the run stalled');
    case 'worker-error':
      return withMessage(failure.retry ? 'worker error (retryable)' : 'worker error');
    case 'worker-crashed':
    case 'worker-failed':
    case 'queue-error':
      return failure.message;
    default:
      return unreachable(failure);
  }
}

/** `▸ extract[doc=a,page=1] (input newer: work/a/p1.png)`; later attempts say which; a queue build's, on which host. */
export function formatStart(event: EventOf<'unit:start'>, options: FormatOptions): string {
  const detail = event.attempt > 1 ? `attempt ${event.attempt}` : describeStale(event.reason, options.cwd, event.time);
  return `${options.palette.cyan(SYMBOLS.start)} ${event.unit} ${options.palette.dim(`(${detail})${event.host === undefined ? '' : ` on ${event.host}`}`)}`;
}

/** `✓ extract[doc=a,page=1] 1.2s`. */
export function formatDone(event: EventOf<'unit:done'>, options: FormatOptions): string {
  const { palette } = options;
  const note = event.inputsChanged ? palette.yellow(' (an input changed while it ran: still stale)') : '';
  const host = event.host === undefined ? '' : palette.dim(` on ${event.host}`);
  return `${palette.green(SYMBOLS.done)} ${event.unit} ${palette.dim(formatDuration(event.durationMs))}${host}${note}`;
}

/** `· extract[doc=a,page=1] fresh` (verbose only: a build may have thousands). */
export function formatSkip(event: EventOf<'unit:skip'>, options: FormatOptions): string {
  return options.palette.dim(`${SYMBOLS.fresh} ${event.unit} fresh`);
}

/** `⊘ summarize[doc=a] waits for work/a/text/*.txt: ... (not_ready)`. */
export function formatBlocked(event: EventOf<'unit:blocked'>, options: FormatOptions): string {
  const reason = describeBlocked(event.reason);
  // The runner's messages that start with the unit id are complete diagnostics: print them whole.
  const text = reason.startsWith(`${event.unit} `) ? reason : `${event.unit}: ${reason}`;
  // The kind, as the JSON events and the stall diagnostics spell it, so a log can be searched for it.
  return `${options.palette.yellow(SYMBOLS.blocked)} ${text} ${options.palette.dim(`(${event.reason.kind})`)}`;
}

/** `↻ extract[doc=a] attempt 1 failed (exit 1), retrying in 2.0s`; `↻ extract[doc=a] pushed back: api paused until 12:03:05 (2.0s)`. */
export function formatRetry(event: EventOf<'unit:retry'>, options: FormatOptions): string {
  const { palette } = options;
  if (event.kind === 'push-back') {
    const services = event.services ?? [];
    const what = services.length === 0 ? 'it waits' : `${services.join(', ')} paused`;
    const until = `until ${formatTimeOfDay(event.time + event.delayMs)} (${formatDuration(event.delayMs)})`;
    const bad = event.error.reason === 'pushed-back' && event.error.unreadableRetryAfter;
    const note = bad ? `; its Retry-After "${bad}" is unreadable, so runcue backs off` : '';
    return `${palette.yellow(SYMBOLS.retry)} ${event.unit} pushed back by its service: ${what} ${until}${note}`;
  }
  const what = `attempt ${event.attempt} failed (${describeFailure(event.error)})`;
  return `${palette.yellow(SYMBOLS.retry)} ${event.unit} ${what}, retrying in ${formatDuration(event.delayMs)}`;
}

/**
 * `worker extract#2 ready (1.2s to load)`, `worker extract#2 crashed: ...`; undefined for what a
 * log line need not say (busy, a clean stop).
 */
export function formatWorker(event: WorkerEvent, options: FormatOptions): string | undefined {
  const { palette } = options;
  const name = `worker ${event.task}#${event.worker}`;
  switch (event.type) {
    case 'worker:start':
      return event.replaces === undefined ? undefined : `${palette.yellow(SYMBOLS.retry)} ${name} started, replacing #${event.replaces}`;
    case 'worker:ready':
      return `${palette.dim(SYMBOLS.start)} ${name} ready ${palette.dim(`(${formatDuration(event.loadMs)} to load)`)}`;
    case 'worker:busy':
      return undefined;
    case 'worker:exit':
      if (event.reason === 'stopped' || event.reason === 'exited') return undefined;
      return `${palette.red(SYMBOLS.fail)} ${name} ${event.reason.replace('-', ' ')}${event.message === undefined ? '' : `: ${event.message}`}`;
  }
}

const MAX_STALLED_SHOWN = 20;

/** A stall warning or failure, with what is blocked and why. */
export function formatStall(event: EventOf<'run:stall'>, options: FormatOptions): string[] {
  const { palette } = options;
  const head = event.fatal ? palette.red(`✗ run stalled: ${event.message}`) : palette.yellow(`⚠ run is slow: ${event.message}`);
  const lines = [head];
  if (event.blocked.length === 0) lines.push('  (nothing is waiting)');
  for (const b of event.blocked.slice(0, MAX_STALLED_SHOWN)) lines.push(`  ${b.unit}: ${b.reason.kind}: ${b.reason.message}`);
  if (event.blocked.length > MAX_STALLED_SHOWN) lines.push(palette.dim(`  … and ${event.blocked.length - MAX_STALLED_SHOWN} more`));
  return lines;
}

/** A unit's log text, one line per line, each prefixed by the unit id, made safe to print. */
export function formatLog(event: EventOf<'unit:log'>, options: FormatOptions): string[] {
  const prefix = options.palette.dim(`${event.unit} │`);
  return splitLines(event.text).map((line) => `${prefix} ${safeLine(line, options.color === true)}`);
}

/** Lines of `text` without the final line break's empty line. */
function splitLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** The first line of a failure: `✗ extract[doc=a,page=1] exit 1 after 0.3s`, or `■ ... interrupted after 2.1s`. */
export function formatFailureHeadline(event: EventOf<'unit:fail'>, options: FormatOptions): string {
  if (isInterrupted(event)) {
    return `${options.palette.yellow(SYMBOLS.interrupted)} ${event.unit} interrupted after ${formatDuration(event.durationMs)}`;
  }
  return `${options.palette.red(SYMBOLS.fail)} ${event.unit} ${failureText(event)}`;
}

function failureText(event: EventOf<'unit:fail'>): string {
  const attempt = event.attempt > 1 ? ` (attempt ${event.attempt})` : '';
  // A timeout already says how long it ran.
  const after = event.error.reason === 'timeout' ? '' : ` after ${formatDuration(event.durationMs)}`;
  return `${describeFailure(event.error)}${after}${attempt}`;
}

const TAIL_INDENT = '    ';
const ANNOTATION_TAIL_LINES = 3;

/**
 * Everything about a failed unit: the headline, the command, the indented output tail and the
 * outputs removed. Under GitHub Actions, an `::error` annotation and the command and tail in a
 * collapsible `::group::`.
 */
export function formatFailure(event: EventOf<'unit:fail'>, options: FormatOptions): string[] {
  const { palette } = options;
  const lines = [formatFailureHeadline(event, options)];
  // Stopped on request: its output says nothing about a problem, and it is no error to annotate.
  const tail = isInterrupted(event) ? [] : splitLines(event.outputTail);
  const shownTail = tail.map((line) => safeLine(line, options.color === true));
  // annotations render no colour
  if (options.github && !isInterrupted(event))
    lines.push(
      githubError(
        event,
        tail.map((line) => safeLine(line, false)),
      ),
    );
  const body: string[] = [];
  if (event.command !== undefined && !isInterrupted(event)) body.push(`  ${palette.dim('$')} ${shortCommand(event.command)}`);
  for (const line of shownTail) body.push(`${TAIL_INDENT}${line}`);
  if (options.github && body.length > 0) {
    lines.push(...githubGroup(event.unit, body));
  } else {
    lines.push(...body);
  }
  if (event.removed.length > 0) {
    const removed = event.removed.map((file) => displayPath(file, options.cwd)).join(', ');
    lines.push(`  ${palette.dim(`removed: ${removed}`)}`);
  }
  return lines;
}

function githubError(event: EventOf<'unit:fail'>, tail: readonly string[]): string {
  const last = tail.filter((line) => line.trim() !== '').slice(-ANNOTATION_TAIL_LINES);
  const message = [failureText(event), ...last].join('\n');
  return `::error title=${githubProperty(`runcue: ${event.unit}`)}::${githubData(message)}`;
}

/**
 * `runcue: 12 built, 30 fresh, 1 failed, 0 blocked in 3.4s`, plus `, 2 interrupted, 5 not
 * started` and `, interrupted by SIGINT` after a signal, and `, 3 push-backs` when services pushed back.
 */
export function formatSummary(event: EventOf<'run:done'>, options: FormatOptions): string {
  const { palette } = options;
  const { built, fresh, failed, blocked, interrupted = 0 } = event.counts;
  const failedText = failed > 0 ? palette.red(`${failed} failed`) : `${failed} failed`;
  const blockedText = blocked > 0 ? palette.yellow(`${blocked} blocked`) : `${blocked} blocked`;
  const interruptedUnits = interrupted > 0 ? `, ${palette.yellow(`${interrupted} interrupted`)}` : '';
  const by = event.interrupted === undefined ? '' : `, ${palette.yellow(`interrupted by ${event.interrupted}`)}`;
  const notStarted = event.notStarted === undefined ? '' : `, ${palette.yellow(`${event.notStarted} not started`)}`;
  const pushBacks = event.pushBacks === undefined ? '' : `, ${palette.yellow(plural(event.pushBacks, 'push-back'))}`;
  const counts = `${built} built, ${fresh} fresh, ${failedText}, ${blockedText}${interruptedUnits}${notStarted}`;
  return `${palette.bold('runcue:')} ${counts} in ${formatDuration(event.durationMs)}${by}${pushBacks}`;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

const COMMAND_SHOWN = 2_000;

/** A fan-in's command can list thousands of paths (an E2BIG failure): show its start and its size. */
export function shortCommand(command: string): string {
  if (command.length <= COMMAND_SHOWN) return command;
  return `${command.slice(0, COMMAND_SHOWN)} ... (${command.length - COMMAND_SHOWN} more characters)`;
}
