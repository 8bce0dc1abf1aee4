/**
 * Validation and resolution of a loaded config: the schema checks shapes, the checks here need
 * the whole config (service and task names, wildcards, templates), then defaults are applied.
 * Pure: no file I/O, so every rule is tested on plain objects.
 */
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { err, ok, unreachable, type Result } from '../result.ts';
import { parseDuration, parseRate } from './duration.ts';
import { parsePattern, type Pattern } from '../patterns/pattern.ts';
import type {
  ConfigFailure,
  ConfigIssue,
  RateLimit,
  ResolvedConfig,
  ResolvedInput,
  ResolvedOutput,
  ResolvedService,
  ResolvedTask,
} from './resolved.ts';
import { checkRunOrWorker, toRunSpec } from './resolve-run.ts';
import { outputOverlapIssues } from './overlap.ts';
import { resolveSchedule } from './schedule.ts';
import { describeValue, isRecord, validateConfig, type PathIssue } from './schema.ts';
import { didYouMean } from '../suggest.ts';
import { checkTemplate } from '../patterns/template.ts';
import type { Duration, RuncueConfig, ServiceConfig, TaskConfig, Wildcards } from './types.ts';

/** Inputs of {@link resolveConfig} besides the config itself. */
export interface ResolveOptions {
  /** Default `concurrent` of the `cpu` service; `availableParallelism()` when absent. */
  readonly cores?: number;
}

/** The inputs, outputs and wildcards of one task, from its patterns. */
interface TaskShape {
  readonly inputs: readonly ResolvedInput[];
  readonly outputs: readonly ResolvedOutput[];
  readonly wildcards: readonly string[];
}

type Segments = readonly (string | number)[];

/**
 * Validates a loaded config (`raw`, the default export of `file`) and resolves it: defaults
 * applied, durations in ms, patterns parsed. Every mistake is reported, grouped by task.
 */
export function resolveConfig(raw: unknown, file: string, options: ResolveOptions = {}): Result<ResolvedConfig, ConfigFailure> {
  const absolute = path.resolve(file);
  if (!isRecord(raw)) {
    const name = path.basename(absolute);
    const what = name === 'package.json' ? 'its "runcue" key' : /\.(?:json|ya?ml)$/.test(name) ? 'the file' : 'the default export';
    const message = `expected ${what} to be a config object, got ${describeValue(raw)}`;
    return err({ reason: 'config-load', file: absolute, message });
  }
  const validated = validateConfig(raw);
  const issues: PathIssue[] = validated.ok ? [] : [...validated.error];
  const shapes = checkTasks(raw, issues);
  if (issues.length === 0) issues.push(...outputOverlapIssues(shapes));
  if (!validated.ok || issues.length > 0) {
    return err({ reason: 'config-invalid', file: absolute, issues: orderIssues(raw, issues) });
  }
  const cores = options.cores ?? availableParallelism();
  return ok(buildConfig(validated.value, shapes, { file: absolute, cores }));
}

// ---------------------------------------------------------------------------------------------
// Checks across the config. They read the raw value defensively, since it may have shape issues.

function checkTasks(raw: Readonly<Record<string, unknown>>, issues: PathIssue[]): Map<string, TaskShape> {
  const services = new Set(['cpu', ...(isRecord(raw['services']) ? Object.keys(raw['services']) : [])]);
  const tasks = isRecord(raw['tasks']) ? raw['tasks'] : {};
  const shapes = new Map<string, TaskShape>();
  for (const [name, task] of Object.entries(tasks)) {
    if (!isRecord(task)) continue;
    const at = (...rest: Segments): Segments => ['tasks', name, ...rest];
    const badName = taskNameProblem(name);
    if (badName !== undefined) issues.push({ path: at(), message: badName });
    // A field with a shape issue is left out here, so one mistake gives one message.
    const field = (key: string): unknown => (issues.some((issue) => isUnder(issue.path, at(key))) ? undefined : task[key]);
    for (const [segments, service] of namesIn(field('uses'), at('uses'))) {
      if (services.has(service)) continue;
      const known = [...services].sort().join(', ');
      const message = `unknown service "${service}" (services: ${known})${hint(service, services)}`;
      issues.push({ path: segments, message });
    }
    for (const [segments, other] of namesIn(field('after'), at('after'))) {
      if (other === name) issues.push({ path: segments, message: `task "${name}" cannot run after itself` });
      else if (!Object.hasOwn(tasks, other)) {
        issues.push({ path: segments, message: `unknown task "${other}"${hint(other, Object.keys(tasks))}` });
      }
    }
    const shape = checkShape(task, at, issues);
    if (shape !== undefined) {
      shapes.set(name, shape);
      checkRun(task, shape, at, issues);
      checkRunOrWorker(task, shape.outputs, at, issues);
    }
  }
  return shapes;
}

