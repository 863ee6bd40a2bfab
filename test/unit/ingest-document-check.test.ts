import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import {
  checkDocumentField,
  DOCUMENT_CHECK_RECORDS,
  findMissingDocument,
  findUnseenMapSources,
} from '../../src/ingest/document-check.js';
import { createMapper } from '../../src/ingest/mapper.js';
import { readRecordBatches } from '../../src/ingest/readers/index.js';
import type { SourceRecord } from '../../src/ingest/source-record.js';

const recs = (...values: unknown[]): SourceRecord[] =>
  values.map((value, i) => ({ source: 'in', line: i + 1, value }));

/** The field the hint suggests for `--map document=`, if it suggests one. */
const suggested = (p: { hints: string[] } | undefined) =>
  /e\.g\. --map document=(\S+)$/.exec(p?.hints[0] ?? '')?.[1];

describe('findMissingDocument ', () => {
  it('JSONL with "text": names the fields and suggests --map document=text', () => {
    const p = findMissingDocument(
      recs({ id: 1, text: 'User: hi there', lang: 'en' }, { id: 2, text: 'User: bye', lang: 'en' }),
      {},
      'chat.jsonl',
    );
    expect(p).toEqual({
      message:
        'no record has a document: the first 2 records of chat.jsonl have no "document" field (fields found: id, text, lang)',
      hints: ['Name the field that holds the text, e.g. --map document=text'],
    });
  });

  it('a CSV whose text column is "body" (title is shorter and less likely)', () => {
    const rows = recs(
      { ticket: 'T-1', title: 'Printer', body: 'The printer is on fire again, please help' },
      { ticket: 'T-2', title: 'VPN', body: 'VPN drops every hour since the update' },
    ).map((r) => ({ ...r, format: 'csv' as const }));
    expect(suggested(findMissingDocument(rows, {}, 'tickets.csv'))).toBe('body');
  });

  it('without a usual name, the field with the longest text; nested fields as dotted paths', () => {
    expect(
      suggested(
        findMissingDocument(recs({ k: 'a', zz: 'a much longer piece of text', n: 3 }), {}, 'x'),
      ),
    ).toBe('zz');
    expect(
      suggested(
        findMissingDocument(
          recs({ id: 'x', payload: { msg: 'the text of the message' } }),
          {},
          'x',
        ),
      ),
    ).toBe('payload.msg');
    // Nothing that could hold text: no suggestion, a general hint.
    const none = findMissingDocument(recs({ n: 1, tags: ['a'] }), {}, 'x');
    expect(suggested(none)).toBeUndefined();
    expect(none?.hints[0]).toMatch(/--map document=<field>/);
  });

  it('--map document=<missing>: says the mapped field is missing', () => {
    const p = findMissingDocument(recs({ body: 'text' }), { document: 'content' }, 'in.jsonl');
    expect(p?.message).toBe(
      '--map document=content: the first record of in.jsonl has no "content" (fields found: body)',
    );
    expect(suggested(p)).toBe('body');
    expect(
      findMissingDocument(recs({ a: { b: 'text' } }), { document: 'a.b' }, 'x'),
    ).toBeUndefined();
  });

  it('one record with a document is enough (the others fail alone later)', () => {
    expect(findMissingDocument(recs({ text: 'a' }, { document: 'b' }), {}, 'x')).toBeUndefined();
  });

  it('export lines and failures-file lines carry their document; parse errors and non-objects say nothing', () => {
    expect(
      findMissingDocument(recs({ memory_id: 'm', content: 'c', memory_type: 'fact' }), {}, 'x'),
    ).toBeUndefined();
    const failure = { source: 's', line: 1, error: { code: 'X' } };
    expect(
      findMissingDocument(recs({ ...failure, record: { document: 'fixed' } }), {}, 'x'),
    ).toBeUndefined();
    expect(
      findMissingDocument(recs({ ...failure, record: '{"document":"x"' }), {}, 'x'),
    ).toBeUndefined();
    expect(
      suggested(findMissingDocument(recs({ ...failure, record: { text: 'no doc' } }), {}, 'x')),
    ).toBe('text');
    const broken: SourceRecord = {
      source: 'x',
      line: 1,
      parseError: { code: 'PARSE_ERROR', message: 'bad' },
    };
    expect(findMissingDocument([broken], {}, 'x')).toBeUndefined();
    expect(findMissingDocument(recs([1, 2], 'str'), {}, 'x')).toBeUndefined();
    expect(findMissingDocument([], {}, 'x')).toBeUndefined();
  });

  it('a line shaped like a failures-file line but without "source" is an ordinary record, as the mapper reads it', () => {
    // The mapper retries `record` only of a line with source, line, record and error; the
    // check must read the same line the same way, or it passes an input the mapper then
    // fails record by record (or refuses one the mapper would send).
    const lookalike = { line: 1, record: { document: 'inner' }, error: { code: 'X' } };
    const mapped = createMapper()({ source: 'in', line: 1, value: lookalike });
    expect(mapped.ok).toBe(false);
    expect(findMissingDocument(recs(lookalike), {}, 'x')?.message).toMatch(
      /\(fields found: line, record, error\)$/,
    );
    expect(
      findUnseenMapSources(recs({ ...lookalike, org: 'o' }), { customer_id: 'org' }, 'x'),
    ).toBeUndefined();
    // With source it is a failures-file line: its record is what the check and the mapper read.
    const line = { source: 's', ...lookalike };
    expect(createMapper()({ source: 'in', line: 1, value: line }).ok).toBe(true);
    expect(findMissingDocument(recs(line), {}, 'x')).toBeUndefined();
  });

  it('an empty or null document is a document field (the record fails alone later); a long field list is cut', () => {
    expect(findMissingDocument(recs({ document: '', document_id: 'd' }), {}, 'x')).toBeUndefined();
    expect(findMissingDocument(recs({ document: null }), {}, 'x')).toBeUndefined();
    expect(findMissingDocument(recs({ body: '' }), { document: 'body' }, 'x')).toBeUndefined();
    const wide: Record<string, string> = { documents: '' };
    for (let i = 0; i < 30; i++) wide[`f${i}`] = 'v';
    const p = findMissingDocument(recs(wide), {}, 'x');
    expect(p?.message).toMatch(/fields found: documents, f0, .* and 11 more\)$/);
  });
});

