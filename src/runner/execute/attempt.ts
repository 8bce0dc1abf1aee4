/**
 * One attempt of one unit, around its executor: what is common to every attempt of every kind.
 * Output directories are made first; the outputs are observed before and after; then either the
 * written outputs are checked and the inputs compared with what the check observed (a changed
 * input keeps the unit stale) and the fingerprint recorded, or the outputs the attempt left are
 * removed.
 */
import type { UnitFailure } from '../events.ts';
import { abandonAttempt, type AbandonedAttempt } from '../abandoned.ts';
import { FINGERPRINT_DIR, recordFingerprint } from '../fingerprint.ts';
import { nodeFileSystem, type FileSystem } from '../file-system.ts';
import {
  dateBackChangedOutputs,
  makeDir,
  makeOutputDirs,
  removeChangedOutputs,
  setMtime,
  snapshot,
  statInput,
  statPath,
  type FileStat,
} from '../files.ts';
import { observeOutputs, outputsWritten, removeChangedDirectories, touchDirectories, type OutputsBefore } from '../outputs-written.ts';
import { changedInputs } from '../staleness.ts';
import type { AttemptRequest, Executor, ExecutorOutcome } from './executor.ts';
import type { UnitView } from './unit-view.ts';
import type { UnitPath } from '../../graph/unit.ts';

/** One attempt, with what the common part around the executor needs. */
export interface UnitRunRequest extends AttemptRequest {
  readonly root: string;
  /** The project's files; default the disk under `root`. */
  readonly fs?: FileSystem;
  /** The run's clock (a directory output is stamped with it); default the system's. */
  readonly now?: () => number;
  /** Files a glob input must not read (outputs of units that no longer exist). */
  readonly isOrphan?: (file: string) => boolean;
}

/** How an attempt ended, its outputs checked (or removed). */
export type UnitRunOutcome =
  /**
   * `rewrote`: inputs that existed before and after the run and changed during it (its own
   * writes?); `written`: the output files it wrote (for the output record).
   */
  | {
      readonly kind: 'done';
      readonly inputsChanged: boolean;
      readonly rewrote: readonly string[];
      readonly written: readonly string[];
      /** (remote) The host that ran it. */
      readonly host?: string;
    }
  /** The service pushed back: requeue, and pause the service (for `retryAfterMs` when given). */
  | {
      readonly kind: 'push-back';
      readonly retryAfterMs: number | undefined;
      /** A Retry-After value given but unreadable: the backoff applies, and the retry says why. */
      readonly unreadable?: string;
      readonly removed: readonly string[];
    }
  | {
      readonly kind: 'failed';
      readonly failure: UnitFailure;
      readonly outputTail: string;
      readonly removed: readonly string[];
      /** (remote) The host that ran it. */
      readonly host?: string;
      /** A function that ignored its abort signal and may still run: no retry beside it. */
      readonly abandoned?: AbandonedAttempt;
    };

/** Runs one attempt of a unit on `executor`, with everything common to every attempt around it. */
export async function runUnit(req: UnitRunRequest, executor: Executor): Promise<UnitRunOutcome> {
  if (executor.runWhole) return executor.runWhole(req);
  const before = beforeRun(req);
  if (!before.ok) return before.outcome;
  const result = await executor.run(attemptRequest(req));
  return afterRun(req, before, result);
}

/**
 * {@link runUnit} with the outcome handed to `done`, for an executor that ends its attempts by a
 * callback ({@link Executor.runThen}: the simulated one) without a promise per attempt. `done` is
 * always called in a microtask, as a promise's reaction would be: never from inside the caller,
 * and on a virtual clock only once every timer of the instant has fired, as before (the loop acts
 * on an instant's attempts after all of them ended, in the order they ended).
 */
export function runUnitThen(req: UnitRunRequest, executor: Executor, done: (outcome: UnitRunOutcome) => void): void {
  if (executor.runWhole || !executor.runThen) {
    void runUnit(req, executor).then(done);
    return;
  }
  const before = beforeRun(req);
  if (!before.ok) {
    later(done, before.outcome);
    return;
  }
  // The request itself, not a copy of its attempt's part: a runThen executor (the simulated
  // one) reads only that part, and a copy per attempt adds up over a rehearsal.
  executor.runThen(req, (result) => later(done, afterRun(req, before, result)));
}

/** Outcomes waiting for their microtask, and who gets each (two arrays: no pair or closure each). */
let laterDone: ((outcome: UnitRunOutcome) => void)[] = [];
let laterOutcome: UnitRunOutcome[] = [];

