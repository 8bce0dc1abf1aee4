import { describe, expect, it } from 'vitest';
import { describeThrown } from '../../src/describe-thrown.ts';

describe('describeThrown', () => {
  it('gives an Error its message, and a message-less Error its name', () => {
    expect(describeThrown(new Error('boom'))).toBe('boom');
    expect(describeThrown(new TypeError(''))).toBe('TypeError');
  });

  it('gives strings as they are and primitives readably', () => {
    expect(describeThrown('a string')).toBe('a string');
    expect(describeThrown('')).toBe('(an empty string)');
    expect(describeThrown(42)).toBe('42');
    expect(describeThrown(42n)).toBe('42n');
    expect(describeThrown(Symbol('s'))).toBe('Symbol(s)');
    expect(describeThrown(undefined)).toBe('undefined');
    expect(describeThrown(null)).toBe('null');
    expect(describeThrown(function named() {})).toBe('(function named)');
  });

  it('shows objects as JSON-ish text, never [object Object]', () => {
    expect(describeThrown({ code: 42 })).toBe('{"code":42}');
    expect(describeThrown(Object.create(null))).toBe('{}');
    const bare = Object.create(null) as Record<string, unknown>;
    bare['why'] = 'no prototype';
    expect(describeThrown(bare)).toBe('{"why":"no prototype"}');
    expect(describeThrown([1, 'a', { b: 2n }])).toBe('[1,"a",{"b":2n}]');
    class Failure {
      readonly status = 503;
    }
    expect(describeThrown(new Failure())).toBe('Failure {"status":503}');
  });

  it('survives cycles, throwing getters and hostile proxies', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    expect(describeThrown(cyclic)).toBe('{"a":1,"self":"(circular)"}');
    const getter = Object.defineProperty({}, 'x', {
      enumerable: true,
      get: () => {
        throw new Error('no');
      },
    });
    expect(describeThrown(getter)).toBe('{"x":"(getter threw)"}');
    const hostile = new Proxy(
      {},
      {
        getPrototypeOf: () => {
          throw new Error('trap');
        },
        ownKeys: () => {
          throw new Error('trap');
        },
      },
    );
    expect(describeThrown(hostile)).toBe('(a thrown value that cannot be described)');
    const badMessage = new Error('x');
    Object.defineProperty(badMessage, 'message', {
      get: () => {
        throw new Error('no');
      },
    });
    expect(describeThrown(badMessage)).toBe('Error');
  });

  it('keeps long values short', () => {
    expect(describeThrown('x'.repeat(5000)).length).toBeLessThanOrEqual(500);
    expect(describeThrown({ deep: { deeper: { deepest: { bottom: 1 } } } })).toBe('{"deep":{"deeper":{"deepest":{…}}}}');
  });
});
