import { describe, expect, it } from 'vitest';
import { junitXml } from '../../../src/cli/report/junit.ts';
import { stepSummaryMarkdown } from '../../../src/cli/report/step-summary.ts';
import type { RunEvent } from '../../../src/runner/events.ts';
import { junitProblems, parseXml, type XmlElement } from '../../rig/xml.ts';
import { accumulated, EVENTS } from '../runner/records/fixture.ts';

const HOSTILE = 'extract[p=a "b" <c> & d\'e\nf\u0001g\u001b[31mred]';

function hostileEvents(): RunEvent[] {
  return EVENTS.map((e) => ('unit' in e && e.unit === 'extract[p=c]' ? { ...e, unit: HOSTILE } : e));
}

function cases(root: XmlElement): XmlElement[] {
  return root.children.flatMap((suite) => suite.children);
}

describe('the JUnit report', () => {
  const acc = accumulated();
  const xml = junitXml(acc.record(0), acc.fresh);
  const root = parseXml(xml);

  it('has the shape GitLab reads, with counts that match its cases', () => {
    expect(junitProblems(root)).toEqual([]);
    expect(root.attrs).toMatchObject({ name: 'runcue build', tests: '5', failures: '1', errors: '0', skipped: '2', time: '2.000' });
  });

  it('has one suite per task and one case per unit: built, failed with its output, blocked and fresh as skipped', () => {
    expect(root.children.map((s) => [s.attrs['name'], s.attrs['tests'], s.attrs['failures'], s.attrs['skipped']])).toEqual([
      ['extract', '4', '1', '1'],
      ['sum', '1', '0', '1'],
    ]);
    const byName = Object.fromEntries(cases(root).map((c) => [c.attrs['name'], c]));
    expect(byName['extract[p=a]']?.attrs).toEqual({ classname: 'extract', name: 'extract[p=a]', time: '0.500' });
    expect(byName['extract[p=a]']?.children).toEqual([]);
    const failure = byName['extract[p=c]']?.children[0];
    expect(failure?.name).toBe('failure');
    expect(failure?.attrs).toEqual({ message: 'exit 3', type: 'exit-non-zero' });
    expect(failure?.text).toBe('$ ocr c\nline 1\n<bad> & "quoted"\\x07\n');
    expect(byName['sum']?.children[0]).toMatchObject({ name: 'skipped', attrs: { message: 'blocked: extract[p=c] failed' } });
    expect(byName['extract[p=d]']?.children[0]).toMatchObject({ name: 'skipped', attrs: { message: 'fresh: not run' } });
  });

  it('escapes hostile unit names: quotes, <, &, line breaks kept as references, control characters shown, colour dropped', () => {
    const acc = accumulated(hostileEvents());
    const hostileXml = junitXml(acc.record(0), acc.fresh);
    const parsed = parseXml(hostileXml);
    expect(junitProblems(parsed)).toEqual([]);
    const names = cases(parsed).map((c) => c.attrs['name']);
    expect(names).toContain('extract[p=a "b" <c> & d\'e\nf\\x01gred]');
  });
});

describe('the GitHub step summary', () => {
  it('is a markdown table of the counts, failed units with a short reason, the slowest units and the services', () => {
    const md = stepSummaryMarkdown(accumulated().record(0));
    expect(md).toContain('### runcue build extract: ❌ failed\n');
    expect(md).toContain('| 2 | 1 | 1 | 1 | 0 | 0 | 2.0s |');
    expect(md).toContain('| extract\\[p=c\\] | exit 3: &lt;bad&gt; &amp; "quoted" |');
    expect(md).toContain('| sum | extract\\[p=c\\] failed |');
    expect(md).toMatch(
      /\*\*Slowest units\*\*\n\n\| unit \| time \| outcome \|\n\|---\|---:\|---\|\n\| extract\\\[p=b\\\] \| 1\.2s \| built \|/,
    );
    expect(md).toContain('| ocr | 2 / 2 | 4 | 2 / 2 per s | 1 |');
  });

  it('keeps a hostile name on one line of its cell, without markup', () => {
    const md = stepSummaryMarkdown(accumulated(hostileEvents()).record(0));
    expect(md).toContain('| extract\\[p=a "b" &lt;c&gt; &amp; d\'e f g \\[31mred\\] | exit 3:');
  });
});

describe('the strict XML checker the JUnit tests rely on', () => {
  it('rejects what an XML 1.0 parser rejects', () => {
    expect(() => parseXml('<a b="x & y"/>')).toThrow(/bare "&"/);
    expect(() => parseXml('<a b="<"/>')).toThrow(/"<" in text or attribute/);
    expect(() => parseXml('<a>\u0001</a>')).toThrow(/not allowed in XML 1.0/);
    expect(() => parseXml('<a><b></a>')).toThrow(/expected <\/b>/);
    expect(() => parseXml('<a x="1" x="2"/>')).toThrow(/duplicate attribute/);
    expect(() => parseXml('<a/><b/>')).toThrow(/content after the root/);
    expect(parseXml('<a t="&#10;&lt;&quot;">x&amp;y</a>')).toEqual({ name: 'a', attrs: { t: '\n<"' }, children: [], text: 'x&y' });
  });

  it('flags JUnit counts that do not match the cases', () => {
    const root = parseXml(
      '<testsuites tests="1"><testsuite name="t" tests="1" failures="1" errors="0" skipped="0" time="1"><testcase classname="t" name="u" time="0.1"/></testsuite></testsuites>',
    );
    expect(junitProblems(root)).toEqual(['testsuite t: failures="1" but 0 counted']);
  });
});
