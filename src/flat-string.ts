/**
 * Strings that key tables of 10,000s of entries (unit ids, paths), made flat.
 *
 * V8 makes `a + b` of 13 characters or more a "cons" string, a pair of pointers to its parts, and
 * a Map compares such a key with another of the same length by a call into its runtime, not
 * inline: a rehearsal of 10,000 units made ~30 such calls per unit. `Array.prototype.join` makes
 * one flat string, but costs three `+`, and V8 makes a shorter string flat anyway.
 */
/** The length from which V8 makes `a + b` a cons string. */
export const CONS_MIN_LENGTH = 13;

/** `parts` as one string, flat whatever its length. */
export function joinFlat(parts: readonly string[]): string {
  let length = 0;
  for (let i = 0; i < parts.length; i++) length += (parts[i] as string).length;
  if (length >= CONS_MIN_LENGTH) return parts.join('');
  let out = '';
  for (let i = 0; i < parts.length; i++) out += parts[i] as string;
  return out;
}
