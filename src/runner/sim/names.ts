/**
 * Concrete file names for a glob, for what a simulation makes up: the files a dynamic output
 * (`work/{doc}/pages/*.png`) is given per producer (`--fanout`), and synthetic inputs
 * (`--files 'docs/*.pdf=20'`). The first `*` carries a zero-padded number (`p-001`); other glob
 * syntax takes its simplest match (`**` no directory, `?` one letter, a class its first
 * character, a brace group its first alternative).
 */
import { globMatcher } from '../../patterns/glob-match.ts';
import { expandBraces } from '../../patterns/glob-syntax.ts';
import { err, ok, type Result } from '../../result.ts';

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
  for (let i = 1; i <= count; i++) names[i - 1] = star < 0 ? simple : head + String(i).padStart(width, '0') + tail;
  const matches = globMatcher(glob);
  let bad: string | undefined;
  for (let i = 0; i < names.length && bad === undefined; i++) if (!matches(names[i] as string)) bad = names[i];
  if (bad !== undefined) return err(`${glob}: cannot make up file names for it (tried ${bad})`);
  return ok(names);
}
