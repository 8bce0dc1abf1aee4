/**
 * runcue example: a persistent Python worker (runqy's protocol) classifying text files.
 *
 *   texts/{name}.txt ──classify (worker.py, loaded once per worker)──▶ out/labels/{name}.json
 *                    ──classify-spawned (python3 per unit)──────────▶ out/labels-spawned/{name}.json
 *
 * `npx runcue build classify` then `npx runcue build classify-spawned` to compare wall times.
 */
import { defineConfig } from 'runcue';

export default defineConfig({
  services: {
    // Stands in for a classification API with a quota: at most 20 calls a second, 2 in flight.
    // concurrent: 2 is also how many workers runcue starts for a task that uses it.
    api: { rate: '20/s', concurrent: 2 },
  },
  tasks: {
    // One worker process per slot, started on the first unit and reused for the rest: the model
    // loads twice in all, not once per file. runcue writes the returned dict to the output.
    classify: {
      description: 'label a text with its topic (persistent worker)',
      uses: 'api',
      input: 'texts/{name}.txt',
      output: 'out/labels/{name}.json',
      worker: ['python3', 'worker.py'],
      writeResult: 'json',
    },

    // The same handler spawned per unit: Python starts and the model loads for every file.
    'classify-spawned': {
      description: 'label a text with its topic (python3 per unit)',
      uses: 'api',
      input: 'texts/{name}.txt',
      output: 'out/labels-spawned/{name}.json',
      run: ['python3', 'classify_once.py', '{input}', '{output}'],
    },
  },
});
