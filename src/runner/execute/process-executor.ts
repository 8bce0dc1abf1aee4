/**
 * The process executor: a shell or argv command run as its own process group (spawn.ts), with
 * the `{inputs_file}` list and the retry-after file it may need. Kill grace, timeouts and pipe
 * draining run on real timers: they bound real processes, not the scheduler's virtual time.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { err, ok, type Result } from '../../result.ts';
import { operand } from '../../patterns/template.ts';
import type { ProcessGroups } from '../process-groups.ts';
import { EX_TEMPFAIL, takeRetryAfterFile } from '../push-back.ts';
import type { AttemptRequest, Executor, ExecutorOutcome } from './executor.ts';
import { execProcess } from './spawn.ts';
import { spawnerFor, spawnMode, type SpawnMode } from './spawner.ts';
import { runTempDir, type CommandRun } from './unit-view.ts';

/** What every command of a run shares. */
export interface ProcessContext {
  /** The project root: every command's working directory. */
  readonly root: string;
  /**
   * The run's environment, under each task's declared `env`: read once, when the executor is made
   * (a build's start, after its config loaded), not per command.
   */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** How long a stopped process tree has between SIGTERM and SIGKILL. */
  readonly killGraceMs: number;
  /** The run's process groups (see process-groups.ts). */
  readonly groups?: ProcessGroups;
}

/** An executor that runs shell and argv commands as local processes. */
export function processExecutor(given: ProcessContext): Executor {
  // A plain copy: process.env is an exotic object whose every read is a getenv(), and copying it
  // for each command cost ~0.1 ms of CPU a unit in a clean build.
  const context: ProcessContext = { ...given, env: { ...given.env } };
  const spawn = spawnMode(context.env);
  // Forced, the pool is started now, while the run plans: a unit that waits for the helper does
  // so after its start was counted against its service's rate. (`auto` forks until it is up.)
  if (spawn === 'pool') spawnerFor(spawn, { graceMs: context.killGraceMs, tmp: runTempDir(), env: context.env });
  return { run: (request) => runCommand(context, spawn, request) };
}

async function runCommand(context: ProcessContext, spawn: SpawnMode, request: AttemptRequest): Promise<ExecutorOutcome> {
  const { view } = request;
  if (view.run.kind !== 'command') throw new Error(`internal error: ${view.unit.id} is not a command`);
  const command = view.run;
  const inputsFile = command.inputsFile === undefined ? undefined : writeInputsFile(command.inputsFile, view.info.inputs);
  if (inputsFile?.ok === false) return { kind: 'failed', failure: { reason: 'spawn-error', message: inputsFile.error }, outputTail: '' };
  try {
    return await spawnCommand(context, spawn, request, command);
  } finally {
    if (command.inputsFile !== undefined) rmSync(command.inputsFile, { force: true });
  }
}

async function spawnCommand(
  context: ProcessContext,
  spawn: SpawnMode,
  request: AttemptRequest,
  command: CommandRun,
): Promise<ExecutorOutcome> {
  const { view, log } = request;
  const retryAfterFile = join(runTempDir(), `runcue-retry-after-${randomUUID()}`);
  const outcome = await execProcess(command.argv, {
    cwd: context.root,
    env: {
      ...context.env,
      ...view.env,
      RUNCUE_UNIT: view.unit.id,
      RUNCUE_TASK: view.unit.task,
      RUNCUE_ATTEMPT: String(request.attempt),
      RUNCUE_RETRY_AFTER_FILE: retryAfterFile,
      ...command.env,
    },
    signal: request.signal,
    timeoutMs: view.timeoutMs,
    killGraceMs: context.killGraceMs,
    spawn,
    ...(context.groups ? { groups: context.groups } : {}),
    ...(log ? { onOutput: (stream: 'stdout' | 'stderr', text: string) => log(stream, text) } : {}),
  });
  const pushedBack = !outcome.ok && outcome.failure.reason === 'exit-non-zero' && outcome.failure.exitCode === EX_TEMPFAIL;
  // Read only on exit 75: a failed read throws, and doing it for every unit showed in profiles.
  // Otherwise a file the command wrote anyway (then failed, or was stopped) is not left in TMPDIR.
  if (!pushedBack && existsSync(retryAfterFile)) rmSync(retryAfterFile, { force: true });
  if (outcome.ok) return { kind: 'done', outputTail: outcome.outputTail };
  const { failure, outputTail } = outcome;
  if (pushedBack) return { kind: 'push-back', ...takeRetryAfterFile(retryAfterFile, Date.now()) };
  if (failure.reason === 'spawn-error' && failure.message.includes('E2BIG')) {
    const hint = command.form === 'shell' ? ' use the argv form of run, or' : '';
    const message = `${failure.message}: too many or too long paths for one command line;${hint} pass the list as a file with {inputs_file}`;
    return { kind: 'failed', failure: { reason: 'spawn-error', message }, outputTail };
  }
  return { kind: 'failed', failure, outputTail };
}

/**
 * Writes the `{inputs_file}` list: the unit's inputs, one per line. A path with a newline cannot
 * be listed that way, so the unit fails rather than list a wrong path.
 */
function writeInputsFile(file: string, inputs: readonly string[]): Result<string, string> {
  const bad = inputs.find((p) => p.includes('\n'));
  if (bad !== undefined)
    return err(`{inputs_file} lists one path per line, and ${JSON.stringify(bad)} contains a newline: rename it, or use {inputs}`);
  try {
    writeFileSync(file, inputs.map((p) => `${operand(p)}\n`).join(''));
  } catch (error) {
    return err(`could not write the {inputs_file} list ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return ok(file);
}
