import { describe, expect, it } from 'vitest';
import type { CreateMemoryRequest } from '../../src/client/types.js';
import { hashDocumentId, requestCanonicalJson } from '../../src/ingest/document-id.js';
import { canonicalJson } from '../../src/json-value.js';
import { createMapper } from '../../src/ingest/mapper.js';
import { isIsoDate } from '../../src/client/datetime.js';
import { validateRequest } from '../../src/ingest/validate.js';
import { seededRandom } from '../helpers/random.js';

// Without scope: what a request read before scopes existed looks like.
const base = {
  document: 'User: hi',
  document_type: 'ai-chat-conversation',
  document_id: null,
  document_created_at: '2024-03-15T10:30:00Z',
  user_id: 'u1',
  customer_id: null,
  mode: 'long-range',
  metadata: { b: [1, { y: 2, x: 'é' }], a: null },
} as unknown as CreateMemoryRequest;

function randomValue(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 2 ? 4 : 6));
  const strs = ['', 'a', 'é"\\\n', '\u2028', '😀', 'ключ', 'a.b'];
  if (k === 0) return null;
  if (k === 1) return strs[Math.floor(r() * strs.length)];
  if (k === 2) return Math.floor(r() * 2000) - 1000 + (r() < 0.3 ? 0.5 : 0);
  if (k === 3) return r() < 0.5;
  if (k === 4) return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
  const o: Record<string, unknown> = {};
  const n = Math.floor(r() * 5);
  for (let i = 0; i < n; i++)
    o[strs[Math.floor(r() * strs.length)]! + i] = randomValue(r, depth + 1);
  return o;
}

describe('document ids', () => {
  it('the id format is pinned: a change would re-ingest everything already sent', () => {
    expect(hashDocumentId(base)).toBe('sha256-7747059826e085511695603dec417348fdb7536b');
  });

  it('requestCanonicalJson equals canonicalJson of the request without document_id', () => {
    const r = seededRandom(42);
    for (let i = 0; i < 500; i++) {
      // Nulls where the mapper fills in defaults: the canonical form must take them too.
      const req = {
        document: String(randomValue(r, 3) ?? 'x'),
        document_type: r() < 0.5 ? null : 'email',
        document_id: r() < 0.5 ? null : `id${i}`,
        document_created_at: r() < 0.5 ? null : '2024-01-01',
        user_id: r() < 0.5 ? null : `u"${i}`,
        customer_id: r() < 0.5 ? null : 'c',
        mode: r() < 0.5 ? null : 'fast',
        metadata: randomValue(r, 0) as Record<string, unknown>,
      } as unknown as CreateMemoryRequest;
      if (typeof req.metadata !== 'object' || req.metadata === null) req.metadata = {};
      const { document_id: _drop, ...rest } = req;
      expect(requestCanonicalJson(req)).toBe(canonicalJson(rest));
      expect(JSON.parse(requestCanonicalJson(req))).toEqual(JSON.parse(JSON.stringify(rest)));
    }
    // Keys objects treat specially: array indexes (enumerated first) and "__proto__".
    const special = JSON.parse(
      '{"b":1,"10":2,"2":{"__proto__":{"z":1,"a":2},"x":[{"1":0,"0":1}]},"a":null,"4294967295":3}',
    ) as Record<string, unknown>;
    const proto = JSON.parse('{"z":[1],"__proto__":{"z":1,"a":2}}') as Record<string, unknown>;
    for (const metadata of [
      special,
      special['2'] as Record<string, unknown>,
      proto,
      { n: { '7': 1 } },
    ]) {
      const req: CreateMemoryRequest = { ...base, metadata };
      const { document_id: _drop, ...rest } = req;
      expect(requestCanonicalJson(req)).toBe(canonicalJson(rest));
    }
  });

  it('key order anywhere in the record does not change the id; any value change does', () => {
    const m = createMapper();
    const id = (value: unknown) => {
      const res = m({ source: 's', line: 1, value });
      if (!res.ok) throw new Error(res.error.message);
      return res.request.document_id;
    };
    const a = id({ document: 'd', user_id: 'u', metadata: { x: { p: 1, q: [1, 2] }, y: 2 } });
    const b = id({ metadata: { y: 2, x: { q: [1, 2], p: 1 } }, user_id: 'u', document: 'd' });
    expect(a).toBe(b);
    const variants = [
      { document: 'd ', user_id: 'u', metadata: { x: { p: 1, q: [1, 2] }, y: 2 } },
      { document: 'd', user_id: 'U', metadata: { x: { p: 1, q: [1, 2] }, y: 2 } },
      { document: 'd', user_id: 'u', metadata: { x: { p: 1, q: [2, 1] }, y: 2 } },
      { document: 'd', user_id: 'u', metadata: { x: { p: '1', q: [1, 2] }, y: 2 } },
      { document: 'd', user_id: 'u', metadata: { x: { p: 1, q: [1, 2] }, y: 2 }, extra: 1 },
      { document: 'd', customer_id: 'u', metadata: { x: { p: 1, q: [1, 2] }, y: 2 } },
    ];
    const ids = new Set(variants.map(id));
    expect(ids.size).toBe(variants.length);
    expect(ids.has(a)).toBe(false);
  });

  it('the same record under different defaults gets a different id (defaults shape the request)', () => {
    const value = { document: 'd' };
    const r1 = createMapper({ defaults: { mode: 'fast' } })({ source: 's', line: 1, value });
    const r2 = createMapper({ defaults: { mode: 'long-range' } })({ source: 's', line: 1, value });
    expect(r1.ok && r2.ok && r1.request.document_id !== r2.request.document_id).toBe(true);
  });
});

