/**
 * The valibot schema of a user config ({@link RuncueConfig}): shapes and value formats only.
 * Checks that need the whole config (service and task names, wildcards, templates) are in
 * `resolve.ts`. Every message says what was expected and what was found.
 */
import * as v from 'valibot';
import { err, ok, type Result } from '../result.ts';
import { DURATION_EXPECTED, parseDuration, parseRate } from './duration.ts';
import { didYouMean } from '../suggest.ts';
import { cronProblem, isTimeZone, SCHEDULE_EXPECTED } from './schedule.ts';
import type { Hook, Hooks, RuncueConfig, TaskConfig, TaskFunction, Wildcards } from './types.ts';

/** A problem at a key path given as segments (`['tasks', 'a', 'input', 1]`). */
export interface PathIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

type Message = (issue: v.BaseIssue<unknown>) => string;

/** How a value appears in a message: strings quoted, containers by kind. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return 'a function';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'symbol') return 'a symbol';
  return `${value as number | boolean | bigint | undefined}`;
}

/** A plain object: not null, not an array. */
export function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function expect(what: string): Message {
  return (issue) => `expected ${what}, got ${describeValue(issue.input)}`;
}

// The unknown-key issue is raised on a value, so its message cannot see the key or the valid
// keys; they are attached here and the message is written when the issue's path is known.
const knownKeysOfIssue = new WeakMap<object, readonly string[]>();
const UNKNOWN_KEY = 'unknown key';

/**
 * A plain object with exactly these keys: every unknown key is an issue (valibot's strictObject
 * stops at the first). `required` says what a missing required key should have held.
 */
function strictObject<const TEntries extends v.ObjectEntries>(
  entries: TEntries,
  what: string,
  required: Readonly<Record<string, string>> = {},
) {
  const keys = Object.keys(entries);
  const unknownKey = v.never((issue) => {
    knownKeysOfIssue.set(issue, keys);
    return UNKNOWN_KEY;
  });
  const missing: Message = (issue) => {
    const key = issue.expected?.slice(1, -1) ?? '';
    return `missing; expected ${required[key] ?? 'a value'}`;
  };
  return v.pipe(v.custom<Record<string, unknown>>(isRecord, expect(what)), v.objectWithRest(entries, unknownKey, missing));
}

/**
 * Keys that valibot's record drops without a word (they could pollute an object's prototype): a
 * task or service with one of these names would vanish from the config.
 */
const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'prototype', 'constructor']);

/** A plain object of any keys whose values match `value`, none of them {@link RESERVED_KEYS}. */
function recordOf<const TValue extends v.GenericSchema>(value: TValue, what: string) {
  return v.pipe(
    v.custom<Record<string, unknown>>(isRecord, expect(what)),
    v.rawCheck<Record<string, unknown>>(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      for (const key of Object.keys(dataset.value).filter((k) => RESERVED_KEYS.has(k))) {
        const input = dataset.value;
        addIssue({
          message: `${JSON.stringify(key)} cannot be a name here: every JavaScript object has a property of that name; rename it`,
          path: [{ type: 'object', origin: 'key', input, key, value: input[key] }],
        });
      }
    }),
    v.record(v.string(), value),
  );
}

function fn<T>(what = 'a function') {
  return v.custom<T>((value) => typeof value === 'function', expect(what));
}

const str = (what = 'a string') => v.string(expect(what));

function integer(what: string, min: number) {
  const message = expect(what);
  return v.pipe(v.number(message), v.integer(message), v.minValue(min, message));
}

const positiveInteger = integer('a positive integer', 1);
const nonNegativeInteger = integer('a non-negative integer', 0);
const finiteNumber = v.pipe(v.number(expect('a number')), v.finite(expect('a number')));
const durationMessage: Message = (issue) => `${DURATION_EXPECTED}, got ${describeValue(issue.input)}`;
const duration = v.pipe(
  v.union([v.string(), v.number()], durationMessage),
  v.check((value) => parseDuration(value).ok, durationMessage),
);

/** A duration above 0; `hint` follows "expected a duration above 0" in the message. */
function durationAbove0(hint: string) {
  return v.pipe(
    duration,
    v.check(
      (value) => {
        const parsed = parseDuration(value);
        return !parsed.ok || parsed.value > 0;
      },
      (issue) => `expected a duration above 0${hint}, got ${describeValue(issue.input)}`,
    ),
  );
}

// A timeout of 0 would fail every unit at once: no timeout is written by leaving the key out.
const positiveDuration = durationAbove0(' (leave the key out for none)');

