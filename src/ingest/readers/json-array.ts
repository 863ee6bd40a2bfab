import type { SourceRecord } from '../source-record.js';
import {
  excerptOf,
  MAX_RECORD_BYTES,
  parseError,
  parseJsonRecord,
  rawOf,
  tooLarge,
} from './common.js';
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

/** A stretch of bytes to scan: `buf` from index `from`; `base` is buf[0]'s offset in the input. */
interface Work {
  buf: Buffer;
  base: number;
  from: number;
}

/** Where a line starts and how many UTF-8 continuation bytes lie between there and a point. */
interface LineState {
  line: number;
  lineStart: number;
  cont: number;
}

/**
 * A `.json` input, streamed value by value: a JSON array of records (or several arrays one after
 * the other), one record object, or records one after another (JSON Lines under a .json name).
 * A scanner over the bytes tracks strings, escapes and nesting to find where each record ends,
 * so the file is never held whole. Scanning bytes rather than decoded text keeps invalid UTF-8
 * visible: a record holding some fails alone ("invalid UTF-8", its bytes kept), instead of
 * being read with U+FFFD in their place. Each record's line is the line its first character
 * is on; a syntax error names its line and column. Content that is neither (a stray line
 * between records) fails alone with its text.
 *
 * A broken element (an unescaped quote, a stray bracket) throws the scanner's count of strings
 * and nesting off, so it would run on over the records after it. Such an element is cut at the
 * first element boundary after its syntax error where a record starts again (`,` then `{`, or a
 * line break then `{` between top-level objects, the record there being well formed), fails
 * alone, and the bytes after the cut are scanned again. An element over `maxRecordBytes` is
 * checked the same way when it reaches the limit; a well-formed one fails alone as TOO_LARGE
 * (its line and first bytes kept) and is skipped to its end, so memory stays bounded.
 *
 * Records starting at or before `startAfterLine` are scanned but neither yielded nor parsed
 * (resume); one that runs on past that line is still checked for a cut, so a resumed read
 * finds the same records as the first. Yields the records of each chunk as one array (never
 * empty).
 */
