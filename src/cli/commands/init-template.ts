/** The starter config `runcue init` writes. It must build as is once a file is in input/ (init writes input/hello.txt). */

/** File name `runcue init` writes. */
export const STARTER_FILE = 'runcue.config.ts';
/** ... in a `"type": "commonjs"` package, where Node would load a `.ts` file as CommonJS. */
export const STARTER_FILE_ESM = 'runcue.config.mts';

/** A commented starter: a rate-limited service, cpu, a per-file task and a fan-in. */
export const STARTER_CONFIG = `// runcue config (the runcue README describes every option).
// Try it: run \`npx runcue build\` (and again: nothing to do), then add .txt files to input/ and build again.
// \`npx runcue list\` shows tasks and their units; \`npx runcue graph | dot -Tsvg > graph.svg\` draws them.
import { defineConfig } from 'runcue';

export default defineConfig({
  // Services are limit buckets, not servers: how many units may run at once (concurrent) and
  // how many may start in any window of time (rate).
  services: {
    // A rate-limited API: at most 60 starts in any 60 s (paced at about 1/s), 4 in flight.
    api: { rate: '60/min', concurrent: 4 },
    // Local work. A task that names no service uses cpu (default: one slot per core).
    cpu: { concurrent: 2 },
  },

  tasks: {
    // One unit per file: {name} is a wildcard bound by each file that matches the input.
    // A unit runs when its output is missing or older than its input, so a rerun skips done work.
    shout: {
      uses: 'api',
      input: 'input/{name}.txt',
      output: 'work/{name}.txt',
      // A stand-in for an API call. {input} and {output} are shell-quoted; the argv form
      // ['node', 'scripts/call-api.mjs', '{input}', '{output}'] runs without a shell.
      run: "tr '[:lower:]' '[:upper:]' < {input} > {output}",
      retries: 2, // retried with exponential backoff; exit 75 means "slow down", not failure
      timeout: '1m',
    },

    // A fan-in: one unit over every file shout produces; it runs after all of them are done.
    combine: {
      input: 'work/*.txt',
      output: 'out/combined.txt',
      run: 'cat {inputs} > {output}',
    },
  },
});
`;