/**
 * Why a task name could not be typed as a target, or undefined: `[`, `]` open a unit filter
 * (`extract[doc=a]`), glob characters make it an output glob, and a leading `-` an option.
 */
function taskNameProblem(name: string): string | undefined {
  if (name.trim() === '') return 'a task name cannot be empty';
  const reserved = /[[\]*?{}]/.exec(name)?.[0];
  if (reserved !== undefined) return `task name "${name}" cannot contain "${reserved}": targets use it (task[key=glob], output globs)`;
  if (name.startsWith('-')) return `task name "${name}" cannot start with "-": it would be read as an option`;
  return undefined;
}

function hint(name: string, candidates: Iterable<string>): string {
  const suggestion = didYouMean(name, candidates);
  return suggestion === undefined ? '' : `; did you mean "${suggestion}"?`;
}

/** The strings of a name or list of names, each with its key path. */
function namesIn(value: unknown, at: Segments): [Segments, string][] {
  if (typeof value === 'string') return [[at, value]];
  if (!Array.isArray(value)) return [];
  return value.flatMap((item, i): [Segments, string][] => (typeof item === 'string' ? [[[...at, i], item]] : []));
}

interface SpecEntry {
  readonly name: string;
  readonly path: Segments;
  readonly value: unknown;
}

/** A string, array or record of patterns as named entries (`input0`, `input1`, or record keys). */
function specEntries(spec: unknown, key: 'input' | 'output', at: (...rest: Segments) => Segments): SpecEntry[] {
  if (spec === undefined) return [];
  if (typeof spec === 'string') return [{ name: `${key}0`, path: at(key), value: spec }];
  if (Array.isArray(spec)) return spec.map((value: unknown, i) => ({ name: `${key}${i}`, path: at(key, i), value }));
  // One output as `{ path, optional }` (schema.ts: lonePathEntry), not outputs named `path` and `optional`.
  if (key === 'output' && isRecord(spec) && typeof spec['optional'] === 'boolean') return [{ name: `${key}0`, path: at(key), value: spec }];
  if (isRecord(spec)) return Object.entries(spec).map(([name, value]) => ({ name, path: at(key, name), value }));
  return [];
}

/** Parses the task's patterns and checks that its wildcards bind; undefined on any issue. */
function checkShape(
  task: Readonly<Record<string, unknown>>,
  at: (...rest: Segments) => Segments,
  issues: PathIssue[],
): TaskShape | undefined {
  const inputs: { entry: SpecEntry; input: ResolvedInput }[] = [];
  for (const entry of specEntries(task['input'], 'input', at)) {
    if (typeof entry.value === 'function') {
      const fn = entry.value as (wildcards: Wildcards) => string;
      inputs.push({ entry, input: { name: entry.name, kind: 'function', fn } });
    } else if (typeof entry.value === 'string') {
      const pattern = parseChecked(entry, issues);
      if (pattern !== undefined) inputs.push({ entry, input: { name: entry.name, kind: 'pattern', pattern } });
    }
  }
  const outputs: { entry: SpecEntry; output: ResolvedOutput }[] = [];
  for (const entry of specEntries(task['output'], 'output', at)) {
    const { value } = entry;
    const object =
      isRecord(value) && typeof value['path'] === 'string' ? { path: value['path'], optional: value['optional'] === true } : undefined;
    const source = typeof value === 'string' ? { path: value, optional: false } : object;
    const pattern = source
      ? parseChecked({ ...entry, path: object ? [...entry.path, 'path'] : entry.path, value: source.path }, issues)
      : undefined;
    if (pattern !== undefined && source) outputs.push({ entry, output: { name: entry.name, pattern, optional: source.optional } });
  }
  // A bad pattern or a wrong-typed entry has its issue already; wildcard checks would add noise.
  if (issues.some((issue) => isUnder(issue.path, at('input')) || isUnder(issue.path, at('output')))) return undefined;
  const before = issues.length;
  const wildcards = unique(outputs.flatMap(({ output }) => output.pattern.wildcards));
  const bound = unique(inputs.flatMap(({ input }) => (input.kind === 'pattern' ? input.pattern.wildcards : [])));
  for (const { entry, input } of inputs) {
    if (input.kind !== 'pattern') continue;
    for (const name of input.pattern.wildcards) {
      if (wildcards.includes(name)) continue;
      const context = outputs.length === 0 ? 'the task has no output' : `output wildcards: ${braced(wildcards) || 'none'}`;
      issues.push({ path: entry.path, message: `wildcard {${name}} does not appear in output (${context})` });
    }
  }
  for (const name of wildcards) {
    if (bound.includes(name)) continue;
    const entry = outputs.find(({ output }) => output.pattern.wildcards.includes(name))?.entry;
    const context = `input wildcards: ${braced(bound) || 'none'}`;
    const message = `wildcard {${name}} is not bound by any input pattern (${context})`;
    issues.push({ path: entry?.path ?? at('output'), message });
  }
  // Templates are checked against the wildcards only once those are consistent.
  if (issues.length > before) return undefined;
  return {
    inputs: inputs.map(({ input }) => input),
    outputs: outputs.map(({ output }) => output),
    wildcards,
  };
}