describe('validateRequest', () => {
  const v = (fields: Record<string, unknown>) => validateRequest(fields, undefined, {});
  const err = (fields: Record<string, unknown>) => {
    const r = v(fields);
    if (!('error' in r)) throw new Error('expected an error');
    return r.error;
  };

  it.each([
    [{}, 'document', /document is missing/],
    [{ document: null }, 'document', /document is missing/],
    [{ document: ' \n\t ' }, 'document', /document is empty/],
    [{ document: '\u3000' }, 'document', /document is empty/],
    [{ document: { text: 'x' } }, 'document', /document must be a string, got an object/],
    [{ document: ['x'] }, 'document', /got an array/],
    [{ document: true }, 'document', /got boolean true/],
    [{ document: 'x', user_id: { id: 1 } }, 'user_id', /user_id must be a string, got an object/],
    [{ document: 'x', customer_id: false }, 'customer_id', /customer_id must be a string/],
    [{ document: 'x', document_id: Infinity }, 'document_id', /document_id must be a string/],
    [{ document: 'x', mode: 'turbo' }, 'mode', /mode "turbo" is not one of fast, long-range/],
    [{ document: 'x', mode: 1 }, 'mode', /mode number 1 is not one of/],
    [{ document: 'x', document_type: 'tweet' }, 'document_type', /"tweet" is not one of .*email/],
    [{ document: 'x', document_type: 'note' }, 'document_type', /"note"/],
    [
      { document: 'x', document_created_at: 'yesterday' },
      'document_created_at',
      /"yesterday" is not an ISO-8601 date/,
    ],
    [
      // A bare number of neither 10 nor 13 digits: the model would read it as seconds since 1970.
      { document: 'x', document_created_at: 20240102 },
      'document_created_at',
      /number 20240102 is a bare number of 8 digits/,
    ],
    [{ document: 'x', metadata: 'a=b' }, 'metadata', /metadata must be an object, got "a=b"/],
    [{ document: 'x', metadata: [1] }, 'metadata', /got an array/],
  ])('%j → INVALID_INPUT on %s', (fields, field, message) => {
    expect(err(fields)).toMatchObject({ code: 'INVALID_INPUT', field, message });
  });

  it('a long bad value is cut in the message', () => {
    const e = err({ document: 'x', mode: 'm'.repeat(5000) });
    expect(e.message.length).toBeLessThan(120);
    expect(e.message).toContain('…');
  });

  it("numbers become string ids; every key is present, unset ones null or the SDK's default", () => {
    const r = v({ document: 'x', user_id: 42, customer_id: 7.5, document_id: 0 });
    expect(r).toEqual({
      request: {
        document: 'x',
        document_type: 'ai-chat-conversation',
        document_id: '0',
        document_created_at: null,
        user_id: '42',
        customer_id: '7.5',
        scope: null,
        mode: 'long-range',
        metadata: {},
      },
    });
  });

  it('metadata: record metadata over defaults; extra fields never override either', () => {
    const r = validateRequest(
      { document: 'x', metadata: { a: 'record', b: 'record' } },
      { b: 'extra', c: 'extra' },
      { metadata: { a: 'default', d: 'default' } },
    );
    expect('request' in r && r.request.metadata).toEqual({
      a: 'record',
      b: 'record',
      c: 'extra',
      d: 'default',
    });
  });
});

describe('isIsoDate edges', () => {
  it.each([
    '2024-02-29',
    '2000-02-29T00:00:00Z',
    '2024-03-15T10:30',
    '2024-03-15t10:30:00z',
    '2024-03-15 10:30:00+0530',
    '2024-03-15T10:30:00.123456789-08:00',
  ])('accepts %s', (s) => expect(isIsoDate(s)).toBe(true));

  it.each([
    // The service's datetime model refuses a leap second and year 0.
    '2024-12-31T23:59:60Z',
    '0000-01-01',
    '1900-02-29',
    '2023-02-29',
    '2024-04-31',
    '2024-00-10',
    '2024-13-01',
    '2024-3-5',
    '2024-03-15T',
    '2024-03-15T1',
    '2024-03-15T10:3',
    '2024-03-15T10:30:',
    '2024-03-15T10:30:0',
    '2024-03-15T10:30:00.',
    '2024-03-15T10:30:00.1234567890Z',
    '2024-03-15T10:30:00Z ',
    '2024-03-15T10:30:00+02',
    '2024-03-15T10:30:00+02:0',
    '2024-03-15T24:00:00Z',
    '2024-03-15T10:60:00Z',
    '2024-03-15Z',
    '２０２４-03-15',
    '+2024-03-15',
    '15/03/2024',
  ])('refuses %j', (s) => expect(isIsoDate(s)).toBe(false));
});

describe("mapper: a record's format", () => {
  it('a record read as CSV takes the CSV rules', () => {
    const m = createMapper({ idFrom: 'none' });
    const r = m({
      source: 'x',
      line: 2,
      format: 'csv',
      value: { document: 'd', user_id: '', metadata: '{"k":1}', col: '' },
    });
    expect(r.ok && r.request).toMatchObject({ user_id: null, metadata: { k: 1 } });
    expect(r.ok && 'col' in r.request.metadata).toBe(false);
    // JSON by default: an empty string user_id is also absent, a metadata string is refused
    const j = createMapper({ idFrom: 'none' })({
      source: 'x',
      line: 2,
      value: { document: 'd', metadata: '{"k":1}' },
    });
    expect(j.ok).toBe(false);
  });
});
