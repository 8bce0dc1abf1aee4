/**
 * A unit's view: what one unit runs, decided once when it is found stale (its inputs by name,
 * its rendered command, its fingerprint) and handed to the executor and the hooks of every
 * attempt. Plain data, so that an executor in another process or on another machine can take
 * it; the one exception is a function task's function.
 */
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResolvedTask, WorkerSpec } from '../../config/resolved.ts';
import { renderShell, shellInvocation } from '../../config/shell-template.ts';
import type { TaskFunction, UnitInfo } from '../../config/types.ts';
import type { Unit } from '../../graph/unit.ts';
import { globMatcher } from '../../patterns/glob-match.ts';
import { renderArgv, templatePlaceholders, type TemplateValues } from '../../patterns/template.ts';
import type { FileStat } from '../files.ts';
import type { FingerprintParts } from '../fingerprint.ts';

/** A shell or argv command, rendered for the unit. */
export interface CommandRun {
  readonly kind: 'command';
  readonly form: 'shell' | 'argv';
  readonly argv: readonly string[];
  /** Placeholder values of a shell command, passed out of band (never in the script's text). */
  readonly env: Readonly<Record<string, string>>;
  /** The command for messages and fingerprints: `{inputs_file}` shows as itself, stable across runs. */
  readonly text: string;
  /** Where `argv` expects the `{inputs_file}` list, when it names one: written for each attempt. */
  readonly inputsFile?: string;
}

/** A function task's function: the one part of a view that is not data. */
export interface FunctionRun {
  readonly kind: 'function';
  readonly fn: TaskFunction;
}

/** A persistent worker task's unit: the worker pool of its task runs it (src/runner/workers). */
export interface WorkerRun {
  readonly kind: 'worker';
  /** The worker's command, for messages and fingerprints. */
  readonly text: string;
}

/** Everything an attempt of a unit needs from its task and its check. */
export interface UnitView {
  readonly unit: Unit;
  /** Input files and their stats as observed when the unit was found stale. */
  readonly inputs: ReadonlyMap<string, FileStat>;
  /** What hooks and functions are given, but for the attempt number (see {@link attemptInfo}). */
  readonly info: Omit<UnitInfo, 'attempt'>;
  readonly run: CommandRun | FunctionRun | WorkerRun;
  /** The task's declared environment. */
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number | undefined;
  readonly keepFailedOutputs: boolean;
  /** (freshness 'hash') The fingerprint taken at check time: recorded when the unit succeeds. */
  readonly fingerprint?: FingerprintParts;
}

/** The view of a unit whose inputs were observed as `inputs`. */
export function unitView(unit: Unit, task: ResolvedTask, inputs: ReadonlyMap<string, FileStat>, fingerprint?: FingerprintParts): UnitView {
  return new View(unit, inputs, task, fingerprint);
}

/** The same view with the fingerprint a hash check took. */
export function withFingerprint(view: UnitView, fingerprint: FingerprintParts): UnitView {
  return view instanceof View ? view.withFingerprint(fingerprint) : { ...view, fingerprint };
}

/**
 * A view whose `info` (and the inputs by name behind it) is made when first asked for (hooks,
 * functions, remote jobs): a rehearsal holds 10,000s of views and asks for none.
 */
class View implements UnitView {
  readonly unit: Unit;
  readonly inputs: ReadonlyMap<string, FileStat>;
  readonly run: CommandRun | FunctionRun | WorkerRun;
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number | undefined;
  readonly keepFailedOutputs: boolean;
  declare readonly fingerprint?: FingerprintParts;
  private named: Record<string, string[]> | undefined;
  private described: Omit<UnitInfo, 'attempt'> | undefined;

  constructor(unit: Unit, inputs: ReadonlyMap<string, FileStat>, task: ResolvedTask | View, fingerprint: FingerprintParts | undefined) {
    this.unit = unit;
    this.inputs = inputs;
    if (task instanceof View) {
      this.run = task.run;
      this.env = task.env;
      this.timeoutMs = task.timeoutMs;
      this.keepFailedOutputs = task.keepFailedOutputs;
      this.named = task.named;
      this.described = task.described;
    } else {
      // The view itself, not a closure over it: one of these per unit checked stale.
      this.run = runOf(task, unit, this);
      this.env = task.env;
      this.timeoutMs = task.timeoutMs;
      this.keepFailedOutputs = task.keepFailedOutputs;
    }
    if (fingerprint) this.fingerprint = fingerprint;
  }

  get info(): Omit<UnitInfo, 'attempt'> {
    return (this.described ??= describeUnit(this.unit, this.byName()));
  }

  withFingerprint(fingerprint: FingerprintParts): View {
    return new View(this.unit, this.inputs, this, fingerprint);
  }

  /** Its inputs by name (made when first asked). */
  byName(): Record<string, string[]> {
    return (this.named ??= inputsByName(this.unit, this.inputs));
  }
}

function runOf(task: ResolvedTask, unit: Unit, view: View): UnitView['run'] {
  if (task.run.kind === 'function') return { kind: 'function', fn: task.run.fn };
  if (task.run.kind === 'worker') return { kind: 'worker', text: workerText(task.run) };
  return constantCommand(task, unit) ?? renderCommand(task, unit, view.byName());
}

