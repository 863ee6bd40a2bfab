import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJsonRecord } from '../../src/ingest/readers/common.js';

/**
 * What JSON.parse accepts but a record must not silently become: a lone UTF-16 surrogate
 * (stored as replacement characters) and an object that repeats a key (all but the last value
 * dropped). Each fails its record alone, its text kept.
 */

const read = (text: string) => parseJsonRecord(text, 'in.jsonl', 3, 'jsonl');

describe('lone surrogates', () => {
  it('a lone high or low surrogate, in a value or a key, fails like invalid UTF-8', () => {
    for (const text of [
      '{"document":"\\ud800"}',
      '{"document":"x\\uDC00y"}',
      '{"document":"ok","metadata":{"k":["\\ud83d"]}}',
      '{"document":"ok","\\udfff":1}',
      '{"document":"\\ude00\\ud83d"}',
    ]) {
      const r = read(text);
      expect(r.parseError, text).toMatchObject({ code: 'PARSE_ERROR', raw: text });
      expect(r.parseError!.message).toMatch(/lone UTF-16 surrogate \(\\u[dD][0-9a-fA-F]{3}\)/);
    }
    expect(read('{"document":"\\ud800"}').parseError!.message).toBe(
      'holds a lone UTF-16 surrogate (\\ud800), which is not a character',
    );
  });

  it('a surrogate pair, a literal backslash-u text and plain text are kept', () => {
    expect(read('{"document":"\\ud83d\\ude00"}').value).toEqual({ document: '😀' });
    expect(read('{"document":"\\\\ud800"}').value).toEqual({ document: '\\ud800' });
    expect(read('{"document":"😀 é"}').value).toEqual({ document: '😀 é' });
  });
});

describe('repeated keys', () => {
  it('an object repeating a key fails, naming the key and where', () => {
    const r = read('{"document":"a","user_id":"u1","user_id":"u2"}');
    expect(r.parseError).toMatchObject({
      code: 'PARSE_ERROR',
      message: 'repeats the key "user_id" in one object (at column 32): keep one',
    });
    expect(read('{"document":"a","metadata":{"k":1,"k":2}}').parseError?.message).toMatch(
      /repeats the key "k"/,
    );
    expect(read('{"document":"a","m":[{"k":1},{"j":1,"j":2}]}').parseError?.message).toMatch(
      /repeats the key "j"/,
    );
    // Spelled differently, the same key.
    expect(read('{"document":"a","\\u0061":1,"a":2}').parseError?.message).toMatch(
      /repeats the key "a"/,
    );
  });

  it('the same key in different objects, colons and quotes inside strings are fine', () => {
    const text = '{"document":"a: \\"b\\": c","m":[{"k":1},{"k":2}],"n":{"k":{"k":3}},"t":"10:30"}';
    expect(read(text).value).toEqual(JSON.parse(text));
  });

  it('property: JSON.stringify output is never refused; adding a repeat always is', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })),
        fc.string(),
        (obj, key) => {
          const text = JSON.stringify({ document: 'd', ...obj });
          const ok = read(text);
          expect(ok.parseError?.message ?? '').not.toMatch(/repeats the key/);
          const twice = `${text.slice(0, -1)},${JSON.stringify(key)}:1,${JSON.stringify(key)}:2}`;
          expect(read(twice).parseError?.message).toMatch(/repeats the key/);
        },
      ),
      { numRuns: 500 },
    );
  });
});
