/**
 * `runcue list`: every task with its patterns and its units by state (as `runcue plan` would
 * find them), and every service with its limits. A table on stdout, or one JSON document with
 * `--json`.
 */
import type { ResolvedConfig } from '../../config/resolved.ts';
import { taskPatterns } from '../../graph/view.ts';
import type { CliContext, CommonOptions } from '../options.ts';
import { colorsEnabled, createPalette } from '../report/format.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { loadPlan } from './load.ts';
import { formatTable } from './table.ts';
import { countStates, UNIT_STATES, type TaskStateCounts } from '../../runner/unit-states.ts';
import { startsAtOnce } from '../../runner/limiter.ts';

/** Version of the `list --json` document; fields are only ever added within a version. */
export const LIST_JSON_VERSION = 1;

/** Prints the task and service tables (or `--json`); exit 0, or 2 on a bad config. */
export async function listCommand(options: CommonOptions, context: CliContext): Promise<number> {
  const loaded = await loadPlan([], options, context);
  if (!loaded.ok) return loaded.exitCode;
  const { config } = loaded;
  const counts = await countStates(config, loaded.plan.graph, context.env);
  if (!counts.ok) {
    context.stderr.write(`runcue: ${counts.error.message}\n`);
    return EXIT_CODES.usage;
  }
  const document = listDocument(config, counts.value);
  if (options.json) {
    context.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  } else {
    const bold = createPalette(colorsEnabled(context.stdout, context.env)).bold;
    context.stdout.write(`${renderList(document, bold).join('\n')}\n`);
  }
  return EXIT_CODES.ok;
}

type ListDocument = ReturnType<typeof listDocument>;

function listDocument(config: ResolvedConfig, counts: ReadonlyMap<string, TaskStateCounts>) {
  const tasks = [...config.tasks.values()].map((task) => {
    const count = counts.get(task.name);
    return {
      name: task.name,
      uses: [...task.uses],
      ...taskPatterns(task),
      units: count?.units ?? 0,
      // units a dynamic producer has yet to reveal: the count will grow
      placeholders: count?.placeholders ?? 0,
      states: count?.states ?? { fresh: 0, stale: 0, waiting: 0, blocked: 0 },
      ...(task.description === undefined ? {} : { description: task.description }),
    };
  });
  const services = [...config.services.values()].map((service) => ({
    name: service.name,
    concurrent: service.concurrent ?? null,
    rates: service.rates.map((r) => r.source),
    // The effective burst, as the limiter paces: the smallest over the rates, by default max(1, ceil(N per second)) each.
    burst: startsAtOnce(service) ?? null,
    tasks: tasks.filter((t) => t.uses.includes(service.name)).map((t) => t.name),
  }));
  return { version: LIST_JSON_VERSION, root: config.root, tasks, services };
}

function renderList(doc: ListDocument, bold: (text: string) => string): string[] {
  const taskRows = doc.tasks.map((t) => [
    t.name,
    t.uses.join(', '),
    t.inputs.join(', ') || '-',
    t.outputs.join(', ') || '-',
    t.placeholders > 0 ? `${t.units}+` : String(t.units),
    ...UNIT_STATES.map((s) => String(t.states[s])),
  ]);
  const taskHeaders = ['TASK', 'USES', 'INPUT', 'OUTPUT', 'UNITS', ...UNIT_STATES.map((s) => s.toUpperCase())];
  const lines = formatTable(taskHeaders, taskRows, { right: new Set([4, 5, 6, 7, 8]), header: bold });
  if (doc.tasks.some((t) => t.placeholders > 0)) lines.push('+ more units appear when a dynamic producer upstream runs');
  const described = doc.tasks.flatMap((t) => (t.description === undefined ? [] : [[t.name, t.description]]));
  if (described.length > 0) lines.push('', ...formatTable(['TASK', 'DESCRIPTION'], described, { header: bold }));

  const serviceRows = doc.services.map((s) => [
    s.name,
    s.concurrent === null ? '-' : String(s.concurrent),
    s.rates.join(', ') || '-',
    s.burst === null ? '-' : String(s.burst),
    s.tasks.join(', ') || '-',
  ]);
  lines.push(
    '',
    ...formatTable(['SERVICE', 'CONCURRENT', 'RATE', 'BURST', 'TASKS'], serviceRows, { right: new Set([1, 3]), header: bold }),
  );
  return lines;
}
