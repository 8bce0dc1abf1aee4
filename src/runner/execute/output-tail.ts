/** The tail of an attempt's output, kept for its failure report. */

const TAIL_BYTES = 16 * 1024;

/** The last bytes of the interleaved output, cheap to append to. */
export class OutputTail {
  private chunks: string[] = [];
  private size = 0;

  push(text: string): void {
    this.chunks.push(text);
    this.size += text.length;
    while (this.size > TAIL_BYTES * 2 && this.chunks.length > 1) this.size -= this.chunks.shift()?.length ?? 0;
  }

  /** The last `lines` lines. */
  text(lines = 40): string {
    const all = this.chunks.join('').slice(-TAIL_BYTES);
    const split = all.split('\n');
    if (split.at(-1) === '') split.pop();
    return split.slice(-lines).join('\n');
  }
}
