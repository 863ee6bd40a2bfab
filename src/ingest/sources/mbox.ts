import type { RecordBatch, SourceRecord } from '../source-record.js';
import { parseError, rawOf } from '../readers/common.js';
import { emailRecord, type MailSource } from './email-message.js';

/** One message of a mailbox: the line of its `From ` separator and its bytes, un-escaped. */
export interface MboxMessage {
  line: number;
  bytes: Buffer;
  /** Set when the message was larger than the cap: `bytes` holds only its beginning. */
  truncated?: boolean;
}

/** A message above this size is not held in memory: it fails alone, its beginning kept. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/** How much of a message that is too large the failures file keeps. */
const TRUNCATED_KEEP = 64 * 1024;

const FROM_ = Buffer.from('From ');

function isBlankLine(line: Buffer): boolean {
  return line.length === 1 || (line.length === 2 && line[0] === 0x0d);
}

/**
 * A whole separator line as mail programs write it: `From <sender> <asctime date>`
 * (`From a@x Mon Jan  1 00:00:00 2024`, Gmail's `From 178…@xxx Wed Mar 04 10:00:00 +0000 2020`).
 */
const SEPARATOR =
  /^From \S+ +(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) +(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2} +\d{1,2}:\d{2}(?::\d{2})?(?: +\S+){0,3}\s*$/;

function isSeparatorLine(line: Buffer): boolean {
  return line.length <= 200 && SEPARATOR.test(line.toString('latin1'));
}

/** `>From `, `>>From `…: an mboxrd-escaped body line (one `>` is taken off). */
function isEscapedFrom(line: Buffer): boolean {
  let i = 0;
  while (i < line.length && line[i] === 0x3e) i++;
  return i > 0 && line.subarray(i, i + 5).equals(FROM_);
}

/**
 * Splits a mailbox (RFC 4155) into its messages, streamed: only the message being read is held.
 * A message starts at a line beginning `From ` at the start of the file or after a blank line
 * (the blank line before it ends the previous message and is not part of it), or at a whole
 * separator line (`From <sender> <date>`) even without the blank line, so a writer that left it
 * out does not fold the next message into this one's body; body lines that
 * mboxrd escaped as `>From `, `>>From `… lose one `>`. Text before the first separator that is
 * not blank is given as a message of its own (at line 1), so it fails visibly instead of being
 * dropped. `line` is 1-based.
 */
export async function* splitMbox(
  chunks: AsyncIterable<Buffer>,
  maxMessageBytes = MAX_MESSAGE_BYTES,
): AsyncGenerator<MboxMessage> {
  let carry: Buffer | undefined;
  let lineNo = 0;
  let prevBlank = true;
  let parts: Buffer[] = [];
  let size = 0;
  let start = 0;
  let truncated = false;
  let open = false;

  const finish = (): MboxMessage | undefined => {
    if (!open) return undefined;
    // The blank line before a separator (or at the end) belongs to the mailbox, not the message.
    if (!truncated && parts.length && isBlankLine(parts[parts.length - 1]!)) parts.pop();
    const bytes = Buffer.concat(parts);
    const msg: MboxMessage = { line: start, bytes };
    if (truncated) msg.truncated = true;
    parts = [];
    size = 0;
    truncated = false;
    open = false;
    return msg;
  };

  const take = function* (line: Buffer): Generator<MboxMessage> {
    lineNo++;
    const blank = line.length === 0 || isBlankLine(line);
    if (line.subarray(0, 5).equals(FROM_) && (prevBlank || isSeparatorLine(line))) {
      const done = finish();
      if (done) yield done;
      open = true;
      start = lineNo;
      prevBlank = false;
      return;
    }
    prevBlank = blank;
    if (!open) {
      if (blank) return;
      open = true;
      start = 1;
    }
    if (truncated) return;
    const body = isEscapedFrom(line) ? line.subarray(1) : line;
    size += body.length;
    if (size > maxMessageBytes) {
      truncated = true;
      const kept = Buffer.concat(parts).subarray(0, TRUNCATED_KEEP);
      parts = [kept];
      return;
    }
    parts.push(body);
  };

  // Lines are views into the chunks read (no copy per line): a message holds the chunks it
  // spans until it is concatenated once, so memory is one message and one chunk, whatever the
  // mailbox's size. Only a line cut by a chunk's end is copied.
  for await (const chunk of chunks) {
    let at = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, at);
      if (nl < 0) break;
      let line = chunk.subarray(at, nl + 1);
      if (carry) {
        line = Buffer.concat([carry, line]);
        carry = undefined;
      }
      yield* take(line);
      at = nl + 1;
    }
    if (at < chunk.length) {
      const rest = chunk.subarray(at);
      carry = carry ? Buffer.concat([carry, rest]) : Buffer.from(rest);
    }
  }
  if (carry) yield* take(carry);
  const last = finish();
  if (last) yield last;
}

/**
 * The records of one mailbox: one per message (see emailRecord), in order, each at the line of
 * its `From ` separator. A message that cannot be read fails alone, its raw text kept for the
 * failures file. Messages starting on or before `startAfterLine` (a resume) are not parsed.
 */
export async function* readMbox(
  source: string,
  chunks: AsyncIterable<Buffer>,
  opts: { startAfterLine?: number; maxMessageBytes?: number } = {},
): AsyncGenerator<RecordBatch> {
  const after = opts.startAfterLine ?? 0;
  for await (const msg of splitMbox(chunks, opts.maxMessageBytes)) {
    if (msg.line <= after) continue;
    yield [await mailRecord(source, msg, 'mbox')];
  }
}

/** One message's bytes → its record, or its failure (naming where it starts). */
export async function mailRecord(
  source: string,
  msg: MboxMessage,
  kind: MailSource,
): Promise<SourceRecord> {
  const text = msg.bytes.toString('utf8');
  const where = kind === 'mbox' ? `the message starting at line ${msg.line}` : 'the message';
  if (msg.truncated) {
    return parseError(
      source,
      msg.line,
      `${where} is larger than ${MAX_MESSAGE_BYTES / (1024 * 1024)} MB; only its beginning is kept`,
      rawOf(msg.bytes, text),
      kind,
    );
  }
  const value = await emailRecord(msg.bytes, kind);
  if ('error' in value) {
    return parseError(source, msg.line, `${where}: ${value.error}`, rawOf(msg.bytes, text), kind);
  }
  return { source, line: msg.line, value, format: kind };
}
