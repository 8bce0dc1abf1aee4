/**
 * The built-in scenarios of `runcue sim --scenario`: small configs on one rate-limited service
 * `api` (`--rate`, `--concurrent`), with `--count` units' worth of synthetic inputs.
 */
import { join } from 'node:path';
import type { ResolvedConfig } from '../../config/resolved.ts';
import { resolveConfig } from '../../config/resolve.ts';
import { namesFor } from './names.ts';
import type { SyntheticFiles } from './seed.ts';

export const SCENARIOS = ['single_queue', 'pipeline', 'fanout', 'dynamic'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** One line per scenario, for `--list-scenarios`. */
export const SCENARIO_DESCRIPTIONS: Readonly<Record<ScenarioName, string>> = {
  single_queue: 'N independent units on one service: work in/{n}.txt -> out/{n}.txt',
  pipeline: 'extract -> transform -> load, N units each, all on the service',
  fanout: 'split one file into N parts (a dynamic output) -> process each on the service -> aggregate them (a fan-in)',
  dynamic:
    'prepare -> finish, N units each; when half the units have finished, 10% of the inputs (those processed first) are rewritten, and the units they feed are rebuilt in a second pass, as watch would',
};

/** The limits of the scenario's service `api`. */
export interface ScenarioLimits {
  readonly count: number;
  /** `--rate` as written (`60/min`), or none. */
  readonly rate: string | undefined;
  readonly concurrent: number | undefined;
}

/** A scenario's inputs rewritten once the run has finished `afterDone` units. */
export interface SimEdit {
  readonly afterDone: number;
  readonly files: readonly string[];
}

/** A scenario, ready to simulate in `root`. */
export interface Scenario {
  readonly config: ResolvedConfig;
  readonly files: readonly SyntheticFiles[];
  /** Files a glob output gets per producer (fanout: the count). */
  readonly fanout?: number;
  readonly edits: readonly SimEdit[];
}

const RUN = 'true'; // never run: the simulated executor stands in for every command

const INPUTS = 'in/*.txt';

function inputNames(count: number): string[] {
  const names = namesFor(INPUTS, count, '');
  if (!names.ok) throw new Error(names.error);
  return names.value;
}

function tasksOf(name: ScenarioName): Record<string, unknown> {
  switch (name) {
    case 'single_queue':
      return { work: { uses: 'api', input: 'in/{n}.txt', output: 'out/{n}.txt', run: RUN } };
    case 'pipeline':
      return {
        extract: { uses: 'api', input: 'in/{n}.txt', output: 'extracted/{n}.txt', run: RUN },
        transform: { uses: 'api', input: 'extracted/{n}.txt', output: 'transformed/{n}.txt', run: RUN },
        load: { uses: 'api', input: 'transformed/{n}.txt', output: 'loaded/{n}.txt', run: RUN },
      };
    case 'fanout':
      return {
        split: { uses: 'cpu', input: 'in/doc.txt', output: 'parts/*.txt', run: RUN },
        process: { uses: 'api', input: 'parts/{part}.txt', output: 'processed/{part}.txt', run: RUN },
        aggregate: { uses: 'cpu', input: 'processed/*.txt', output: 'out/all.txt', run: RUN },
      };
    case 'dynamic':
      return {
        prepare: { uses: 'api', input: 'in/{n}.txt', output: 'prepared/{n}.txt', run: RUN },
        finish: { uses: 'api', input: 'prepared/{n}.txt', output: 'out/{n}.txt', run: RUN },
      };
  }
}

/** The scenario `name` rooted in `root`; throws only on a bug (the configs are fixed). */
export function scenario(name: ScenarioName, root: string, limits: ScenarioLimits): Scenario {
  const api = { ...(limits.rate ? { rate: limits.rate } : {}), ...(limits.concurrent ? { concurrent: limits.concurrent } : {}) };
  const raw = { services: { api, cpu: { concurrent: 1 } }, tasks: tasksOf(name) };
  const resolved = resolveConfig(raw, join(root, 'runcue.config.sim'), { cores: 1 });
  if (!resolved.ok) throw new Error(`scenario ${name}: ${JSON.stringify(resolved.error)}`);
  const count = limits.count;
  if (name === 'fanout') return { config: resolved.value, files: [{ glob: 'in/doc.txt', count: 1 }], fanout: count, edits: [] };
  const files = [{ glob: INPUTS, count, stem: '' }];
  if (name !== 'dynamic') return { config: resolved.value, files, edits: [] };
  const rewritten = inputNames(count).slice(0, Math.ceil(count / 10));
  return { config: resolved.value, files, edits: [{ afterDone: Math.ceil(count / 2), files: rewritten }] };
}
