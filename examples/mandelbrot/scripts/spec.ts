/**
 * The image spec (`image.json`) and its split into tiles: the `plan` task turns one spec into one
 * small JSON file per tile, so that `render` has one unit per tile.
 */

/** What `image.json` holds. */
export interface ImageSpec {
  /** Image size in pixels. */
  readonly width: number;
  readonly height: number;
  /** Tiles per side: `4` gives a 4x4 grid of 16 tiles. */
  readonly tiles: number;
  /** The point of the complex plane at the image's centre, `[re, im]`. */
  readonly center: readonly [number, number];
  /** Width of the view on the real axis (the height follows from the aspect ratio). */
  readonly span: number;
  /** Iterations before a point counts as inside the set. */
  readonly maxIter: number;
}

/** One tile: where it sits in the image, plus everything `render-tile.mjs` needs to draw it. */
export interface TileSpec {
  /** File stem, `r{row}c{col}`, zero-padded so names sort in reading order. */
  readonly name: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly image: { readonly width: number; readonly height: number };
  readonly center: readonly [number, number];
  readonly span: number;
  readonly maxIter: number;
}

function positiveInt(value: unknown, key: string, file: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new Error(`${file}: "${key}" must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function finite(value: unknown, key: string, file: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`${file}: "${key}" must be a number, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Parses and checks `image.json`; a mistake throws an error naming the file and the key. */
export function parseImageSpec(text: string, file: string): ImageSpec {
  const raw: unknown = JSON.parse(text);
  if (typeof raw !== 'object' || raw === null) throw new Error(`${file}: expected a JSON object`);
  const spec = raw as Record<string, unknown>;
  const center = spec['center'];
  if (!Array.isArray(center) || center.length !== 2) {
    throw new Error(`${file}: "center" must be [re, im], got ${JSON.stringify(center)}`);
  }
  const width = positiveInt(spec['width'], 'width', file);
  const height = positiveInt(spec['height'], 'height', file);
  const tiles = positiveInt(spec['tiles'], 'tiles', file);
  if (tiles > Math.min(width, height)) {
    throw new Error(`${file}: "tiles" (${tiles}) cannot exceed the image's smaller side`);
  }
  return {
    width,
    height,
    tiles,
    center: [finite(center[0], 'center[0]', file), finite(center[1], 'center[1]', file)],
    span: finite(spec['span'], 'span', file),
    maxIter: positiveInt(spec['maxIter'], 'maxIter', file),
  };
}

/** Splits the image into a `tiles` x `tiles` grid; edges are spread so any size divides. */
export function planTiles(spec: ImageSpec): TileSpec[] {
  const digits = String(spec.tiles - 1).length;
  const pad = (n: number): string => String(n).padStart(digits, '0');
  const edge = (i: number, size: number): number => Math.floor((i * size) / spec.tiles);
  const result: TileSpec[] = [];
  for (let row = 0; row < spec.tiles; row++) {
    for (let col = 0; col < spec.tiles; col++) {
      const x = edge(col, spec.width);
      const y = edge(row, spec.height);
      result.push({
        name: `r${pad(row)}c${pad(col)}`,
        x,
        y,
        width: edge(col + 1, spec.width) - x,
        height: edge(row + 1, spec.height) - y,
        image: { width: spec.width, height: spec.height },
        center: spec.center,
        span: spec.span,
        maxIter: spec.maxIter,
      });
    }
  }
  return result;
}
