import { describe, expect, it } from 'vitest';
import type { CreateMemoryRequest } from '../../src/client/types.js';
import { hashDocumentId } from '../../src/ingest/document-id.js';
import { UsageError } from '../../src/errors.js';
import { parseMapSpecs } from '../../src/ingest/map-spec.js';
import { createMapper, type MapOptions } from '../../src/ingest/mapper.js';
import { canonicalJson } from '../../src/json-value.js';
import { isIsoDate } from '../../src/client/datetime.js';
import type { SourceRecord } from '../../src/ingest/source-record.js';
import { bad, ok } from '../helpers/map-results.js';

const rec = (value: unknown, extra: Partial<SourceRecord> = {}): SourceRecord => ({
  source: 'in.jsonl',
  line: 7,
  value,
  ...extra,
});
const csv = (value: Record<string, string>): SourceRecord =>
  rec(value, { source: 'in.csv', format: 'csv' });

describe('mapper: fields', () => {
  it('takes API-named fields as they are', () => {
    const m = createMapper({ idFrom: 'none' });
    const r = m(
      rec({
        document: 'hello',
        document_id: 'd1',
        document_type: 'email',
        document_created_at: '2024-03-15T10:30:00Z',
        user_id: 'u1',
        customer_id: 'c1',
        mode: 'long-range',
        metadata: { k: 'v' },
      }),
    );
    expect(r).toMatchObject({ ok: true, source: 'in.jsonl', line: 7 });
    expect(ok(r)).toEqual({
      document: 'hello',
      document_id: 'd1',
      document_type: 'email',
      document_created_at: '2024-03-15T10:30:00Z',
      user_id: 'u1',
      customer_id: 'c1',
      scope: null,
      mode: 'long-range',
      metadata: { k: 'v' },
    });
  });

  it("unset fields get the SDK's values: ids, date and scope null, the SDK's type and mode, metadata {}", () => {
    const req = ok(createMapper({ idFrom: 'none' })(rec({ document: 'x' })));
    expect(req).toEqual({
      document: 'x',
      document_type: 'ai-chat-conversation',
      document_id: null,
      document_created_at: null,
      user_id: null,
      customer_id: null,
      scope: null,
      mode: 'long-range',
      metadata: {},
    });
    // In the SDK's key order, so a dry run's sample payload reads like the wire.
    expect(Object.keys(req)).toEqual([
      'document',
      'document_type',
      'document_id',
      'document_created_at',
      'user_id',
      'customer_id',
      'scope',
      'mode',
      'metadata',
    ]);
  });

  it('--map renames, with dotted paths, and the mapped source fields are not copied to metadata', () => {
    const m = createMapper({
      map: { document: 'body.text', user_id: 'who.id', document_created_at: 'ts' },
      idFrom: 'none',
    });
    const req = ok(m(rec({ body: { text: 'hi' }, who: { id: 42 }, ts: '2024-01-02', other: 1 })));
    expect(req.document).toBe('hi');
    expect(req.user_id).toBe('42'); // numbers → string ids
    // A date alone is sent as midnight UTC, with its offset (the normal form).
    expect(req.document_created_at).toBe('2024-01-02T00:00:00Z');
    // "body" and "who" are kept (only a top-level mapped key is consumed); "ts" is consumed
    expect(req.metadata).toEqual({ body: { text: 'hi' }, who: { id: 42 }, other: 1 });
  });

  it('a literal key containing a dot wins over the dotted path', () => {
    const m = createMapper({ map: { document: 'a.b' }, idFrom: 'none' });
    expect(ok(m(rec({ 'a.b': 'literal', a: { b: 'nested' } }))).document).toBe('literal');
  });

  it('when document is mapped from another field, an API-named "document" goes to metadata', () => {
    const m = createMapper({ map: { document: 'body' }, idFrom: 'none' });
    const req = ok(m(rec({ body: 'b', document: 'old' })));
    expect(req.document).toBe('b');
    expect(req.metadata).toEqual({ document: 'old' });
  });

  it('defaults fill the gaps only', () => {
    const m = createMapper({
      idFrom: 'none',
      defaults: {
        document_type: 'email',
        mode: 'fast',
        user_id: 'du',
        customer_id: 'dc',
        metadata: { team: 'a', src: 'default' },
      },
    });
    const withDefaults = ok(m(rec({ document: 'x' })));
    expect(withDefaults).toMatchObject({
      document_type: 'email',
      mode: 'fast',
      user_id: 'du',
      customer_id: 'dc',
      metadata: { team: 'a', src: 'default' },
    });
    const own = ok(
      m(rec({ document: 'x', mode: 'long-range', user_id: 'u', metadata: { src: 'rec' } })),
    );
    expect(own).toMatchObject({ mode: 'long-range', user_id: 'u', customer_id: 'dc' });
    expect(ok(m(rec({ document: 'x', document_type: 'document' }))).document_type).toBe('document');
    expect(own.metadata).toEqual({ team: 'a', src: 'rec' });
  });

  it('JSON extra fields go into metadata without overriding explicit metadata', () => {
    const req = ok(
      createMapper({ idFrom: 'none' })(
        rec({ document: 'x', metadata: { tag: 'explicit' }, tag: 'extra', n: 3, deep: { a: [1] } }),
      ),
    );
    expect(req.metadata).toEqual({ tag: 'explicit', n: 3, deep: { a: [1] } });
  });

  it('numbers become string ids', () => {
    const req = ok(
      createMapper()(rec({ document: 'x', document_id: 12, user_id: 0, customer_id: 3.5 })),
    );
    expect(req).toMatchObject({ document_id: '12', user_id: '0', customer_id: '3.5' });
  });
});