function isUnder(segments: Segments, prefix: Segments): boolean {
  return prefix.every((segment, i) => segments[i] === segment);
}

function parseChecked(entry: SpecEntry, issues: PathIssue[]): Pattern | undefined {
  const parsed = parsePattern(entry.value as string);
  if (parsed.ok) return parsed.value;
  issues.push({ path: entry.path, message: parsed.error.message });
  return undefined;
}

function unique(names: readonly string[]): string[] {
  return [...new Set(names)];
}

function braced(names: readonly string[]): string {
  return names.map((name) => `{${name}}`).join(', ');
}

/** Placeholders of a string or argv `run` must name something the task has. */
function checkRun(
  task: Readonly<Record<string, unknown>>,
  shape: TaskShape,
  at: (...rest: Segments) => Segments,
  issues: PathIssue[],
): void {
  // Only record keys are addressable as {input.NAME}: `input0` is an internal name.
  const names = (spec: unknown) => (isRecord(spec) ? Object.keys(spec) : []);
  const context = { wildcards: shape.wildcards, inputs: names(task['input']), outputs: names(task['output']) };
  const run = task['run'];
  const templates: [Segments, unknown][] =
    typeof run === 'string' ? [[at('run'), run]] : Array.isArray(run) ? run.map((arg, i) => [at('run', i), arg]) : [];
  for (const [segments, template] of templates) {
    if (typeof template !== 'string') continue;
    const message = checkTemplate(template, context);
    if (message !== undefined) issues.push({ path: segments, message });
  }
}

// ---------------------------------------------------------------------------------------------
// Issue order and paths.

/** Issues grouped by the top-level key and the entry (task, service) they are in, in file order. */
function orderIssues(raw: Readonly<Record<string, unknown>>, issues: readonly PathIssue[]): ConfigIssue[] {
  const rank = (segments: Segments): [number, number] => {
    const [top, second] = segments;
    const section = raw[String(top)];
    const keys = isRecord(section) ? Object.keys(section) : [];
    return [Object.keys(raw).indexOf(String(top)), second === undefined ? -1 : keys.indexOf(String(second))];
  };
  const ranked = issues.map((issue) => ({ issue, rank: rank(issue.path) }));
  ranked.sort((a, b) => a.rank[0] - b.rank[0] || a.rank[1] - b.rank[1]);
  return ranked.map(({ issue }) => ({ path: formatPath(issue.path), message: issue.message }));
}

