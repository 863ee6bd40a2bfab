import type { SourceRecord } from '../source-record.js';
import { parseError, parseJsonRecord, rawOf } from './common.js';
import { locateJsonError } from './json-text.js';

/** Where the scanner is: between top-level values, inside an array, or inside one value. */
const enum At {
  Top,
  /** In an array, before an element or its closing ']'. */
  Between,
  Element,
}

/** What ends the element being read. */
const enum Ends {
  /** An array element: a ',' or ']' outside strings and nesting. */
  InArray,
  /** A top-level object or array: its closing bracket. */
  Closing,
  /** Anything else at the top level: the end of its line. */
  Line,
}

const enum Ch {
  Tab = 9,
  Nl = 10,
  Cr = 13,
  Space = 32,
  Quote = 34,
  Comma = 44,
  Backslash = 92,
  OpenBracket = 91,
  CloseBracket = 93,
  OpenBrace = 123,
  CloseBrace = 125,
}

/**
 * A `.json` input, streamed value by value: a JSON array of records (or several arrays one after
 * the other), one record object, or records one after another (JSON Lines under a .json name).
 * A scanner over the bytes tracks strings, escapes and nesting to find where each record ends,
 * so the file is never held whole. Scanning bytes rather than decoded text keeps invalid UTF-8
 * visible: a record holding some fails alone ("invalid UTF-8", its bytes kept), instead of
 * being read with U+FFFD in their place. Each record's line is the line its first character
 * is on; a syntax error names its line and column. Content that is neither (a stray line
 * between records) fails alone with its text. Records starting at or before `startAfterLine`
 * are scanned but neither kept nor parsed (resume). Yields the records of each chunk as one
 * array (never empty).
 */
export async function* readJsonArray(
  bytes: AsyncIterable<Buffer>,
  source: string,
  startAfterLine = 0,
): AsyncGenerator<SourceRecord[], number> {
  let line = 1;
  /** Byte offset (in the whole input) where the current line starts. */
  let lineStart = 0;
  /** UTF-8 continuation bytes since lineStart, so columns count characters. */
  let cont = 0;
  let base = 0;
  let at = At.Top as At;
  let ends = Ends.InArray as Ends;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let parts: Buffer[] = [];
  let elementLine = 1;
  let elementColumn = 1;
  let keep = true;
  let first = true;

  const finish = (out: SourceRecord[]): void => {
    if (!keep) return;
    const raw = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    parts = [];
    const rec = elementRecord(raw, source, elementLine, elementColumn);
    if (rec) out.push(rec);
  };

  for await (const chunk of bytes) {
    const out: SourceRecord[] = [];
    let i = 0;
    if (first && chunk.length > 0) {
      first = false;
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) {
        i = 3;
        lineStart = 3;
      }
    }
    let segStart = 0;
    for (; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (c >= 0x80) {
        // Never structural. A continuation byte is not a character of its own.
        if ((c & 0xc0) === 0x80) cont += 1;
        else escaped = false;
        continue;
      }
      if (c === Ch.Nl) {
        line += 1;
        lineStart = base + i + 1;
        cont = 0;
      }
      if (at === At.Element) {
        if (ends === Ends.Line) {
          if (c === Ch.Nl) {
            if (keep) parts.push(chunk.subarray(segStart, i));
            finish(out);
            at = At.Top;
          }
          continue;
        }
        if (inString) {
          if (escaped) escaped = false;
          else if (c === Ch.Backslash) escaped = true;
          else if (c === Ch.Quote) inString = false;
          continue;
        }
        if (c === Ch.Quote) inString = true;
        else if (c === Ch.OpenBrace || c === Ch.OpenBracket) depth += 1;
        else if (c === Ch.CloseBrace || c === Ch.CloseBracket) {
          if (depth === 0 && ends === Ends.InArray) {
            if (c === Ch.CloseBracket) {
              // The array's own ']' ends its last element.
              if (keep) parts.push(chunk.subarray(segStart, i));
              finish(out);
              at = At.Top;
            }
            // A stray '}' at depth 0 stays in the element and fails it.
            continue;
          }
          depth -= 1;
          if (depth === 0 && ends === Ends.Closing) {
            if (keep) parts.push(chunk.subarray(segStart, i + 1));
            finish(out);
            at = At.Top;
          }
        } else if (c === Ch.Comma && depth === 0 && ends === Ends.InArray) {
          if (keep) parts.push(chunk.subarray(segStart, i));
          finish(out);
          at = At.Between;
        }
        continue;
      }
      if (c === Ch.Space || c === Ch.Tab || c === Ch.Nl || c === Ch.Cr) continue;
      if (at === At.Top && c === Ch.OpenBracket) {
        at = At.Between;
        continue;
      }
      if (at === At.Top && c === Ch.Comma) continue; // between top-level records
      if (at === At.Between && c === Ch.CloseBracket) {
        at = At.Top;
        continue;
      }
      // A value starts here.
      ends = at !== At.Top ? Ends.InArray : c === Ch.OpenBrace ? Ends.Closing : Ends.Line;
      at = At.Element;
      elementLine = line;
      elementColumn = base + i - lineStart - cont + 1;
      keep = elementLine > startAfterLine;
      segStart = i;
      depth = 0;
      inString = false;
      escaped = false;
      i -= 1; // re-read this (ASCII, non-newline) character as part of the element
    }
    if (at === At.Element && keep) parts.push(chunk.subarray(segStart));
    base += chunk.length;
    if (out.length > 0) yield out;
  }
  if (at === At.Element) {
    const out: SourceRecord[] = [];
    const inArray = ends === Ends.InArray;
    if (keep) {
      const raw = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      parts = [];
      const rec = elementRecord(raw, source, elementLine, elementColumn);
      if (rec?.parseError && rec.parseError.raw !== undefined && ends !== Ends.Line) {
        // Cut off by the end of the input (rather than broken inside): a truncated file.
        const where = locateJsonError(rec.parseError.raw);
        if (where && where.offset === rec.parseError.raw.length) {
          rec.parseError.message = inArray
            ? 'the JSON array ends early (truncated file?)'
            : 'the JSON ends early (truncated file?)';
        }
      }
      if (rec) out.push(rec);
    }
    if (inArray && line > startAfterLine && !out.some((r) => r.parseError)) {
      out.push(parseError(source, line, 'the JSON array is not closed (truncated file?)'));
    }
    if (out.length > 0) yield out;
  } else if (at === At.Between && line > startAfterLine) {
    yield [parseError(source, line, 'the JSON array is not closed (truncated file?)')];
  }
  return line;
}

/** One element's bytes → a record, a parse error with its text, or undefined when blank. */
function elementRecord(
  raw: Buffer,
  source: string,
  line: number,
  column: number,
): SourceRecord | undefined {
  let end = raw.length;
  while (end > 0) {
    const c = raw[end - 1];
    if (c === Ch.Space || c === Ch.Tab || c === Ch.Nl || c === Ch.Cr) end -= 1;
    else break;
  }
  const bytes = end === raw.length ? raw : raw.subarray(0, end);
  if (bytes.length === 0) return parseError(source, line, 'empty array element', undefined, 'json');
  const text = bytes.toString('utf8');
  if (text.includes('\uFFFD')) {
    const bad = rawOf(bytes, text);
    if (bad.rawBase64 !== undefined) return parseError(source, line, 'invalid UTF-8', bad, 'json');
  }
  return parseJsonRecord(text, source, line, 'json', column);
}
