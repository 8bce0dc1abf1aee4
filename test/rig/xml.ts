/**
 * A small strict XML 1.0 reader for tests of generated XML (JUnit reports): one root element,
 * proper nesting, quoted attributes without duplicates, only the predefined and numeric
 * character references, and no character XML 1.0 forbids. Throws on anything else, saying where.
 * No DTDs, CDATA, comments or processing instructions but the `<?xml ...?>` declaration.
 */

/** An element: its name, attributes (decoded), child elements and text (decoded, concatenated). */
export interface XmlElement {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  readonly text: string;
}

const NAME = /^[A-Za-z_][\w.-]*/;
const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const FORBIDDEN =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Parses `xml`; throws with the offset of the first problem. */
export function parseXml(xml: string): XmlElement {
  const bad = FORBIDDEN.exec(xml);
  if (bad)
    throw new Error(`character U+${(bad[0].codePointAt(0) ?? 0).toString(16)} is not allowed in XML 1.0 (offset ${String(bad.index)})`);
  let at = 0;
  const fail = (what: string): never => {
    throw new Error(`${what} at offset ${String(at)}: ${JSON.stringify(xml.slice(at, at + 40))}`);
  };
  const decode = (raw: string): string => {
    if (raw.includes('<')) fail('"<" in text or attribute');
    return raw.replace(/&([^;]*);|&/g, (whole, ref: string | undefined) => {
      if (ref === undefined) return fail('bare "&"');
      const named = ENTITIES[ref];
      if (named !== undefined) return named;
      const code = /^#x[0-9a-fA-F]+$/.test(ref) ? parseInt(ref.slice(2), 16) : /^#\d+$/.test(ref) ? Number(ref.slice(1)) : NaN;
      if (!Number.isFinite(code) || FORBIDDEN.test(String.fromCodePoint(code))) return fail(`bad reference ${whole}`);
      return String.fromCodePoint(code);
    });
  };
  const skipSpace = (): void => {
    while (/\s/.test(xml[at] ?? '')) at++;
  };
  const element = (): XmlElement => {
    if (xml[at] !== '<') fail('expected "<"');
    at++;
    const name = NAME.exec(xml.slice(at))?.[0] ?? fail('expected an element name');
    at += name.length;
    const attrs: Record<string, string> = {};
    for (;;) {
      const before = at;
      skipSpace();
      if (xml.startsWith('/>', at)) {
        at += 2;
        return { name, attrs, children: [], text: '' };
      }
      if (xml[at] === '>') {
        at++;
        break;
      }
      if (at === before) fail('expected white space before an attribute');
      const attr = NAME.exec(xml.slice(at))?.[0] ?? fail('expected an attribute name');
      at += attr.length;
      if (xml[at] !== '=') fail('expected "="');
      const quote = xml[at + 1];
      if (quote !== '"' && quote !== "'") fail('expected a quoted value');
      const end = xml.indexOf(quote ?? '"', at + 2);
      if (end < 0) fail('unterminated attribute value');
      if (attr in attrs) fail(`duplicate attribute ${attr}`);
      attrs[attr] = decode(xml.slice(at + 2, end));
      at = end + 1;
    }
    const children: XmlElement[] = [];
    let text = '';
    for (;;) {
      const next = xml.indexOf('<', at);
      if (next < 0) fail(`unclosed <${name}>`);
      text += decode(xml.slice(at, next));
      at = next;
      if (xml.startsWith('</', at)) {
        at += 2;
        if (!xml.startsWith(`${name}>`, at)) fail(`expected </${name}>`);
        at += name.length + 1;
        return { name, attrs, children, text };
      }
      children.push(element());
    }
  };
  if (xml.startsWith('<?xml')) {
    const end = xml.indexOf('?>');
    if (end < 0) fail('unterminated XML declaration');
    at = end + 2;
  }
  skipSpace();
  const root = element();
  skipSpace();
  if (at !== xml.length) fail('content after the root element');
  return root;
}

const NUMBER = /^\d+(\.\d+)?$/;

/**
 * Problems with `root` as a JUnit report of the shape GitLab reads: `<testsuites>` of
 * `<testsuite name tests failures errors skipped time>` of `<testcase classname name time>`,
 * each with at most one `<failure>`/`<error>`/`<skipped>`; the counts must match the cases.
 */
export function junitProblems(root: XmlElement): string[] {
  const problems: string[] = [];
  const need = (el: XmlElement, names: readonly string[], numeric: readonly string[]): void => {
    for (const n of names) if (el.attrs[n] === undefined) problems.push(`<${el.name}> lacks ${n}`);
    for (const n of numeric) if (!NUMBER.test(el.attrs[n] ?? '')) problems.push(`<${el.name}> ${n}="${el.attrs[n] ?? ''}" is not a number`);
  };
  if (root.name !== 'testsuites') problems.push(`root is <${root.name}>, expected <testsuites>`);
  const counts = ['tests', 'failures', 'errors', 'skipped'];
  let all = 0;
  for (const suite of root.children) {
    if (suite.name !== 'testsuite') problems.push(`<${suite.name}> in <testsuites>`);
    need(suite, ['name', ...counts, 'time'], [...counts, 'time']);
    const tally = { tests: 0, failures: 0, errors: 0, skipped: 0 };
    for (const c of suite.children) {
      if (c.name !== 'testcase') problems.push(`<${c.name}> in <testsuite>`);
      need(c, ['classname', 'name', 'time'], ['time']);
      tally.tests++;
      const outcomes = c.children.filter((k) => ['failure', 'error', 'skipped'].includes(k.name));
      if (outcomes.length > 1) problems.push(`testcase ${c.attrs['name'] ?? ''} has ${String(outcomes.length)} outcomes`);
      for (const o of outcomes) tally[o.name === 'failure' ? 'failures' : o.name === 'error' ? 'errors' : 'skipped']++;
      for (const k of c.children)
        if (!['failure', 'error', 'skipped', 'system-out', 'system-err'].includes(k.name)) problems.push(`<${k.name}> in <testcase>`);
    }
    for (const [key, n] of Object.entries(tally)) {
      if (suite.attrs[key] !== String(n))
        problems.push(`testsuite ${suite.attrs['name'] ?? ''}: ${key}="${suite.attrs[key] ?? ''}" but ${String(n)} counted`);
    }
    all += tally.tests;
  }
  if (root.attrs['tests'] !== undefined && root.attrs['tests'] !== String(all))
    problems.push(`testsuites tests="${root.attrs['tests']}" but ${String(all)} cases`);
  return problems;
}
