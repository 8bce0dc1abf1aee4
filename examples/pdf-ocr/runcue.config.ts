/**
 * runcue example: OCR a folder of PDFs.
 *
 *   docs/{doc}.pdf ──split (pdftoppm)──▶ work/{doc}/pages/p-*.png      a dynamic set per document
 *                  ──extract (tesseract, service ocr)──▶ work/{doc}/text/{page}.txt   one unit per page
 *                  ──summarize (fan-in)──▶ out/{doc}.md
 *
 * Needs poppler-utils and tesseract-ocr (+ tesseract-ocr-eng) on PATH.
 */
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { defineConfig } from 'runcue';
import { renderSummary } from './scripts/summary.ts';

// runcue hands function tasks paths relative to this file's directory; resolving them here keeps
// the function independent of the directory runcue was started from.
const here = (file: string): string => path.resolve(import.meta.dirname, file);

export default defineConfig({
  services: {
    cpu: { concurrent: 2 },
    // tesseract stands in for an OCR API with a quota: at most 120 starts in any minute, paced
    // at 2/s after an initial burst of 10, and never more than 2 pages in flight.
    ocr: { rate: '120/min', burst: 10, concurrent: 2 },
  },
  tasks: {
    // One unit per PDF. The output is a glob: the page images are known only after it runs, and
    // runcue discovers the extract units then. Old pages are removed first, so a PDF that lost
    // pages leaves none behind.
    split: {
      description: 'render each page of a PDF to a 150 dpi grey PNG',
      uses: 'cpu',
      input: 'docs/{doc}.pdf',
      output: 'work/{doc}/pages/*.png',
      run: 'rm -f work/{doc}/pages/*.png && pdftoppm -r 150 -gray -png {input} work/{doc}/pages/p',
    },

    // A pattern rule: one unit per page image, rate-limited by the ocr service.
    extract: {
      description: 'recognise the text of one page',
      uses: 'ocr',
      input: 'work/{doc}/pages/{page}.png',
      output: 'work/{doc}/text/{page}.txt',
      run: 'tesseract {input} stdout > {output}',
      // tesseract would otherwise start a thread per core for every page.
      env: { OMP_THREAD_LIMIT: '1' },
      retries: 2,
      timeout: '1m',
    },

    // Fan-in: one unit per document over all its pages; it waits until no extract unit of that
    // document is pending.
    summarize: {
      description: 'word counts and the first line of every page',
      input: 'work/{doc}/text/*.txt',
      output: 'out/{doc}.md',
      run: async ({ inputs, output, wildcards }, { signal, log }) => {
        const pages = [];
        for (const file of inputs) {
          signal.throwIfAborted();
          pages.push({ name: path.basename(file, '.txt'), text: await readFile(here(file), 'utf8') });
        }
        await writeFile(here(output), renderSummary(wildcards['doc'] ?? '', pages), { signal });
        log(`${pages.length} pages -> ${output}`);
      },
    },
  },
});
