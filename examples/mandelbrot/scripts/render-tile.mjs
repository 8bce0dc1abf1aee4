#!/usr/bin/env node
// Renders one tile of the Mandelbrot set: `node scripts/render-tile.mjs TILE.json OUT.ppm`.
// The output is a binary PPM (P6) whose header comment records where the tile sits in the
// whole image, so the assembler needs no other input. Node built-ins only.
import { readFileSync, writeFileSync } from 'node:fs';

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  process.stderr.write('usage: node scripts/render-tile.mjs TILE.json OUT.ppm\n');
  process.exit(2);
}

const tile = JSON.parse(readFileSync(input, 'utf8'));
const { x, y, width, height, image, center, span, maxIter } = tile;
const step = span / image.width; // one pixel, in units of the complex plane
const left = center[0] - (image.width / 2) * step;
const top = center[1] + (image.height / 2) * step;
const LOG2 = Math.log(2);

// Smooth ("normalised") iteration count, so colour bands blend instead of stepping.
function escape(cr, ci) {
  let zr = 0;
  let zi = 0;
  for (let n = 0; n < maxIter; n++) {
    const zr2 = zr * zr;
    const zi2 = zi * zi;
    if (zr2 + zi2 > 256) return n + 1 - Math.log(Math.log(zr2 + zi2) / 2) / LOG2;
    zi = 2 * zr * zi + ci;
    zr = zr2 - zi2 + cr;
  }
  return -1; // inside the set
}

// A cosine palette (three phase-shifted waves): navy far out, bright near the boundary.
function colour(mu, rgb, at) {
  if (mu < 0) {
    rgb[at] = rgb[at + 1] = rgb[at + 2] = 0;
    return;
  }
  const t = Math.sqrt(mu) / 4;
  rgb[at] = 255 * (0.5 + 0.5 * Math.cos(2 * Math.PI * (t + 0.3)));
  rgb[at + 1] = 255 * (0.5 + 0.5 * Math.cos(2 * Math.PI * (t + 0.2)));
  rgb[at + 2] = 255 * (0.5 + 0.5 * Math.cos(2 * Math.PI * (t + 0.1)));
}

const rgb = new Uint8Array(width * height * 3);
for (let row = 0; row < height; row++) {
  const ci = top - (y + row + 0.5) * step;
  for (let col = 0; col < width; col++) {
    const cr = left + (x + col + 0.5) * step;
    colour(escape(cr, ci), rgb, (row * width + col) * 3);
  }
}

const header = `P6\n# tile x=${x} y=${y}\n${width} ${height}\n255\n`;
writeFileSync(output, Buffer.concat([Buffer.from(header, 'latin1'), rgb]));
