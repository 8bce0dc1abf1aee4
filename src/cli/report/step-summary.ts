/**
 * The GitHub Actions step summary of a build: when `GITHUB_STEP_SUMMARY` names a file, a
 * markdown section is appended to it (the run's counts, failed units with a short reason, the
 * slowest units, services against their limits). The `::error` annotations of the ci reporter
 * stay as they are; this is the table the job's summary page shows.
 */
import { appendFile } from 'node:fs/promises';
import type { RunRecord, UnitRecord } from '../../runner/records/record.ts';
import { summarizeRun, type ServiceUtilisation } from '../../runner/records/summary.ts';
import { describeFailure, formatDuration } from './format.ts';
import { formatPerWindow } from './service-progress.ts';

/** Rows of each table, at most: a summary page is read, not searched. */
const ROWS = 20;

/** The markdown section of `record`. */
export function stepSummaryMarkdown(record: RunRecord): string {
  const summary = summarizeRun(record, { slowest: 5 });
  const c = record.counts;
  const status = record.status === 'ok' ? '✅ ok' : record.status === 'failed' ? '❌ failed' : `⚠️ ${record.status}`;
  const target = record.targets.length > 0 ? ` ${record.targets.map(cell).join(' ')}` : '';
  const lines = [
    `### runcue ${record.command}${target}: ${status}`,
    '',
    '| built | fresh | failed | blocked | interrupted | not started | time |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    `| ${[c.built, c.fresh, c.failed, c.blocked, c.interrupted ?? 0, c.notStarted ?? 0].map(String).join(' | ')} | ${formatDuration(record.durationMs)} |`,
  ];
  if (summary.failures.length > 0) {
    lines.push('', '**Failed units**', '', '| unit | reason |', '|---|---|');
    for (const u of summary.failures.slice(0, ROWS)) lines.push(`| ${cell(u.unit)} | ${cell(reasonOf(u))} |`);
    more(lines, summary.failures.length);
  }
  if (summary.blocked.length > 0) {
    lines.push('', '**Blocked units**', '', '| unit | why |', '|---|---|');
    for (const u of summary.blocked.slice(0, ROWS)) lines.push(`| ${cell(u.unit)} | ${cell(u.blocked ?? '')} |`);
    more(lines, summary.blocked.length);
  }
  if (summary.slowest.length > 0) {
    lines.push('', '**Slowest units**', '', '| unit | time | outcome |', '|---|---:|---|');
    for (const u of summary.slowest) lines.push(`| ${cell(u.unit)} | ${formatDuration(u.durationMs)} | ${u.outcome} |`);
  }
  if (summary.services.length > 0) {
    lines.push(
      '',
      '**Services**',
      '',
      '| service | peak running | starts | busiest rate window | push-backs |',
      '|---|---:|---:|---|---:|',
    );
    for (const s of summary.services) lines.push(serviceRow(s));
  }
  return `${lines.join('\n')}\n\n`;
}

/** Appends the section of `record` to `file`; resolves to a warning when it cannot. */
export async function appendStepSummary(file: string, record: RunRecord): Promise<string | undefined> {
  try {
    await appendFile(file, stepSummaryMarkdown(record));
    return undefined;
  } catch (error) {
    return `GITHUB_STEP_SUMMARY: could not append to ${file}: ${error instanceof Error ? error.message : String(error)}`;
  }
}

function more(lines: string[], count: number): void {
  if (count > ROWS) lines.push(`| … and ${String(count - ROWS)} more | |`);
}

function reasonOf(u: UnitRecord): string {
  if (u.outcome === 'interrupted') return 'interrupted';
  let reason = 'failed';
  try {
    if (u.failure) reason = describeFailure(u.failure);
  } catch {
    // a reason this version does not know: 'failed' says enough
  }
  const last = (u.outputTail ?? '')
    .split('\n')
    .map((line) => line.trim())
    .findLast((line) => line !== '');
  return last === undefined ? reason : `${reason}: ${last.length > 120 ? `${last.slice(0, 120)}…` : last}`;
}

function serviceRow(s: ServiceUtilisation): string {
  const running = s.concurrent !== null ? `${String(s.peakConcurrent)} / ${String(s.concurrent)}` : String(s.peakConcurrent);
  const rates = s.rates.map((r) => `${String(r.peak)} / ${String(r.count)} ${formatPerWindow(r.windowMs)}`).join(', ');
  return `| ${cell(s.name)} | ${running} | ${String(s.starts)} | ${rates === '' ? '–' : rates} | ${String(s.pushBacks)} |`;
}

/** Text in a table cell: one line, no markdown or HTML of its own (unit ids come from file names). */
function cell(value: string): string {
  return (
    value
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f]+/g, ' ')
      .trim()
      .replaceAll('&', '&amp;')
      .replaceAll('<', '&lt;')
      .replaceAll('>', '&gt;')
      .replace(/[\\`*_[\]|~#!]/g, (char) => `\\${char}`)
  );
}
