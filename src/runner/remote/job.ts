/**
 * A unit's attempt as a BullMQ job: its view as plain JSON (a function task's function stays
 * behind: the worker finds it in its own copy of the config), the coordinator's config hash, and
 * the job id that makes adding it idempotent.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { ResolvedConfig } from '../../config/resolved.ts';
import { err, ok, type Result } from '../../result.ts';
import type { UnitFailure } from '../events.ts';
import type { CommandRun, UnitView, WorkerRun } from '../execute/unit-view.ts';
import { viewCommand } from '../execute/unit-view.ts';
import type { FileStat } from '../files.ts';

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** What a job carries: one attempt of one unit, as data. */
export interface JobData {
  /** The coordinator's {@link configHash}: a worker with another config refuses the job. */
  readonly configHash: string;
  readonly attempt: number;
  readonly unit: UnitView['unit'];
  readonly inputs: readonly (readonly [string, FileStat])[];
  readonly info: UnitView['info'];
  /** A function task's run is only its kind: the worker takes the function from its config. */
  readonly run: CommandRun | WorkerRun | { readonly kind: 'function' };
  readonly env: UnitView['env'];
  readonly timeoutMs: number | null;
  readonly keepFailedOutputs: boolean;
  readonly fingerprint: UnitView['fingerprint'] | null;
}

/** When and where a job's unit started: the job's progress, and part of its result. */
export interface JobStart {
  /** When the start gate admitted it (ms, Redis's clock). */
  readonly time: number;
  readonly host: string;
}

/**
 * How a job ended on its worker (runUnit's outcome there, and the host): its return value. A
 * failure is returned, not thrown: retries are the coordinator's.
 */
export type JobResult =
  | {
      readonly kind: 'done';
      readonly host: string;
      readonly started: JobStart;
      readonly inputsChanged: boolean;
      readonly rewrote: readonly string[];
      readonly written: readonly string[];
    }
  | {
      readonly kind: 'failed';
      readonly host: string;
      /** Absent when the worker refused the job (it never started). */
      readonly started?: JobStart;
      readonly failure: UnitFailure;
      readonly outputTail: string;
      readonly removed: readonly string[];
    };

/** The hash of the config file's content: coordinator and workers must run the same config. */
export function configHash(config: ResolvedConfig): string {
  return sha256(`${basename(config.file)}\n${readFileSync(config.file, 'utf8')}`).slice(0, 16);
}

/** The job of an attempt of `view`. */
export function jobData(view: UnitView, attempt: number, hash: string): JobData {
  return {
    configHash: hash,
    attempt,
    unit: view.unit,
    inputs: [...view.inputs],
    info: view.info,
    run: view.run.kind === 'function' ? { kind: 'function' } : view.run,
    env: view.env,
    timeoutMs: view.timeoutMs ?? null,
    keepFailedOutputs: view.keepFailedOutputs,
    fingerprint: view.fingerprint ?? null,
  };
}

/**
 * The job id: the same unit with the same inputs (their content hashes with hash freshness,
 * else their size and mtime) and command, at the same attempt, is the same job, so two
 * coordinators (or a restarted one) never add the same work twice.
 */
export function jobId(view: UnitView, attempt: number): string {
  const inputs = view.fingerprint?.inputs ?? Object.fromEntries([...view.inputs].map(([f, s]) => [f, `${s.size}:${s.mtimeMs}`]));
  const key = JSON.stringify([view.unit.task, view.unit.id, inputs, viewCommand(view), view.fingerprint?.env ?? '']);
  return `${sha256(key).slice(0, 32)}-${attempt}`;
}

/** The view a worker runs: the job's data, with the function of a function task from its own config. */
export function viewOfJob(data: JobData, config: ResolvedConfig, hash: string): Result<UnitView, string> {
  if (data.configHash !== hash) {
    return err(
      `this worker's config (${config.file}, hash ${hash}) differs from the coordinator's (hash ${data.configHash}): run \`runcue worker\` in the same checkout as \`runcue build --queue\``,
    );
  }
  const task = config.tasks.get(data.unit.task);
  if (!task) return err(`this worker's config ${config.file} has no task "${data.unit.task}"`);
  let run: UnitView['run'];
  if (data.run.kind === 'function') {
    if (task.run.kind !== 'function') return err(`task "${task.name}" is not a function task in ${config.file}`);
    run = { kind: 'function', fn: task.run.fn };
  } else run = data.run;
  return ok({
    unit: data.unit,
    inputs: new Map(data.inputs),
    info: data.info,
    run,
    env: data.env,
    timeoutMs: data.timeoutMs ?? undefined,
    keepFailedOutputs: data.keepFailedOutputs,
    ...(data.fingerprint ? { fingerprint: data.fingerprint } : {}),
  });
}
