import { describe, expect, it } from 'vitest';
import { buildCreateBody, readScope } from '../../src/client/create-body.js';
import { InvalidInputError } from '../../src/client/errors.js';
import type { CreateMemoryRequest } from '../../src/client/types.js';
import { hashDocumentId } from '../../src/ingest/document-id.js';
import { UsageError } from '../../src/errors.js';
import { parseMapSpecs, parseScopeSpec } from '../../src/ingest/map-spec.js';
import { createMapper, type MapOptions } from '../../src/ingest/mapper.js';
import type { SourceRecord } from '../../src/ingest/source-record.js';
import { bad, ok } from '../helpers/map-results.js';

// The create body of synap-api.md §5.1 / §10, written out here rather than imported, so a
// change of the code's list cannot pass by changing what it is checked against.
const SDK_KEYS = [
  'document',
  'document_type',
  'document_id',
  'document_created_at',
  'user_id',
  'customer_id',
  'scope',
  'mode',
  'metadata',
];
const DOC_TYPES = 'ai-chat-conversation, document, email, pdf, image, audio, meeting-transcript';

const rec = (value: unknown, extra: Partial<SourceRecord> = {}): SourceRecord => ({
  source: 'in.jsonl',
  line: 3,
  value,
  ...extra,
});
const csvRow = (value: Record<string, string>): SourceRecord =>
  rec(value, { source: 'in.csv', format: 'csv' });
const map = (value: unknown, opts: MapOptions = {}, extra: Partial<SourceRecord> = {}) =>
  createMapper({ idFrom: 'none', ...opts })(rec(value, extra));

describe('the create body is the SDK body', () => {
  it('every key, in the SDK order; unset ids/date/scope null, type/mode/metadata defaulted', () => {
    const body = buildCreateBody({ document: 'hi' });
    expect(Object.keys(body)).toEqual(SDK_KEYS);
    expect(JSON.stringify(body)).toBe(
      '{"document":"hi","document_type":"ai-chat-conversation","document_id":null,' +
        '"document_created_at":null,"user_id":null,"customer_id":null,"scope":null,' +
        '"mode":"long-range","metadata":{}}',
    );
    // null is not a value for the three defaulted keys: it gets the default too.
    expect(
      buildCreateBody({ document: 'hi', document_type: null, mode: null, metadata: null }),
    ).toMatchObject({ document_type: 'ai-chat-conversation', mode: 'long-range', metadata: {} });
  });

  it('values given are kept, the order stays', () => {
    const body = buildCreateBody({
      metadata: { k: 1 },
      mode: 'fast',
      scope: { customer: 'acme', team: 'payments' },
      customer_id: 'acme',
      user_id: 'dana',
      document_created_at: '2024-03-15T10:30:00Z',
      document_id: 'd1',
      document_type: 'email',
      document: 'x',
    });
    expect(Object.keys(body)).toEqual(SDK_KEYS);
    expect(body).toEqual({
      document: 'x',
      document_type: 'email',
      document_id: 'd1',
      document_created_at: '2024-03-15T10:30:00Z',
      user_id: 'dana',
      customer_id: 'acme',
      scope: { customer: 'acme', team: 'payments' },
      mode: 'fast',
      metadata: { k: 1 },
    });
  });

  it('bad enums and an empty scope are refused before any request, naming what is allowed', () => {
    const attempt = (input: Record<string, unknown>) => () =>
      buildCreateBody({ document: 'x', ...input } as Parameters<typeof buildCreateBody>[0]);
    expect(attempt({ document_type: 'note' })).toThrow(InvalidInputError);
    expect(attempt({ document_type: 'note' })).toThrow(DOC_TYPES);
    expect(attempt({ mode: 'turbo' })).toThrow('is not one of fast, long-range');
    expect(attempt({ scope: {} })).toThrow(/scope is empty/);
  });
});

describe('record → request: defaults', () => {
  it('a record without document_type / mode gets the SDK defaults, never null', () => {
    const req = ok(map({ document: 'd' }));
    expect(req.document_type).toBe('ai-chat-conversation');
    expect(req.mode).toBe('long-range');
    expect(req.metadata).toEqual({});
    expect(req.scope).toBeNull();
  });

  it('run defaults (--document-type, --mode, profile) win over the SDK defaults; the record wins over both', () => {
    const defaults = { document_type: 'email', mode: 'fast' } as const;
    expect(ok(map({ document: 'd' }, { defaults }))).toMatchObject(defaults);
    expect(
      ok(map({ document: 'd', document_type: 'pdf', mode: 'long-range' }, { defaults })),
    ).toMatchObject({ document_type: 'pdf', mode: 'long-range' });
  });

  it('a bad enum is a failure of that record, naming the allowed values', () => {
    expect(bad(map({ document: 'd', document_type: 'tweet' }))).toEqual({
      code: 'INVALID_INPUT',
      field: 'document_type',
      message: `document_type "tweet" is not one of ${DOC_TYPES}`,
    });
    expect(bad(map({ document: 'd', mode: 'slow' }))).toMatchObject({
      field: 'mode',
      message: 'mode "slow" is not one of fast, long-range',
    });
  });
});

