import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMapper, type MapResult } from '../../src/ingest/mapper.js';
import { readDelimited } from '../../src/ingest/readers/csv.js';
import { readJsonArray } from '../../src/ingest/readers/json-array.js';
import { readJsonLines } from '../../src/ingest/readers/jsonl.js';
import type { SourceRecord } from '../../src/ingest/source-record.js';

/**
 * Keys that are names of Object.prototype's properties (`constructor`, `valueOf`, `__proto__`,
 * `toString`…) are data like any other: each reaches the request body under its own name, and
 * two records that differ only in them get different ids.
 */

const INHERITED = Object.getOwnPropertyNames(Object.prototype);

async function collect(gen: AsyncIterable<SourceRecord[]>): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  for await (const batch of gen) out.push(...batch);
  return out;
}

const csvField = (v: string) => `"${v.replace(/"/g, '""')}"`;

const bytes = (text: string) => Readable.from([Buffer.from(text)]);

function request(r: MapResult) {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.request;
}

/** The body as it goes on the wire, read back. */
const wire = (r: MapResult) =>
  JSON.parse(JSON.stringify(request(r))) as { metadata: Record<string, unknown> };

describe('keys named like Object.prototype properties', () => {
  it('JSON Lines: constructor and valueOf go into metadata; the ids differ', async () => {
    const text =
      '{"document":"order note","constructor":"Alice","valueOf":"ticket-1"}\n' +
      '{"document":"order note","constructor":"Bob","valueOf":"ticket-2"}\n';
    const records = await collect(readJsonLines(bytes(text), 'in.jsonl'));
    const map = createMapper();
    const [a, b] = records.map(map);
    expect(wire(a!).metadata).toEqual({ constructor: 'Alice', valueOf: 'ticket-1' });
    expect(wire(b!).metadata).toEqual({ constructor: 'Bob', valueOf: 'ticket-2' });
    expect(request(a!).document_id).not.toBe(request(b!).document_id);
  });

  it('a __proto__ object stays under its own name, its keys do not move up a level', async () => {
    const text = '[{"document":"x","__proto__":{"a":1},"metadata":{"__proto__":{"b":2}}}]';
    const [r] = await collect(readJsonArray(bytes(text), 'in.json'));
    const body = JSON.stringify(request(createMapper()(r!)).metadata);
    const back = JSON.parse(body) as Record<string, unknown>;
    expect(Object.keys(back).sort()).toEqual(['__proto__']);
    // The record's own metadata wins over a top-level field of the same name, as for any key.
    expect(body).toBe('{"__proto__":{"b":2}}');
  });

  it('a top-level __proto__ field reaches metadata when the record has no metadata of that name', async () => {
    const text = '{"document":"x","__proto__":{"a":1},"toString":"t"}\n';
    const [r] = await collect(readJsonLines(bytes(text), 'in.jsonl'));
    const body = JSON.stringify(request(createMapper()(r!)).metadata);
    expect(JSON.parse(body)).toEqual(JSON.parse('{"__proto__":{"a":1},"toString":"t"}'));
    expect(body).not.toContain('"a":1,');
  });

  it('CSV columns named __proto__ and toString are kept', async () => {
    const text = 'document,__proto__,toString,hasOwnProperty\nhello,p1,t1,h1\nhello,p2,t2,h2\n';
    const records = await collect(readDelimited(bytes(text), 'in.csv', 'csv'));
    const map = createMapper();
    const [a, b] = records.map(map);
    expect(JSON.stringify(wire(a!).metadata)).toBe(
      '{"__proto__":"p1","toString":"t1","hasOwnProperty":"h1"}',
    );
    expect(request(a!).document_id).not.toBe(request(b!).document_id);
  });

  it('--map may name such a field; a record without it does not read the inherited one', async () => {
    const text = '{"constructor":"text one"}\n{"body":"text two"}\n';
    const records = await collect(readJsonLines(bytes(text), 'in.jsonl'));
    const byConstructor = createMapper({ map: { document: 'constructor' } });
    expect(request(byConstructor(records[0]!)).document).toBe('text one');
    const byBody = createMapper({ map: { document: 'body', user_id: 'toString' } });
    expect(request(byBody(records[1]!)).user_id).toBeNull();
    const missing = byConstructor(records[1]!);
    expect(missing.ok).toBe(false);
  });

  it('property: random inherited names as keys, at the top level and in metadata, survive to the body', async () => {
    const key = fc.constantFrom(...INHERITED);
    const fields = fc.dictionary(key, fc.string({ maxLength: 6 }), { minKeys: 1, maxKeys: 6 });
    await fc.assert(
      fc.asyncProperty(
        fields,
        fields,
        fc.constantFrom('jsonl', 'json', 'csv'),
        async (top, nested, format) => {
          // Written as text by hand (JSON.stringify of a dictionary holding __proto__ would drop it).
          const entries = (o: Record<string, string>) =>
            Object.keys(o).map((k) => `${JSON.stringify(k)}:${JSON.stringify(o[k])}`);
          let records: SourceRecord[];
          let expected: Map<string, string>;
          if (format === 'csv') {
            const cols = Object.keys(top);
            const text = `document,${cols.join(',')}\nhi,${cols.map((c) => csvField(top[c]!)).join(',')}\n`;
            records = await collect(readDelimited(bytes(text), 'in.csv', 'csv'));
            expected = new Map(cols.filter((c) => top[c] !== '').map((c) => [c, top[c]!]));
          } else {
            const obj = `{"document":"hi",${[...entries(top), `"metadata":{${entries(nested).join(',')}}`].join(',')}}`;
            records =
              format === 'jsonl'
                ? await collect(readJsonLines(bytes(`${obj}\n`), 'in.jsonl'))
                : await collect(readJsonArray(bytes(`[${obj}]`), 'in.json'));
            // The record's own metadata wins over a top-level field of the same name.
            expected = new Map(Object.entries(top));
            for (const k of Object.keys(nested)) expected.set(k, nested[k]!);
          }
          const body = JSON.parse(JSON.stringify(request(createMapper()(records[0]!)))) as {
            metadata: Record<string, unknown>;
          };
          const got = new Map(Object.entries(body.metadata));
          expect(got).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: records differing only in an inherited-name field get different ids', () => {
    const key = fc.constantFrom(...INHERITED);
    fc.assert(
      fc.property(key, fc.string(), fc.string(), (k, v1, v2) => {
        fc.pre(v1 !== v2);
        const parse = (v: string) =>
          JSON.parse(`{"document":"same",${JSON.stringify(k)}:${JSON.stringify(v)}}`) as unknown;
        const map = createMapper();
        const a = request(map({ source: 's', line: 1, value: parse(v1) }));
        const b = request(map({ source: 's', line: 2, value: parse(v2) }));
        expect(a.document_id).not.toBe(b.document_id);
      }),
      { numRuns: 300 },
    );
  });
});
