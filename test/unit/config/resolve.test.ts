import { describe, expect, it } from 'vitest';
import { parsePattern } from '../../../src/patterns/pattern.ts';
import type { ConfigFailure, ConfigIssue, ResolvedConfig } from '../../../src/config/resolved.ts';
import { formatConfigFailure, formatPath, resolveConfig } from '../../../src/config/resolve.ts';
import { didYouMean, editDistance } from '../../../src/suggest.ts';
import { checkTemplate } from '../../../src/patterns/template.ts';

const FILE = '/project/runcue.config.ts';

function resolve(raw: unknown): ResolvedConfig {
  const result = resolveConfig(raw, FILE, { cores: 4 });
  if (!result.ok) throw new Error(`expected a valid config: ${JSON.stringify(result.error)}`);
  return result.value;
}

function failure(raw: unknown): ConfigFailure {
  const result = resolveConfig(raw, FILE, { cores: 4 });
  if (result.ok) throw new Error('expected an invalid config');
  return result.error;
}

function issues(raw: unknown): ConfigIssue[] {
  const error = failure(raw);
  if (error.reason !== 'config-invalid') throw new Error(`expected config-invalid, got ${error.reason}`);
  return [...error.issues];
}

/** The issues of a config with one task `a` written as `task`. */
function taskIssues(task: Record<string, unknown>): ConfigIssue[] {
  return issues({ tasks: { a: { run: 'true', ...task } } });
}

function task(config: ResolvedConfig, name: string) {
  const found = config.tasks.get(name);
  if (found === undefined) throw new Error(`no task ${name}`);
  return found;
}

function patternError(source: string): string {
  const parsed = parsePattern(source);
  if (parsed.ok) throw new Error(`"${source}" is a valid pattern`);
  return parsed.error.message;
}