const rate = v.pipe(
  v.string(expect("a rate like '60/min'")),
  v.check(
    (value) => parseRate(value).ok,
    (issue) => {
      const parsed = typeof issue.input === 'string' ? parseRate(issue.input) : undefined;
      return `${parsed?.ok === false ? parsed.error : 'invalid rate'}, got ${describeValue(issue.input)}`;
    },
  ),
);

/** How long a custom ready()/stale() may take: 0 would fail every check (left out, it is 60 s). */
const checkTimeout = durationAbove0('');

const freshness = v.picklist(['mtime', 'hash'], expect("'mtime' or 'hash'"));

const cronMessage: Message = (issue) =>
  cronProblem(issue.input as string) ?? `expected a valid cron string, got ${describeValue(issue.input)}`;
const cron = v.pipe(
  str("a cron string like '0 6 * * *'"),
  v.check((value) => cronProblem(value) === undefined, cronMessage),
);
const timeZone = v.pipe(
  str("a time zone like 'Europe/Berlin'"),
  v.check(isTimeZone, (issue) => `unknown time zone ${describeValue(issue.input)}; expected an IANA name like 'Europe/Berlin' or 'UTC'`),
);
/** A cron string, or `{ cron, timezone }`: the string's own check runs after the union so its message survives. */
const schedule = v.pipe(
  v.union(
    [str(), strictObject({ cron, timezone: v.optional(timeZone) }, SCHEDULE_EXPECTED, { cron: "a cron string like '0 6 * * *'" })],
    expect(SCHEDULE_EXPECTED),
  ),
  v.check((value) => typeof value !== 'string' || cronProblem(value) === undefined, cronMessage),
);

const RUN_EXPECTED = 'a shell command string, an argv array or a function';
const WORKER_EXPECTED = 'a worker command: a shell command string or an argv array';
/** 0 would kill every worker before it could load. */
const workerStartTimeout = durationAbove0('');
const PATTERNS_EXPECTED = 'a pattern string, an array of patterns or a record of named patterns';

/** An output of a list or record: a pattern, or `{ path, optional }` for an output a unit may leave unwritten. */
const outputEntry = v.union(
  [
    str(),
    strictObject(
      { path: str('a pattern string'), optional: v.optional(v.boolean(expect('true or false'))) },
      "an output like { path: 'out/x.txt', optional: true }",
      { path: 'a pattern string' },
    ),
  ],
  expect("a pattern string or { path: 'pattern', optional: true }"),
);

/**
 * A single output as `{ path, optional }` (`output: { path: 'out/{n}.log', optional: true }`).
 * With `optional` it cannot be a record of named outputs (`true` is no pattern): read as one.
 */
const lonePathEntry = v.custom<{ path: string; optional: boolean }>(
  (x) =>
    typeof x === 'object' &&
    x !== null &&
    Object.keys(x).length === 2 &&
    typeof (x as { path?: unknown }).path === 'string' &&
    typeof (x as { optional?: unknown }).optional === 'boolean',
);

const inputEntry = v.union([str(), fn<(wildcards: Wildcards) => string>()], expect('a pattern string or a function of the wildcards'));

const serviceSchema = strictObject(
  {
    concurrent: v.optional(positiveInteger),
    rate: v.optional(v.union([rate, v.array(rate)], expect("a rate string like '60/min' or an array of them"))),
    burst: v.optional(positiveInteger),
    scope: v.optional(v.picklist(['global', 'host'], expect("'global' or 'host'"))),
  },
  "a service object like { concurrent: 2, rate: '60/min' }",
);

