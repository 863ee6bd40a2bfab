import type { SourceRecord } from '../source-record.js';
import { isBlank, parseError, parseJsonRecord, preview } from './common.js';

const NEWLINE = 0x0a;
const fatalDecoder = new TextDecoder('utf-8', { fatal: true });

/**
 * JSON Lines: one JSON value a line; blank lines are not records. Lines are split on bytes
 * (so a multi-byte character split across chunks is never cut) and each line is decoded on
 * its own: invalid UTF-8 fails that line only. No line-length limit: a line is held whole
 * while it is read, so memory is bounded by the longest line. Lines up to `startAfterLine`
 * are split but neither decoded nor parsed (resume).
 */
export async function* readJsonLines(
  bytes: AsyncIterable<Buffer>,
  source: string,
  startAfterLine = 0,
): AsyncGenerator<SourceRecord> {
  let lineNo = 0;
  let pending: Buffer[] = [];
  for await (const chunk of bytes) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl === -1) break;
      lineNo += 1;
      if (lineNo <= startAfterLine) {
        pending = [];
      } else {
        let line: Buffer;
        if (pending.length > 0) {
          pending.push(chunk.subarray(start, nl));
          line = Buffer.concat(pending);
          pending = [];
        } else {
          line = chunk.subarray(start, nl);
        }
        const rec = lineRecord(line, source, lineNo);
        if (rec) yield rec;
      }
      start = nl + 1;
    }
    if (start < chunk.length) {
      // Inside a skipped line only the fact that it goes on matters, not its bytes.
      if (lineNo + 1 <= startAfterLine) pending = [];
      else pending.push(chunk.subarray(start));
    }
  }
  if (pending.length > 0 && lineNo + 1 > startAfterLine) {
    // The last line has no newline: a record if complete, else a per-line parse error.
    const rec = lineRecord(Buffer.concat(pending), source, lineNo + 1);
    if (rec) yield rec;
  }
}

function lineRecord(buf: Buffer, source: string, lineNo: number): SourceRecord | undefined {
  let end = buf.length;
  if (end > 0 && buf[end - 1] === 0x0d) end -= 1;
  let begin = 0;
  // A UTF-8 BOM starts only the first line.
  if (lineNo === 1 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) begin = 3;
  const lineBuf = begin === 0 && end === buf.length ? buf : buf.subarray(begin, end);
  const text = lineBuf.toString('utf8');
  // toString replaces invalid bytes with U+FFFD; only then is the strict decoder asked, so a
  // literal U+FFFD in valid text is kept and clean lines are decoded once.
  if (text.includes('\uFFFD')) {
    try {
      fatalDecoder.decode(lineBuf);
    } catch {
      return parseError(source, lineNo, 'invalid UTF-8', preview(text));
    }
  }
  if (isBlank(text)) return undefined;
  return parseJsonRecord(text, source, lineNo);
}