/**
 * Calls `done(outcome)` in a microtask. One microtask for all those queued before it ran, which
 * it calls in the order they were queued, as a microtask each would: Node's queueMicrotask
 * makes an async resource and a bound function per call, 10,000s in a rehearsal.
 */
function later(done: (outcome: UnitRunOutcome) => void, outcome: UnitRunOutcome): void {
  laterDone.push(done);
  laterOutcome.push(outcome);
  if (laterDone.length === 1) queueMicrotask(callLater);
}

function callLater(): void {
  // Taken whole first: one queued meanwhile gets a microtask of its own, after those already queued.
  const dones = laterDone;
  const outcomes = laterOutcome;
  laterDone = [];
  laterOutcome = [];
  for (let i = 0; i < dones.length; i++) (dones[i] as (outcome: UnitRunOutcome) => void)(outcomes[i] as UnitRunOutcome);
}

/** What the common part observed before the executor ran, or why the attempt fails without running. */
type BeforeRun =
  | { readonly ok: true; readonly fs: FileSystem; readonly outputs: OutputsBefore }
  | { readonly ok: false; readonly outcome: UnitRunOutcome };

function beforeRun(req: UnitRunRequest): BeforeRun {
  const { view } = req;
  const fs = req.fs ?? nodeFileSystem(req.root);
  const { unit } = view;
  // Before anything is made: an output stamped from here on was written by this attempt.
  const startedMs = req.now?.() ?? Date.now();
  // Checked before running: a unit whose outputs or fingerprint cannot be kept is not worth
  // running (it may be a paid call).
  const noDir =
    makeOutputDirs(fs, unit.outputs) ??
    (view.fingerprint ? makeDir(fs, FINGERPRINT_DIR, 'to record the fingerprint of this unit') : undefined);
  if (noDir) return { ok: false, outcome: { kind: 'failed', failure: noDir, outputTail: '', removed: [] } };
  // After makeOutputDirs: a directory output that runcue itself created does not count as written.
  return { ok: true, fs, outputs: observeOutputs(fs, unit.outputs, startedMs) };
}

function attemptRequest(req: UnitRunRequest): AttemptRequest {
  const { view, attempt, signal } = req;
  return req.log ? { view, attempt, signal, log: req.log } : { view, attempt, signal };
}

/** Removes what a failed attempt left (a task that keeps failed outputs: dates them back); says what went. */
function removeLeft(fs: FileSystem, view: UnitView, before: OutputsBefore): string[] {
  if (view.keepFailedOutputs) {
    dateBackChangedOutputs(fs, view.unit.outputs, before.files, before.startedMs);
    return [];
  }
  return [
    ...removeChangedDirectories(fs, view.unit, before.dirs),
    ...removeChangedOutputs(fs, view.unit.outputs, before.files, before.startedMs),
  ];
}

function afterRun(req: UnitRunRequest, before: BeforeRun & { readonly ok: true }, result: ExecutorOutcome): UnitRunOutcome {
  const { fs, outputs } = before;
  const { view } = req;
  switch (result.kind) {
    case 'push-back':
      return {
        kind: 'push-back',
        retryAfterMs: result.retryAfterMs,
        ...(result.unreadable !== undefined ? { unreadable: result.unreadable } : {}),
        removed: removeLeft(fs, view, outputs),
      };
    case 'done':
      return afterSuccess(req, fs, outputs, result.outputTail ?? '');
    case 'failed': {
      const removed = removeLeft(fs, view, outputs);
      const failure = inputRemoved(fs, view, result.failure);
      if (!result.abandoned) return { kind: 'failed', failure, outputTail: result.outputTail, removed };
      const abandoned = abandonAttempt({
        fs,
        unit: view.unit,
        attempt: req.attempt,
        settled: result.abandoned,
        keepOutputs: view.keepFailedOutputs,
      });
      return { kind: 'failed', failure, outputTail: result.outputTail, removed, abandoned };
    }
  }
}

/**
 * A finished attempt: it must have written its outputs; an input that changed while it ran
 * keeps the unit stale; otherwise its fingerprint (hash freshness) is recorded.
 */
