import { isUtf8 } from 'node:buffer';

/**
 * Where the elements of one array lie in a JSON text, as byte ranges, so a caller can pass on
 * exactly the bytes the server sent (numbers keep their digits, strings their escapes) instead
 * of re-serialising what JSON.parse made of them.
 *
 * `bytes` must be a JSON text that JSON.parse has already accepted: the scan relies on that and
 * checks only what it needs to find its way. The array is the value of the top-level key `key`
 * of an object, or the top-level value itself when `key` is null.
 *
 * Returns [start0, end0, start1, end1, ...], or undefined when the bytes cannot be vouched for
 * as one line per element: not valid UTF-8, the key absent or present twice, a top-level key
 * written with escapes (it might spell `key`), or an element that holds a line break (a
 * pretty-printed body). The caller then falls back to JSON.stringify.
 */
export function arrayElementSpans(bytes: Buffer, key: string | null): Uint32Array | undefined {
  if (!isUtf8(bytes)) return undefined;
  const scan = new Scanner(bytes);
  try {
    scan.skipSpace();
    if (key === null) return scan.elements();
    if (scan.byte() !== OPEN_OBJECT) return undefined;
    scan.at += 1;
    const wanted = Buffer.from(key, 'utf8');
    let found: Uint32Array | undefined;
    scan.skipSpace();
    if (scan.byte() === CLOSE_OBJECT) return undefined;
    for (;;) {
      scan.skipSpace();
      const keyStart = scan.at + 1;
      scan.skipString();
      const keyEnd = scan.at - 1;
      for (let i = keyStart; i < keyEnd; i++) if (bytes[i] === BACKSLASH) return undefined;
      scan.skipSpace();
      scan.expect(COLON);
      scan.skipSpace();
      if (
        keyEnd - keyStart === wanted.length &&
        bytes.compare(wanted, 0, wanted.length, keyStart, keyEnd) === 0
      ) {
        if (found) return undefined;
        found = scan.elements();
        if (!found) return undefined;
      } else {
        scan.skipValue();
      }
      scan.skipSpace();
      const next = scan.byte();
      scan.at += 1;
      if (next === CLOSE_OBJECT) return found;
      if (next !== COMMA) return undefined;
    }
  } catch (err) {
    if (err instanceof ScanError) return undefined;
    throw err;
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const LF = 0x0a;
const CR = 0x0d;

class ScanError extends Error {}

/** JSON's whitespace: space, tab, line feed, carriage return (false past the end). */
const isSpace = (b: number | undefined) => b === 0x20 || b === 0x09 || b === LF || b === CR;

/** Index of the next `b` at or after `from`; Infinity when there is none. */
function nextIndex(bytes: Buffer, b: number, from: number): number {
  const i = bytes.indexOf(b, from);
  return i === -1 ? Infinity : i;
}

class Scanner {
  at = 0;
  constructor(private readonly bytes: Buffer) {}

  byte(): number {
    if (this.at >= this.bytes.length) throw new ScanError('unexpected end');
    return this.bytes[this.at]!;
  }

  expect(b: number): void {
    if (this.byte() !== b) throw new ScanError('unexpected byte');
    this.at += 1;
  }

  skipSpace(): void {
    while (isSpace(this.bytes[this.at])) this.at += 1;
  }

  /** From an opening quote to just past its closing quote. */
  skipString(): void {
    const bytes = this.bytes;
    if (this.byte() !== QUOTE) throw new ScanError('expected a string');
    let from = this.at + 1;
    for (;;) {
      const quote = bytes.indexOf(QUOTE, from);
      if (quote === -1) throw new ScanError('unterminated string');
      // A quote preceded by an odd number of backslashes is escaped.
      let slashes = 0;
      while (bytes[quote - 1 - slashes] === BACKSLASH) slashes += 1;
      if (slashes % 2 === 0) {
        this.at = quote + 1;
        return;
      }
      from = quote + 1;
    }
  }

  /** Any value: a string, an object or array (to its matching close), or a bare literal. */
  skipValue(): void {
    const bytes = this.bytes;
    const first = this.byte();
    if (first === QUOTE) {
      this.skipString();
      return;
    }
    if (first !== OPEN_OBJECT && first !== OPEN_ARRAY) {
      // A number, true, false or null: up to the next delimiter.
      let at = this.at;
      while (at < bytes.length) {
        const b = bytes[at]!;
        if (b === COMMA || b === CLOSE_OBJECT || b === CLOSE_ARRAY || isSpace(b)) break;
        at += 1;
      }
      if (at === this.at) throw new ScanError('empty value');
      this.at = at;
      return;
    }
    let depth = 0;
    let at = this.at;
    while (at < bytes.length) {
      const b = bytes[at]!;
      if (b === QUOTE) {
        this.at = at;
        this.skipString();
        at = this.at;
        continue;
      }
      if (b === OPEN_OBJECT || b === OPEN_ARRAY) depth += 1;
      else if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) {
        depth -= 1;
        if (depth === 0) {
          this.at = at + 1;
          return;
        }
      }
      at += 1;
    }
    throw new ScanError('unterminated value');
  }

  /** The elements of the array starting here; undefined if one holds a line break. */
  elements(): Uint32Array | undefined {
    const bytes = this.bytes;
    this.expect(OPEN_ARRAY);
    const spans: number[] = [];
    // The next line break at or after the current element (found once, moved on when passed),
    // so checking every element stays linear in the size of the body.
    let lf = -1;
    let cr = -1;
    this.skipSpace();
    if (this.byte() === CLOSE_ARRAY) {
      this.at += 1;
      return new Uint32Array(0);
    }
    for (;;) {
      this.skipSpace();
      const start = this.at;
      this.skipValue();
      const end = this.at;
      if (lf < start) lf = nextIndex(bytes, LF, start);
      if (cr < start) cr = nextIndex(bytes, CR, start);
      if (lf < end || cr < end) return undefined;
      spans.push(start, end);
      this.skipSpace();
      const next = this.byte();
      this.at += 1;
      if (next === CLOSE_ARRAY) return Uint32Array.from(spans);
      if (next !== COMMA) throw new ScanError('expected , or ]');
    }
  }
}
