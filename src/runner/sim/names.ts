/**
 * Concrete file names for a glob, for what a simulation makes up: the files a dynamic output
 * (`work/{doc}/pages/*.png`) is given per producer (`--fanout`), and synthetic inputs
 * (`--files 'docs/*.pdf=20'`). The first `*` carries a zero-padded number (`p-001`); other glob
 * syntax takes its simplest match (`**` no directory, `?` one letter, a class its first
 * character, a brace group its first alternative).
 */
import { globMatcher } from '../../patterns/glob-match.ts';
import { expandBraces } from '../../patterns/glob-syntax.ts';
import { CONS_MIN_LENGTH } from '../../flat-string.ts';
import { err, ok, type Result } from '../../result.ts';

/** Literal text around one `*`, nothing else a glob could read as syntax. */
const ONE_STAR = /^[^*?[\]{}()!+@\\]*\*[^*?[\]{}()!+@\\]*$/;

/** `count` distinct paths matching `glob`, or why none can be made up. */
export function namesFor(glob: string, count: number, stem = 'sim'): Result<string[], string> {
  const first = expandBraces(glob)[0] ?? glob;
  const simple = first
    .replace(/\*\*\//g, '')
    .replace(/\*\*/g, '*')
    .replace(/\[!?\^?(.)[^\]]*\]/g, '$1')
    .replace(/\?/g, 'x');
  const star = simple.indexOf('*');
  if (star < 0 && count > 1) return err(`${glob}: has no * to number ${count} files by`);
  const width = String(count).length;
  // Everything but the number is the same for every name: built once.
  const head = star < 0 ? simple : `${simple.slice(0, star)}${stem === '' ? '' : `${stem}-`}`;
  const tail = star < 0 ? '' : simple.slice(star + 1).replace(/\*/g, 's');
  const names: string[] = new Array<string>(count);
  // Flat: a cheaper Map key (see flat-string.ts). Every name has the same length, so whether
  // joining is needed is decided once: this runs before anything is optimised, 10,000s of times.
  const long = head.length + width + tail.length >= CONS_MIN_LENGTH;
  for (let i = 1; i <= count; i++) {
    const number = String(i).padStart(width, '0');
    names[i - 1] = star < 0 ? simple : long ? [head, number, tail].join('') : head + number + tail;
  }
  const matches = globMatcher(glob);
  // A glob whose only syntax is one `*` (`in/*.txt`) matches the numbered names all alike: the
  // `*` takes the stem and digits whatever they are, so the first name answers for the 10,000s.
  const checked = ONE_STAR.test(glob) ? Math.min(1, names.length) : names.length;
  let bad: string | undefined;
  for (let i = 0; i < checked && bad === undefined; i++) if (!matches(names[i] as string)) bad = names[i];
  if (bad !== undefined) return err(`${glob}: cannot make up file names for it (tried ${bad})`);
  return ok(names);
}
