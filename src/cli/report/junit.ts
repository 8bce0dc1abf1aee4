/**
 * A run as a JUnit XML file (`--report-file`), the format GitLab, Jenkins, CircleCI and GitHub
 * test views read: one `<testsuite>` per task, one `<testcase>` per unit (classname = task,
 * name = unit id, time in seconds). A failed unit carries `<failure>` with its output tail; a
 * fresh, blocked or interrupted unit is `<skipped>` with the reason. Unit ids come from file
 * names, so every text is escaped, and characters XML 1.0 cannot hold are written as `\xNN`.
 */
import { writeFile } from 'node:fs/promises';
import type { FreshUnit } from '../../runner/records/accumulate.ts';
import type { RunRecord, UnitRecord } from '../../runner/records/record.ts';
import { describeFailure } from './format.ts';

interface Case {
  readonly unit: string;
  readonly task: string;
  readonly seconds: number;
  /** `<failure>` message and body. */
  readonly failure?: { readonly message: string; readonly type: string; readonly body: string };
  /** `<skipped>` message. */
  readonly skipped?: string;
}

/** The JUnit XML of `record`, with its `fresh` units as skipped test cases. */
export function junitXml(record: RunRecord, fresh: readonly FreshUnit[]): string {
  const cases = [...record.units.map(caseOf), ...fresh.map((f): Case => ({ ...f, seconds: 0, skipped: 'fresh: not run' }))];
  const byTask = new Map<string, Case[]>();
  for (const task of Object.keys(record.tasks)) byTask.set(task, []);
  for (const c of cases) byTask.set(c.task, [...(byTask.get(c.task) ?? []), c]);
  const timestamp = new Date(record.startedAt).toISOString().slice(0, 19);
  const suites = [...byTask].filter(([, list]) => list.length > 0).map(([task, list]) => suiteXml(task, list, timestamp));
  const total = totals(cases);
  const head = `<testsuites name=${attr(`runcue ${record.command}`)}${countsAttrs(total)} time=${attr(seconds(record.durationMs))}>`;
  return ['<?xml version="1.0" encoding="UTF-8"?>', head, ...suites, '</testsuites>', ''].join('\n');
}

/** Writes the JUnit file of the run to `file`; resolves to a warning when it cannot. */
export async function writeJunitFile(file: string, record: RunRecord, fresh: readonly FreshUnit[]): Promise<string | undefined> {
  try {
    await writeFile(file, junitXml(record, fresh));
    return undefined;
  } catch (error) {
    return `--report-file ${file}: could not write the JUnit report: ${error instanceof Error ? error.message : String(error)}`;
  }
}

function caseOf(u: UnitRecord): Case {
  const base = { unit: u.unit, task: u.task, seconds: u.durationMs / 1000 };
  switch (u.outcome) {
    case 'built':
      return base;
    case 'failed': {
      const message = u.failure ? safeDescribe(u) : 'failed';
      const command = u.command !== undefined ? `$ ${u.command}\n` : '';
      return { ...base, failure: { message, type: u.failure?.reason ?? 'failed', body: `${command}${u.outputTail ?? ''}` } };
    }
    case 'blocked':
      return { ...base, skipped: `blocked: ${u.blocked ?? ''}` };
    case 'interrupted':
      return { ...base, skipped: 'interrupted: the run was stopped' };
    default:
      return { ...base, skipped: 'did not finish: runcue stopped' };
  }
}

function safeDescribe(u: UnitRecord): string {
  try {
    return u.failure ? describeFailure(u.failure) : 'failed';
  } catch {
    return 'failed';
  }
}

interface Totals {
  readonly tests: number;
  readonly failures: number;
  readonly skipped: number;
  readonly seconds: number;
}

function totals(cases: readonly Case[]): Totals {
  return {
    tests: cases.length,
    failures: cases.filter((c) => c.failure).length,
    skipped: cases.filter((c) => c.skipped !== undefined).length,
    seconds: cases.reduce((sum, c) => sum + c.seconds, 0),
  };
}

function countsAttrs(t: Totals): string {
  return ` tests="${String(t.tests)}" failures="${String(t.failures)}" errors="0" skipped="${String(t.skipped)}"`;
}

function suiteXml(task: string, cases: readonly Case[], timestamp: string): string {
  const t = totals(cases);
  const open = `  <testsuite name=${attr(task)}${countsAttrs(t)} time=${attr(seconds(t.seconds * 1000))} timestamp="${timestamp}">`;
  return [open, ...cases.map(caseXml), '  </testsuite>'].join('\n');
}

function caseXml(c: Case): string {
  const open = `    <testcase classname=${attr(c.task)} name=${attr(c.unit)} time=${attr(seconds(c.seconds * 1000))}`;
  if (c.failure) {
    const { message, type, body } = c.failure;
    return `${open}>\n      <failure message=${attr(message)} type=${attr(type)}>${text(body)}</failure>\n    </testcase>`;
  }
  if (c.skipped !== undefined) return `${open}>\n      <skipped message=${attr(c.skipped)}/>\n    </testcase>`;
  return `${open}/>`;
}

function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

// eslint-disable-next-line no-control-regex
const SGR = /\u001b\[[0-9;:]*m/g;
/** What XML 1.0 cannot hold at all: C0 controls but tab and line breaks, lone surrogates, U+FFFE/U+FFFF. */
const NOT_XML =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|[\ufffe\uffff]/g;

/** `value` in XML 1.0: colour codes dropped, impossible characters shown as `\xNN`. */
function clean(value: string): string {
  return value.replace(SGR, '').replace(NOT_XML, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Element text, escaped. */
function text(value: string): string {
  return clean(value).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** A quoted attribute value, escaped; line breaks and tabs kept as character references. */
function attr(value: string): string {
  const escaped = text(value).replaceAll('"', '&quot;').replaceAll('\n', '&#10;').replaceAll('\r', '&#13;').replaceAll('\t', '&#9;');
  return `"${escaped}"`;
}
