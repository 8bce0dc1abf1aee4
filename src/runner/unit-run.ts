/**
 * One attempt of one unit: create output directories, render and run its command or function,
 * then either check that its inputs did not change meanwhile, or remove the outputs it left.
 */
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { globMatcher } from '../patterns/glob-match.ts';
import type { ResolvedTask } from '../config/resolved.ts';
import { renderShell, shellInvocation } from '../config/shell-template.ts';
import { renderArgv, templatePlaceholders, type TemplateValues } from '../patterns/template.ts';
import type { UnitInfo } from '../config/types.ts';
import type { Unit } from '../graph/unit.ts';
import { err, ok, type Result } from '../result.ts';
import type { UnitFailure } from './events.ts';
import { abandonAttempt, type AbandonedAttempt } from './abandoned.ts';
import { execProcess } from './exec.ts';
import { FINGERPRINT_DIR, recordFingerprint, type FingerprintParts } from './fingerprint.ts';
import { makeDir, makeOutputDirs, removeChangedOutputs, setMtime, snapshot, statPath, type FileStat } from './files.ts';
import type { ProcessGroups } from './process-groups.ts';
import { runFunction, type FunctionAttempt } from './function-run.ts';
import { EX_TEMPFAIL, takeRetryAfterFile } from './push-back.ts';
import { observeOutputs, outputsWritten, touchDirectories } from './outputs-written.ts';
import { changedInputs } from './staleness.ts';


export interface UnitRunRequest {
  readonly unit: Unit;
  readonly task: ResolvedTask;
  readonly root: string;
  readonly attempt: number;
  /** Input files and their stats as observed when the unit was found stale. */
  readonly inputs: ReadonlyMap<string, FileStat>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly signal: AbortSignal;
  readonly killGraceMs: number;
  /** The run's process groups (see process-groups.ts). */
  readonly groups?: ProcessGroups;
  readonly onLog?: (stream: 'stdout' | 'stderr' | 'log', text: string) => void;
  /** (freshness 'hash') The fingerprint taken at check time: recorded when the unit succeeds. */
  readonly fingerprint?: FingerprintParts;
  /** Files a glob input must not read (outputs of units that no longer exist). */
  readonly isOrphan?: (file: string) => boolean;
}

export type UnitRunOutcome =
  /**
   * `rewrote`: inputs that existed before and after the run and changed during it (its own
   * writes?); `written`: the output files it wrote (for the output record).
   */
  | { readonly ok: true; readonly inputsChanged: boolean; readonly rewrote: readonly string[]; readonly written: readonly string[] }
  /** The service pushed back: requeue, and pause the service (for `retryAfterMs` when given). */
  | { readonly ok: 'push-back'; readonly retryAfterMs: number | undefined; readonly removed: readonly string[] }
  | {
      readonly ok: false;
      readonly failure: UnitFailure;
      readonly outputTail: string;
      readonly removed: readonly string[];
      /** A function that ignored its abort signal and may still run: no retry beside it. */
      readonly abandoned?: AbandonedAttempt;
    };

/** Input files by input name: a glob input gives every file it matched when observed. */
export function inputsByName(unit: Unit, observed: ReadonlyMap<string, FileStat>): Record<string, string[]> {
  const byName: Record<string, string[]> = {};
  const files = [...observed.keys()];
  for (const input of unit.inputs) {
    if (!input.isGlob) byName[input.name] = observed.has(input.path) ? [input.path] : [];
    else byName[input.name] = files.filter(globMatcher(input.path));
  }
  return byName;
}


export function unitInfo(unit: Unit, named: Record<string, string[]>, attempt: number): UnitInfo {
  const inputs = Object.values(named).flat();
  const outputs = unit.outputs.map((o) => o.path);
  return {
    id: unit.id,
    task: unit.task,
    wildcards: unit.wildcards,
    input: inputs[0] ?? '',
    inputs,
    namedInputs: named,
    output: outputs[0] ?? '',
    outputs,
    namedOutputs: Object.fromEntries(unit.outputs.map((o) => [o.name, o.path])),
    attempt,
  };
}

/** The command a unit runs: argv, the environment it adds, and its text for messages. */
export interface ResolvedCommand {
  readonly argv: string[];
  /** Placeholder values of a shell command, passed out of band (never in the script's text). */
  readonly env: Readonly<Record<string, string>>;
  readonly text: string;
}

