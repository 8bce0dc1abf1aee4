/** Plain aligned text tables for the inspection commands. */

/** How `formatTable` aligns and styles. */
export interface TableOptions {
  /** Columns aligned right (numbers). */
  readonly right?: ReadonlySet<number>;
  /** Applied to the header line after padding, so alignment ignores escape codes. */
  readonly header?: (text: string) => string;
}

/** Rows under a header, columns two spaces apart, no trailing spaces. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[], options: TableOptions = {}): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (options.right?.has(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const head = line(headers);
  return [options.header ? options.header(head) : head, ...rows.map(line)];
}