describe('findUnseenMapSources', () => {
  it('a --map source field no record has is named, with the fields found', () => {
    const rows = recs({ document: 'a', org: 'acme', team: '' }, { document: 'b', org: 'x' });
    expect(findUnseenMapSources(rows, { customer_id: 'org' }, 'in.csv')).toBeUndefined();
    // Present but empty counts as present: the column exists.
    expect(findUnseenMapSources(rows, { user_id: 'team' }, 'in.csv')).toBeUndefined();
    const p = findUnseenMapSources(
      rows,
      { customer_id: 'organisation', user_id: 'who.id', document: 'nope' },
      'in.csv',
    );
    expect(p?.message).toBe(
      '--map customer_id=organisation, --map user_id=who.id: the first 2 records of in.csv have no "organisation", "who.id" (fields found: document, org, team)',
    );
  });

  it('dotted paths, failures-file lines and keys named like Object.prototype properties', () => {
    expect(
      findUnseenMapSources(recs({ document: 'a', who: { id: 'u' } }), { user_id: 'who.id' }, 'x'),
    ).toBeUndefined();
    const failure = { source: 's', line: 1, error: { code: 'X' } };
    expect(
      findUnseenMapSources(
        recs({ ...failure, record: { document: 'a', org: 'o' } }),
        { customer_id: 'org' },
        'x',
      ),
    ).toBeUndefined();
    expect(
      findUnseenMapSources(recs({ document: 'a' }), { user_id: 'constructor' }, 'x')?.message,
    ).toMatch(/no "constructor"/);
    expect(findUnseenMapSources([], { user_id: 'u' }, 'x')).toBeUndefined();
  });

  it('a record with memory_id and content that has a document is mapped like any record, so its --map sources are checked', () => {
    // The mapper reads an export line only when it has no "document"; this one it maps as it
    // is, so a --map source it lacks would send null.
    const line = { memory_id: 'm', content: 'c', document: 'd' };
    expect(createMapper({ map: { customer_id: 'org' } })(recs(line)[0]!)).toMatchObject({
      ok: true,
      request: { document: 'd', customer_id: null },
    });
    expect(findUnseenMapSources(recs(line), { customer_id: 'org' }, 'x')?.message).toBe(
      '--map customer_id=org: the first record of x has no "org" (fields found: memory_id, content, document)',
    );
    // An export line (no document) is not: the map does not apply to it.
    expect(
      findUnseenMapSources(recs({ memory_id: 'm', content: 'c' }), { customer_id: 'org' }, 'x'),
    ).toBeUndefined();
  });

  it('checkDocumentField refuses (exit 2) before yielding anything', async () => {
    const text = Array.from({ length: 5 }, (_, i) =>
      JSON.stringify({ document: `d${i}`, org: 'o' }),
    ).join('\n');
    const batches = readRecordBatches('-', {
      format: 'jsonl',
      stdin: Readable.from([Buffer.from(text)]),
    });
    const err = await checkDocumentField(batches, { customer_id: 'orgg' }, 'stdin').catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(2);
    expect((err as UsageError).message).toMatch(
      /--map customer_id=orgg: .*fields found: document, org/,
    );
  });
});