function afterSuccess(req: UnitRunRequest, fs: FileSystem, outputsBefore: OutputsBefore, outputTail: string): UnitRunOutcome {
  const { view } = req;
  const { unit } = view;
  const written = outputsWritten(fs, unit.outputs, outputsBefore);
  if (written.missing.length > 0) {
    const paths = written.missing.map((o) => o.path);
    // A function returns, a command or a worker's answer exits 0.
    const ended = view.run.kind === 'function' ? 'returned' : 'exited 0';
    const message = `${ended} without writing ${paths.join(', ')} (${untouchedHint(fs, paths)}mark an output { path, optional: true } if it may be absent)`;
    return {
      kind: 'failed',
      failure: inputRemoved(fs, view, { reason: 'missing-output', outputs: paths, message }),
      // What it printed may say why it wrote nothing.
      outputTail,
      removed: removeLeft(fs, view, outputsBefore),
    };
  }
  if (written.dirs.length > 0) touchDirectories(fs, written.dirs, req.now?.() ?? Date.now());
  const changed = changedInputs(fs, view.inputs, unit.inputs, req.isOrphan);
  if (changed.length > 0) keepStale(fs, view, changed, written.dirs);
  // The outputs stay: without a record they are stale to a hash task, so nothing lies.
  const unsaved = view.fingerprint && changed.length === 0 ? recordFingerprint(fs, unit, view.fingerprint) : undefined;
  if (unsaved) return { kind: 'failed', failure: unsaved, outputTail: '', removed: [] };
  const rewrote = changed.length === 0 ? NONE : changed.filter((f) => view.inputs.has(f) && statPath(fs, f) !== undefined);
  return { kind: 'done', inputsChanged: changed.length > 0, rewrote, written: writtenFiles(fs, unit.outputs, written.files) };
}

const NONE: readonly string[] = Object.freeze([]);

/** Says which of the outputs not written are files from before that the attempt left alone (a failure's cost only). */
function untouchedHint(fs: FileSystem, paths: readonly string[]): string {
  const there = paths.filter((p) => statPath(fs, p) !== undefined);
  if (there.length === 0) return '';
  const which = there.length === 1 ? `${there[0] ?? ''} was` : `${there.join(', ')} were`;
  return `${which} there before and left untouched: a command that finds an output up to date must still touch it; `;
}

/**
 * A failure whose cause may be an input gone since the unit was checked (deleted meanwhile):
 * then the failure says so (`cp: cannot stat` alone hides it). Looked at only once an attempt
 * failed, so a successful one pays no stat for it; a stop, a timeout or runcue's own trouble
 * is left as it is.
 */
function inputRemoved(fs: FileSystem, view: UnitView, failure: UnitFailure): UnitFailure {
  const { reason } = failure;
  if (reason !== 'exit-non-zero' && reason !== 'signal' && reason !== 'function-error' && reason !== 'missing-output') return failure;
  const gone: string[] = [];
  for (const file of view.inputs.keys()) if (statInput(fs, file) === undefined) gone.push(file);
  if (gone.length === 0) return failure;
  const what = gone.length === 1 ? `input ${gone[0] ?? ''} was` : `inputs ${gone.join(', ')} were`;
  const message = `${what} removed before or while the unit ran (then: ${failure.message})`;
  const exitCode = reason === 'exit-non-zero' ? { exitCode: failure.exitCode } : {};
  return { reason: 'input-removed', inputs: gone, ...exitCode, message };
}

/** The files a successful attempt leaves as its own: those it wrote, and its concrete outputs that exist. */
function writtenFiles(fs: FileSystem, outputs: readonly UnitPath[], files: readonly string[]): string[] {
  const only = outputs.length === 1 ? outputs[0] : undefined;
  // One concrete output: what it wrote is that file, if it wrote anything. outputsWritten
  // statted it a moment ago: a file it found written is there (no second stat per unit).
  if (only && !only.isGlob) {
    if (files.length === 1 && files[0] === only.path) return [only.path];
    return fs.stat(only.path)?.isFile() ? [only.path] : [];
  }
  const concrete = outputs.filter((o) => !o.isGlob && statPath(fs, o.path)).map((o) => o.path);
  return [...new Set([...files, ...concrete])];
}

/**
 * Keeps the outputs older than the changed input so the unit stays stale; for a file that
 * appeared meanwhile, just older than it (file times run on a coarser clock than Date.now(), so
 * "the run's start" could be later than the new file).
 */
function keepStale(fs: FileSystem, view: UnitView, changed: readonly string[], dirs: readonly string[]): void {
  const inputs: ReadonlyMap<string, FileStat> = view.inputs;
  const oldest = Math.min(...changed.map((f) => inputs.get(f)?.mtimeMs ?? (statPath(fs, f)?.mtimeMs ?? 1) - 1));
  setMtime(fs, [...snapshot(fs, view.unit.outputs).keys(), ...dirs], oldest);
}