describe('mapper: CSV rows', () => {
  it('unmapped columns go to metadata; empty cells are absent', () => {
    const m = createMapper({
      map: { document: 'body' },
      idFrom: 'none',
      defaults: { user_id: 'du' },
    });
    const req = ok(m(csv({ body: 'text', user_id: '', priority: 'high', empty: '' })));
    expect(req.document).toBe('text');
    expect(req.user_id).toBe('du'); // empty cell → default
    expect(req.metadata).toEqual({ priority: 'high' });
  });

  it('a metadata column holding JSON is parsed; bad JSON fails naming the field', () => {
    const m = createMapper({ idFrom: 'none' });
    expect(ok(m(csv({ document: 'x', metadata: '{"a":1}', col: 'c' }))).metadata).toEqual({
      a: 1,
      col: 'c',
    });
    expect(bad(m(csv({ document: 'x', metadata: '{nope' })))).toMatchObject({
      code: 'INVALID_INPUT',
      field: 'metadata',
    });
    expect(bad(m(csv({ document: 'x', metadata: '[1,2]' })))).toMatchObject({ field: 'metadata' });
  });

  it('an empty document cell is an empty document, naming the column', () => {
    expect(bad(createMapper()(csv({ document: '', x: '1' })))).toMatchObject({
      field: 'document',
      message: 'document is empty: the column "document" is empty',
    });
  });

  it('a missing or empty document read through --map names the source field', () => {
    const m = createMapper({ map: { document: 'body' } });
    expect(bad(m(csv({ body: '', x: '1' }))).message).toBe(
      'document is empty: the column "body" (--map document) is empty',
    );
    expect(bad(m(rec({ body: '  \t' }))).message).toBe(
      'document is empty: the field "body" (--map document) holds only whitespace',
    );
    expect(bad(m(rec({ body: null }))).message).toBe(
      'document is missing: the field "body" (--map document) is null',
    );
    expect(bad(m(rec({ text: 'x' }))).message).toBe(
      'document is missing: the record has no field "body" (--map document)',
    );
    const nested = createMapper({ map: { document: 'msg.text' } });
    expect(bad(nested(rec({ msg: { text: '' } }))).message).toBe(
      'document is empty: the field "msg.text" (--map document) is empty',
    );
    // Without --map, JSON keeps the short messages (the field is the API field).
    expect(bad(createMapper()(rec({ document: '' }))).message).toBe('document is empty');
  });
});

