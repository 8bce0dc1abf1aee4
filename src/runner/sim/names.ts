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
  const names: string[] = [];
  for (let i = 1; i <= count; i++) {
    const name =
      star < 0
        ? simple
        : `${simple.slice(0, star)}${stem === '' ? '' : `${stem}-`}${String(i).padStart(width, '0')}${simple.slice(star + 1).replace(/\*/g, 's')}`;
    names.push(name);
  }
  const matches = globMatcher(glob);
  const bad = names.find((n) => !matches(n));
  if (bad !== undefined) return err(`${glob}: cannot make up file names for it (tried ${bad})`);
  return ok(names);
}
