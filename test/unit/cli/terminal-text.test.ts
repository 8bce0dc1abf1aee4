import { describe, expect, it } from 'vitest';
import { createPalette, formatFailure } from '../../../src/cli/report/format.ts';
import { safeLine } from '../../../src/cli/report/terminal-text.ts';
import type { RunEvent } from '../../../src/runner/events.ts';

const ESC = '\u001b';

describe('safeLine', () => {
  it('keeps text, tabs and replacement characters as they are', () => {
    expect(safeLine('a\tb  ü 漢字 \uFFFD', false)).toBe('a\tb  ü 漢字 \uFFFD');
  });

  it('escapes control characters, C1 controls, DEL and bidi overrides', () => {
    expect(safeLine(`x${ESC}[2Jy\u0007z\u0008\u0000\u007f\u009b\u202eevil`, false)).toBe('x\\x1b[2Jy\\x07z\\x08\\x00\\x7f\\x9b\\u202eevil');
  });

  it('keeps only what a terminal shows after carriage returns', () => {
    expect(safeLine('10%\r50%\r100%', false)).toBe('100%');
    expect(safeLine('done\r', false)).toBe('done');
  });

  it('keeps colour with a reset where runcue paints, removes it elsewhere', () => {
    const red = `${ESC}[31merror${ESC}[39m: ${ESC}[1;31mbad`;
    expect(safeLine(red, true)).toBe(`${red}${ESC}[0m`);
    expect(safeLine(red, false)).toBe('error: bad');
    // a sequence that is not colour is escaped even where colour is kept
    expect(safeLine(`${ESC}[31mred${ESC}[H`, true)).toBe(`${ESC}[31mred\\x1b[H${ESC}[0m`);
  });
});

describe('a failed unit with binary output', () => {
  const event: Extract<RunEvent, { type: 'unit:fail' }> = {
    type: 'unit:fail',
    time: 0,
    task: 'cat',
    unit: 'cat[f=x]',
    durationMs: 5,
    attempt: 1,
    error: { reason: 'exit-non-zero', exitCode: 1, message: 'exit code 1' },
    outputTail: `PNG\u0000\u0001${ESC}]0;pwned\u0007\r\n${ESC}[32mok${ESC}[39m\n\tindented`,
    removed: [],
  };

  it('prints its tail escaped, line by line, and annotates GitHub without control characters', () => {
    const lines = formatFailure(event, { palette: createPalette(false), cwd: '/', github: true });
    const text = lines.join('\n');
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(lines).toContain('    PNG\\x00\\x01\\x1b]0;pwned\\x07');
    expect(lines).toContain('    ok');
    expect(lines).toContain('    \tindented');
  });
});