describe('resolveConfig: defaults and normalisation', () => {
  it('applies defaults', () => {
    const config = resolve({ tasks: { build: { run: 'make' } } });
    expect(config.file).toBe(FILE);
    expect(config.root).toBe('/project');
    expect(config.hooks).toEqual({});
    expect([config.stallTimeoutMs, config.pendingTimeoutMs, config.stallWarnAfterMs, config.pendingWarnAfterMs]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect([...config.services.values()]).toEqual([{ name: 'cpu', concurrent: 4, rates: [], burst: undefined, scope: 'host' }]);
    expect(config.queueUrl).toBeUndefined();
    expect(task(config, 'build')).toEqual({
      name: 'build',
      uses: ['cpu'],
      inputs: [],
      outputs: [],
      wildcards: [],
      run: { kind: 'shell', command: 'make' },
      after: [],
      ready: undefined,
      stale: undefined,
      maxAgeMs: undefined,
      schedule: undefined,
      retries: 0,
      maxPushBacks: 10,
      backoffMs: 1000,
      timeoutMs: undefined,
      checkTimeoutMs: 60_000,
      priority: 0,
      freshness: 'mtime',
      freshnessSet: false,
      env: {},
      keepFailedOutputs: false,
      description: undefined,
    });
  });

  it('uses the core count of the machine when none is given', () => {
    const result = resolveConfig({ tasks: { a: { run: 'x' } } }, FILE);
    expect(result.ok && result.value.services.get('cpu')?.concurrent).toBeGreaterThan(0);
  });

  it('resolves services, keeping a redefined cpu', () => {
    const config = resolve({
      services: {
        ocr: { rate: '60/min', concurrent: 5 },
        api: { rate: ['5000/hour', '100/10s'], burst: 3 },
        cpu: { rate: '10/s' },
      },
      tasks: { a: { run: 'x', uses: ['ocr', 'api'] } },
    });
    expect([...config.services.values()]).toEqual([
      { name: 'ocr', concurrent: 5, rates: [{ count: 60, windowMs: 60_000, source: '60/min' }], burst: undefined, scope: 'global' },
      {
        name: 'api',
        concurrent: undefined,
        rates: [
          { count: 5000, windowMs: 3_600_000, source: '5000/hour' },
          { count: 100, windowMs: 10_000, source: '100/10s' },
        ],
        burst: 3,
        scope: 'global',
      },
      { name: 'cpu', concurrent: 4, rates: [{ count: 10, windowMs: 1000, source: '10/s' }], burst: undefined, scope: 'host' },
    ]);
    expect(resolve({ services: { cpu: { concurrent: 1 } }, tasks: { a: { run: 'x' } } }).services.get('cpu')).toEqual({
      name: 'cpu',
      concurrent: 1,
      rates: [],
      burst: undefined,
      scope: 'host',
    });
  });

  it("resolves queue mode's settings: a service's scope and the queue URL", () => {
    const config = resolve({
      queue: { url: 'redis://10.0.0.5:6379/1' },
      services: { gpu: { concurrent: 1, scope: 'host' }, api: { rate: '5/s', scope: 'global' }, cpu: { scope: 'global' } },
      tasks: { a: { run: 'x', uses: ['gpu', 'api'] } },
    });
    expect(config.queueUrl).toBe('redis://10.0.0.5:6379/1');
    expect([...config.services.values()].map((s) => [s.name, s.scope])).toEqual([
      ['gpu', 'host'],
      ['api', 'global'],
      ['cpu', 'global'],
    ]);
    expect(issues({ services: { gpu: { scope: 'machine' } }, tasks: { a: { run: 'x' } } })).toEqual([
      { path: 'services.gpu.scope', message: expect.stringContaining("'global' or 'host'") as string },
    ]);
    expect(issues({ queue: { url: 6379 }, tasks: { a: { run: 'x' } } })).toEqual([
      { path: 'queue.url', message: expect.stringContaining('a redis:// URL') as string },
    ]);
  });

  it('resolves task fields, durations and the top-level freshness', () => {
    const ready = () => true;
    const stale = () => false;
    const fn = () => undefined;
    const config = resolve({
      freshness: 'hash',
      stallTimeout: '10m',
      pendingTimeout: 90_000,
      stallWarnAfter: '1m30s',
      pendingWarnAfter: '500ms',
      tasks: {
        a: {
          uses: 'cpu',
          run: fn,
          after: ['b', 'b'],
          ready,
          stale,
          maxAge: '24h',
          retries: 3,
          backoff: '2s',
          timeout: '2m',
          priority: -1.5,
          env: { KEY: 'v' },
          keepFailedOutputs: true,
          description: 'does a',
        },
        b: { run: ['node', 'x.mjs'], freshness: 'mtime', uses: ['cpu', 'cpu'] },
      },
    });
    expect([config.stallTimeoutMs, config.pendingTimeoutMs, config.stallWarnAfterMs, config.pendingWarnAfterMs]).toEqual([
      600_000, 90_000, 90_000, 500,
    ]);
    expect(task(config, 'a')).toMatchObject({
      uses: ['cpu'],
      run: { kind: 'function', fn },
      after: ['b'],
      maxAgeMs: 86_400_000,
      schedule: undefined,
      retries: 3,
      backoffMs: 2000,
      timeoutMs: 120_000,
      priority: -1.5,
      freshness: 'hash',
      env: { KEY: 'v' },
      keepFailedOutputs: true,
      description: 'does a',
    });
    expect(task(config, 'a').ready).toBe(ready);
    expect(task(config, 'a').stale).toBe(stale);
    expect(task(config, 'b')).toMatchObject({ run: { kind: 'argv', argv: ['node', 'x.mjs'] }, freshness: 'mtime', uses: ['cpu'] });
  });

  it('keeps tasks in declaration order and hooks from `on`', () => {
    const start = () => undefined;
    const config = resolve({ tasks: { z: { run: 'z' }, a: { run: 'a' } }, on: { start } });
    expect([...config.tasks.keys()]).toEqual(['z', 'a']);
    expect(config.hooks).toEqual({ start });
  });

  it('names string and array inputs and outputs by position', () => {
    const config = resolve({
      tasks: {
        one: { input: 'docs/{doc}.pdf', output: 'out/{doc}.txt', run: 'x' },
        many: { input: ['a/{doc}/{page}.png', 'prompt.txt'], output: ['b/{page}/{doc}.txt', 'c/{doc}.json'], run: 'x' },
      },
    });
    const one = task(config, 'one');
    expect(one.inputs.map((i) => [i.name, i.kind === 'pattern' && i.pattern.source])).toEqual([['input0', 'docs/{doc}.pdf']]);
    expect(one.outputs.map((o) => [o.name, o.pattern.source])).toEqual([['output0', 'out/{doc}.txt']]);
    expect(one.wildcards).toEqual(['doc']);
    const many = task(config, 'many');
    expect(many.inputs.map((i) => i.name)).toEqual(['input0', 'input1']);
    expect(many.outputs.map((o) => o.name)).toEqual(['output0', 'output1']);
    expect(many.wildcards).toEqual(['page', 'doc']);
  });

  it('names record inputs and outputs by key, with function inputs', () => {
    const settings = ({ doc }: Record<string, string>) => `cfg/${doc ?? ''}.json`;
    const config = resolve({
      tasks: {
        t: {
          input: { image: 'pages/{doc}.png', settings },
          output: { text: 'text/{doc}.txt' },
          run: 'ocr {input.image} {input.settings} > {output}',
        },
      },
    });
    const t = task(config, 't');
    expect(t.inputs).toEqual([
      { name: 'image', kind: 'pattern', pattern: expect.objectContaining({ source: 'pages/{doc}.png' }) as unknown },
      { name: 'settings', kind: 'function', fn: settings },
    ]);
    expect(t.outputs.map((o) => o.name)).toEqual(['text']);
  });

  it('makes the file absolute', () => {
    const result = resolveConfig({ tasks: { a: { run: 'x' } } }, '/project/sub/../runcue.config.json', { cores: 1 });
    expect(result.ok && [result.value.file, result.value.root]).toEqual(['/project/runcue.config.json', '/project']);
  });
});

describe('resolveConfig: mistakes', () => {
  it('rejects a config that is not an object', () => {
    expect(failure(42)).toEqual({
      reason: 'config-load',
      file: FILE,
      message: 'expected the default export to be a config object, got 42',
    });
    expect(failure([])).toMatchObject({ message: 'expected the default export to be a config object, got an array' });
  });

  it('reports missing and empty tasks', () => {
    expect(issues({})).toEqual([{ path: 'tasks', message: 'missing; expected an object of tasks like { build: { run: "make" } }' }]);
    expect(issues({ tasks: {} })).toEqual([{ path: 'tasks', message: 'expected at least one task' }]);
    expect(issues({ tasks: ['a'] })).toEqual([
      { path: 'tasks', message: 'expected an object of tasks like { build: { run: "make" } }, got an array' },
    ]);
  });

  it('reports a task that is not an object or has no run', () => {
    expect(issues({ tasks: { a: 'make', b: {} } })).toEqual([
      { path: 'tasks.a', message: 'expected a task object with a "run" or a "worker" key, got "make"' },
      { path: 'tasks.b.run', message: 'missing; expected a shell command string, an argv array or a function (or "worker")' },
    ]);
  });

  it('reports every unknown key, with a suggestion when one is close', () => {
    expect(issues({ task: {}, tasks: { extract: { run: 'x', inptu: 'a', Output: 'b', zzz: 1 } } })).toEqual([
      { path: 'task', message: 'unknown key; did you mean "tasks"?' },
      { path: 'tasks.extract.inptu', message: 'unknown key; did you mean "input"?' },
      { path: 'tasks.extract.Output', message: 'unknown key; did you mean "output"?' },
      {
        path: 'tasks.extract.zzz',
        message:
          'unknown key (expected one of: uses, input, output, run, worker, writeResult, workerStartTimeout, workerCrashLimit, after, ready, stale, maxAge, schedule, retries, ' +
          'maxPushBacks, backoff, timeout, checkTimeout, priority, freshness, env, keepFailedOutputs, description)',
      },
    ]);
    expect(issues({ services: { ocr: { concurent: 2 } }, tasks: { a: { run: 'x' } }, on: { strat: () => 1 } })).toEqual([
      { path: 'services.ocr.concurent', message: 'unknown key; did you mean "concurrent"?' },
      { path: 'on.strat', message: 'unknown key; did you mean "start"?' },
    ]);
  });

  it('reports values of the wrong type, saying what was expected and what was found', () => {
    expect(
      taskIssues({
        retries: '3',
        priority: 'high',
        keepFailedOutputs: 'yes',
        env: { A: 1 },
        description: 3,
        ready: true,
        after: 3,
        freshness: 'sha',
      }),
    ).toEqual([
      { path: 'tasks.a.after', message: 'expected a task name or an array of task names, got 3' },
      { path: 'tasks.a.ready', message: 'expected a function, got true' },
      { path: 'tasks.a.retries', message: 'expected a non-negative integer, got "3"' },
      { path: 'tasks.a.priority', message: 'expected a number, got "high"' },
      { path: 'tasks.a.freshness', message: `expected 'mtime' or 'hash', got "sha"` },
      { path: 'tasks.a.env.A', message: 'expected a string, got 1' },
      { path: 'tasks.a.keepFailedOutputs', message: 'expected true or false, got "yes"' },
      { path: 'tasks.a.description', message: 'expected a string, got 3' },
    ]);
    expect(taskIssues({ retries: -1 })).toEqual([{ path: 'tasks.a.retries', message: 'expected a non-negative integer, got -1' }]);
    expect(taskIssues({ retries: 1.5 })).toEqual([{ path: 'tasks.a.retries', message: 'expected a non-negative integer, got 1.5' }]);
  });

  it('reports a bad run', () => {
    expect(taskIssues({ run: [] })).toEqual([{ path: 'tasks.a.run', message: 'expected a non-empty argv array' }]);
    expect(taskIssues({ run: '' })).toEqual([{ path: 'tasks.a.run', message: 'expected a non-empty shell command' }]);
    expect(taskIssues({ run: 3 })).toEqual([
      { path: 'tasks.a.run', message: 'expected a shell command string, an argv array or a function, got 3' },
    ]);
    expect(taskIssues({ run: ['node', 3] })).toEqual([{ path: 'tasks.a.run[1]', message: 'expected a string, got 3' }]);
  });

  it('reports an unknown service in uses', () => {
    const services = { ocr: { concurrent: 1 } };
    expect(issues({ services, tasks: { extract: { run: 'x', uses: 'ocr2' } } })).toEqual([
      { path: 'tasks.extract.uses', message: 'unknown service "ocr2" (services: cpu, ocr); did you mean "ocr"?' },
    ]);
    expect(issues({ services, tasks: { extract: { run: 'x', uses: ['cpu', 'gpu'] } } })).toEqual([
      { path: 'tasks.extract.uses[1]', message: 'unknown service "gpu" (services: cpu, ocr); did you mean "cpu"?' },
    ]);
    expect(issues({ tasks: { extract: { run: 'x', uses: 'knife' } } })).toEqual([
      { path: 'tasks.extract.uses', message: 'unknown service "knife" (services: cpu)' },
    ]);
    expect(issues({ tasks: { extract: { run: 'x', uses: [] } } })).toEqual([
      { path: 'tasks.extract.uses', message: 'expected at least one service name' },
    ]);
  });

  it('reports an unknown task in after, and a task after itself', () => {
    expect(issues({ tasks: { extract: { run: 'x' }, b: { run: 'x', after: ['extrct', 'b', 'zzz'] } } })).toEqual([
      { path: 'tasks.b.after[0]', message: 'unknown task "extrct"; did you mean "extract"?' },
      { path: 'tasks.b.after[1]', message: 'task "b" cannot run after itself' },
      { path: 'tasks.b.after[2]', message: 'unknown task "zzz"' },
    ]);
  });

  it('after takes one task name as a string too, checked as a list entry is', () => {
    expect(resolve({ tasks: { lint: { run: 'x' }, b: { run: 'x', after: 'lint' } } }).tasks.get('b')?.after).toEqual(['lint']);
    expect(issues({ tasks: { lint: { run: 'x' }, b: { run: 'x', after: 'lnt' } } })).toEqual([
      { path: 'tasks.b.after', message: 'unknown task "lnt"; did you mean "lint"?' },
    ]);
  });

  it('keepRuns: 20 run records unless set; 0 allowed, a negative or fractional number is an error', () => {
    expect(resolve({ tasks: { a: { run: 'x' } } }).keepRuns).toBe(20);
    expect(resolve({ keepRuns: 0, tasks: { a: { run: 'x' } } }).keepRuns).toBe(0);
    expect(issues({ keepRuns: -1, tasks: { a: { run: 'x' } } })).toEqual([
      { path: 'keepRuns', message: expect.stringContaining('a non-negative integer') as unknown },
    ]);
    expect(issues({ keepRuns: 2.5, tasks: { a: { run: 'x' } } })).toEqual([
      { path: 'keepRuns', message: expect.stringContaining('got 2.5') as unknown },
    ]);
  });

  it('reports bad durations wherever they are', () => {
    const expected = "expected a duration like '30s', '2m' or '1h'";
    expect(
      issues({
        stallTimeout: '10 minutes later',
        pendingTimeout: -1,
        stallWarnAfter: true,
        pendingWarnAfter: '1x',
        tasks: { a: { run: 'x', maxAge: 'a day', timeout: '2', backoff: '' } },
      }),
    ).toEqual([
      { path: 'stallTimeout', message: `${expected}, got "10 minutes later"` },
      { path: 'pendingTimeout', message: `${expected}, got -1` },
      { path: 'stallWarnAfter', message: `${expected}, got true` },
      { path: 'pendingWarnAfter', message: `${expected}, got "1x"` },
      { path: 'tasks.a.maxAge', message: `${expected}, got "a day"` },
      { path: 'tasks.a.backoff', message: `${expected}, got ""` },
      { path: 'tasks.a.timeout', message: `${expected}, got "2"` },
    ]);
  });

  it('takes checkTimeout from the task, else the top level, else 60 s, and refuses 0', () => {
    const config = resolve({ checkTimeout: '5s', tasks: { a: { run: 'x', checkTimeout: 250 }, b: { run: 'x' } } });
    expect([task(config, 'a').checkTimeoutMs, task(config, 'b').checkTimeoutMs]).toEqual([250, 5000]);
    expect(task(resolve({ tasks: { a: { run: 'x' } } }), 'a').checkTimeoutMs).toBe(60_000);
    expect(issues({ checkTimeout: '0s', tasks: { a: { run: 'x', checkTimeout: 'soon' } } })).toEqual([
      { path: 'checkTimeout', message: 'expected a duration above 0, got "0s"' },
      { path: 'tasks.a.checkTimeout', message: `expected a duration like '30s', '2m' or '1h', got "soon"` },
    ]);
  });

  it('takes killGrace from the top level, else 3 s, and refuses 0', () => {
    expect(resolve({ killGrace: '10s', tasks: { a: { run: 'x' } } }).killGraceMs).toBe(10_000);
    expect(resolve({ tasks: { a: { run: 'x' } } }).killGraceMs).toBe(3000);
    expect(issues({ killGrace: 0, tasks: { a: { run: 'x' } } })).toEqual([
      { path: 'killGrace', message: 'expected a duration above 0, got 0' },
    ]);
  });

  it('rejects a zero timeout, which would fail every unit at once', () => {
    const expected = 'expected a duration above 0 (leave the key out for none)';
    expect(
      issues({ stallTimeout: 0, pendingTimeout: '0s', tasks: { a: { run: 'x', timeout: 0 }, b: { run: 'x', timeout: '0ms' } } }),
    ).toEqual([
      { path: 'stallTimeout', message: `${expected}, got 0` },
      { path: 'pendingTimeout', message: `${expected}, got "0s"` },
      { path: 'tasks.a.timeout', message: `${expected}, got 0` },
      { path: 'tasks.b.timeout', message: `${expected}, got "0ms"` },
    ]);
    expect(task(resolve({ tasks: { a: { run: 'x', timeout: 1 } } }), 'a').timeoutMs).toBe(1);
  });

  it('rejects task names that targets cannot name', () => {
    expect(issues({ tasks: { 'x[y]': { run: 'x' }, 'a*': { run: 'x' }, '-x': { run: 'x' }, ok: { run: 'x' } } })).toEqual([
      { path: 'tasks["x[y]"]', message: 'task name "x[y]" cannot contain "[": targets use it (task[key=glob], output globs)' },
      { path: 'tasks["a*"]', message: 'task name "a*" cannot contain "*": targets use it (task[key=glob], output globs)' },
      { path: 'tasks["-x"]', message: 'task name "-x" cannot start with "-": it would be read as an option' },
    ]);
    expect([
      ...resolve({ tasks: { 'build:css': { run: 'x' }, 'make docs': { run: 'x' }, 'a.b': { run: 'x' } } }).tasks.keys(),
    ]).toHaveLength(3);
  });

  it('reports bad rates and limits', () => {
    const expected = "expected a rate like '60/min', '10/s' or '100/10s'";
    expect(
      issues({
        services: {
          ocr: { rate: '60 per minute', concurrent: 0 },
          api: { rate: ['5000/hour', '0/s'], burst: 1.5 },
          gpu: { rate: 60 },
        },
        tasks: { a: { run: 'x' } },
      }),
    ).toEqual([
      { path: 'services.ocr.concurrent', message: 'expected a positive integer, got 0' },
      { path: 'services.ocr.rate', message: `${expected}, got "60 per minute"` },
      {
        path: 'services.api.rate[1]',
        message: `${expected}: the count before '/' must be a positive integer, got "0/s"`,
      },
      { path: 'services.api.burst', message: 'expected a positive integer, got 1.5' },
      { path: 'services.gpu.rate', message: "expected a rate string like '60/min' or an array of them, got 60" },
    ]);
  });

  it('reports empty and invalid patterns at their key path', () => {
    expect(
      issues({
        tasks: {
          a: { input: { image: '', other: 'x/{a' }, output: 'out/{a', run: 'x' },
          b: { input: ['ok.txt', ''], run: 'x' },
        },
      }),
    ).toEqual([
      { path: 'tasks.a.input.image', message: patternError('') },
      { path: 'tasks.a.input.other', message: patternError('x/{a') },
      { path: 'tasks.a.output', message: patternError('out/{a') },
      { path: 'tasks.b.input[1]', message: patternError('') },
    ]);
  });

  it('reports inputs and outputs of the wrong shape', () => {
    expect(taskIssues({ input: 3, output: { a: () => 'x' } })).toEqual([
      {
        path: 'tasks.a.input',
        message: 'expected a pattern string, an array of patterns or a record of named patterns, got 3',
      },
      { path: 'tasks.a.output.a', message: "expected a pattern string or { path: 'pattern', optional: true }, got a function" },
    ]);
    expect(taskIssues({ input: ['a', 3], output: 'out/{x}.txt' })).toEqual([
      { path: 'tasks.a.input[1]', message: 'expected a pattern string, got 3' },
    ]);
  });

  it('an output record entry may be { path, optional }; a misspelt key or a missing path is named', () => {
    const t = task(
      resolve({
        tasks: { a: { input: 'in/{x}.txt', output: { main: 'out/{x}.txt', log: { path: 'log/{x}.txt', optional: true } }, run: 'true' } },
      }),
      'a',
    );
    expect(t.outputs.map((o) => [o.name, o.pattern.source, o.optional])).toEqual([
      ['main', 'out/{x}.txt', false],
      ['log', 'log/{x}.txt', true],
    ]);
    expect(taskIssues({ output: { log: { path: 'log.txt', optinal: true } } }).map((i) => i.path)).toEqual(['tasks.a.output.log.optinal']);
    expect(taskIssues({ output: { log: { optional: true } } }).map((i) => i.path)).toEqual(['tasks.a.output.log.path']);
    expect(taskIssues({ output: { log: { path: 'log/{y.txt' } } }).map((i) => i.path)).toEqual(['tasks.a.output.log.path']);
  });

  it("a glob output that covers another task's plain input or output is an error naming both keys", () => {
    const found = issues({
      tasks: {
        gen: { input: 'src/list.txt', output: 'data/*.json', run: 'true' },
        use: { input: 'data/config.json', output: 'out/used.txt', run: 'true' },
        other: { input: 'src/{n}.txt', output: 'data/{n}.json', run: 'true' },
      },
    });
    expect(found).toEqual([
      {
        path: 'tasks.gen.output',
        message:
          'glob output "data/*.json" also matches tasks.use.input "data/config.json" (if gen writes it, declare it as an output of gen too; if it is a source, move it out of data/*.json)',
      },
      {
        path: 'tasks.gen.output',
        message: 'glob output "data/*.json" overlaps tasks.other.output "data/{n}.json": a file in both belongs to neither task',
      },
    ]);
  });

  it('a glob output feeding a pattern with wildcards, or its own concrete output, is no overlap', () => {
    expect(() =>
      resolve({
        tasks: {
          split: { input: 'docs/{doc}.pdf', output: ['work/{doc}/pages/*.png', 'work/{doc}/pages/cover.png'], run: 'true' },
          extract: { input: 'work/{doc}/pages/{page}.png', output: 'work/{doc}/text/{page}.txt', run: 'true' },
          all: { input: 'work/{doc}/pages/*.png', output: 'out/{doc}.txt', run: 'true' },
        },
      }),
    ).not.toThrow();
  });

  it('reports an input wildcard missing from the output', () => {
    expect(
      issues({
        tasks: {
          // {page} in run is not reported again: templates are checked once the wildcards agree.
          extract: { input: 'work/{doc}/pages/{page}.png', output: 'work/{doc}/text.txt', run: 'x {page}' },
          flat: { input: { image: 'img/{name}.png' }, output: 'all.txt', run: 'x' },
          none: { input: ['a.txt', 'b/{x}.txt'], run: 'x' },
        },
      }),
    ).toEqual([
      {
        path: 'tasks.extract.input',
        message: 'wildcard {page} does not appear in output (output wildcards: {doc})',
      },
      { path: 'tasks.flat.input.image', message: 'wildcard {name} does not appear in output (output wildcards: none)' },
      { path: 'tasks.none.input[1]', message: 'wildcard {x} does not appear in output (the task has no output)' },
    ]);
  });

  it('reports an output wildcard that no input pattern binds', () => {
    const settings = () => 'x.json';
    expect(
      issues({
        tasks: {
          a: { output: 'out/{doc}.txt', run: 'x' },
          b: { input: { cfg: settings, page: 'p/{doc}.png' }, output: ['o/{doc}.txt', 'o/{doc}/{lang}.txt'], run: 'x' },
        },
      }),
    ).toEqual([
      { path: 'tasks.a.output', message: 'wildcard {doc} is not bound by any input pattern (input wildcards: none)' },
      { path: 'tasks.b.output[1]', message: 'wildcard {lang} is not bound by any input pattern (input wildcards: {doc})' },
    ]);
  });

  it('reports an unknown placeholder in a run template', () => {
    const context = { wildcards: ['doc'], inputs: ['image'], outputs: [] };
    const stringRun = 'ocr {input.image} {input.imgae} > {output}';
    const argvRun = ['ocr', '{input0}', '{pgae}'];
    const messages = [checkTemplate(stringRun, context), checkTemplate('{input0}', context), checkTemplate('{pgae}', context)];
    expect(messages.every((message) => typeof message === 'string')).toBe(true);
    expect(
      issues({
        tasks: {
          a: { input: { image: 'p/{doc}.png' }, output: 'o/{doc}.txt', run: stringRun },
          b: { input: { image: 'p/{doc}.png' }, output: 'o/{doc}.txt', run: argvRun },
        },
      }),
    ).toEqual([
      { path: 'tasks.a.run', message: messages[0] },
      { path: 'tasks.b.run[1]', message: messages[1] },
      { path: 'tasks.b.run[2]', message: messages[2] },
    ]);
    // Array inputs have no names a template can address.
    expect(issues({ tasks: { c: { input: ['p/{doc}.png'], output: 'o/{doc}.txt', run: 'x {input.input0}' } } })).toEqual([
      { path: 'tasks.c.run', message: checkTemplate('x {input.input0}', { ...context, inputs: [] }) },
    ]);
  });

  it('groups issues by task in file order, shape issues first', () => {
    expect(
      issues({
        tasks: {
          b: { run: 'x', uses: 'gpu', retries: 'many' },
          a: { run: 'x', after: ['c'], inptu: 1 },
        },
        services: { cpu: { concurrent: 0 } },
      }).map((issue) => issue.path),
    ).toEqual(['tasks.b.retries', 'tasks.b.uses', 'tasks.a.inptu', 'tasks.a.after[0]', 'services.cpu.concurrent']);
  });
});

describe('formatConfigFailure', () => {
  it('prints one line per issue, naming the file relative to the working directory', () => {
    const failure = resolveConfig(
      {
        services: { ocr: { rate: '60/min' } },
        tasks: { extract: { run: 'x', uses: 'ocr2', inptu: 'a.png' }, 'make docs': { run: 'x', timeout: '2 minutes please' } },
      },
      FILE,
      { cores: 1 },
    );
    if (failure.ok) throw new Error('expected a failure');
    expect(formatConfigFailure(failure.error, '/project')).toMatchInlineSnapshot(`
      "runcue.config.ts: tasks.extract.inptu: unknown key; did you mean "input"?
      runcue.config.ts: tasks.extract.uses: unknown service "ocr2" (services: cpu, ocr); did you mean "ocr"?
      runcue.config.ts: tasks["make docs"].timeout: expected a duration like '30s', '2m' or '1h', got "2 minutes please""
    `);
    expect(formatConfigFailure(failure.error, '/project/sub').split('\n')[0]).toMatch(/^\.\.\/runcue\.config\.ts: /);
  });

  it('prints a load failure after the file, and a not-found message as it is', () => {
    expect(
      formatConfigFailure({ reason: 'config-load', file: '/project/runcue.config.ts', message: 'SyntaxError: x (line 2)' }, '/project'),
    ).toMatchInlineSnapshot(`"runcue.config.ts: SyntaxError: x (line 2)"`);
    expect(formatConfigFailure({ reason: 'config-not-found', cwd: '/p', message: 'no config' }, '/p')).toBe('no config');
  });
});

describe('formatPath', () => {
  it('writes dotted names, indexes and quoted odd keys', () => {
    expect(formatPath(['tasks', 'make-docs', 'input', 1])).toBe('tasks.make-docs.input[1]');
    expect(formatPath(['tasks', 'make docs', 'run'])).toBe('tasks["make docs"].run');
  });
});

describe('didYouMean', () => {
  it('suggests a close name', () => {
    expect(didYouMean('inptu', ['uses', 'input', 'output'])).toBe('input');
    expect(didYouMean('ocr2', ['cpu', 'ocr'])).toBe('ocr');
    expect(didYouMean('extrct', ['split', 'extract', 'summarize'])).toBe('extract');
    expect(didYouMean('Output', ['input', 'output'])).toBe('output');
    expect(didYouMean('sumarise', ['summarize'])).toBe('summarize');
  });

  it('suggests nothing when no name is close', () => {
    expect(didYouMean('zzz', ['input', 'output'])).toBeUndefined();
    expect(didYouMean('a', ['b'])).toBeUndefined();
    expect(didYouMean('build', [])).toBeUndefined();
    expect(didYouMean('input', ['input'])).toBeUndefined();
  });

  it('counts an adjacent swap as one edit', () => {
    expect(editDistance('ab', 'ba')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });
});
