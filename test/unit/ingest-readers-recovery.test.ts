import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EXCERPT_BYTES } from '../../src/ingest/readers/common.js';
import { readJsonArray } from '../../src/ingest/readers/json-array.js';
import { readJsonLines } from '../../src/ingest/readers/jsonl.js';
import type { SourceRecord } from '../../src/ingest/source-record.js';

/**
 * A broken `.json` element fails alone and the records after it are read; a record over the
 * size limit fails alone as TOO_LARGE with its line and an excerpt, and the reader goes on.
 * The limit is a parameter so that the tests can use a small one.
 */

function chunked(bytes: Buffer, sizes: number[]): Readable {
  const out: Buffer[] = [];
  let k = 0;
  for (let i = 0; i < bytes.length;) {
    const n = sizes[k++ % sizes.length]!;
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  return Readable.from(out);
}

async function collect(gen: AsyncIterable<SourceRecord[]>): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  for await (const b of gen) out.push(...b);
  return out;
}

const json = (text: string, opts: { after?: number; max?: number; sizes?: number[] } = {}) =>
  collect(
    readJsonArray(
      chunked(Buffer.from(text), opts.sizes ?? [7, 3, 64]),
      'in.json',
      opts.after ?? 0,
      opts.max,
    ),
  );
const jsonl = (text: string, opts: { after?: number; max?: number; sizes?: number[] } = {}) =>
  collect(
    readJsonLines(
      chunked(Buffer.from(text), opts.sizes ?? [7, 3, 64]),
      'in.jsonl',
      opts.after ?? 0,
      undefined,
      opts.max,
    ),
  );

/** [line, value] or [line, code, raw] */
const brief = (rs: SourceRecord[]) =>
  rs.map((r) => (r.parseError ? [r.line, r.parseError.code, r.parseError.raw] : [r.line, r.value]));

describe('.json: one broken element does not swallow the rest', () => {
  it('an unescaped quote in element 2 of 5', async () => {
    const docs = ['one', 'say "hi now', 'three', 'four', 'five'];
    const text = `[${docs.map((d) => `{"document":"${d}"}`).join(',')}]`;
    expect(brief(await json(text))).toEqual([
      [1, { document: 'one' }],
      [1, 'PARSE_ERROR', '{"document":"say "hi now"}'],
      [1, { document: 'three' }],
      [1, { document: 'four' }],
      [1, { document: 'five' }],
    ]);
  });

  it('a stray bracket in a garbage element, pretty-printed and compact', async () => {
    const pretty = '[\n  @a[,\n  {"document":"x"},\n  {"document":"y"}\n]\n';
    expect(brief(await json(pretty))).toEqual([
      [2, 'PARSE_ERROR', '@a['],
      [3, { document: 'x' }],
      [4, { document: 'y' }],
    ]);
    expect(brief(await json('[{"a":{"b":1},{"document":"z"}]'))).toEqual([
      [1, 'PARSE_ERROR', '{"a":{"b":1}'],
      [1, { document: 'z' }],
    ]);
  });

  it('a stray closing bracket that ends the array early: the records after it are still read', async () => {
    const rs = brief(await json('[@]],{"document":"a"},{"document":"b"}]'));
    expect(rs.filter((r) => r[1] !== 'PARSE_ERROR')).toEqual([
      [1, { document: 'a' }],
      [1, { document: 'b' }],
    ]);
    expect(rs.filter((r) => r[1] === 'PARSE_ERROR').map((r) => r[2])).toEqual(['@', ']', ']']);
  });

  it('top-level objects one after another: a broken one is cut at the next line', async () => {
    const text = '{"document":"a "b c"}\n{"document":"next"}\n';
    expect(brief(await json(text))).toEqual([
      [1, 'PARSE_ERROR', '{"document":"a "b c"}'],
      [2, { document: 'next' }],
    ]);
  });

  it('an element broken at the end of the input is still cut', async () => {
    expect(brief(await json('[{"document":"x"y"},{"document":"last"}'))).toEqual([
      [1, 'PARSE_ERROR', '{"document":"x"y"}'],
      [1, { document: 'last' }],
      [1, 'PARSE_ERROR', undefined],
    ]);
  });

  it('a resumed read finds the records after a cut as the first read did', async () => {
    const text =
      '[\n{"document":"a"},\n{"document":"b [ c"x},\n{"document":"d"},\n{"document":"e"}\n]\n';
    const all = brief(await json(text));
    expect(all.map((r) => r[0])).toEqual([2, 3, 4, 5]);
    for (let after = 0; after <= 6; after++) {
      expect(brief(await json(text, { after }))).toEqual(
        all.filter((r) => (r[0] as number) > after),
      );
    }
  });
});

