import type { InstanceRules } from './isolation.js';
import type { MapResult } from './mapper.js';
import type { SourceRecord } from './source-record.js';
import { isIsoDate } from '../client/datetime.js';
import { isPlainObject } from '../json-value.js';

/**
 * Checks of what the first records of an input (those checkDocumentField looks at) would send, against the service's guidance
 * for good documents: speaker labels on every turn of a chat, a `document_created_at` on
 * backfilled data, and on a B2B instance a customer for every user. Warnings (with one
 * example each) before anything is sent; `--strict` makes them errors.
 */
export interface QualityWarning {
  source: string;
  code: 'NO_SPEAKER_LABELS' | 'NO_CREATED_AT' | 'USER_WITHOUT_CUSTOMER';
  /** Records of the `checked` first that have the problem. */
  count: number;
  checked: number;
  message: string;
  /** Where the first such record starts, and the start of its document. */
  example: { line: number; text: string };
  hint: string;
}

/** A line that starts with a speaker: `User:`, `Assistant:`, `Dr. Ana Lima:` (a few words). */
const SPEAKER_LINE = /^[^\s:][^:\n]{0,40}:/m;
const DATE_NAME = /(created|date|time|timestamp|_at$|^at$|when)/i;

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 80 ? `${flat.slice(0, 80)}…` : flat;
}

/** A value that reads as a date: an ISO 8601 string, or epoch seconds/milliseconds. */
function looksLikeDate(v: unknown): boolean {
  if (typeof v === 'string') return isIsoDate(v.trim());
  return typeof v === 'number' && v > 315_532_800 && v < 4_102_444_800_000;
}

export function qualityWarnings(
  records: readonly SourceRecord[],
  mapper: (r: SourceRecord) => MapResult,
  source: string,
  instance?: InstanceRules,
): QualityWarning[] {
  let checked = 0;
  const found = new Map<QualityWarning['code'], { count: number; line: number; text: string }>();
  const note = (code: QualityWarning['code'], line: number, text: string) => {
    const f = found.get(code);
    if (f) f.count += 1;
    else found.set(code, { count: 1, line, text });
  };
  // Fields of records without a date that hold something date-like, by how often.
  const dateFields = new Map<string, number>();
  for (const r of records) {
    if (r.parseError || r.empty) continue;
    checked += 1;
    const m = mapper(r);
    if (!m.ok) {
      if (m.error.code === 'CUSTOMER_ID_REQUIRED') {
        const doc = isPlainObject(r.value) ? r.value.document : undefined;
        note('USER_WITHOUT_CUSTOMER', r.line, typeof doc === 'string' ? excerpt(doc) : '');
      }
      continue;
    }
    const req = m.request;
    if (req.document_type === 'ai-chat-conversation' && !SPEAKER_LINE.test(req.document))
      note('NO_SPEAKER_LABELS', r.line, excerpt(req.document));
    if (req.document_created_at === null) {
      note('NO_CREATED_AT', r.line, excerpt(req.document));
      if (isPlainObject(r.value)) {
        for (const [k, v] of Object.entries(r.value))
          if (looksLikeDate(v)) dateFields.set(k, (dateFields.get(k) ?? 0) + 1);
      }
    }
    if (instance?.isolation === 'b2b' && req.user_id !== null && req.customer_id === null)
      note('USER_WITHOUT_CUSTOMER', r.line, excerpt(req.document));
  }
  const out: QualityWarning[] = [];
  // Each kind found: how many of the records checked, the first one, and what to do.
  const warn = (code: QualityWarning['code'], what: string, hint: string) => {
    const f = found.get(code);
    if (!f) return;
    const message = `${f.count} of the first ${checked} records ${what}`;
    const example = { line: f.line, text: f.text };
    out.push({ source, code, count: f.count, checked, message, example, hint });
  };
  warn(
    'NO_SPEAKER_LABELS',
    'are ai-chat-conversation documents with no speaker label at the start of a line',
    'Label each turn ("User: …", "Assistant: …" or names), or give --document-type for documents that are not chats.',
  );
  // Only records without a date fed dateFields.
  const likeliest = [...dateFields].sort(
    (a, b) => Number(DATE_NAME.test(b[0])) - Number(DATE_NAME.test(a[0])) || b[1] - a[1],
  )[0]?.[0];
  warn(
    'NO_CREATED_AT',
    'have no document_created_at (they would be dated when they arrive)',
    likeliest !== undefined
      ? `Add --map document_created_at=${likeliest} to date them by their "${likeliest}" field.`
      : 'Give each record a document_created_at (ISO 8601), or --map document_created_at=<its date field>.',
  );
  warn(
    'USER_WITHOUT_CUSTOMER',
    'have a user_id but no customer_id, and this instance is B2B',
    'Give the customer (a customer_id field, --map customer_id=…, --customer-id), or leave out user_id.',
  );
  return out;
}
