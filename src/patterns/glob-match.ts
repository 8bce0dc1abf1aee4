/** Compiled picomatch matchers, one per distinct glob for the life of the process. */
import picomatch from 'picomatch';
import { PICOMATCH_OPTIONS } from './glob-syntax.ts';

const cache = new Map<string, (path: string) => boolean>();

/** A matcher for `glob` with runcue's picomatch options (POSIX classes, no dotfiles, no extglob). */
export function globMatcher(glob: string): (path: string) => boolean {
  let m = cache.get(glob);
  if (!m) {
    // Compiled when first asked: a glob of plain names around one star seldom needs it.
    let isMatch: picomatch.Matcher | undefined;
    // Unary on purpose: picomatch's second parameter returns a (truthy) object, and
    // `array.filter(matcher)` would pass the index there.
    const slow = (path: string): boolean => (isMatch ??= picomatch(glob, PICOMATCH_OPTIONS))(path);
    m = oneStarMatcher(glob, slow);
    if (m === undefined) {
      // Now: a glob picomatch cannot read fails here, where it is named.
      isMatch = picomatch(glob, PICOMATCH_OPTIONS);
      m = slow;
    }
    cache.set(glob, m);
  }
  return m;
}

/**
 * Plain names around one `*` (`work/a/pages/*.png`): the glob of most dynamic outputs and fan-in
 * inputs, one per document. Compiling a regex for each, and V8 compiling it again on its first
 * use, was a visible share of a build of 1,000s of documents; these are matched by comparing the
 * text around the star. What picomatch treats specially (an empty segment, a trailing slash, a
 * leading `./`) is left to it: `slow`.
 */
const ONE_STAR = /^([A-Za-z0-9_\-.]+\/)*[A-Za-z0-9_\-.]*\*[A-Za-z0-9_\-.]*(\/[A-Za-z0-9_\-.]+)*$/;

function oneStarMatcher(glob: string, slow: (path: string) => boolean): ((path: string) => boolean) | undefined {
  if (!ONE_STAR.test(glob) || glob.split('/').some((s) => s === '.' || s === '..')) return undefined;
  const star = glob.indexOf('*');
  const head = glob.slice(0, star);
  const tail = glob.slice(star + 1);
  // With `dot: false` a star that begins a segment never matches a leading `.` there.
  const segmentStart = star === 0 || head.endsWith('/');
  const fixed = head.length + tail.length;
  return (path: string): boolean => {
    if (path.length < fixed || !path.startsWith(head) || !path.endsWith(tail)) return false;
    if (path.endsWith('/') || path.includes('//') || path.startsWith('./')) return slow(path);
    const end = path.length - tail.length;
    const slash = path.indexOf('/', head.length);
    // The star's part is within one segment.
    if (slash >= 0 && slash < end) return false;
    // A `.` or `..` segment matches only where the glob spells it out: picomatch knows.
    const from = head.lastIndexOf('/') + 1;
    const to = path.indexOf('/', end);
    const segment = path.slice(from, to < 0 ? path.length : to);
    if (segment === '.' || segment === '..') return slow(path);
    if (segmentStart) {
      const first = end > head.length ? path.charCodeAt(head.length) : tail.charCodeAt(0);
      // 46: '.'; an empty segment (NaN) is not a name.
      if (first === 46 || Number.isNaN(first)) return false;
    }
    return true;
  };
}
