/**
 * The README's config reference names every key the schema accepts: the schema lists its keys in
 * the message for an unknown one, and each must appear in the README as `key`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/schema.ts';

const README = readFileSync(join(import.meta.dirname, '../../../README.md'), 'utf8');
const UNKNOWN = 'qqqqqqqqqq';

/** The keys the schema accepts where `path` ends, read from its unknown-key message. */
function knownKeys(raw: unknown, path: string): string[] {
  const result = validateConfig(raw);
  if (result.ok) throw new Error('expected an unknown-key issue');
  const issue = result.error.find((i) => i.path.join('.') === `${path}${path === '' ? '' : '.'}${UNKNOWN}`);
  const list = /expected one of: (.*)\)$/.exec(issue?.message ?? '')?.[1];
  if (list === undefined) throw new Error(`no key list for ${path}: ${JSON.stringify(result.error)}`);
  return list.split(', ');
}

const raw = {
  [UNKNOWN]: 1,
  services: { s: { [UNKNOWN]: 1 } },
  tasks: { t: { run: 'true', [UNKNOWN]: 1 } },
  on: { [UNKNOWN]: 1 },
};

describe('README config reference', () => {
  it.each([
    ['top level', ''],
    ['services', 'services.s'],
    ['tasks', 'tasks.t'],
    ['hooks', 'on'],
  ])('names every %s key', (_, path) => {
    const keys = knownKeys(raw, path);
    expect(keys.length).toBeGreaterThan(3);
    // `key`, `key: ...` or a key in an object shape: `{ start, complete }`
    const literal = (key: string): string => key.replace(/[$.*+?^()[\]{}|\\]/g, '\\$&');
    expect(keys.filter((key) => !new RegExp(`[\`{ ,]${literal(key)} *[\`,}:?]`).test(README))).toEqual([]);
  });
});