export async function* readJsonArray(
  bytes: AsyncIterable<Buffer>,
  source: string,
  startAfterLine = 0,
  maxRecordBytes = MAX_RECORD_BYTES,
): AsyncGenerator<SourceRecord[], number> {
  let line = 1;
  /** Byte offset (in the whole input) where the current line starts. */
  let lineStart = 0;
  /** UTF-8 continuation bytes since lineStart, so columns count characters. */
  let cont = 0;
  let at = At.Top as At;
  let ends = Ends.InArray as Ends;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let parts: Buffer[] = [];
  let partsSize = 0;
  /** Set while an element over the limit is skipped to its end. */
  let oversize: { excerpt: string; size: number } | undefined;
  let elementLine = 1;
  let elementColumn = 1;
  /** Where the element starts, and the line state there (to scan part of it again). */
  let elementAt = 0;
  let elementLineStart = 0;
  let elementCont = 0;
  let keep = true;
  let total = 0;
  let first = true;

  const resetElement = (): void => {
    parts = [];
    partsSize = 0;
    oversize = undefined;
  };

  /** The line state at `k` bytes into the current element. */
  const stateAt = (raw: Buffer, k: number): LineState => {
    let l = elementLine;
    let ls = elementLineStart;
    let c = elementCont;
    for (let j = 0; j < k; j++) {
      const b = raw[j]!;
      if (b === Ch.Nl) {
        l += 1;
        ls = elementAt + j + 1;
        c = 0;
      } else if ((b & 0xc0) === 0x80) c += 1;
    }
    return { line: l, lineStart: ls, cont: c };
  };

  /**
   * Cuts the current element (its bytes `raw`) at its first record boundary after a syntax
   * error: the part before fails alone (if kept), the scanner goes back to the state between
   * records there, and the bytes after the cut are returned to be scanned again. Undefined when
   * the element is well formed so far, or no boundary is found.
   */
  const cut = (raw: Buffer, out: SourceRecord[]): Work | undefined => {
    const b = boundaryAfterError(raw, ends === Ends.InArray);
    if (b === undefined) return undefined;
    if (keep) {
      const rec = elementRecord(raw.subarray(0, b.cut), source, elementLine, elementColumn);
      if (rec) out.push(rec);
    }
    const s = stateAt(raw, b.resume);
    line = s.line;
    lineStart = s.lineStart;
    cont = s.cont;
    at = ends === Ends.InArray ? At.Between : At.Top;
    resetElement();
    return { buf: raw.subarray(b.resume), base: elementAt + b.resume, from: 0 };
  };

  /**
   * The element ends here: a record (or its failure), or, when it is broken and runs on over
   * later records, the bytes to scan again after cutting it (see cut).
   */
  const finish = (out: SourceRecord[]): Work | undefined => {
    if (oversize) {
      if (keep) {
        out.push(
          tooLarge(source, elementLine, oversize.size, maxRecordBytes, oversize.excerpt, 'json'),
        );
      }
      resetElement();
      return undefined;
    }
    const raw = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    let end = raw.length;
    while (end > 0 && isWs(raw[end - 1]!)) end -= 1;
    if (end > maxRecordBytes) {
      // Over the limit within one buffer: as if it had grown past it.
      const again = overLimit(out, raw.subarray(0, end));
      if (again) return again;
      return finish(out);
    }
    resetElement();
    if (keep) {
      const rec = elementRecord(raw, source, elementLine, elementColumn);
      if (rec?.parseError?.code === 'PARSE_ERROR' && !wellFormed(raw)) {
        const again = cut(raw, out);
        if (again) return again;
      }
      if (rec) out.push(rec);
      return undefined;
    }
    // A skipped (resumed-over) element that runs on past the watermark: cut it as the first
    // read did, so the records after the cut are read again.
    if (line > startAfterLine && !wellFormed(raw)) return cut(raw, out);
    return undefined;
  };

  /** The element has grown past the limit: cut it if it is broken, else skip it to its end. */
  const overLimit = (out: SourceRecord[], raw: Buffer = Buffer.concat(parts)): Work | undefined => {
    const again = cut(raw, out);
    if (again) return again;
    oversize = { excerpt: excerptOf([raw]), size: raw.length };
    parts = [];
    partsSize = 0;
    return undefined;
  };

  /** Scans the work stack (last pushed first) to its end, collecting records in `out`. */
  const scan = (stack: Work[], out: SourceRecord[]): void => {
    for (;;) {
      const w = stack.pop();
      if (!w) return;
      const { buf, base } = w;
      let i = w.from;
      let segStart = i;
      let again: Work | undefined;
      /** Adds buf[segStart, end) to the element. */
      const hold = (end: number): void => {
        if (oversize) oversize.size += end - segStart;
        else if (end > segStart) {
          parts.push(buf.subarray(segStart, end));
          partsSize += end - segStart;
        }
      };
      for (; i < buf.length; i++) {
        const c = buf[i]!;
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
              hold(i);
              again = finish(out);
              at = At.Top;
            }
            if (again) break;
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
                hold(i);
                at = At.Top;
                again = finish(out);
                // Scan the cut-off bytes, then this ']' again.
                if (again) break;
              }
              // A stray '}' at depth 0 stays in the element and fails it.
              continue;
            }
            depth -= 1;
            if (depth === 0 && ends === Ends.Closing) {
              hold(i + 1);
              at = At.Top;
              again = finish(out);
              if (again) {
                i += 1; // this '}' was part of the element: go on after it
                break;
              }
            }
          } else if (c === Ch.Comma && depth === 0 && ends === Ends.InArray) {
            hold(i);
            at = At.Between;
            again = finish(out);
            if (again) break;
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
        elementAt = base + i;
        elementLineStart = lineStart;
        elementCont = cont;
        keep = elementLine > startAfterLine;
        segStart = i;
        depth = 0;
        inString = false;
        escaped = false;
        i -= 1; // re-read this (ASCII, non-newline) character as part of the element
      }
      if (again) {
        // The rest of this buffer after the cut-off bytes: from the terminator on.
        stack.push({ buf, base, from: i }, again);
        continue;
      }
      if (at === At.Element) {
        hold(buf.length);
        if (!oversize && partsSize > maxRecordBytes) {
          const more = overLimit(out);
          if (more) stack.push(more);
        }
      }
    }
  };

  for await (const chunk of bytes) {
    const out: SourceRecord[] = [];
    let from = 0;
    if (first && chunk.length > 0) {
      first = false;
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) {
        from = 3;
        lineStart = 3;
      }
    }
    scan([{ buf: chunk, base: total, from }], out);
    total += chunk.length;
    if (out.length > 0) yield out;
  }
  const out: SourceRecord[] = [];
  const notClosed = (): void => {
    if (line > startAfterLine)
      out.push(parseError(source, line, 'the JSON array is not closed (truncated file?)'));
  };
  // The input ends inside an element: read what there is (cutting it again if it is broken).
  while (at === At.Element) {
    const inArray = ends === Ends.InArray;
    if (oversize) {
      finish(out);
      at = At.Top;
      if (inArray) notClosed();
      break;
    }
    const raw = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    const broken = !wellFormed(raw);
    if (broken && (keep || line > startAfterLine)) {
      const again = cut(raw, out);
      if (again) {
        scan([again], out);
        continue;
      }
    }
    resetElement();
    at = At.Top;
    if (keep) {
      const rec = elementRecord(raw, source, elementLine, elementColumn);
      if (rec?.parseError && rec.parseError.raw !== undefined && ends !== Ends.Line) {
        // Cut off by the end of the input (rather than broken inside): a truncated file.
        const where = locateJsonError(rec.parseError.raw);
        if (where && where.offset === rec.parseError.raw.length) {
          // An element that does not start its line (a one-line export of gigabytes): where.
          const at = elementColumn > 1 ? `, in the element at column ${elementColumn}` : '';
          rec.parseError.message = inArray
            ? `the JSON array ends early${at} (truncated file?)`
            : `the JSON ends early${at} (truncated file?)`;
        }
      }
      if (rec) out.push(rec);
      if (rec?.parseError) break;
    }
    if (inArray) notClosed();
  }
  if (at === At.Between) notClosed();
  if (out.length > 0) yield out;
  return line;
}