describe('mapper: export and failures-file lines', () => {
  const exported = {
    memory_id: 'mem_1',
    content: 'the memory',
    created_at: '2024-03-15T10:30:00Z',
    updated_at: '2024-03-16T00:00:00Z',
    user_id: 'u1',
    customer_id: null,
    document_type: 'email',
    metadata: { k: 'v' },
    status: 'completed',
  };

  it('an export line maps back: content → document, memory_id → document_id, created_at → document_created_at, rest under metadata.synap_export', () => {
    const req = ok(createMapper()(rec(exported)));
    expect(req).toMatchObject({
      document: 'the memory',
      document_id: 'mem_1',
      document_created_at: '2024-03-15T10:30:00Z',
      user_id: 'u1',
      customer_id: null,
      document_type: 'email',
    });
    expect(req.metadata).toEqual({
      k: 'v',
      synap_export: {
        memory_id: 'mem_1',
        created_at: '2024-03-15T10:30:00Z',
        updated_at: '2024-03-16T00:00:00Z',
        customer_id: null,
        status: 'completed',
      },
    });
  });

  it("an export line's document_created_at (the source document's time) wins over created_at, which is kept", () => {
    const req = ok(
      createMapper()(
        rec({ ...exported, document_created_at: '2025-02-01T23:17:00Z', source_document_id: 'd1' }),
      ),
    );
    expect(req.document_created_at).toBe('2025-02-01T23:17:00Z');
    expect(req.metadata.synap_export).toMatchObject({
      created_at: '2024-03-15T10:30:00Z',
      source_document_id: 'd1',
    });
  });

  it('a record with both document and content is not an export line', () => {
    const req = ok(
      createMapper({ idFrom: 'none' })(rec({ document: 'd', memory_id: 'm', content: 'c' })),
    );
    expect(req.document).toBe('d');
    expect(req.document_id).toBeNull();
    expect(req.metadata).toEqual({ memory_id: 'm', content: 'c' });
  });

  it('a failures-file line retries the record it carries (and that record may be a CSV row)', () => {
    const line = {
      source: 'data.csv',
      line: 42,
      record: { document: 'fixed now', user_id: 'u9', extra: 'e' },
      error: { code: 'INVALID_INPUT', status: 422, message: 'was bad' },
      correlation_id: 'c',
      at: '2024-01-01T00:00:00Z',
    };
    const r = createMapper({ idFrom: 'none' })(
      rec(line, { source: 'data.failures.jsonl', line: 3 }),
    );
    expect(r).toMatchObject({ ok: true, source: 'data.failures.jsonl', line: 3 });
    expect(ok(r)).toMatchObject({ document: 'fixed now', user_id: 'u9', metadata: { extra: 'e' } });
    expect(r.original).toEqual(line.record);
  });

  it('a failures-file line whose record is text that still does not parse fails again, keeping the text', () => {
    const r = createMapper()(rec({ source: 's', line: 1, record: 'oops', error: { code: 'X' } }));
    expect(bad(r)).toMatchObject({ code: 'PARSE_ERROR', message: /invalid JSON at column 1/ });
    expect(JSON.stringify(r.original)).toBe('"oops"');
  });

  it('a failures-file line carrying an export line is mapped back too', () => {
    const r = createMapper()(rec({ source: 's', line: 1, record: exported, error: { code: 'X' } }));
    expect(ok(r).document_id).toBe('mem_1');
  });
});

describe('mapper: document_id', () => {
  it('hash: same input → same id; key order does not matter', () => {
    const m = createMapper();
    const a = ok(m(rec({ document: 'x', user_id: 'u', metadata: { a: 1, b: 2 } })));
    const b = ok(m(rec({ metadata: { b: 2, a: 1 }, user_id: 'u', document: 'x' })));
    expect(a.document_id).toMatch(/^sha256-[0-9a-f]{40}$/);
    expect(a.document_id).toBe(b.document_id);
    expect(
      ok(createMapper()(rec({ document: 'x', user_id: 'u', metadata: { a: 1, b: 2 } })))
        .document_id,
    ).toBe(a.document_id);
  });

  it('hash: any difference → a different id', () => {
    const m = createMapper();
    const base = { document: 'x', user_id: 'u', metadata: { a: 1 } };
    const id = ok(m(rec(base))).document_id;
    for (const variant of [
      { ...base, document: 'y' },
      { ...base, user_id: 'v' },
      { ...base, metadata: { a: 2 } },
      { ...base, mode: 'fast' },
      { ...base, document_created_at: '2024-01-01' },
    ]) {
      expect(ok(m(rec(variant))).document_id, JSON.stringify(variant)).not.toBe(id);
    }
  });

  it('a given document_id is kept; idFrom none sends none', () => {
    expect(ok(createMapper()(rec({ document: 'x', document_id: 'mine' }))).document_id).toBe(
      'mine',
    );
    expect(ok(createMapper({ idFrom: 'none' })(rec({ document: 'x' }))).document_id).toBeNull();
  });

  it('hashDocumentId ignores document_id itself; canonicalJson sorts keys', () => {
    const r = {
      document: 'x',
      metadata: { b: 1, a: [{ d: 1, c: 2 }] },
    } as unknown as CreateMemoryRequest;
    expect(hashDocumentId({ ...r, document_id: 'one' })).toBe(
      hashDocumentId({ ...r, document_id: 'two' }),
    );
    expect(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }], u: undefined })).toBe(
      '{"a":[{"c":2,"d":1}],"b":1}',
    );
  });
});

