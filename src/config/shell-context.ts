/**
 * Where a placeholder stands in a shell string, lexically: unquoted code, inside "...", inside
 * '...', in a here-document, in a comment; and whether that spot is inside a string another
 * shell will parse as code (`sh -c '...'`, `eval "..."`). The renderer uses it to write a
 * reference to an environment variable that fits the spot, so a value is never read as code.
 *
 * Enough of POSIX sh for templates: quotes, backslashes, `$(...)`, backticks, `${...}`,
 * comments, here-documents, and word tracking for `<shell> -c WORD` and `eval WORDS`. A string
 * nested that way is lexed by a child lexer fed the characters the outer shell will pass on.
 */

/** How a reference is written at the innermost spot. */
export type Spot =
  /** Unquoted code: the reference must be a quoted word (`"${V}"`). */
  | 'code'
  /** Inside "...": expansions happen, word splitting does not (`${V}`). */
  | 'dq'
  /** Inside '...' that is data: close the quote, reference, reopen (`'"${V}"'`). */
  | 'sq'
  /** The body of an unquoted here-document: expansions happen, quotes are literal. */
  | 'heredoc'
  /** A quoted here-document body: nothing expands, the value is written as text. */
  | 'literal'
  /** A comment: nothing runs, but it gets the code form in case the lexer guessed wrong. */
  | 'comment';

/**
 * The quoting a string written at an inner spot passes through on its way out, innermost first:
 * an unquoted word, "...", '...', an unquoted here-document body, a quoted one (taken as is).
 */
export type Layer = 'code' | 'dq' | 'sq' | 'heredoc' | 'literal';

/** Where in a shell command a placeholder stands, and the quoting its value must pass through. */
export interface PlaceholderContext {
  readonly spot: Spot;
  readonly through: readonly Layer[];
  /** The placeholder starts a simple command (an unquoted `a=b` there would be an assignment). */
  readonly commandStart: boolean;
}

interface CodeFrame {
  readonly kind: 'code';
  /** What closes it: nothing (top level), `)` of `$(`, a backtick, `}` of `${`. */
  readonly closer: '' | ')' | '`' | '}';
  depth: number;
  /** Finished words of the current simple command, decoded; a word with a placeholder is `\0`. */
  words: string[];
  word: string | undefined;
  wordHasPlaceholder: boolean;
  /** The word being read is shell code for another shell (`sh -c WORD`, `eval WORD`). */
  child: ShellLexer | undefined;
  escape: boolean;
  /** `<<` was read: the next finished word is a here-document delimiter. */
  heredoc: { strip: boolean; armed: boolean } | undefined;
  /** No character read yet (so `$((` can be told from `$(`). */
  fresh: boolean;
  /** `$((...))`: arithmetic, where `<<` is a shift and `#` no comment. */
  arithmetic: boolean;
}

interface QuoteFrame {
  readonly kind: 'dq' | 'sq';
  /** The lexer of the nested code this quoted text belongs to, if any. */
  readonly sink: ShellLexer | undefined;
  escape: boolean;
}

interface HeredocFrame {
  readonly kind: 'heredoc';
  readonly delimiter: string;
  readonly quoted: boolean;
  readonly strip: boolean;
  /** The lexer of the body when a shell reads it as its script (`sh <<EOF`). */
  readonly sink: ShellLexer | undefined;
  line: string;
}

type Frame = CodeFrame | QuoteFrame | HeredocFrame | { readonly kind: 'comment' };

const SHELL = /^(?:.*\/)?(?:sh|bash|dash|zsh|ksh|mksh|ash|yash|posh)$/;
const DASH_C = /^-[A-Za-z]*c[A-Za-z]*$/;

function codeFrame(closer: CodeFrame['closer']): CodeFrame {
  return {
    kind: 'code',
    closer,
    depth: 0,
    words: [],
    word: undefined,
    wordHasPlaceholder: false,
    child: undefined,
    escape: false,
    heredoc: undefined,
    fresh: true,
    arithmetic: false,
  };
}

/** Whether a word starting after `words` is code for another shell. */
function nestedCode(words: readonly string[]): boolean {
  if (words[0] === 'eval') return true;
  const last = words.at(-1);
  if (last === undefined || !DASH_C.test(last)) return false;
  return words.slice(0, -1).some((w) => SHELL.test(w));
}

class ShellLexer {
  private readonly stack: Frame[] = [codeFrame('')];
  private pendingHeredocs: { delimiter: string; quoted: boolean; strip: boolean; shell: boolean }[] = [];
  /** The previous character was an unquoted, unescaped `$` (so `(` or `{` opens an expansion). */
  private dollar = false;
  /** The word being read had quotes (a quoted here-document delimiter turns expansion off). */
  private wordQuoted = false;
  private lastWasLess = false;

