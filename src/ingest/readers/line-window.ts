/**
 * The most recent lines of an input as bytes, kept from a given line on, so a reader whose
 * parser only says where a record is (by line) can give back the record's exact text. A line
 * break is CR, LF or CRLF, as CSV readers count them. Fed ahead of the parser; the reader
 * releases what it has passed, so memory stays bounded by what the parser reads ahead.
 */
export class LineWindow {
  private chunks: Buffer[] = [];
  /** Byte offset of each chunk in the whole input. */
  private chunkStarts: number[] = [];
  private total = 0;
  /** Line number of starts[0]. */
  private firstLine = 1;
  /** starts[k]: byte offset where line firstLine + k begins. */
  private starts: number[] = [0];
  private lastWasCr = false;

  /** The number of the last line seen so far. */
  get lastLine(): number {
    return this.firstLine + this.starts.length - 1;
  }

  /** Bytes seen so far. */
  get size(): number {
    return this.total;
  }

  /** Where `line` starts (a byte offset in the whole input), if it is still held. */
  offsetOf(line: number): number | undefined {
    return line < this.firstLine ? undefined : this.starts[line - this.firstLine];
  }

  /**
   * Lets go of every chunk but the last, keeping the line count (for a record that is skipped
   * to its end: its bytes are not needed, and a line of it may be longer than memory allows).
   * The bytes of lines that started in those chunks are no longer whole.
   */
  forgetBytes(): void {
    const n = this.chunks.length - 1;
    if (n <= 0) return;
    this.chunks.splice(0, n);
    this.chunkStarts.splice(0, n);
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    const base = this.total;
    this.chunks.push(chunk);
    this.chunkStarts.push(base);
    this.total += chunk.length;
    const starts = this.starts;
    if (chunk.indexOf(13) === -1) {
      let k = chunk.indexOf(10);
      if (k === 0 && this.lastWasCr) {
        // The LF of a CRLF split across chunks: the line starts after it.
        starts[starts.length - 1] = base + 1;
        k = chunk.indexOf(10, 1);
      }
      for (; k !== -1; k = chunk.indexOf(10, k + 1)) starts.push(base + k + 1);
      this.lastWasCr = false;
      return;
    }
    for (let k = 0; k < chunk.length; k++) {
      const c = chunk[k];
      if (c === 13) {
        starts.push(base + k + 1);
        this.lastWasCr = true;
      } else {
        if (c === 10) {
          if (this.lastWasCr) starts[starts.length - 1] = base + k + 1;
          else starts.push(base + k + 1);
        }
        this.lastWasCr = false;
      }
    }
  }

  /** The bytes of lines from..to (inclusive) without the last line break, if still held. */
  bytes(from: number, to: number): Buffer | undefined {
    const a = this.starts[from - this.firstLine];
    if (a === undefined || from < this.firstLine) return undefined;
    const b = this.starts[to + 1 - this.firstLine] ?? this.total;
    let buf = this.slice(a, b);
    let end = buf.length;
    if (end > 0 && buf[end - 1] === 10) end -= 1;
    if (end > 0 && buf[end - 1] === 13) end -= 1;
    if (end !== buf.length) buf = buf.subarray(0, end);
    return buf;
  }

  /** Forgets every line before `line`. */
  release(line: number): void {
    const drop = line - this.firstLine;
    if (drop <= 0 || drop >= this.starts.length) return;
    const cut = this.starts[drop]!;
    this.starts.splice(0, drop);
    this.firstLine = line;
    let n = 0;
    while (n < this.chunks.length && this.chunkStarts[n]! + this.chunks[n]!.length <= cut) n += 1;
    if (n > 0) {
      this.chunks.splice(0, n);
      this.chunkStarts.splice(0, n);
    }
  }

  /** The bytes from offset `a` to `b` of the whole input, as far as they are still held. */
  slice(a: number, b: number): Buffer {
    const parts: Buffer[] = [];
    for (let i = 0; i < this.chunks.length; i++) {
      const start = this.chunkStarts[i]!;
      const chunk = this.chunks[i]!;
      const end = start + chunk.length;
      if (end <= a) continue;
      if (start >= b) break;
      parts.push(chunk.subarray(Math.max(0, a - start), Math.min(chunk.length, b - start)));
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }
}