/**
 * The bytes as text for finding structure: latin1 keeps one character a byte (so offsets are
 * byte offsets; bytes >= 0x80 only occur inside strings, where any character is allowed), and
 * control characters become spaces, so a fault inside a string (a NUL byte, a raw line break)
 * does not count as broken structure: such an element ends where the scanner found, and fails
 * alone without being cut.
 */
function structureText(raw: Buffer, end = raw.length): string {
  // eslint-disable-next-line no-control-regex
  return raw.toString('latin1', 0, end).replace(/[\u0000-\u001f]/g, ' ');
}

/** True when the bytes are a whole JSON value, faults inside strings aside (structureText). */
function wellFormed(raw: Buffer): boolean {
  let end = raw.length;
  while (end > 0 && isWs(raw[end - 1]!)) end -= 1;
  if (end === 0) return true;
  return locateJsonError(structureText(raw, end)) === undefined;
}

const isWs = (c: number): boolean => c === Ch.Space || c === Ch.Tab || c === Ch.Nl || c === Ch.Cr;

/**
 * Where to cut a broken element (`raw`): at the first record boundary from its first syntax
 * error on — a separator (',' in an array; ',' or a line break between top-level values), optional
 * whitespace and a record (recordAt); in an array, also a ']' with nothing but whitespace after
 * it (the array's end, swallowed). `cut` ends the broken part, `resume` is where scanning
 * starts again. Undefined when there is no syntax error or no such boundary.
 */