  /** Reads literal template text. */
  feed(text: string): void {
    for (const c of text) this.char(c);
  }

  /** The context of a placeholder at the current position; the placeholder then joins the word. */
  placeholder(): PlaceholderContext {
    const frame = this.top();
    this.dollar = false;
    if (frame.kind === 'code') {
      const commandStart = frame.word === undefined && frame.words.length === 0;
      this.startWord(frame);
      frame.wordHasPlaceholder = true;
      if (frame.child) return this.nested(frame.child, 'code');
      return { spot: 'code', through: [], commandStart };
    }
    if (frame.kind === 'heredoc') {
      frame.line += '\0';
      if (frame.sink) return this.nested(frame.sink, frame.quoted ? 'literal' : 'heredoc');
      return { spot: frame.quoted ? 'literal' : 'heredoc', through: [], commandStart: false };
    }
    if (frame.kind === 'comment') return { spot: 'comment', through: [], commandStart: false };
    this.markPlaceholderInWord();
    if (frame.sink) return this.nested(frame.sink, frame.kind);
    return { spot: frame.kind, through: [], commandStart: false };
  }

  private nested(child: ShellLexer, layer: Layer): PlaceholderContext {
    const inner = child.placeholder();
    return { spot: inner.spot, through: [...inner.through, layer], commandStart: inner.commandStart };
  }

  private top(): Frame {
    const frame = this.stack.at(-1);
    if (frame === undefined) throw new Error('internal error: empty shell lexer stack');
    return frame;
  }

  /** The code frame that owns the word being read (the frame under a quote frame). */
  private markPlaceholderInWord(): void {
    const owner = this.stack.at(-2);
    if (owner?.kind === 'code') owner.wordHasPlaceholder = true;
  }

  private startWord(frame: CodeFrame): void {
    if (frame.word !== undefined) return;
    frame.word = '';
    frame.wordHasPlaceholder = false;
    frame.child = nestedCode(frame.words) ? new ShellLexer() : undefined;
  }

  private endWord(frame: CodeFrame): void {
    if (frame.word === undefined) return;
    const word = frame.wordHasPlaceholder ? '\0' : frame.word;
    if (frame.heredoc?.armed) {
      const shell = frame.words.some((w) => SHELL.test(w));
      this.pendingHeredocs.push({ delimiter: frame.word, quoted: this.wordQuoted, strip: frame.heredoc.strip, shell });
      frame.heredoc = undefined;
    } else {
      frame.words.push(word);
    }
    this.wordQuoted = false;
    frame.word = undefined;
    frame.child = undefined;
  }

  private endCommand(frame: CodeFrame): void {
    this.endWord(frame);
    frame.words = [];
  }

  /** A character the word's own shell receives: kept for word tracking, passed on when nested. */
  private decoded(frame: CodeFrame, text: string, sink: ShellLexer | undefined): void {
    frame.word = (frame.word ?? '') + text;
    sink?.feed(text);
  }

  private char(c: string): void {
    const frame = this.top();
    const dollar = this.dollar;
    this.dollar = false;
    switch (frame.kind) {
      case 'code':
        return this.codeChar(frame, c, dollar);
      case 'sq':
        return this.sqChar(frame, c);
      case 'dq':
        return this.dqChar(frame, c, dollar);
      case 'heredoc':
        return this.heredocChar(frame, c);
      case 'comment':
        if (c === '\n') {
          this.stack.pop();
          this.char(c);
        }
        return;
    }
  }

  private owner(): CodeFrame | undefined {
    const owner = this.stack.at(-2);
    return owner?.kind === 'code' ? owner : undefined;
  }

  private sqChar(frame: QuoteFrame, c: string): void {
    if (c === "'") {
      this.stack.pop();
      return;
    }
    const owner = this.owner();
    if (owner) this.decoded(owner, c, frame.sink);
  }

  private dqChar(frame: QuoteFrame, c: string, dollar: boolean): void {
    const owner = this.owner();
    const pass = (text: string): void => {
      if (owner) this.decoded(owner, text, frame.sink);
    };
    if (frame.escape) {
      frame.escape = false;
      if (c === '\n') return;
      pass('$`"\\'.includes(c) ? c : `\\${c}`);
    } else if (c === '\\') {
      frame.escape = true;
    } else if (c === '"') {
      this.stack.pop();
    } else if (c === '`') {
      this.stack.push(codeFrame('`'));
    } else if (dollar && c === '(') {
      this.stack.push(codeFrame(')'));
    } else if (dollar && c === '{') {
      this.stack.push(codeFrame('}'));
    } else {
      if (c === '$') this.dollar = true;
      pass(c);
    }
  }

