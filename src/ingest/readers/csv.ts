import { isUtf8 } from 'node:buffer';
import { TextDecoder } from 'node:util';
import type { SourceRecord } from '../source-record.js';
import {
  EXCERPT_BYTES,
  excerptOf,
  MAX_RECORD_BYTES,
  parseError,
  rawOf,
  tooLarge,
} from './common.js';
import { CsvRowParser, type CsvRow } from './csv-rows.js';
import { LineWindow } from './line-window.js';

/**
 * Column names from the header row: trimmed; a blank one is `column_N` (its 1-based
 * position), a repeated one gets `_2`, `_3`… so no column's values overwrite another's.
 */
function headerNames(fields: string[]): string[] {
  const seen = new Set<string>();
  return fields.map((h, i) => {
    const name = h.trim() === '' ? `column_${i + 1}` : h.trim();
    let unique = name;
    for (let n = 2; seen.has(unique); n++) unique = `${name}_${n}`;
    seen.add(unique);
    return unique;
  });
}

/** Bytes looked at for the header line when a `.csv` file's delimiter is chosen. */
const HEADER_PEEK = 64 * 1024;
/** Delimiters a `.csv` file may use instead of a comma, most usual first. */
const OTHER_DELIMITERS = [';', '\t', '|'];

/**
 * The delimiter of a `.csv` file, from its header line: a comma when the line has one outside
 * quotes, else whichever of `;`, tab, `|` it has most (Excel writes `;` where the decimal
 * separator is a comma), else a comma (a one-column file).
 */
export function detectDelimiter(head: Buffer): string {
  const counts = new Map([',', ...OTHER_DELIMITERS].map((d) => [d, 0]));
  let quoted = false;
  for (const b of head) {
    if (b === 10 || b === 13) break;
    const c = String.fromCharCode(b);
    if (c === '"') quoted = !quoted;
    else if (!quoted && counts.has(c)) counts.set(c, counts.get(c)! + 1);
  }
  let best = ',';
  if (counts.get(best)! > 0) return best;
  for (const d of OTHER_DELIMITERS) if (counts.get(d)! > counts.get(best)!) best = d;
  return best;
}

/**
 * The chunks of `bytes` with the first ones (up to the first line break, at most HEADER_PEEK
 * bytes) read ahead and handed to `onHead` before any is passed on. Closes the source when the
 * consumer stops early.
 */
async function* withHead(
  bytes: AsyncIterable<Buffer>,
  onHead: (head: Buffer) => void,
): AsyncGenerator<Buffer> {
  const it = bytes[Symbol.asyncIterator]();
  let done = false;
  try {
    const head: Buffer[] = [];
    let size = 0;
    while (size < HEADER_PEEK) {
      const r = await it.next();
      if (r.done) {
        done = true;
        break;
      }
      head.push(r.value);
      size += r.value.length;
      if (r.value.indexOf(10) !== -1 || r.value.indexOf(13) !== -1) break;
    }
    onHead(head.length === 1 ? head[0]! : Buffer.concat(head));
    yield* head;
    while (!done) {
      const r = await it.next();
      if (r.done) done = true;
      else yield r.value;
    }
  } finally {
    if (!done) await it.return?.();
  }
}

/**
 * Where the whole characters of `buf` end: before a multi-byte character its end cuts off
 * (its first bytes wait for the next chunk), else at its end. Invalid bytes count as whole.
 */
export function completeCharsEnd(buf: Uint8Array): number {
  const n = buf.length;
  // A character is at most 4 bytes: its lead byte is among the last 4 or it is complete.
  for (let k = n - 1; k >= 0 && k >= n - 4; k--) {
    const b = buf[k]!;
    if ((b & 0xc0) === 0x80) continue;
    const size = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return k + size > n ? k : n;
  }
  return n;
}

