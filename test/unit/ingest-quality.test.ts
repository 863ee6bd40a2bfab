import { describe, expect, it } from 'vitest';
import { createMapper } from '../../src/ingest/mapper.js';
import { checkDocumentField, DOCUMENT_CHECK_RECORDS } from '../../src/ingest/document-check.js';
import { qualityWarnings, type QualityWarning } from '../../src/ingest/quality.js';
import type { SourceRecord } from '../../src/ingest/source-record.js';

const rec = (line: number, value: unknown): SourceRecord => ({
  source: 'in',
  line,
  value,
  format: 'jsonl',
});
const b2b = { isolation: 'b2b' as const, instanceId: 'inst_1' };

describe('quality checks', () => {
  it('counts users without a customer on a B2B instance, failed and scoped records alike', () => {
    const records = [
      rec(1, { document: 'User: a', user_id: 'u', document_created_at: '2024-01-01' }),
      rec(2, {
        document: 'User: b',
        user_id: 'u',
        scope: { user: 'u' },
        document_created_at: '2024-01-01',
      }),
      rec(3, {
        document: 'User: c',
        user_id: 'u',
        customer_id: 'c',
        document_created_at: '2024-01-01',
      }),
    ];
    const w = qualityWarnings(records, createMapper({ instance: b2b }), 'in', b2b);
    expect(w).toEqual([
      expect.objectContaining({
        code: 'USER_WITHOUT_CUSTOMER',
        count: 2,
        checked: 3,
        example: { line: 1, text: 'User: a' },
      }),
    ]);
    expect(qualityWarnings(records, createMapper(), 'in', undefined)).toEqual([]);
  });

  it('suggests the field that holds dates, preferring date-like names, epoch numbers included', () => {
    const records = [
      rec(1, { document: 'User: a', ts: 1_700_000_000, note: '2024-01-01' }),
      rec(2, { document: 'User: b', ts: 1_700_000_100, note: '2024-01-02' }),
    ];
    const [w] = qualityWarnings(records, createMapper(), 'in');
    expect(w).toMatchObject({
      code: 'NO_CREATED_AT',
      count: 2,
      hint: expect.stringContaining('--map document_created_at=ts'),
    });
  });

  it('looks at the first 1,000 records only (those the document check reads), and not at records that failed to read or are empty', async () => {
    const many = Array.from({ length: DOCUMENT_CHECK_RECORDS + 50 }, (_, i) =>
      rec(i + 3, { document: 'no label', document_created_at: '2024-01-01' }),
    );
    const broken: SourceRecord = {
      source: 'in',
      line: 1,
      parseError: { code: 'PARSE_ERROR', message: 'x' },
    };
    const empty: SourceRecord = { source: 'in', line: 2, empty: true };
    async function* batches() {
      yield [broken, empty, ...many.slice(0, 600)];
      yield many.slice(600);
    }
    let warnings: QualityWarning[] = [];
    await checkDocumentField(batches(), {}, 'in', undefined, (head) => {
      warnings = qualityWarnings(head, createMapper(), 'in');
    });
    expect(warnings[0]).toMatchObject({ code: 'NO_SPEAKER_LABELS', count: 998, checked: 998 });
    // Speaker names count as labels; other document types are not chats.
    const named = [
      rec(1, { document: 'Dr. Ana Lima: hello\nSam: hi', document_created_at: '2024-01-01' }),
      rec(2, { document: 'plain', document_type: 'document', document_created_at: '2024-01-01' }),
    ];
    expect(qualityWarnings(named, createMapper(), 'in')).toEqual([]);
  });
});
