/**
 * Names in human output, one line each: a unit id, a task, a path. A file name may hold a
 * newline or a carriage return (they are legal on every Unix file system), so printed raw it
 * could end one line of runcue's output and forge the next (`✓ deploy 1ms`), or drive the
 * terminal with an escape sequence. In human text every control character of a name is shown
 * escaped (`\n`, `\t`, `\x1b`), and so are the bidirectional overrides; JSON carries it exactly.
 */

// C0 controls (tab, line feed and carriage return too), DEL, C1 controls, and the bidi
// embedding/override/isolate characters.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const HAS_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const SHORT: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `text` with every control character escaped: always one line. */
export function escapeName(text: string): string {
  if (!HAS_UNSAFE.test(text)) return text;
  return text.replace(UNSAFE, (char) => {
    const short = SHORT[char];
    if (short !== undefined) return short;
    const code = char.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Fields that carry a tool's or the user's own text, printed line by line as such (terminal-text.ts). */
const OWN_TEXT: ReadonlySet<string> = new Set(['outputTail', 'text', 'command']);
/** Failures whose message is the user's code's own (a thrown error, a config error): it keeps its lines. */
const OWN_MESSAGE: ReadonlySet<unknown> = new Set(['function-error', 'check-error', 'worker-error', 'worker-crashed', 'worker-failed']);

/**
 * An event for a human renderer: every string in it escaped with {@link escapeName}, but the
 * text of tools and of the user's code. The same object when nothing needed escaping.
 */
export function escapedEvent<T extends object>(event: T): T {
  return escapeIn(event) as T;
}

function escapeIn(value: unknown): unknown {
  if (typeof value === 'string') return escapeName(value);
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const items: unknown[] = value;
    const out = items.map((item) => escapeIn(item));
    return out.some((item, i) => item !== items[i]) ? out : value;
  }
  const record = value as Readonly<Record<string, unknown>>;
  let copy: Record<string, unknown> | undefined;
  for (const [key, field] of Object.entries(record)) {
    if (OWN_TEXT.has(key) || (key === 'message' && (OWN_MESSAGE.has(record['reason']) || record['type'] === 'watch:config'))) continue;
    const shown = escapeIn(field);
    if (shown !== field) (copy ??= { ...record })[key] = shown;
  }
  return copy ?? value;
}
