/**
 * runcue example: draw the Mandelbrot set tile by tile, then stitch the tiles into one PNG.
 *
 *   image.json ──plan──▶ work/tiles/*.json ──render (one unit per tile)──▶ work/tiles/*.ppm
 *                                               ──assemble (fan-in)──▶ out/mandelbrot.png
 *
 * Node and sh only: the renderer is a plain script, the PNG encoder is node:zlib.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { defineConfig } from 'runcue';
import { encodePng } from './scripts/png.ts';
import { parseTile, stitch } from './scripts/ppm.ts';
import { parseImageSpec, planTiles } from './scripts/spec.ts';

// runcue hands function tasks paths relative to this file's directory; resolving them here keeps
// the functions independent of the directory runcue was started from.
const here = (file: string): string => path.resolve(import.meta.dirname, file);

export default defineConfig({
  services: {
    cpu: { concurrent: 2 }, // render at most two tiles at once
  },
  tasks: {
    // One unit (no wildcard in the output). Its output is a glob: a dynamic set of files that is
    // known only after it runs, so runcue discovers the render units then.
    plan: {
      description: 'split image.json into one spec file per tile',
      input: 'image.json',
      output: 'work/tiles/*.json',
      run: async ({ input, output }, { log }) => {
        const spec = parseImageSpec(await readFile(here(input), 'utf8'), input);
        const dir = here(path.dirname(output));
        // Start empty: a smaller grid must not leave old tiles behind for assemble to pick up.
        await rm(dir, { recursive: true, force: true });
        await mkdir(dir, { recursive: true });
        const tiles = planTiles(spec);
        await Promise.all(tiles.map((tile) => writeFile(path.join(dir, `${tile.name}.json`), `${JSON.stringify(tile, null, 2)}\n`)));
        log(`${tiles.length} tiles for a ${spec.width}x${spec.height} image`);
      },
    },

    // A pattern rule: one unit per tile, each a separate process (argv form: no shell).
    render: {
      description: 'compute one tile into a PPM',
      uses: 'cpu',
      input: 'work/tiles/{tile}.json',
      output: 'work/tiles/{tile}.ppm',
      run: ['node', 'scripts/render-tile.mjs', '{input}', '{output}'],
    },

    // Fan-in: one unit over every tile; it waits until no render unit could still add one.
    assemble: {
      description: 'stitch the tiles into out/mandelbrot.png',
      input: { spec: 'image.json', tiles: 'work/tiles/*.ppm' },
      output: 'out/mandelbrot.png',
      run: async ({ namedInputs, output }, { signal, log }) => {
        const specFile = namedInputs['spec']?.[0] ?? 'image.json';
        const spec = parseImageSpec(await readFile(here(specFile), 'utf8'), specFile);
        const files = namedInputs['tiles'] ?? [];
        const tiles = [];
        for (const file of files) {
          signal.throwIfAborted();
          tiles.push(parseTile(await readFile(here(file)), file));
        }
        const png = encodePng(spec.width, spec.height, stitch(spec.width, spec.height, tiles));
        await writeFile(here(output), png, { signal });
        log(`${tiles.length} tiles -> ${output} (${png.length} bytes)`);
      },
    },
  },
});
