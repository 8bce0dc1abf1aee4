/**
 * The simulation model from the command line: `--latency extract=2s,summarize=100ms,500ms`,
 * `--error-rate ocr=0.05`, `--jitter 0.2`, `--fanout split=30`. Keys are task or service names;
 * a bare value is the default for every task. A task's own key wins over its services' (the
 * first of its `uses` that has one), which win over the default.
 */
import type { ResolvedConfig, ResolvedTask } from '../../config/resolved.ts';
import { parseDuration } from '../../config/duration.ts';
import { err, ok, type Result } from '../../result.ts';
import { didYouMean } from '../../suggest.ts';
import type { TaskModel } from './executor.ts';

/** Values by task or service name, and the default. */
export interface Keyed<T> {
  readonly byName: ReadonlyMap<string, T>;
  readonly fallback: T | undefined;
}

/** The model flags as typed; each absent one takes its default. */
export interface ModelFlags {
  readonly latency?: string;
  readonly jitter?: string;
  readonly errorRate?: string;
  readonly fanout?: string;
}

/** Defaults: 200 ms per attempt, no jitter, no failures, 3 files per dynamic output. */
const MODEL_DEFAULTS: TaskModel = { latencyMs: 200, jitter: 0, errorRate: 0, fanout: 3 };

type Parse<T> = (value: string) => Result<T, string>;

const duration: Parse<number> = (v) => parseDuration(v);
const fraction: Parse<number> = (v) => {
  const n = Number(v);
  return v.trim() !== '' && Number.isFinite(n) && n >= 0 && n <= 1 ? ok(n) : err('expected a number from 0 to 1');
};
const count: Parse<number> = (v) => {
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? ok(n) : err('expected a whole number');
};

/** Parses `name=value,...,value`; names are checked against `names`. */
function parseKeyed<T>(flag: string, text: string, parse: Parse<T>, names: ReadonlySet<string>): Result<Keyed<T>, string> {
  const byName = new Map<string, T>();
  let fallback: T | undefined;
  for (const part of text.split(',').map((p) => p.trim())) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? undefined : part.slice(0, eq).trim();
    const raw = eq < 0 ? part : part.slice(eq + 1).trim();
    const value = parse(raw);
    if (!value.ok) return err(`${flag} ${key === undefined ? '' : `${key}=`}${raw}: ${value.error}`);
    // Given twice, one of the two would be dropped without a word.
    if (key === undefined) {
      if (fallback !== undefined)
        return err(`${flag} ${text}: more than one value without a name; name the tasks or services (extract=2s)`);
      fallback = value.value;
      continue;
    }
    if (byName.has(key)) return err(`${flag} ${text}: ${key} is given more than once`);
    if (!names.has(key)) {
      const near = didYouMean(key, names);
      const hint = near ? ` (did you mean "${near}"?)` : ` (tasks and services: ${[...names].sort().join(', ')})`;
      return err(`${flag} ${key}=${raw}: no task or service is named "${key}"${hint}`);
    }
    byName.set(key, value.value);
  }
  return ok({ byName, fallback });
}

function pick<T>(keyed: Keyed<T> | undefined, task: ResolvedTask, fallback: T): T {
  if (!keyed) return fallback;
  const own = keyed.byName.get(task.name);
  if (own !== undefined) return own;
  for (const service of task.uses) {
    const value = keyed.byName.get(service);
    if (value !== undefined) return value;
  }
  return keyed.fallback ?? fallback;
}

/** The model of every task of `config`, or the first flag that does not parse. */
export function modelOf(config: ResolvedConfig, flags: ModelFlags): Result<(task: ResolvedTask) => TaskModel, string> {
  const names = new Set([...config.tasks.keys(), ...config.services.keys(), 'cpu']);
  const parsed = {
    latency: flags.latency === undefined ? undefined : parseKeyed('--latency', flags.latency, duration, names),
    jitter: flags.jitter === undefined ? undefined : parseKeyed('--jitter', flags.jitter, fraction, names),
    errorRate: flags.errorRate === undefined ? undefined : parseKeyed('--error-rate', flags.errorRate, fraction, names),
    fanout: flags.fanout === undefined ? undefined : parseKeyed('--fanout', flags.fanout, count, names),
  };
  for (const p of Object.values(parsed)) if (p && !p.ok) return err(p.error);
  const value = <T>(r: Result<Keyed<T>, string> | undefined): Keyed<T> | undefined => (r?.ok ? r.value : undefined);
  const [latency, jitter, errorRate, fanout] = [value(parsed.latency), value(parsed.jitter), value(parsed.errorRate), value(parsed.fanout)];
  return ok((task) => ({
    latencyMs: pick(latency, task, MODEL_DEFAULTS.latencyMs),
    jitter: pick(jitter, task, MODEL_DEFAULTS.jitter),
    errorRate: pick(errorRate, task, MODEL_DEFAULTS.errorRate),
    fanout: pick(fanout, task, MODEL_DEFAULTS.fanout),
  }));
}

/** `--files 'docs/*.pdf=20'`: a glob and how many files to make up for it. */
export function parseFilesFlag(text: string): Result<{ glob: string; count: number }, string> {
  const eq = text.lastIndexOf('=');
  const n = eq < 0 ? Number.NaN : Number(text.slice(eq + 1));
  if (eq <= 0 || !Number.isInteger(n) || n < 1) return err(`--files ${text}: expected GLOB=COUNT, such as 'docs/*.pdf=20'`);
  const glob = text.slice(0, eq);
  // As for the config's patterns: files outside its directory could feed no task.
  if (glob.startsWith('/') || glob.split('/').includes('..'))
    return err(`--files ${text}: the glob is relative to the config directory (no leading / and no .. segment)`);
  return ok({ glob, count: n });
}
