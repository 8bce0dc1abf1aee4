/** Compiled picomatch matchers, one per distinct glob for the life of the process. */
import picomatch from 'picomatch';
import { PICOMATCH_OPTIONS } from './glob-syntax.ts';

const cache = new Map<string, (path: string) => boolean>();

/** A matcher for `glob` with runcue's picomatch options (POSIX classes, no dotfiles, no extglob). */
export function globMatcher(glob: string): (path: string) => boolean {
  let m = cache.get(glob);
  if (!m) {
    const isMatch = picomatch(glob, PICOMATCH_OPTIONS);
    // Unary on purpose: picomatch's second parameter returns a (truthy) object, and
    // `array.filter(matcher)` would pass the index there.
    m = (path: string) => isMatch(path);
    cache.set(glob, m);
  }
  return m;
}