/**
 * The command of a unit. `inputsFile` is the path `{inputs_file}` stands for; without it the
 * text shows `{inputs_file}` itself (stable across runs, so fingerprints do not change).
 */
export function resolveCommand(task: ResolvedTask, unit: Unit, named: Record<string, string[]>, inputsFile?: string): ResolvedCommand | undefined {
  const values: TemplateValues = {
    inputs: named,
    outputs: Object.fromEntries(unit.outputs.map((o) => [o.name, [o.path]])),
    wildcards: unit.wildcards,
    ...(inputsFile === undefined ? {} : { inputsFile }),
  };
  switch (task.run.kind) {
    case 'shell': {
      const { argv, env } = shellInvocation(task.run.command, values);
      return { argv, env, text: renderShell(task.run.command, values) };
    }
    case 'argv': {
      const argv = renderArgv(task.run.argv, values);
      return { argv, env: {}, text: argv.map((a) => (/^[\w./=:,+@%^-]+$/.test(a) ? a : JSON.stringify(a))).join(' ') };
    }
    case 'function':
      return undefined;
  }
}

/** What a hash fingerprint records as "the command": the resolved text, or a function's source. */
export function fingerprintCommand(task: ResolvedTask, unit: Unit, inputs: ReadonlyMap<string, FileStat>): string {
  if (task.run.kind === 'function') return task.run.fn.toString();
  return resolveCommand(task, unit, inputsByName(unit, inputs))?.text ?? '';
}

export async function runUnit(req: UnitRunRequest): Promise<UnitRunOutcome> {
  const { unit, task, root } = req;
  // Checked before running: a unit whose outputs or fingerprint cannot be kept is not worth
  // running (it may be a paid call).
  const noDir = makeOutputDirs(root, unit.outputs) ?? (req.fingerprint ? makeDir(root, FINGERPRINT_DIR, 'to record the fingerprint of this unit') : undefined);
  if (noDir) return { ok: false, failure: noDir, outputTail: '', removed: [] };
  // After makeOutputDirs: a directory output that runcue itself created does not count as written.
  const outputsBefore = observeOutputs(root, unit.outputs);
  const before = outputsBefore.files;
  const named = inputsByName(unit, req.inputs);
  const result = await execute(req, named);
  if (result.ok === 'push-back') {
    const removed = task.keepFailedOutputs ? [] : removeChangedOutputs(root, unit.outputs, before);
    return { ok: 'push-back', retryAfterMs: result.retryAfterMs, removed };
  }
  if (result.ok) {
    const written = outputsWritten(root, unit.outputs, outputsBefore);
    if (written.missing.length > 0) {
      const removed = task.keepFailedOutputs ? [] : removeChangedOutputs(root, unit.outputs, before);
      const paths = written.missing.map((o) => o.path);
      const message = `exited 0 without writing ${paths.join(', ')} (mark an output { path, optional: true } if it may be absent)`;
      return { ok: false, failure: { reason: 'missing-output', outputs: paths, message }, outputTail: '', removed };
    }
    touchDirectories(root, written.dirs, new Date());
    const changed = changedInputs(root, req.inputs, unit.inputs, req.isOrphan);
    if (changed.length > 0) {
      // Keep the outputs older than the changed input so the unit stays stale (SPEC §2); for a
      // file that appeared meanwhile, just older than it (file times run on a coarser clock than
      // Date.now(), so "the run's start" could be later than the new file).
      const oldest = Math.min(...changed.map((f) => req.inputs.get(f)?.mtimeMs ?? (statPath(root, f)?.mtimeMs ?? 1) - 1));
      setMtime(root, [...snapshot(root, unit.outputs).keys(), ...written.dirs], oldest);
    }
    // The outputs stay: without a record they are stale to a hash task, so nothing lies.
    const unsaved = req.fingerprint && changed.length === 0 ? recordFingerprint(root, unit, req.fingerprint) : undefined;
    if (unsaved) return { ok: false, failure: unsaved, outputTail: '', removed: [] };
    const rewrote = changed.filter((f) => req.inputs.has(f) && statPath(root, f) !== undefined);
    const concrete = unit.outputs.filter((o) => !o.isGlob && statPath(root, o.path)).map((o) => o.path);
    return { ok: true, inputsChanged: changed.length > 0, rewrote, written: [...new Set([...written.files, ...concrete])] };
  }
  const removed = task.keepFailedOutputs ? [] : removeChangedOutputs(root, unit.outputs, before);
  if (!result.abandoned) return { ok: false, failure: result.failure, outputTail: result.outputTail, removed };
  const abandoned = abandonAttempt({ root, unit, attempt: req.attempt, settled: result.abandoned, keepOutputs: task.keepFailedOutputs });
  return { ok: false, failure: result.failure, outputTail: result.outputTail, removed, abandoned };
}

