// The machine description, the results store (bench/results.json: the latest row per scenario
// and N, so a partial run updates only its rows) and the markdown table in bench/RESULTS.md.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';

const ORDER = ['startup', 'startup-build', 'noop', 'touch', 'build', 'chain-build', 'chain-noop', 'rss-noop', 'rss-build'];

function cpuModel() {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match) return match[1].trim();
  } catch {
    // not Linux: fall through to what Node knows
  }
  return os.cpus()[0]?.model ?? 'unknown CPU';
}

/** One line describing this machine and the tools' versions. */
export function describeMachine(tools, rssMethod) {
  const cores = os.availableParallelism();
  const mem = (os.totalmem() / 2 ** 30).toFixed(1);
  return [
    `${cores} cores (nproc), ${cpuModel()}, ${mem} GiB RAM, ${os.type()} ${os.release()}`,
    `Node ${tools.runcue.nodeVersion ?? '?'}`,
    tools.make.version ?? 'make: not installed',
    `runcue ${tools.runcue.version ?? '(not built)'}`,
    `RSS via ${rssMethod}`,
  ].join('; ');
}

/** Short commit hash of the repo, marked `+dirty` with uncommitted changes. */
export function describeCommit(repo) {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8' });
  if (head.status !== 0) return 'no commit';
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: repo, encoding: 'utf8' });
  return `${head.stdout.trim()}${dirty.stdout.trim() ? '+dirty' : ''}`;
}

function key(row) {
  return `${row.scenario}:${row.n ?? '-'}`;
}

/** What tools.mjs says of a tool that --tools left out. */
export const LEFT_OUT = 'left out by --tools';
const TOOLS = ['runcue', 'make'];

/**
 * Merges `rows` into the store at `file` and returns every stored row. A tool that this run did
 * not measure (left out by --tools, or not built) keeps its previous measurement.
 */
export function mergeResults(file, rows) {
  const store = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : { rows: {} };
  for (const row of rows) {
    const old = store.rows[key(row)];
    const merged = { ...row };
    for (const tool of TOOLS) {
      if (row[tool]?.missing && old?.[tool] && !old[tool].missing) merged[tool] = old[tool];
    }
    store.rows[key(row)] = merged;
  }
  writeFileSync(file, `${JSON.stringify(store, null, 2)}\n`);
  return Object.values(store.rows);
}

function fmt(cell, unit) {
  if (!cell || cell.missing) return '–';
  if (cell.error) return 'failed';
  const digits = cell.median < 100 ? 1 : 0;
  return `${cell.median.toFixed(digits)} ${unit}`;
}

function ratio(row) {
  const a = row.runcue?.median;
  const b = row.make?.median;
  return a !== undefined && b !== undefined && b > 0 ? a / b : undefined;
}

function targetText(target, unit) {
  if (!target) return '';
  if (target.ratio !== undefined) return `≤ ${target.ratio}x make`;
  return `runcue ${unit === 'MB' ? '<' : '≤'} ${target.runcue} ${unit}`;
}

function met(row) {
  const { target } = row;
  if (!target) return '';
  if (target.ratio !== undefined) {
    const r = ratio(row);
    return r === undefined ? '?' : r <= target.ratio ? 'yes' : 'no';
  }
  const v = row.runcue?.median;
  return v === undefined ? '?' : v <= target.runcue ? 'yes' : 'no';
}

function sortRows(rows) {
  return [...rows].sort((a, b) => ORDER.indexOf(a.scenario) - ORDER.indexOf(b.scenario) || (a.n ?? 0) - (b.n ?? 0));
}

/** The results as a markdown table (also what run.mjs prints). */
export function renderTable(rows) {
  const lines = [
    '| scenario | N | runcue | make | runcue/make | target | met | runs | notes |',
    '| --- | ---: | ---: | ---: | ---: | --- | --- | ---: | --- |',
  ];
  for (const row of sortRows(rows)) {
    const r = ratio(row);
    const runs = Math.max(row.runcue?.samples ?? 0, row.make?.samples ?? 0);
    const errors = TOOLS.filter((t) => row[t]?.error).map((t) => `${t} failed: ${row[t].error.split('\n')[0]}`);
    const missing = TOOLS.filter((t) => row[t]?.missing && row[t].missing !== LEFT_OUT).map((t) => `${t} not measured: ${row[t].missing}`);
    const notes = [row.note, ...errors, ...missing].filter(Boolean).join('; ');
    lines.push(
      `| ${row.label} | ${row.n?.toLocaleString('en-US') ?? ''} | ${fmt(row.runcue, row.unit)} | ` +
        `${fmt(row.make, row.unit)} | ${r === undefined ? '–' : `${r.toFixed(2)}x`} | ` +
        `${targetText(row.target, row.unit)} | ${met(row)} | ${runs || ''} | ${notes} |`,
    );
  }
  return lines.join('\n');
}

