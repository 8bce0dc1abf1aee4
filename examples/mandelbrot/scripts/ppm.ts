/**
 * Reading the tiles that `render-tile.mjs` writes (binary PPM, P6, with a `# tile x=.. y=..`
 * comment giving the tile's place in the image) and stitching them into one RGB buffer.
 */

/** One rendered tile: its place in the image and its RGB pixels, row by row. */
export interface Tile {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly pixels: Uint8Array;
}

// Header: magic, the placement comment, width, height, maxval, then exactly one whitespace byte.
const HEADER = /^P6\n# tile x=(\d+) y=(\d+)\n(\d+) (\d+)\n255\n/;

/** Parses a tile written by render-tile.mjs; anything else throws an error naming the file. */
export function parseTile(data: Uint8Array, file: string): Tile {
  const head = new TextDecoder('latin1').decode(data.subarray(0, 64));
  const match = HEADER.exec(head);
  if (!match) throw new Error(`${file}: not a tile PPM written by render-tile.mjs`);
  const [x, y, width, height] = match.slice(1, 5).map(Number) as [number, number, number, number];
  const pixels = data.subarray(match[0].length);
  if (pixels.length !== width * height * 3) {
    throw new Error(`${file}: expected ${width * height * 3} bytes of pixels, found ${pixels.length}`);
  }
  return { x, y, width, height, pixels };
}

/**
 * Copies every tile into one `width` x `height` RGB image. Throws when a tile falls outside the
 * image, two tiles overlap, or some pixel is left uncovered (a tile is missing).
 */
export function stitch(width: number, height: number, tiles: readonly Tile[]): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  const covered = new Uint8Array(width * height);
  for (const tile of tiles) {
    if (tile.x + tile.width > width || tile.y + tile.height > height) {
      throw new Error(`tile at ${tile.x},${tile.y} (${tile.width}x${tile.height}) lies outside the ${width}x${height} image`);
    }
    for (let row = 0; row < tile.height; row++) {
      const at = (tile.y + row) * width + tile.x;
      if (covered.subarray(at, at + tile.width).some((c) => c !== 0)) {
        throw new Error(`tile at ${tile.x},${tile.y} overlaps another tile`);
      }
      covered.fill(1, at, at + tile.width);
      const from = row * tile.width * 3;
      rgb.set(tile.pixels.subarray(from, from + tile.width * 3), at * 3);
    }
  }
  const hole = covered.indexOf(0);
  if (hole !== -1) {
    throw new Error(`no tile covers pixel ${hole % width},${Math.floor(hole / width)}: is a tile missing?`);
  }
  return rgb;
}
