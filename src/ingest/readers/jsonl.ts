import type { ReadPosition, RecordBatch, SourceRecord } from '../source-record.js';
import {
  isBlank,
  MAX_RECORD_BYTES,
  excerptOf,
  parseError,
  parseJsonRecord,
  rawOf,
  tooLarge,
} from './common.js';

const NEWLINE = 0x0a;

/**
 * JSON Lines: one JSON value a line; blank lines are not records. Each chunk is cut after its
 * last newline (a newline byte is never inside a multi-byte character) and the complete lines
 * are decoded together, then split: one decode a chunk rather than one a line. Should the
 * decoded text contain U+FFFD, that chunk's lines are decoded one by one instead, so invalid
 * UTF-8 fails its own line only while a literal U+FFFD in valid text is kept. A line is held
 * whole while it is read, up to `maxRecordBytes`: a longer one fails alone as TOO_LARGE (its
 * line and first bytes kept) and is skipped to its end, so memory stays bounded.
 * Lines up to `startAfterLine` are split but neither decoded nor parsed (resume). Yields the
 * records of each chunk as one array (never empty): one promise a chunk, not one a record.
 * `from` (plain files) says where in the file `bytes` begins; each array then carries the
 * position after its last line (`end`), where a later resume can seek to.
 */
export async function* readJsonLines(
  bytes: AsyncIterable<Buffer>,
  source: string,
  startAfterLine = 0,
  from?: ReadPosition,
  maxRecordBytes = MAX_RECORD_BYTES,
): AsyncGenerator<RecordBatch, number> {
  let lineNo = from?.line ?? 0;
  let pending: Buffer[] = [];
  let pendingSize = 0;
  /** The line being skipped because it is over the limit: its excerpt and size so far. */
  let oversize: { excerpt: string; size: number } | undefined;
  let offset = from?.byte ?? 0;
  for await (const chunk of bytes) {
    const chunkAt = offset;
    offset += chunk.length;
    let start = 0;
    // Resume: lines under the watermark are only counted.
    while (lineNo < startAfterLine) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl === -1) break;
      lineNo += 1;
      pending = [];
      pendingSize = 0;
      start = nl + 1;
    }
    if (lineNo < startAfterLine) {
      // Inside a skipped line only the fact that it goes on matters, not its bytes.
      pending = [];
      pendingSize = 0;
      continue;
    }
    const last = chunk.lastIndexOf(NEWLINE);
    if (last < start) {
      if (oversize) oversize.size += chunk.length - start;
      else if (start < chunk.length) {
        pending.push(chunk.subarray(start));
        pendingSize += chunk.length - start;
        if (pendingSize > maxRecordBytes) {
          // Too large to hold: keep its start, count the rest up to its end.
          oversize = { excerpt: excerptOf(pending), size: pendingSize };
          pending = [];
          pendingSize = 0;
        }
      }
      continue;
    }
    const out: RecordBatch = [];
    if (oversize) {
      const nl = chunk.indexOf(NEWLINE, start);
      lineNo += 1;
      out.push(oversizeRecord(oversize, nl - start, chunk.subarray(start, nl)));
      oversize = undefined;
      start = nl + 1;
    }
    const body =
      start > last
        ? undefined
        : pending.length > 0
          ? Buffer.concat([...pending, chunk.subarray(start, last)])
          : chunk.subarray(start, last);
    pending = last + 1 < chunk.length ? [chunk.subarray(last + 1)] : [];
    pendingSize = chunk.length - (last + 1);
    // No body: the line over the limit ended at the chunk's last newline.
    const text = body && body.length <= maxRecordBytes ? body.toString('utf8') : undefined;
    if (body && (text === undefined || text.includes('\uFFFD'))) {
      lineNo = byteLines(body, source, lineNo, out, maxRecordBytes);
    } else if (text !== undefined) {
      let pos = 0;
      for (;;) {
        const nl = text.indexOf('\n', pos);
        lineNo += 1;
        const rec = textRecord(text.slice(pos, nl === -1 ? text.length : nl), source, lineNo);
        if (rec) out.push(rec);
        if (nl === -1) break;
        pos = nl + 1;
      }
    }
    if (out.length > 0) {
      if (from) out.end = { line: lineNo, byte: chunkAt + last + 1 };
      yield out;
    }
  }
  if (oversize) {
    lineNo += 1;
    const out: RecordBatch = [oversizeRecord(oversize, 0, undefined)];
    if (from) out.end = { line: lineNo, byte: offset };
    yield out;
    return lineNo;
  }
  if (pending.length > 0) {
    // The last line has no newline: a record if complete, else a per-line parse error.
    const rec = lineRecord(Buffer.concat(pending), source, lineNo + 1, maxRecordBytes);
    if (rec) {
      const out: RecordBatch = [rec];
      if (from) out.end = { line: lineNo + 1, byte: offset };
      yield out;
    }
    return lineNo + 1;
  }
  return lineNo;

  function oversizeRecord(
    o: { excerpt: string; size: number },
    more: number,
    tail: Buffer | undefined,
  ): SourceRecord {
    let size = o.size + more;
    // A CR before the newline is the line end, not the record.
    if (tail && tail.length > 0 && tail[tail.length - 1] === 0x0d) size -= 1;
    return tooLarge(source, lineNo, size, maxRecordBytes, o.excerpt, 'jsonl');
  }
}

/** Complete lines (newline-separated, no final newline) decoded one by one; returns the last line number. */
function byteLines(
  body: Buffer,
  source: string,
  lineNo: number,
  out: SourceRecord[],
  maxRecordBytes: number,
): number {
  let start = 0;
  for (;;) {
    const nl = body.indexOf(NEWLINE, start);
    lineNo += 1;
    const line = body.subarray(start, nl === -1 ? body.length : nl);
    const rec = lineRecord(line, source, lineNo, maxRecordBytes);
    if (rec) out.push(rec);
    if (nl === -1) return lineNo;
    start = nl + 1;
  }
}

/** A decoded line without its trailing CR and, on the first line, without a BOM. */
function trimLine(line: string, lineNo: number): string {
  let text = line;
  if (text.length > 0 && text.charCodeAt(text.length - 1) === 0x0d) text = text.slice(0, -1);
  // A BOM starts only the first line.
  if (lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return text;
}

/** One decoded line (known to be valid UTF-8) → a record, or undefined when blank. */
function textRecord(line: string, source: string, lineNo: number): SourceRecord | undefined {
  const text = trimLine(line, lineNo);
  if (isBlank(text)) return undefined;
  return parseJsonRecord(text, source, lineNo, 'jsonl');
}

function lineRecord(
  buf: Buffer,
  source: string,
  lineNo: number,
  maxRecordBytes: number,
): SourceRecord | undefined {
  let size = buf.length;
  if (size > 0 && buf[size - 1] === 0x0d) size -= 1;
  if (size > maxRecordBytes)
    return tooLarge(source, lineNo, size, maxRecordBytes, excerptOf([buf]), 'jsonl');
  const text = buf.toString('utf8');
  // toString replaces invalid bytes with U+FFFD; only then is the strict decoder asked, so a
  // literal U+FFFD in valid text is kept and clean lines are decoded once.
  if (text.includes('\uFFFD')) {
    let bytes = buf;
    if (bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, -1);
    if (lineNo === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
      bytes = bytes.subarray(3);
    const original = rawOf(bytes, trimLine(text, lineNo));
    if (original.rawBase64 !== undefined)
      return parseError(source, lineNo, 'invalid UTF-8', original, 'jsonl');
  }
  return textRecord(text, source, lineNo);
}
