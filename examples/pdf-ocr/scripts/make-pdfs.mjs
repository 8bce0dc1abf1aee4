#!/usr/bin/env node
// Writes the example's input PDFs into docs/: `node scripts/make-pdfs.mjs` (run once; the PDFs
// are committed). Each page is a few lines of 36 pt Helvetica, large enough for tesseract to read
// reliably at 150 dpi. The PDF is written by hand: one font, one content stream per page, and a
// cross-reference table with exact byte offsets. Node built-ins only.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WIDTH = 504; // 7 x 4 in
const HEIGHT = 288;
const FONT_SIZE = 36;
const LEADING = 58;

const FRUITS = ['apple', 'banana', 'cherry', 'grape', 'lemon', 'mango', 'orange', 'peach', 'pear', 'plum', 'melon', 'lime'];
const REGIONS = ['north', 'south', 'east', 'west'];

/** Document name -> pages -> lines. */
const DOCS = {
  letter: [
    ['Dear Alice', 'Thank you for the', 'basket of apples'],
    ['We baked two pies', 'and ate them warm', 'See you soon'],
  ],
  invoice: [
    ['Invoice page 1', 'Ten boxes of pears', 'shipped on Monday'],
    ['Invoice page 2', 'Four crates of plums', 'shipped on Friday'],
    ['Invoice page 3', 'Total due in thirty', 'days from today'],
  ],
  report: FRUITS.map((fruit, i) => [
    `Report page ${i + 1}`,
    `${capitalise(fruit)} sales grew`,
    `in the ${REGIONS[i % REGIONS.length]} region`,
  ]),
};

function capitalise(word) {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** PDF string literal: backslash-escape the three special characters. */
function pdfString(text) {
  return `(${text.replace(/[\\()]/g, (c) => `\\${c}`)})`;
}

function contentStream(lines) {
  const ops = [`BT /F1 ${FONT_SIZE} Tf ${LEADING} TL 48 ${HEIGHT - 48 - FONT_SIZE} Td`];
  lines.forEach((line, i) => ops.push(`${i === 0 ? '' : 'T* '}${pdfString(line)} Tj`));
  ops.push('ET');
  return ops.join('\n');
}

/** A complete PDF: catalog 1, pages 2, font 3, then a page and its content stream per page. */
function pdf(pages) {
  const objects = [];
  const kids = pages.map((_, i) => `${4 + 2 * i} 0 R`).join(' ');
  objects.push('<< /Type /Catalog /Pages 2 0 R >>');
  objects.push(`<< /Type /Pages /Kids [${kids}] /Count ${pages.length} >>`);
  objects.push('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>');
  pages.forEach((lines, i) => {
    const stream = contentStream(lines);
    objects.push(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${WIDTH} ${HEIGHT}] ` +
        `/Resources << /Font << /F1 3 0 R >> >> /Contents ${5 + 2 * i} 0 R >>`,
    );
    objects.push(`<< /Length ${Buffer.byteLength(stream, 'latin1')} >>\nstream\n${stream}\nendstream`);
  });

  let out = '%PDF-1.4\n';
  const offsets = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  // Each xref entry is exactly 20 bytes: 10-digit offset, 5-digit generation, flag, CR LF.
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f\r\n`;
  for (const offset of offsets) out += `${String(offset).padStart(10, '0')} 00000 n\r\n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs');
mkdirSync(dir, { recursive: true });
for (const [name, pages] of Object.entries(DOCS)) {
  const file = join(dir, `${name}.pdf`);
  const bytes = pdf(pages);
  writeFileSync(file, bytes);
  process.stdout.write(`${file}: ${pages.length} pages, ${bytes.length} bytes\n`);
}