function boundaryAfterError(
  raw: Buffer,
  inArray: boolean,
): { cut: number; resume: number } | undefined {
  const text = structureText(raw);
  const err = locateJsonError(text);
  if (!err || err.offset >= text.length) return undefined;
  // In an array only a ',' separates elements; between top-level values a line break or a ','.
  const isSep = (c: number | undefined) => c === Ch.Comma || (!inArray && c === Ch.Nl);
  // The fault may be found just after the separator ("{" where a property name was expected).
  let from = err.offset;
  while (from > 0 && isWs(raw[from - 1]!)) from -= 1;
  if (from > 1 && isSep(raw[from - 1])) from -= 1;
  let tries = 0;
  for (let k = Math.max(from, 1); k < raw.length; k++) {
    if (!isSep(raw[k])) continue;
    let j = k + 1;
    while (j < raw.length && isWs(raw[j]!)) j += 1;
    if (raw[j] !== Ch.OpenBrace) continue;
    if (recordAt(text, j, inArray)) return { cut: k, resume: k + 1 };
    // Many candidates inside one broken text: give up rather than scan it over and over.
    if (++tries > 1000) return undefined;
  }
  if (inArray) {
    let end = raw.length;
    while (end > 0 && isWs(raw[end - 1]!)) end -= 1;
    if (end - 1 > from && raw[end - 1] === Ch.CloseBracket)
      return { cut: end - 1, resume: end - 1 };
  }
  return undefined;
}

/**
 * Whether a record starts at `start` (a '{'): an object with at least one key (no JSON string
 * can hold one, its quotes would be escaped), well formed or cut off by the end of the text
 * without a fault, and followed by what follows a record: nothing, or ',' (then, in an array,
 * the next element; a ']' only at the very end), or another object between top-level values.
 */
function recordAt(text: string, start: number, inArray: boolean): boolean {
  let p = start + 1;
  while (p < text.length && isWs(text.charCodeAt(p))) p += 1;
  if (text.charCodeAt(p) !== Ch.Quote) return false;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let end = -1;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (escaped) escaped = false;
      else if (c === Ch.Backslash) escaped = true;
      else if (c === Ch.Quote) inString = false;
      continue;
    }
    if (c === Ch.Quote) inString = true;
    else if (c === Ch.OpenBrace || c === Ch.OpenBracket) depth += 1;
    else if (c === Ch.CloseBrace || c === Ch.CloseBracket) {
      depth -= 1;
      if (depth === 0) {
        end = i + 1;
        break;
      }
    }
  }
  if (end === -1) {
    const where = locateJsonError(text.slice(start));
    return where !== undefined && where.offset >= text.length - start;
  }
  if (locateJsonError(text.slice(start, end)) !== undefined) return false;
  let q = end;
  while (q < text.length && isWs(text.charCodeAt(q))) q += 1;
  if (q >= text.length) return true;
  const c = text.charCodeAt(q);
  if (c === Ch.Comma) return true;
  if (!inArray) return c === Ch.OpenBrace;
  if (c !== Ch.CloseBracket) return false;
  for (q += 1; q < text.length; q++) if (!isWs(text.charCodeAt(q))) return false;
  return true;
}

/** One element's bytes → a record, a parse error with its text, or undefined when blank. */
function elementRecord(
  raw: Buffer,
  source: string,
  line: number,
  column: number,
): SourceRecord | undefined {
  let end = raw.length;
  while (end > 0 && isWs(raw[end - 1]!)) end -= 1;
  const bytes = end === raw.length ? raw : raw.subarray(0, end);
  if (bytes.length === 0) return parseError(source, line, 'empty array element', undefined, 'json');
  const text = bytes.toString('utf8');
  if (text.includes('\uFFFD')) {
    const bad = rawOf(bytes, text);
    if (bad.rawBase64 !== undefined) return parseError(source, line, 'invalid UTF-8', bad, 'json');
  }
  return parseJsonRecord(text, source, line, 'json', column);
}