/** `tasks.extract.input[1]`; keys that are not simple names are quoted (`tasks["a b"]`). */
export function formatPath(segments: Segments): string {
  let text = '';
  for (const segment of segments) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/** The user-facing text of a config failure, the file shown relative to `cwd`. */
export function formatConfigFailure(failure: ConfigFailure, cwd: string): string {
  switch (failure.reason) {
    case 'config-not-found':
      return failure.message;
    case 'config-load':
      return formatLoadFailure(failure, relativeFile(failure.file, cwd));
    case 'config-invalid': {
      const file = relativeFile(failure.file, cwd);
      return failure.issues.map((issue) => `${file}: ${issue.path}: ${issue.message}`).join('\n');
    }
    default:
      return unreachable(failure);
  }
}

/**
 * `runcue.config.ts:2:26: SyntaxError: ...`, then the line with a caret under the column, then
 * the rest of the message (a hint).
 */
function formatLoadFailure(failure: Extract<ConfigFailure, { reason: 'config-load' }>, file: string): string {
  const at = failure.position;
  if (at === undefined) return `${file}: ${failure.message}`;
  const [first = '', ...rest] = failure.message.split('\n');
  const lines = [`${file}:${at.line}${at.column === undefined ? '' : `:${at.column}`}: ${first}`];
  if (at.text !== undefined && at.column !== undefined) {
    const gutter = String(at.line);
    // tabs kept so the caret lines up however the terminal draws them
    const indent = at.text.slice(0, at.column - 1).replace(/[^\t]/g, ' ');
    lines.push(`  ${gutter} | ${at.text}`, `  ${' '.repeat(gutter.length)} | ${indent}^`);
  }
  return [...lines, ...rest].join('\n');
}

function relativeFile(file: string, cwd: string): string {
  return path.relative(cwd, file) || path.basename(file);
}

// ---------------------------------------------------------------------------------------------
// Resolution of a valid config.

interface BuildContext {
  readonly file: string;
  readonly cores: number;
}

function buildConfig(config: RuncueConfig, shapes: ReadonlyMap<string, TaskShape>, ctx: BuildContext): ResolvedConfig {
  const services = new Map<string, ResolvedService>();
  for (const [name, service] of Object.entries(config.services ?? {})) {
    services.set(name, buildService(name, service, ctx));
  }
  if (!services.has('cpu')) services.set('cpu', buildService('cpu', {}, ctx));
  const tasks = new Map<string, ResolvedTask>();
  for (const [name, task] of Object.entries(config.tasks)) {
    const shape = shapes.get(name);
    if (shape === undefined) throw new Error(`internal error: task "${name}" was not checked`);
    tasks.set(name, buildTask(name, task, shape, config));
  }
  return {
    file: ctx.file,
    root: path.dirname(ctx.file),
    services,
    tasks,
    stallTimeoutMs: toMs(config.stallTimeout),
    pendingTimeoutMs: toMs(config.pendingTimeout),
    killGraceMs: toMs(config.killGrace) ?? DEFAULT_KILL_GRACE_MS,
    stallWarnAfterMs: toMs(config.stallWarnAfter),
    pendingWarnAfterMs: toMs(config.pendingWarnAfter),
    keepRuns: config.keepRuns ?? DEFAULT_KEEP_RUNS,
    queueUrl: config.queue?.url,
    hooks: config.on ?? {},
  };
}

function buildService(name: string, service: ServiceConfig, ctx: BuildContext): ResolvedService {
  const rates = service.rate === undefined ? [] : typeof service.rate === 'string' ? [service.rate] : service.rate;
  return {
    name,
    concurrent: service.concurrent ?? (name === 'cpu' ? ctx.cores : undefined),
    rates: rates.map(toRate),
    burst: service.burst,
    scope: service.scope ?? (name === 'cpu' ? 'host' : 'global'),
  };
}

function buildTask(name: string, task: TaskConfig, shape: TaskShape, config: RuncueConfig): ResolvedTask {
  const uses = task.uses === undefined ? ['cpu'] : typeof task.uses === 'string' ? [task.uses] : task.uses;
  return {
    name,
    // A repeated service would make a unit wait for two slots of one bucket.
    uses: unique(uses),
    inputs: shape.inputs,
    outputs: shape.outputs,
    wildcards: shape.wildcards,
    run: toRunSpec(task, toMs(config.workerStartTimeout), toMs),
    after: unique(typeof task.after === 'string' ? [task.after] : (task.after ?? [])),
    ready: task.ready,
    stale: task.stale,
    maxAgeMs: toMs(task.maxAge),
    schedule: resolveSchedule(task.schedule),
    retries: task.retries ?? 0,
    maxPushBacks: task.maxPushBacks ?? 10,
    backoffMs: toMs(task.backoff) ?? 1000,
    timeoutMs: toMs(task.timeout),
    checkTimeoutMs: toMs(task.checkTimeout ?? config.checkTimeout) ?? DEFAULT_CHECK_TIMEOUT_MS,
    priority: task.priority ?? 0,
    freshness: task.freshness ?? config.freshness ?? 'mtime',
    freshnessSet: (task.freshness ?? config.freshness) !== undefined,
    env: task.env ?? {},
    keepFailedOutputs: task.keepFailedOutputs ?? false,
    description: task.description,
  };
}

/**
 * A check that takes a minute is stuck, not slow: its unit fails (a check that times out never
 * means "run it").
 */
const DEFAULT_CHECK_TIMEOUT_MS = 60_000;
const DEFAULT_KILL_GRACE_MS = 3000;
const DEFAULT_KEEP_RUNS = 20;

// The schema has checked these values, so a failure here is a bug, not a user mistake.
function toMs(value: Duration | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = parseDuration(value);
  if (!parsed.ok) throw new Error(`internal error: unchecked duration ${describeValue(value)}`);
  return parsed.value;
}

function toRate(value: string): RateLimit {
  const parsed = parseRate(value);
  if (!parsed.ok) throw new Error(`internal error: unchecked rate ${describeValue(value)}`);
  return parsed.value;
}