/**
 * CSV / TSV with a header row. A `.csv` file's delimiter is read from its header line
 * (detectDelimiter): a comma, or `;`, tab or `|`. The bytes are decoded a chunk at a time (a
 * character cut by a chunk's end waits for the next one) and split into rows by CsvRowParser;
 * a file starting with a UTF-16LE byte order mark is decoded as UTF-16LE. Each row becomes an
 * object keyed by the header, every value a string; its line is where the row starts (quoted
 * fields may span lines). A row whose column count differs from the header's, or with a NUL
 * byte or invalid UTF-8, fails alone as a PARSE_ERROR keeping its exact text (and bytes); an
 * input ending inside a quoted field fails from the line after the last row on. A row longer
 * than `maxRecordBytes` (a huge quoted field, or a quote never closed that runs on to the end)
 * fails alone as TOO_LARGE, its line and first bytes kept, and is scanned to its end without
 * being held, so memory stays bounded. Rows starting at or before `startAfterLine` are parsed
 * (CSV quoting needs it) but not turned into records (resume). Yields the records of each
 * chunk as one array (never empty) at a time.
 */
export async function* readDelimited(
  bytes: AsyncIterable<Buffer>,
  source: string,
  format: 'csv' | 'tsv',
  startAfterLine = 0,
  maxRecordBytes = MAX_RECORD_BYTES,
): AsyncGenerator<SourceRecord[], number> {
  // The header line is read before the parser is made, as the parser needs the delimiter.
  let parser!: CsvRowParser;
  const input = withHead(bytes, (head) => {
    parser = new CsvRowParser(format === 'csv' ? detectDelimiter(head) : '\t');
  });
  // Invalid UTF-8 decodes to U+FFFD, which may also be real text (csv-spectrum has some): the
  // chunks are checked whole, and only once one was invalid does a U+FFFD in a row send its
  // own bytes to the strict decoder.
  let invalidUtf8Seen = false;
  // The input's recent lines, so a row that fails keeps its exact text (and bytes).
  const window = new LineWindow();
  /** Bytes held back: the start of a character cut off by a chunk's end, or the first byte. */
  let carry: Buffer | undefined;
  /** Set for a file starting with a UTF-16LE byte order mark, decided on its first 2 bytes. */
  let utf16: TextDecoder | undefined;
  let decided = false;
  let header: string[] | undefined;
  let prevEnd = 0;
  const rows: CsvRow[] = [];
  /** The input's last two bytes so far. */
  let ending = Buffer.alloc(0);
  /** The row over the limit being scanned to its end: where it starts, and its first bytes. */
  let oversize: { line: number; at: number; excerpt: string } | undefined;
  const original = (from: number, to: number) => {
    const bytes = window.bytes(from, to);
    if (bytes === undefined) return undefined;
    return { ...rawOf(bytes, bytes.toString('utf8')), ...(header ? { header } : {}) };
  };
  // Whether a row's own bytes are UTF-8 (a U+FFFD in it may be real text).
  const validUtf8 = (from: number, to: number): boolean => {
    const bytes = window.bytes(from, to);
    return bytes !== undefined && isUtf8(bytes);
  };
  for await (const chunk of input) {
    if (chunk.length === 0) continue;
    window.push(chunk);
    ending = Buffer.concat([ending, chunk.subarray(-2)]).subarray(-2);
    let buf = carry === undefined ? chunk : Buffer.concat([carry, chunk]);
    carry = undefined;
    if (!decided) {
      if (buf.length < 2) {
        carry = Buffer.from(buf);
        continue;
      }
      decided = true;
      if (buf[0] === 0xff && buf[1] === 0xfe) {
        utf16 = new TextDecoder('utf-16le');
        // Not UTF-8: every U+FFFD of a row has its bytes checked, as for invalid UTF-8.
        invalidUtf8Seen = true;
      }
    }
    let text: string;
    if (utf16) text = utf16.decode(buf, { stream: true });
    else {
      const cut = completeCharsEnd(buf);
      if (cut < buf.length) {
        carry = Buffer.from(buf.subarray(cut));
        buf = buf.subarray(0, cut);
      }
      if (!invalidUtf8Seen && !isUtf8(buf)) invalidUtf8Seen = true;
      text = buf.toString('utf8');
    }
    parser.push(text, false, rows);
    const out: SourceRecord[] = [];
    for (const row of rows) rowRecord(row, out);
    rows.length = 0;
    window.release(prevEnd + 1);
    if (!oversize) {
      const line = parser.rowLine;
      const at = window.offsetOf(line);
      if (at !== undefined && window.size - at > maxRecordBytes) {
        // Too large to hold: keep its start, let the parser scan on to its end.
        oversize = { line, at, excerpt: excerptOf([window.slice(at, at + EXCERPT_BYTES)]) };
        parser.drop();
      }
    }
    if (oversize) {
      window.release(window.lastLine);
      window.forgetBytes();
    }
    if (out.length > 0) yield out;
  }
  let text = '';
  if (utf16) text = utf16.decode();
  else if (carry !== undefined) {
    // A multi-byte character cut off by the end of the input is invalid.
    if (!isUtf8(carry)) invalidUtf8Seen = true;
    text = carry.toString('utf8');
  }
  parser.push(text, true, rows);
  const rest: SourceRecord[] = [];
  for (const row of rows) rowRecord(row, rest);
  if (parser.unclosedQuote && oversize) {
    // The row runs on to the end of the input (its last line break is not the record).
    if (oversize.line > startAfterLine) {
      const size = window.size - breakLength(ending) - oversize.at;
      rest.push(
        parseError(
          source,
          oversize.line,
          `malformed CSV: the quote opened on line ${oversize.line} is never closed, so the rest of the input (${size.toLocaleString('en-US')} bytes) would be one row, over the ${maxRecordBytes.toLocaleString('en-US')}-byte limit of a record: not read (the failures file keeps its first ${EXCERPT_BYTES} bytes)`,
          { raw: oversize.excerpt },
          format,
          'TOO_LARGE',
        ),
      );
    }
    oversize = undefined;
  } else if (parser.unclosedQuote) {
    const line = prevEnd + 1;
    if (line > startAfterLine) {
      rest.push(
        parseError(
          source,
          line,
          'malformed CSV: Quote Not Closed: the parsing is finished with an opening quote',
          original(line, Math.max(line, window.lastLine)),
          format,
        ),
      );
    }
  }
  if (rest.length > 0) yield rest;
  return window.lastLine;

  function rowRecord(row: CsvRow, out: SourceRecord[]): void {
    const { fields, line, end } = row;
    prevEnd = end;
    if (row.dropped) {
      const o = oversize!;
      oversize = undefined;
      // A header over the limit: the rows have no column names, and each fails saying so.
      header ??= [];
      // Its bytes end before the line break that ends it.
      const next = window.offsetOf(end + 1) ?? window.size;
      const size = next - breakLength(window.slice(Math.max(0, next - 2), next)) - o.at;
      if (line > startAfterLine)
        out.push(tooLarge(source, o.line, size, maxRecordBytes, o.excerpt, format));
      return;
    }
    if (header === undefined) {
      header = headerNames(fields);
      return;
    }
    if (line <= startAfterLine) return;
    if (fields.length !== header.length) {
      out.push(
        parseError(
          source,
          line,
          `row has ${fields.length} fields but the header has ${header.length}`,
          original(line, end),
          format,
        ),
      );
      return;
    }
    // No prototype: a column named `__proto__` or `toString` is a key like any other. Made
    // from `{}` rather than by Object.create(null), whose objects V8 keeps as hash tables: the
    // rows of a file share one shape, which the mapper reads much faster.
    const value = Object.setPrototypeOf({}, null) as Record<string, string>;
    let bad: string | undefined;
    for (let i = 0; i < header.length; i++) {
      const v = fields[i]!;
      if (v.includes('\u0000')) bad = `column "${header[i]}" contains a NUL byte`;
      else if (invalidUtf8Seen && v.includes('\uFFFD') && !validUtf8(line, end))
        bad = `column "${header[i]}" contains invalid UTF-8`;
      value[header[i]!] = v;
    }
    if (bad) out.push(parseError(source, line, bad, original(line, end), format));
    else out.push({ source, line, value, format });
  }
}

/** The length of the line break (CRLF, LF, CR or none) that `tail` ends with. */
function breakLength(tail: Buffer): number {
  const n = tail.length;
  if (n > 0 && tail[n - 1] === 0x0a) return n > 1 && tail[n - 2] === 0x0d ? 2 : 1;
  return n > 0 && tail[n - 1] === 0x0d ? 1 : 0;
}
