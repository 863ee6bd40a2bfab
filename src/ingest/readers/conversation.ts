import type { RecordBatch, SourceRecord } from '../source-record.js';
import { isPlainObject } from '../../json-value.js';
import { mapBatches, parseError } from './common.js';
import { readJsonArray } from './json-array.js';

/** A conversation export turned into one document, or why it gives none. */
export type ConversationResult =
  { document: Record<string, unknown> } | { empty: true } | { error: string };

/** One speaker's turn: `User: …` or `Assistant: …`, its text on the lines after the label. */
export function turnText(label: 'User' | 'Assistant', text: string): string {
  return `${label}: ${text}`;
}

/** Epoch seconds (fractional) → ISO 8601 UTC; undefined for anything that is not a time. */
export function isoFromEpochSeconds(v: unknown): string | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) return undefined;
  const d = new Date(Math.round(v * 1000));
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** An ISO date string as the export wrote it, or undefined. */
export function isoFromString(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/**
 * The records of a conversations export (a JSON array, read element by element by
 * json-array.ts so a file of gigabytes is never held), each conversation turned into one
 * document by `convert`. An element that does not parse keeps its text and this format, so its
 * failures-file line is converted when it is retried; one that is not a conversation fails
 * alone; one with no turn left is marked `empty` (counted, not sent, not a failure).
 */
export async function* readConversations(
  bytes: AsyncIterable<Buffer>,
  source: string,
  startAfterLine: number,
  format: 'chatgpt' | 'claude',
  convert: (value: unknown) => ConversationResult,
): AsyncGenerator<RecordBatch, number> {
  return yield* mapBatches(readJsonArray(bytes, source, startAfterLine), (batch) =>
    batch.map((r) => conversationRecord(r, format, convert)),
  );
}

/** One element of the array → the record of its document (see readConversations). */
export function conversationRecord(
  r: SourceRecord,
  format: 'chatgpt' | 'claude',
  convert: (value: unknown) => ConversationResult,
): SourceRecord {
  if (r.parseError) return { ...r, format };
  let out: ConversationResult;
  try {
    out = convert(r.value);
  } catch (err) {
    // Data from outside may be shaped in ways nobody foresaw: that conversation fails alone.
    out = { error: `cannot be read as a ${format} conversation: ${(err as Error).message}` };
  }
  if ('error' in out) {
    const raw = JSON.stringify(r.value) ?? '';
    return parseError(r.source, r.line, out.error, { raw }, format, 'PARSE_ERROR');
  }
  if ('empty' in out) return { source: r.source, line: r.line, format, empty: true };
  return { source: r.source, line: r.line, value: out.document, format };
}

/** The value of a key the object holds itself (never one from its prototype chain). */
export function own(o: unknown, key: string): unknown {
  return isPlainObject(o) && Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
}