type Attempt = FunctionAttempt;

/** os.tmpdir() reads the environment on every call: once is enough. */
let tempDir: string | undefined;

async function execute(req: UnitRunRequest, named: Record<string, string[]>): Promise<Attempt> {
  const { task, unit } = req;
  const retryAfterFile = join((tempDir ??= tmpdir()), `runcue-retry-after-${randomUUID()}`);
  const env = {
    ...req.env,
    ...task.env,
    RUNCUE_UNIT: unit.id,
    RUNCUE_TASK: unit.task,
    RUNCUE_ATTEMPT: String(req.attempt),
    RUNCUE_RETRY_AFTER_FILE: retryAfterFile,
  };
  if (task.run.kind === 'function') {
    const { onLog } = req;
    return runFunction({
      unit,
      task,
      info: unitInfo(unit, named, req.attempt),
      signal: req.signal,
      killGraceMs: req.killGraceMs,
      ...(onLog ? { onLog } : {}),
    });
  }
  const inputsFile = usesInputsFile(task) ? writeInputsFile(named) : undefined;
  if (inputsFile?.ok === false) return { ok: false, failure: { reason: 'spawn-error', message: inputsFile.error }, outputTail: '' };
  try {
    const command = resolveCommand(task, unit, named, inputsFile?.value);
    if (!command) return { ok: false, failure: { reason: 'spawn-error', message: 'no command' }, outputTail: '' };
    return await execCommand(req, command, env, retryAfterFile);
  } finally {
    if (inputsFile?.ok) rmSync(inputsFile.value, { force: true });
  }
}

async function execCommand(req: UnitRunRequest, command: ResolvedCommand, env: Record<string, string | undefined>, retryAfterFile: string): Promise<Attempt> {
  const { task } = req;
  const onLog = req.onLog;
  const outcome = await execProcess(command.argv, {
    cwd: req.root,
    env: { ...env, ...command.env },
    signal: req.signal,
    timeoutMs: task.timeoutMs,
    killGraceMs: req.killGraceMs,
    ...(req.groups ? { groups: req.groups } : {}),
    ...(onLog ? { onOutput: (stream: 'stdout' | 'stderr', text: string) => onLog(stream, text) } : {}),
  });
  // Read only on exit 75: a failed read throws, and doing it for every unit showed in profiles.
  if (!outcome.ok && outcome.failure.reason === 'exit-non-zero' && outcome.failure.exitCode === EX_TEMPFAIL) {
    return { ok: 'push-back', retryAfterMs: takeRetryAfterFile(retryAfterFile, Date.now()) };
  }
  if (!outcome.ok && outcome.failure.reason === 'spawn-error' && outcome.failure.message.includes('E2BIG')) {
    const hint = task.run.kind === 'shell' ? ' use the argv form of run, or' : '';
    const message = `${outcome.failure.message}: too many or too long paths for one command line;${hint} pass the list as a file with {inputs_file}`;
    return { ...outcome, failure: { reason: 'spawn-error', message } };
  }
  return outcome;
}

/** Whether the task's command names `{inputs_file}`. */
function usesInputsFile(task: ResolvedTask): boolean {
  const templates = task.run.kind === 'shell' ? [task.run.command] : task.run.kind === 'argv' ? task.run.argv : [];
  return templates.some((t) => templatePlaceholders(t).includes('inputs_file'));
}

/**
 * The temporary file `{inputs_file}` names: the unit's inputs, one per line. A path with a
 * newline cannot be listed that way, so the unit fails rather than list a wrong path.
 */
function writeInputsFile(named: Record<string, string[]>): Result<string, string> {
  const inputs = Object.values(named).flat();
  const bad = inputs.find((p) => p.includes('\n'));
  if (bad !== undefined) return err(`{inputs_file} lists one path per line, and ${JSON.stringify(bad)} contains a newline: rename it, or use {inputs}`);
  const file = join((tempDir ??= tmpdir()), `runcue-inputs-${randomUUID()}.txt`);
  try {
    writeFileSync(file, inputs.map((p) => `${p}\n`).join(''));
  } catch (error) {
    return err(`could not write the {inputs_file} list ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return ok(file);
}