describe('checkDocumentField', () => {
  const stdinOf = (text: string) =>
    readRecordBatches('-', { format: 'jsonl', stdin: Readable.from([Buffer.from(text)]) });

  it.each([
    [DOCUMENT_CHECK_RECORDS, 'accepted'],
    [DOCUMENT_CHECK_RECORDS + 1, 'refused'],
  ])(
    'a --map field first seen at record %i is %s: the check looks at exactly the first 1,000',
    async (at, outcome) => {
      const lines = Array.from({ length: DOCUMENT_CHECK_RECORDS + 50 }, (_, i) =>
        JSON.stringify(i + 1 === at ? { document: `d${i}`, org: 'acme' } : { document: `d${i}` }),
      ).join('\n');
      const result = await checkDocumentField(stdinOf(lines), { customer_id: 'org' }, 'stdin')
        .then(async (records) => {
          let n = 0;
          for await (const batch of records) n += batch.length;
          return n;
        })
        .catch((e: unknown) => e);
      if (outcome === 'accepted') expect(result).toBe(DOCUMENT_CHECK_RECORDS + 50);
      else {
        expect(result).toBeInstanceOf(UsageError);
        expect((result as UsageError).message).toMatch(
          /^--map customer_id=org: the first 1000 records of stdin have no "org" \(fields found: document\)$/,
        );
      }
    },
  );

  it('refuses before yielding anything when the first records have no document (exit 2)', async () => {
    const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ text: `t${i}` })).join(
      '\n',
    );
    const err = await checkDocumentField(stdinOf(lines), {}, 'stdin').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(2);
    expect((err as UsageError).message).toMatch(/first 50 records of stdin/);
    expect((err as UsageError).hints).toEqual([
      'Name the field that holds the text, e.g. --map document=text',
    ]);
  });

  it('otherwise passes every record on, in order, the looked-at ones first', async () => {
    const n = DOCUMENT_CHECK_RECORDS * 3 + 7;
    const lines = Array.from({ length: n }, (_, i) =>
      JSON.stringify(i === 0 ? { text: 'no doc' } : { document: `d${i}` }),
    ).join('\n');
    const seen: number[] = [];
    for await (const batch of await checkDocumentField(stdinOf(lines), {}, 'stdin'))
      for (const r of batch) seen.push(r.line);
    expect(seen).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  });
});
