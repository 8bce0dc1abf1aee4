/** The nearest package.json's module type: how Node loads a `.ts` or `.js` file in a directory. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The nearest package.json at or above `dir`, when it says `"type": "commonjs"` (npm 11's `npm init` default). */
export function commonjsPackageJson(dir: string): string | undefined {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const file = path.join(current, 'package.json');
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      text = undefined;
    }
    if (text !== undefined) return typeOf(text) === 'commonjs' ? file : undefined;
    if (path.dirname(current) === current) return undefined;
  }
}

function typeOf(text: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || !('type' in parsed)) return undefined;
    return typeof parsed.type === 'string' ? parsed.type : undefined;
  } catch {
    return undefined;
  }
}
