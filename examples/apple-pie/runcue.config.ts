/**
 * runcue example: a bakery with one knife and two ovens.
 *
 *   baskets/{pie}/{apple}.txt ──slice (knife, one at a time)──▶ work/slices/{pie}/{apple}.txt
 *                             ──bake (oven, two at a time; fan-in per pie)──▶ out/{pie}.txt
 *
 * Slices go brown: after `maxAge` they are stale, and the next build cuts them again, and every
 * pie waits for its fresh slices before it goes back in the oven.
 */
import { defineConfig } from 'runcue';

export default defineConfig({
  services: {
    knife: { concurrent: 1 }, // one physical knife: strictly one apple at a time
    oven: { concurrent: 2 }, // two ovens
  },
  tasks: {
    // A pattern rule: one unit per apple in every basket.
    slice: {
      description: 'slice one apple',
      uses: 'knife',
      input: 'baskets/{pie}/{apple}.txt',
      output: 'work/slices/{pie}/{apple}.txt',
      run: 'sh scripts/slice.sh {pie}/{apple} {input} {output}',
      // Short enough to watch happen; a real bakery would say '20m'. Longer than a whole build
      // (about 3 s), so a second build straight after the first finds every slice fresh.
      maxAge: '5s',
    },

    // Fan-in: one unit per pie over all of its slices. It is ready only when no slice of that pie
    // is missing, stale, waiting or being cut, so a pie never goes in with brown slices.
    bake: {
      description: 'bake one pie from its slices',
      uses: 'oven',
      input: 'work/slices/{pie}/*.txt',
      output: 'out/{pie}.txt',
      run: 'sh scripts/bake.sh {pie} {output} {inputs}',
    },
  },
});