describe('a record over the size limit', () => {
  it('.json: fails as TOO_LARGE with its line and an excerpt; the others are read', async () => {
    const big = 'x'.repeat(5000);
    const text = `[\n{"document":"a"},\n{"document":"${big}"},\n{"document":"c"}\n]\n`;
    const rs = await json(text, { max: 1000, sizes: [100] });
    expect(brief(rs).map((r) => r.slice(0, 2))).toEqual([
      [2, { document: 'a' }],
      [3, 'TOO_LARGE'],
      [4, { document: 'c' }],
    ]);
    const e = rs[1]!.parseError!;
    expect(e.message).toMatch(/^the record is 5,015 bytes, over the 1,000-byte limit/);
    expect(e.raw!.length).toBeLessThanOrEqual(EXCERPT_BYTES);
    expect(`{"document":"${big}"}`.startsWith(e.raw!)).toBe(true);
  });

  it('.json: an element that is too large because it is broken is cut instead', async () => {
    const many = Array.from({ length: 50 }, (_, i) => `{"document":"r${i}"}`).join(',');
    const rs = await json(`[@[,${many}]`, { max: 200, sizes: [64] });
    expect(rs).toHaveLength(51);
    expect(rs[0]!.parseError?.raw).toBe('@[');
    expect(rs.slice(1).map((r) => (r.value as { document: string }).document)).toEqual(
      Array.from({ length: 50 }, (_, i) => `r${i}`),
    );
  });

  it('JSON Lines: fails as TOO_LARGE with its line; the lines around it are read', async () => {
    const big = 'é'.repeat(3000);
    const text = `{"document":"a"}\n{"document":"${big}"}\r\n{"document":"c"}\n{"document":"${big}"}`;
    const rs = await jsonl(text, { max: 1000, sizes: [100, 7] });
    expect(brief(rs).map((r) => r.slice(0, 2))).toEqual([
      [1, { document: 'a' }],
      [2, 'TOO_LARGE'],
      [3, { document: 'c' }],
      [4, 'TOO_LARGE'],
    ]);
    expect(rs[1]!.parseError!.message).toMatch(/^the record is 6,015 bytes/);
    expect(`{"document":"${big}"}`.startsWith(rs[1]!.parseError!.raw!)).toBe(true);
    // In one chunk too.
    const whole = await jsonl(text, { max: 1000, sizes: [1_000_000] });
    expect(brief(whole).map((r) => r.slice(0, 2))).toEqual(brief(rs).map((r) => r.slice(0, 2)));
  });
});

/** Plain text for documents: no quotes, brackets or commas of its own. */
const word = fc.stringMatching(/^[a-z ]{0,12}$/);

type Piece =
  | { kind: 'ok'; document: string }
  | { kind: 'quote'; document: string }
  | { kind: 'garbage'; text: string }
  | { kind: 'huge'; size: number };

const piece: fc.Arbitrary<Piece> = fc.oneof(
  { weight: 6, arbitrary: word.map((document) => ({ kind: 'ok' as const, document })) },
  { weight: 1, arbitrary: word.map((document) => ({ kind: 'quote' as const, document })) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('@[', '@{', '@[[', '@a', '@{[')
      .map((text) => ({ kind: 'garbage' as const, text })),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 400, max: 3000 }).map((size) => ({ kind: 'huge' as const, size })),
  },
);

const MAX = 300;

function textOf(p: Piece, i: number): string {
  if (p.kind === 'ok') return `{"document":"${p.document}","n":${i}}`;
  if (p.kind === 'quote') return `{"document":"${p.document}"x","n":${i}}`;
  if (p.kind === 'garbage') return p.text;
  return `{"document":"${'h'.repeat(p.size)}","n":${i}}`;
}

/**
 * Two faults in a row are one failure (the cut needs a well-formed record after a fault to
 * know where the fault ends), as is garbage at the end of an array: each bad piece here is
 * followed by a good or an oversized record (a broken record may be last).
 */
function separated(pieces: Piece[]): Piece[] {
  return pieces.map((p, i) => {
    const next = pieces[i + 1];
    const bad = (q: Piece | undefined) => q?.kind === 'quote' || q?.kind === 'garbage';
    if (p.kind === 'garbage' && (next === undefined || bad(next)))
      return { kind: 'ok', document: 'g' };
    if (p.kind === 'quote' && bad(next)) return { kind: 'ok', document: p.document };
    return p;
  });
}

describe('property: broken, garbage and oversized records among good ones', () => {
  it('.json and JSON Lines: every good record is read at its line, every bad one fails alone at its line; a resumed read agrees', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(piece, { minLength: 1, maxLength: 12 }).map(separated),
        fc.constantFrom('json', 'jsonl'),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 5 }),
        fc.nat(14),
        async (pieces, format, compact, sizes, after) => {
          // Garbage lines in JSON Lines are their own failures; keep them in both.
          const texts = pieces.map(textOf);
          const sep = format === 'json' ? (compact ? ',' : ',\n') : '\n';
          const body = texts.join(sep);
          const text =
            format === 'json' ? (compact ? `[${body}]` : `[\n${body}\n]\n`) : `${body}\n`;
          const read = format === 'json' ? json : jsonl;
          const rs = await read(text, { max: MAX, sizes });
          const lineOf = (i: number) => (format === 'json' ? (compact ? 1 : i + 2) : i + 1);
          expect(rs.map((r) => r.line)).toEqual(pieces.map((_, i) => lineOf(i)));
          pieces.forEach((p, i) => {
            const r = rs[i]!;
            if (p.kind === 'ok') expect(r.value).toEqual({ document: p.document, n: i });
            else if (p.kind === 'huge') {
              expect(r.parseError?.code).toBe('TOO_LARGE');
              expect(texts[i]!.startsWith(r.parseError!.raw!)).toBe(true);
            } else {
              expect(r.parseError?.code).toBe('PARSE_ERROR');
              expect(r.parseError?.raw).toBe(texts[i]);
            }
          });
          const again = await read(text, { max: MAX, sizes, after });
          expect(brief(again)).toEqual(brief(rs).filter((r) => (r[0] as number) > after));
        },
      ),
      { numRuns: 400 },
    );
  });
});