describe('document ids with defaults and scope', () => {
  it('the pinned id of a request that did not change stays the same', () => {
    const sent: CreateMemoryRequest = {
      document: 'User: hi',
      document_type: 'ai-chat-conversation',
      document_id: null,
      document_created_at: '2024-03-15T10:30:00Z',
      user_id: 'u1',
      customer_id: null,
      scope: null,
      mode: 'long-range',
      metadata: { b: [1, { y: 2, x: 'é' }], a: null },
    };
    expect(hashDocumentId(sent)).toBe('sha256-7747059826e085511695603dec417348fdb7536b');
    // The same record through the mapper, with the type and mode left to the defaults.
    const viaMapper = createMapper()(
      rec({
        document: 'User: hi',
        document_created_at: '2024-03-15T10:30:00Z',
        user_id: 'u1',
        metadata: { a: null, b: [1, { x: 'é', y: 2 }] },
      }),
    );
    expect(ok(viaMapper).document_id).toBe('sha256-7747059826e085511695603dec417348fdb7536b');
  });

  it('a record naming the defaults and one leaving them out send the same body: same id', () => {
    const a = ok(createMapper()(rec({ document: 'd' })));
    const b = ok(
      createMapper()(
        rec({ document: 'd', document_type: 'ai-chat-conversation', mode: 'long-range' }),
      ),
    );
    expect(a.document_id).toBe(b.document_id);
  });

  it('a scope is part of the id; the order of its levels in the source is not', () => {
    const id = (scope: unknown) => ok(createMapper()(rec({ document: 'd', scope }))).document_id;
    const none = id(undefined);
    const one = id({ customer: 'acme', team: 'payments' });
    expect(one).not.toBe(none);
    expect(id({ customer: 'acme', team: 'billing' })).not.toBe(one);
    expect(id('customer=acme,team=payments')).toBe(one);
  });
});

describe('scope', () => {
  it('--scope parses level=name pairs in order', () => {
    const s = parseScopeSpec('customer=acme, team=payments ,user=dana');
    expect(s).toEqual({ customer: 'acme', team: 'payments', user: 'dana' });
    expect(Object.keys(s)).toEqual(['customer', 'team', 'user']);
  });

  it.each([
    ['', /give level=name pairs/],
    ['customer', /expected level=name pairs/],
    ['customer=', /expected level=name pairs/],
    ['=acme', /expected level=name pairs/],
    ['customer=a,customer=b', /level "customer" is given twice/],
    ['1=acme', /is a number/],
    ['{}', /scope is empty/],
  ])('--scope %j is a usage error', (spec, message) => {
    expect(() => parseScopeSpec(spec)).toThrow(UsageError);
    expect(() => parseScopeSpec(spec)).toThrow(message);
  });

  it('--scope applies to records without one; a record scope wins; none sends null', () => {
    const defaults = { scope: { customer: 'acme', team: 'payments' } };
    expect(ok(map({ document: 'd' }, { defaults })).scope).toEqual(defaults.scope);
    expect(ok(map({ document: 'd', scope: { customer: 'zeta' } }, { defaults })).scope).toEqual({
      customer: 'zeta',
    });
    expect(ok(map({ document: 'd' })).scope).toBeNull();
  });

  it('a scope field per record: an object, level=name text, or JSON text (CSV cells)', () => {
    const m = createMapper({ idFrom: 'none' });
    expect(ok(m(rec({ document: 'd', scope: { customer: 'acme', user: 42 } }))).scope).toEqual({
      customer: 'acme',
      user: '42',
    });
    expect(ok(m(csvRow({ document: 'd', scope: 'customer=acme,user=dana' }))).scope).toEqual({
      customer: 'acme',
      user: 'dana',
    });
    expect(ok(m(csvRow({ document: 'd', scope: '{"customer":"acme"}' }))).scope).toEqual({
      customer: 'acme',
    });
    // An empty cell is no scope; the column is never copied into metadata.
    const empty = ok(m(csvRow({ document: 'd', scope: '' })));
    expect(empty.scope).toBeNull();
    expect(empty.metadata).toEqual({});
  });

  it('--map scope=<field> takes the path from another field', () => {
    const req = ok(
      map(
        { document: 'd', tenant: { customer: 'acme' } },
        { map: parseMapSpecs(['scope=tenant']) },
      ),
    );
    expect(req.scope).toEqual({ customer: 'acme' });
    expect(req.metadata).toEqual({});
  });

  it.each([
    [{}, /scope is empty/],
    [[], /got an array/],
    ['customer', /expected level=name pairs/],
    [42, /got number/],
    [{ customer: '' }, /level "customer" is empty/],
    [{ customer: null }, /must name a customer as text \(got null\)/],
    [{ customer: { id: 1 } }, /got object/],
    [{ '': 'x' }, /a level without a name/],
    [{ '7': 'x' }, /is a number/],
    ['{"customer":', /not valid JSON/],
  ])('a record scope %j fails that record alone', (scope, message) => {
    const e = bad(map({ document: 'd', scope }));
    expect(e).toMatchObject({ code: 'INVALID_INPUT', field: 'scope', message });
  });

  it('readScope: absent, null and "" are no scope; {} never passes', () => {
    expect(readScope(undefined)).toEqual({ scope: null });
    expect(readScope(null)).toEqual({ scope: null });
    expect(readScope('  ')).toEqual({ scope: null });
    expect('error' in readScope({})).toBe(true);
    expect('error' in readScope('{}')).toBe(true);
  });

  it('an export line keeps a scope path, and leaves any other scope in synap_export', () => {
    const line = { memory_id: 'm1', content: 'c', created_at: '2024-01-01T00:00:00Z' };
    const m = createMapper({ idFrom: 'none' });
    expect(ok(m(rec({ ...line, scope: { customer: 'acme' } }))).scope).toEqual({
      customer: 'acme',
    });
    const other = ok(m(rec({ ...line, scope: 'user' })));
    expect(other.scope).toBeNull();
    expect(other.metadata).toMatchObject({ synap_export: { scope: 'user' } });
  });
});
