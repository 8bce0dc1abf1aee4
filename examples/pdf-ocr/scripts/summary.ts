/**
 * The per-document summary the `summarize` task writes: a word count and the first line of every
 * page, pages in page order. Pure: the config reads the files and writes the result.
 */

/** One page's recognised text; `name` is the page image's base name (`p-07`, `p-1`). */
export interface PageText {
  readonly name: string;
  readonly text: string;
}

/** The page number pdftoppm put at the end of the file name (`p-07` -> 7), or NaN. */
export function pageNumber(name: string): number {
  const digits = /(\d+)$/.exec(name)?.[1];
  return digits === undefined ? Number.NaN : Number(digits);
}

function words(text: string): number {
  return text.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
}

function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '') ?? '';
  // Keep the table intact whatever the OCR read.
  return line.trim().replaceAll('|', '\\|');
}

/** Markdown for one document. */
export function renderSummary(doc: string, pages: readonly PageText[]): string {
  const sorted = [...pages].sort((a, b) => pageNumber(a.name) - pageNumber(b.name) || a.name.localeCompare(b.name));
  const total = sorted.reduce((n, p) => n + words(p.text), 0);
  const rows = sorted.map((p) => `| ${pageNumber(p.name)} | ${words(p.text)} | ${firstLine(p.text)} |`);
  return [
    `# ${doc}`,
    '',
    `${sorted.length} pages, ${total} words.`,
    '',
    '| page | words | first line |',
    '| ---: | ---: | --- |',
    ...rows,
    '',
  ].join('\n');
}
