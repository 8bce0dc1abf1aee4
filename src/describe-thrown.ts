/**
 * One readable line for any thrown value. JavaScript can throw anything (`throw 'a string'`,
 * `throw { code: 42 }`, `Object.create(null)`, a cyclic object, one whose getters throw), and
 * `String(value)` gives `[object Object]` or throws itself; a message must never do either.
 */

const MAX_LENGTH = 500;
const MAX_DEPTH = 3;
const MAX_KEYS = 20;

/** One readable line, of bounded length, for whatever was thrown; never throws itself. */
export function describeThrown(value: unknown): string {
  try {
    return clip(describe(value));
  } catch {
    // A Proxy can throw from any trap, even the ones the checks above use.
    return '(a thrown value that cannot be described)';
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value === '' ? '(an empty string)' : value;
  if (isError(value)) return errorText(value);
  if (typeof value === 'object' && value !== null) {
    const name = constructorName(value);
    const json = jsonish(value, MAX_DEPTH, new Set());
    return name === undefined || name === 'Object' || name === 'Array' ? json : `${name} ${json}`;
  }
  return primitive(value);
}

function isError(value: unknown): value is Error {
  return value instanceof Error || Object.prototype.toString.call(value) === '[object Error]';
}

function errorText(error: Error): string {
  const message = safeRead(error, 'message');
  const name = safeRead(error, 'name');
  const text = typeof message === 'string' ? message : message === undefined ? '' : describeThrown(message);
  if (text !== '') return text;
  return typeof name === 'string' && name !== '' ? name : 'Error';
}

function primitive(value: unknown): string {
  switch (typeof value) {
    case 'bigint':
      return `${value.toString()}n`;
    case 'symbol':
      return value.toString();
    case 'function':
      return value.name === '' ? '(a function)' : `(function ${value.name})`;
    case 'undefined':
      return 'undefined';
    default:
      return String(value);
  }
}

/** JSON-like text that survives cycles, null prototypes, throwing getters and odd leaves. */
function jsonish(value: unknown, depth: number, seen: Set<object>): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value !== 'object' || value === null) return typeof value === 'function' ? '"(function)"' : primitive(value);
  if (seen.has(value)) return '"(circular)"';
  if (depth === 0) return Array.isArray(value) ? '[…]' : '{…}';
  if (isError(value)) return JSON.stringify(errorText(value));
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      const items = value.slice(0, MAX_KEYS).map((item: unknown) => jsonish(item, depth - 1, seen));
      if (value.length > MAX_KEYS) items.push('…');
      return `[${items.join(',')}]`;
    }
    const keys = Object.keys(value);
    const entries = keys.slice(0, MAX_KEYS).map((key) => `${JSON.stringify(key)}:${leaf(value, key, depth, seen)}`);
    if (keys.length > MAX_KEYS) entries.push('…');
    return `{${entries.join(',')}}`;
  } finally {
    seen.delete(value);
  }
}

function leaf(object: object, key: string, depth: number, seen: Set<object>): string {
  try {
    return jsonish((object as Record<string, unknown>)[key], depth - 1, seen);
  } catch {
    return '"(getter threw)"';
  }
}

function safeRead(object: object, key: string): unknown {
  try {
    return (object as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

function constructorName(value: object): string | undefined {
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === null) return undefined;
  const ctor = safeRead(proto as object, 'constructor');
  return typeof ctor === 'function' && ctor.name !== '' ? ctor.name : undefined;
}

function clip(text: string): string {
  return text.length <= MAX_LENGTH ? text : `${text.slice(0, MAX_LENGTH - 1)}…`;
}
