/**
 * The stack of an error a function task threw, as its log shows it: the frames of the user's code,
 * without the frames of runcue's own code (and Node's internals) that called the function. Those
 * say nothing about the failure, and in a CI annotation, which shows the last lines of the log,
 * they were all there was to see.
 */

/**
 * The directory runcue's own code runs from (`dist/` when built, `src/` from source), as stack
 * frames spell it; found on first use. Reading a stack numbers its lines, and a frame in the
 * bundled engine made V8 scan its whole 600 KB source for line ends: ~2 ms of every start.
 */
let ownRootFound: { readonly root: string | undefined } | undefined;

function ownRoot(): string | undefined {
  ownRootFound ??= { root: findOwnRoot() };
  return ownRootFound.root;
}

function findOwnRoot(): string | undefined {
  const here = frameLocation(new Error().stack?.split('\n')[1] ?? '');
  if (here === undefined) return undefined;
  const at = Math.max(here.lastIndexOf('/dist/'), here.lastIndexOf('/src/'));
  return at === -1 ? undefined : here.slice(0, here.indexOf('/', at + 1) + 1);
}

/** The file of a stack frame line (`    at fn (/path/file.js:1:2)`), without a `file://` scheme. */
function frameLocation(line: string): string | undefined {
  const match = /^\s*at (?:.*? \()?(.+?)\)?$/.exec(line);
  return match?.[1]?.replace(/^file:\/\//, '');
}

/** A frame of runcue's own code or of Node's internals. */
function isMachinery(line: string): boolean {
  const location = frameLocation(line);
  if (location === undefined) return false;
  if (location.startsWith('node:')) return true;
  const root = ownRoot();
  return root !== undefined && location.startsWith(root);
}

/** `stack` without its trailing frames of runcue's code and Node's internals (the message and the user's frames stay). */
export function userStack(stack: string): string {
  const lines = stack.split('\n');
  let end = lines.length;
  while (end > 1 && isMachinery(lines[end - 1] ?? '')) end--;
  return lines.slice(0, end).join('\n');
}