/** Commands without placeholders, rendered once: the same for every unit (`runcue sim`'s scenarios). */
const constants = new WeakMap<ResolvedTask['run'], CommandRun | null>();

function constantCommand(task: ResolvedTask, unit: Unit): CommandRun | undefined {
  let run = constants.get(task.run);
  if (run === undefined) {
    const templates = task.run.kind === 'shell' ? [task.run.command] : task.run.kind === 'argv' ? task.run.argv : [];
    const constant = templates.length > 0 && templates.every((t) => templatePlaceholders(t).length === 0);
    run = constant ? renderCommand(task, unit, {}) : null;
    constants.set(task.run, run);
  }
  return run ?? undefined;
}

/** A worker's command as shown, with what it writes: both decide what its outputs hold. */
function workerText(spec: WorkerSpec): string {
  const command = typeof spec.command === 'string' ? spec.command : argvText(spec.command);
  return spec.writeResult === undefined ? `worker: ${command}` : `worker: ${command} (writeResult: ${spec.writeResult})`;
}

function argvText(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w./=:,+@%^-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

/**
 * The view a check built (hash freshness renders the command to fingerprint it) when it was
 * built from these very inputs; otherwise a new one, keeping the check's fingerprint.
 */
export function viewFor(unit: Unit, task: ResolvedTask, inputs: ReadonlyMap<string, FileStat>, checked: UnitView | undefined): UnitView {
  return checked?.inputs === inputs ? checked : unitView(unit, task, inputs, checked?.fingerprint);
}

/** What hooks and functions are given for one attempt. */
export function attemptInfo(view: UnitView, attempt: number): UnitInfo {
  return { ...view.info, attempt };
}

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

/** What hooks, custom checks and functions are told about a unit. */
export function unitInfo(unit: Unit, named: Record<string, string[]>, attempt: number): UnitInfo {
  return { ...describeUnit(unit, named), attempt };
}

function describeUnit(unit: Unit, named: Record<string, string[]>): Omit<UnitInfo, 'attempt'> {
  // Each file once, as `{inputs}` gives them: two input patterns may match one file.
  const inputs = [...new Set(Object.values(named).flat())];
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
  };
}

/** What a hash fingerprint records as "the command": the rendered text, or a function's source. */
export function fingerprintCommand(task: ResolvedTask, unit: Unit, inputs: ReadonlyMap<string, FileStat>): string {
  if (task.run.kind === 'function') return task.run.fn.toString();
  if (task.run.kind === 'worker') return workerText(task.run);
  return renderCommand(task, unit, inputsByName(unit, inputs), { withInputsFile: false }).text;
}

/** {@link fingerprintCommand} of a view. */
export function viewCommand(view: UnitView): string {
  return view.run.kind === 'function' ? view.run.fn.toString() : view.run.text;
}

/** os.tmpdir() reads the environment on every call: once is enough. */
let tempDir: string | undefined;

/** The directory of a run's temporary files (`{inputs_file}` lists, retry-after files). */
export function runTempDir(): string {
  return (tempDir ??= tmpdir());
}

/**
 * The command of a shell or argv task. Its text shows `{inputs_file}` itself; its argv names a
 * temporary file, chosen here, unless `withInputsFile` is false (the text alone is wanted).
 */
function renderCommand(task: ResolvedTask, unit: Unit, named: Record<string, string[]>, { withInputsFile = true } = {}): CommandRun {
  const values: TemplateValues = {
    inputs: named,
    outputs: Object.fromEntries(unit.outputs.map((o) => [o.name, [o.path]])),
    wildcards: unit.wildcards,
  };
  const inputsFile = withInputsFile && usesInputsFile(task) ? join(runTempDir(), `runcue-inputs-${randomUUID()}.txt`) : undefined;
  const argvValues = inputsFile === undefined ? values : { ...values, inputsFile };
  switch (task.run.kind) {
    case 'shell': {
      const { argv, env } = shellInvocation(task.run.command, argvValues);
      return {
        kind: 'command',
        form: 'shell',
        argv,
        env,
        text: renderShell(task.run.command, values),
        ...(inputsFile === undefined ? {} : { inputsFile }),
      };
    }
    case 'argv': {
      const argv = renderArgv(task.run.argv, argvValues);
      const shown = inputsFile === undefined ? argv : renderArgv(task.run.argv, values);
      const text = argvText(shown);
      return { kind: 'command', form: 'argv', argv, env: {}, text, ...(inputsFile === undefined ? {} : { inputsFile }) };
    }
    case 'function':
    case 'worker':
      throw new Error(`internal error: a ${task.run.kind} task has no command`);
  }
}

/** Whether the task's command names `{inputs_file}`. */
function usesInputsFile(task: ResolvedTask): boolean {
  const templates = task.run.kind === 'shell' ? [task.run.command] : task.run.kind === 'argv' ? task.run.argv : [];
  return templates.some((t) => templatePlaceholders(t).includes('inputs_file'));
}
