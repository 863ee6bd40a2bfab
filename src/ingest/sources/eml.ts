import type { RecordBatch } from '../source-record.js';
import { mailRecord, MAX_MESSAGE_BYTES } from './mbox.js';
import { readWhole } from './whole-file.js';

/**
 * The record of one saved message (`.eml`, RFC 5322): read whole, as MIME needs the complete
 * message, up to MAX_MESSAGE_BYTES (beyond that it fails, its beginning kept). A leading mbox
 * `From ` line, which some clients write, is not part of the message.
 */
export async function* readEml(
  source: string,
  chunks: AsyncIterable<Buffer>,
  opts: { startAfterLine?: number } = {},
): AsyncGenerator<RecordBatch> {
  if ((opts.startAfterLine ?? 0) >= 1) return;
  const { bytes: whole, truncated } = await readWhole(chunks, MAX_MESSAGE_BYTES);
  let bytes = whole;
  if (!truncated && bytes.subarray(0, 5).toString('latin1') === 'From ') {
    const nl = bytes.indexOf(0x0a);
    bytes = nl < 0 ? Buffer.alloc(0) : bytes.subarray(nl + 1);
  }
  yield [await mailRecord(source, { line: 1, bytes, truncated }, 'eml')];
}
