import { parseError, rawOf } from '../readers/common.js';
import type { InputFormat, SourceRecord } from '../source-record.js';

/** A source read whole (a note, a transcript, a saved message) larger than this is not held. */
const MAX_WHOLE_BYTES = 64 * 1024 * 1024;
/** How much of a source too large to hold the failures file keeps. */
const KEPT_HEAD_BYTES = 64 * 1024;

/**
 * The bytes of a source that is one document: all of them up to `max`; past that only its
 * first 64 KB, marked `truncated`, and nothing more is read.
 */
export async function readWhole(
  chunks: AsyncIterable<Buffer>,
  max = MAX_WHOLE_BYTES,
): Promise<{ bytes: Buffer; truncated: boolean }> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    if (size + chunk.length > max) {
      return { bytes: Buffer.concat(parts, Math.min(size, KEPT_HEAD_BYTES)), truncated: true };
    }
    size += chunk.length;
    parts.push(chunk);
  }
  return { bytes: Buffer.concat(parts), truncated: false };
}

/** The failure of a source too large to read whole (`head`: its first bytes, kept as text). */
export function tooLargeToRead(
  source: string,
  what: string,
  head: Buffer,
  format: InputFormat,
): SourceRecord {
  const message = `larger than ${MAX_WHOLE_BYTES / (1024 * 1024)} MB: not read as ${what}`;
  return parseError(source, 1, message, rawOf(head, head.toString('utf8')), format);
}