  private heredocChar(frame: HeredocFrame, c: string): void {
    // The delimiter line reaches the nested lexer too: it is at the end, where it changes nothing.
    frame.sink?.feed(c);
    if (c !== '\n') {
      frame.line += c;
      return;
    }
    const line = frame.strip ? frame.line.replace(/^\t+/, '') : frame.line;
    frame.line = '';
    if (line !== frame.delimiter) return;
    this.stack.pop();
    this.openHeredoc();
  }

  private openHeredoc(): void {
    const next = this.pendingHeredocs.shift();
    if (next) this.stack.push({ kind: 'heredoc', ...next, sink: next.shell ? new ShellLexer() : undefined, line: '' });
  }

  private codeChar(frame: CodeFrame, c: string, dollar: boolean): void {
    if (frame.fresh) {
      frame.fresh = false;
      frame.arithmetic = frame.closer === ')' && c === '(';
    }
    if (frame.escape) {
      frame.escape = false;
      if (c !== '\n') this.decoded(frame, c, frame.child);
      return;
    }
    if (frame.heredoc && !frame.heredoc.armed) {
      // Right after `<<`: an optional `-`, then the delimiter word.
      if (c === '-' && !frame.heredoc.strip) {
        frame.heredoc.strip = true;
        return;
      }
      if (c === '<') {
        // `<<<`, bash's here-string: a plain word follows, not a here-document.
        frame.heredoc = undefined;
        return;
      }
      frame.heredoc.armed = true;
    }
    if (dollar && c === '(') {
      this.stack.push(codeFrame(')'));
      return;
    }
    if (dollar && c === '{') {
      this.stack.push(codeFrame('}'));
      return;
    }
    switch (c) {
      case '\\':
        this.startWord(frame);
        frame.escape = true;
        return;
      case "'":
      case '"':
        this.startWord(frame);
        this.wordQuoted = true;
        this.stack.push({ kind: c === "'" ? 'sq' : 'dq', sink: frame.child, escape: false });
        return;
      case ' ':
      case '\t':
        this.endWord(frame);
        return;
      case '\n':
        this.endCommand(frame);
        if (this.top() === frame) this.openHeredoc();
        return;
      case ';':
      case '&':
      case '|':
        this.endCommand(frame);
        return;
      case '<':
      case '>':
        this.endWord(frame);
        if (c === '<' && this.lastWasLess && !frame.arithmetic) frame.heredoc = { strip: false, armed: false };
        this.lastWasLess = c === '<' && !this.lastWasLess;
        return;
      default:
        break;
    }
    this.lastWasLess = false;
    // `${#x}` is a length and `$((16#ff))` a base, not comments.
    if (c === '#' && frame.word === undefined && frame.closer !== '}' && !frame.arithmetic) {
      this.stack.push({ kind: 'comment' });
      return;
    }
    if (this.closes(frame, c)) return;
    if (c === '`') {
      this.startWord(frame);
      this.stack.push(codeFrame('`'));
      return;
    }
    if (c === '$') this.dollar = true;
    this.startWord(frame);
    this.decoded(frame, c, frame.child);
  }

  /** Brackets: `(`/`)` nest in `$(...)`, `{`/`}` in `${...}`; the matching closer pops the frame. */
  private closes(frame: CodeFrame, c: string): boolean {
    const open = frame.closer === '}' ? '{' : '(';
    const close = frame.closer === '}' ? '}' : ')';
    if (c === open) {
      frame.depth++;
      if (open === '(') this.endCommand(frame);
      return open === '(';
    }
    if (c === '`' && frame.closer === '`') {
      this.endCommand(frame);
      this.stack.pop();
      return true;
    }
    if (c !== close) return false;
    if (frame.depth > 0) {
      frame.depth--;
      if (close === ')') this.endCommand(frame);
      return close === ')';
    }
    if (frame.closer !== close) {
      if (close === ')') this.endCommand(frame);
      return close === ')';
    }
    this.endCommand(frame);
    this.stack.pop();
    return true;
  }
}

/** The lexical context of each placeholder of a template, in order. */
export function placeholderContexts(parts: readonly (string | object)[]): PlaceholderContext[] {
  const lexer = new ShellLexer();
  const contexts: PlaceholderContext[] = [];
  for (const part of parts) {
    if (typeof part === 'string') lexer.feed(part);
    else contexts.push(lexer.placeholder());
  }
  return contexts;
}
