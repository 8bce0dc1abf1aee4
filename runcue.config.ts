/**
 * The repository's own demo: `npx runcue build` from the root.
 *
 *   demo-src/{name}.txt ──shout──▶ demo-out/upper/{name}.txt ──index (fan-in)──▶ demo-out/index.md
 *
 * Add a file to demo-src/ and build again: one new `shout` unit runs, then `index`.
 * A bigger, real pipeline lives in examples/mandelbrot (`npm run demo`).
 */
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { defineConfig } from 'runcue';

// Paths reach function tasks relative to this file's directory.
const here = (file: string): string => path.resolve(import.meta.dirname, file);

export default defineConfig({
  tasks: {
    // A shell command per file; {input} and {output} are shell-quoted when substituted.
    shout: {
      input: 'demo-src/{name}.txt',
      output: 'demo-out/upper/{name}.txt',
      run: "tr '[:lower:]' '[:upper:]' < {input} > {output}",
    },
    // One unit over all of them, run after every `shout` unit is done.
    index: {
      input: 'demo-out/upper/*.txt',
      output: 'demo-out/index.md',
      run: async ({ inputs, output }, { log }) => {
        const lines = ['# Shouted', ''];
        for (const file of [...inputs].sort()) {
          const text = await readFile(here(file), 'utf8');
          const words = text.split(/\s+/).filter(Boolean).length;
          lines.push(`- [${path.basename(file)}](${path.relative(path.dirname(output), file)}): ${words} words`);
        }
        await writeFile(here(output), `${lines.join('\n')}\n`);
        log(`indexed ${inputs.length} files`);
      },
    },
  },
});
