/**
 * A tool's output made safe to print on a terminal or in a CI log. Output tails and live output
 * are arbitrary bytes: a binary file cat-ed by mistake, cursor movements of a progress bar, a
 * title-setting escape. Printed raw they garble the display or drive the terminal.
 *
 * - Line breaks and tabs are kept. A carriage return inside a line (a progress meter redrawing
 *   itself) keeps only what a terminal would end up showing: the text after the last one.
 * - Colour (SGR, `ESC [ ... m`) is kept where runcue itself prints colour, with a reset at the end
 *   of the line so an unfinished colour cannot bleed into runcue's text; elsewhere (CI logs, pipes,
 *   NO_COLOR) it is removed.
 * - Every other control character (ESC of any other sequence, BEL, backspace, DEL, C1 controls)
 *   and bidirectional-override characters are shown escaped: `\x1b[2J`, `\x07`, `\u202e`.
 * - Invalid UTF-8 arrives already decoded as U+FFFD (�), which prints as itself.
 */

// eslint-disable-next-line no-control-regex
const SGR = /\u001b\[[0-9;:]*m/g;
// C0 controls but tab, DEL, C1 controls, and the bidi embedding/override/isolate characters.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const RESET = '\u001b[0m';

/** One line of a tool's output, safe to print; `color`: keep its colour (see the module doc). */
export function safeLine(line: string, color: boolean): string {
  const shown = lastRedraw(line);
  let hadColor = false;
  const parts = shown.split(SGR);
  const codes = shown.match(SGR) ?? [];
  let out = '';
  parts.forEach((part, i) => {
    out += escapeControls(part);
    const code = codes[i];
    if (code !== undefined && color) {
      out += code;
      hadColor = true;
    }
  });
  return hadColor ? `${out}${RESET}` : out;
}

/** The part of a line a terminal shows after its carriage returns: the last non-empty segment. */
function lastRedraw(line: string): string {
  if (!line.includes('\r')) return line;
  const segments = line.split('\r');
  return segments.findLast((segment) => segment !== '') ?? '';
}

function escapeControls(text: string): string {
  return text.replace(UNSAFE, (char) => {
    const code = char.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