/**
 * Where the sections other benchmarks write into RESULTS.md begin (bench/workers.mjs): run.mjs
 * rewrites the file above it and keeps what follows.
 */
export const OTHER_RESULTS_MARK = '<!-- sections below are written by other bench scripts -->';

/** The part of an existing RESULTS.md from the mark on, or '' when there is none. */
function otherResults(file) {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const at = text.indexOf(OTHER_RESULTS_MARK);
  return at === -1 ? '' : text.slice(at);
}

/**
 * Writes (or replaces) the section of one other bench script below the mark, keeping the other
 * scripts' sections: each is delimited by `<!-- begin NAME -->` and `<!-- end NAME -->`.
 */
export function writeOtherSection(file, name, section) {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const begin = `<!-- begin ${name} -->`;
  const end = `<!-- end ${name} -->`;
  const block = `${begin}\n${section.trimEnd()}\n${end}`;
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from !== -1 && to > from) {
    writeFileSync(file, `${text.slice(0, from)}${block}${text.slice(to + end.length)}`);
    return;
  }
  const withMark = text.includes(OTHER_RESULTS_MARK) ? text.trimEnd() : `${text.trimEnd()}\n\n${OTHER_RESULTS_MARK}`;
  writeFileSync(file, `${withMark}\n\n${block}\n`);
}

/** Hand-written notes on the measurements (load, paired runs): kept when run.mjs rewrites the table. */
const NOTES_BEGIN = '<!-- begin notes (kept by run.mjs) -->';
const NOTES_END = '<!-- end notes -->';

/** The notes block of an existing RESULTS.md, markers included, or '' when there is none. */
function notes(file) {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const from = text.indexOf(NOTES_BEGIN);
  const to = text.indexOf(NOTES_END);
  return from !== -1 && to > from ? `${text.slice(from, to + NOTES_END.length)}\n` : '';
}

/** Writes bench/RESULTS.md: the table, when and where each row was measured, and the notes. */
export function writeResultsMd(file, rows) {
  const sorted = sortRows(rows);
  const machines = [...new Set(sorted.map((r) => r.machine))];
  const when = (cell) => (cell?.date ? `${cell.date} (commit ${cell.commit})` : 'not measured');
  const where = sorted.map((r) => {
    const machine = machines.length > 1 ? `, machine ${machines.indexOf(r.machine) + 1}` : '';
    const size = r.n ? ` (N = ${r.n.toLocaleString('en-US')})` : '';
    return `- ${r.label}${size}: runcue ${when(r.runcue)}; make ${when(r.make)}${machine}`;
  });
  const text = [
    '# Benchmark results: runcue vs GNU make',
    '',
    'Written by `npm run bench` (`node bench/run.mjs`; see [README.md](README.md)). Each cell is the',
    'median of several runs, runcue and make alternating, after one untimed warm-up run of each.',
    '`runcue/make` below 1 means runcue was faster. Targets are the goals of issue 14.',
    '',
    ...(machines.length === 1 ? [`Machine: ${machines[0]}.`] : machines.map((m, i) => `Machine ${i + 1}: ${m}.`)),
    '',
    renderTable(sorted),
    '',
    'Workloads (generated under bench/.work/): N files `src/{n}.in`, copied by `cp {input} {output}`',
    '(make: `cp $< $@`, built-in rules off) to `out/{n}.out`; the chain copies',
    '`src -> a -> b -> out` in three tasks. A no-op starts with every output up to date; touch-one',
    'changes the mtime of one input per run; a full build starts with empty output directories.',
    '',
    '## When each row was measured',
    '',
    ...where,
    '',
  ].join('\n');
  const kept = notes(file);
  const others = otherResults(file);
  const body = kept === '' ? text : `${text}\n${kept}`;
  writeFileSync(file, others === '' ? body : `${body}\n${others}`);
}