describe('mapper: validation names the field', () => {
  const m = createMapper();
  it.each([
    [{}, 'document', /document is missing/],
    [{ document: null }, 'document', /document is missing/],
    [{ document: '   ' }, 'document', /document is empty/],
    [{ document: 5 }, 'document', /document must be a string, got number 5/],
    [{ document: ['a'] }, 'document', /got an array/],
    [{ document: 'x', document_id: true }, 'document_id', /document_id must be a string/],
    [{ document: 'x', user_id: { a: 1 } }, 'user_id', /user_id must be a string, got an object/],
    [{ document: 'x', customer_id: Infinity }, 'customer_id', /customer_id must be a string/],
    [{ document: 'x', document_type: 'tweet' }, 'document_type', /"tweet" is not one of/],
    [{ document: 'x', document_type: 3 }, 'document_type', /is not one of/],
    [{ document: 'x', mode: 'slow' }, 'mode', /mode "slow" is not one of fast, long-range/],
    [{ document: 'x', document_created_at: 'yesterday' }, 'document_created_at', /ISO-8601/],
    [{ document: 'x', document_created_at: '2024-02-30' }, 'document_created_at', /ISO-8601/],
    [{ document: 'x', document_created_at: '15/03/2024' }, 'document_created_at', /ISO-8601/],
    [{ document: 'x', document_created_at: '20240102' }, 'document_created_at', /bare number/],
    [{ document: 'x', metadata: 'k=v' }, 'metadata', /metadata must be an object/],
    [{ document: 'x', metadata: [1] }, 'metadata', /got an array/],
  ])('%j → %s', (value, field, message) => {
    const r = m(rec(value));
    expect(r).toMatchObject({ ok: false, source: 'in.jsonl', line: 7, original: value });
    const e = bad(r);
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.field).toBe(field);
    expect(e.message).toMatch(message);
  });

  it('a record that is not an object', () => {
    for (const v of [[1, 2], 'str', 42, null]) {
      expect(bad(m(rec(v))).message).toMatch(/must be a JSON object/);
    }
  });

  it('a parse error passes through with its code and raw text', () => {
    const r = m({
      source: 's',
      line: 3,
      parseError: { code: 'PARSE_ERROR', message: 'invalid JSON: x', raw: '{x' },
    });
    expect(r).toMatchObject({ ok: false, line: 3, error: { code: 'PARSE_ERROR' } });
    expect(r.original).toMatchObject({ record: '{x', format: 'jsonl' });
  });

  it('long strings are trimmed in messages', () => {
    expect(bad(m(rec({ document: 'x', mode: 'y'.repeat(100) }))).message.length).toBeLessThan(120);
  });
});

describe('isIsoDate', () => {
  it.each([
    '2024-03-15',
    '2024-03-15T10:30:00Z',
    '2024-03-15T10:30Z',
    '2024-03-15 10:30:00',
    '2024-03-15T10:30:00.123456+02:00',
    '2024-03-15T10:30:00-0500',
    '2024-02-29',
  ])('accepts %s', (s) => expect(isIsoDate(s)).toBe(true));

  it.each([
    'yesterday',
    '',
    '2024-02-30',
    '2023-02-29',
    '2024-13-01',
    '2024-00-10',
    '2024-04-31',
    '2024-03-15T24:00:00Z',
    '2024-03-15T10:60:00Z',
    '2024-3-5',
    'Fri, 15 Mar 2024 10:30:00 GMT',
    '2024-03-15T10:30:00ZZ',
    '2016-12-31T23:59:60Z',
  ])('refuses %j', (s) => expect(isIsoDate(s)).toBe(false));
});

describe('parseMapSpecs', () => {
  it('parses api=source pairs, trimming, dotted sources, the last repeat winning', () => {
    expect(parseMapSpecs(['document=body', ' user_id = meta.user.id ', 'document=text'])).toEqual({
      document: 'text',
      user_id: 'meta.user.id',
    });
    expect(parseMapSpecs(['metadata=extra=x'])).toEqual({ metadata: 'extra=x' });
    expect(parseMapSpecs([])).toEqual({});
  });

  it.each(['document', '=body', 'document=', 'document=  ', ''])('refuses %j', (spec) => {
    expect(() => parseMapSpecs([spec])).toThrow(UsageError);
    expect(() => parseMapSpecs([spec])).toThrow(/expected api_field=source_field/);
  });

  it('refuses a target that is not an API field, listing them', () => {
    expect(() => parseMapSpecs(['body=document'])).toThrow(
      /"body" is not an API field \(document,/,
    );
  });
});

// Keep MapOptions referenced so a signature change shows up here.
const _opts: MapOptions = { map: {}, defaults: {}, idFrom: 'hash' };
void _opts;