const taskSchema = strictObject(
  {
    uses: v.optional(
      v.union(
        [str(), v.pipe(v.array(str()), v.minLength(1, 'expected at least one service name'))],
        expect('a service name or an array of service names'),
      ),
    ),
    input: v.optional(
      v.union([str(), v.array(str('a pattern string')), recordOf(inputEntry, 'a record of named patterns')], expect(PATTERNS_EXPECTED)),
    ),
    output: v.optional(
      v.union([str(), v.array(outputEntry), lonePathEntry, recordOf(outputEntry, 'a record of named patterns')], expect(PATTERNS_EXPECTED)),
    ),
    run: v.optional(
      v.union(
        [
          v.pipe(v.string(), v.minLength(1, 'expected a non-empty shell command')),
          v.pipe(v.array(str()), v.minLength(1, 'expected a non-empty argv array')),
          fn<TaskFunction>(),
        ],
        expect(RUN_EXPECTED),
      ),
    ),
    worker: v.optional(
      v.union(
        [
          v.pipe(v.string(), v.minLength(1, 'expected a non-empty shell command')),
          v.pipe(v.array(str()), v.minLength(1, 'expected a non-empty argv array')),
        ],
        expect(WORKER_EXPECTED),
      ),
    ),
    writeResult: v.optional(v.picklist(['json', 'text'], expect("'json' or 'text'"))),
    workerStartTimeout: v.optional(workerStartTimeout),
    workerCrashLimit: v.optional(positiveInteger),
    after: v.optional(v.union([str(), v.array(str('a task name'))], expect('a task name or an array of task names'))),
    ready: v.optional(fn<NonNullable<TaskConfig['ready']>>()),
    stale: v.optional(fn<NonNullable<TaskConfig['stale']>>()),
    maxAge: v.optional(duration),
    schedule: v.optional(schedule),
    retries: v.optional(nonNegativeInteger),
    maxPushBacks: v.optional(nonNegativeInteger),
    backoff: v.optional(duration),
    timeout: v.optional(positiveDuration),
    checkTimeout: v.optional(checkTimeout),
    priority: v.optional(finiteNumber),
    freshness: v.optional(freshness),
    env: v.optional(recordOf(str(), 'an object of environment variables')),
    keepFailedOutputs: v.optional(v.boolean(expect('true or false'))),
    description: v.optional(str()),
  },
  'a task object with a "run" or a "worker" key',
);

const hooksSchema = strictObject(
  {
    start: v.optional(fn<Hook>()),
    complete: v.optional(fn<Hook>()),
    failure: v.optional(fn<Hook>()),
    skip: v.optional(fn<Hook>()),
    stallWarning: v.optional(fn<NonNullable<Hooks['stallWarning']>>()),
  },
  'an object of hook functions',
);

const TASKS_EXPECTED = 'an object of tasks like { build: { run: "make" } }';

/** The whole user config; its inferred types mirror {@link RuncueConfig}. */
const configSchema = strictObject(
  {
    $schema: v.optional(str('a schema URL')),
    services: v.optional(recordOf(serviceSchema, 'an object of services')),
    tasks: v.pipe(
      recordOf(taskSchema, TASKS_EXPECTED),
      v.check((tasks) => Object.keys(tasks).length > 0, 'expected at least one task'),
    ),
    freshness: v.optional(freshness),
    stallTimeout: v.optional(positiveDuration),
    pendingTimeout: v.optional(positiveDuration),
    checkTimeout: v.optional(checkTimeout),
    killGrace: v.optional(durationAbove0('')),
    workerStartTimeout: v.optional(workerStartTimeout),
    stallWarnAfter: v.optional(duration),
    pendingWarnAfter: v.optional(duration),
    keepRuns: v.optional(nonNegativeInteger),
    on: v.optional(hooksSchema),
    queue: v.optional(strictObject({ url: str('a redis:// URL') }, "an object like { url: 'redis://127.0.0.1:6379' }")),
  },
  'a config object',
  { tasks: TASKS_EXPECTED },
);

/**
 * Checks the shape of a user config and the format of its values. Every issue is reported, in
 * the order of the schema's keys within each object (unknown keys after known ones).
 */
export function validateConfig(raw: unknown): Result<RuncueConfig, PathIssue[]> {
  const result = v.safeParse(configSchema, raw, { abortPipeEarly: true });
  if (result.success) return ok(result.output);
  return err(result.issues.flatMap((issue) => toPathIssues(issue)));
}

/**
 * A union whose input had the right container type but a bad element (`run: ['node', 3]`)
 * fails as a whole; the element's own issue, deeper in the value, is the useful one.
 */
function toPathIssues(issue: v.BaseIssue<unknown>, prefix: readonly (string | number)[] = []): PathIssue[] {
  const path = [...prefix, ...(issue.path ?? []).map((item) => item.key as string | number)];
  const nested = issue.type === 'union' ? (issue.issues ?? []).filter((sub) => (sub.path?.length ?? 0) > 0) : [];
  if (nested.length > 0) return nested.flatMap((sub) => toPathIssues(sub, path));
  const known = knownKeysOfIssue.get(issue);
  if (known === undefined) return [{ path, message: issue.message }];
  const key = String(path.at(-1));
  const suggestion = didYouMean(key, known);
  const message =
    suggestion === undefined ? `${UNKNOWN_KEY} (expected one of: ${known.join(', ')})` : `${UNKNOWN_KEY}; did you mean "${suggestion}"?`;
  return [{ path, message }];
}
