import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fitName } from '../../src/ingest/run-files.js';

describe('fitName: the state, lock and failures files of a long-named input fit the file system', () => {
  it('short names are kept; long ones are cut on a character boundary and end in a hash of the whole', () => {
    expect(fitName('data.jsonl')).toBe('data.jsonl');
    const long = `${'é'.repeat(150)}.jsonl`;
    const fitted = fitName(long);
    expect(Buffer.byteLength(fitted)).toBeLessThanOrEqual(200);
    expect(fitted).toMatch(/^é+-[0-9a-f]{16}$/);
    expect(fitName(long)).toBe(fitted);
    expect(fitName(`${'é'.repeat(150)}.csv`)).not.toBe(fitted);
  });

  it('property: at most 200 bytes of valid UTF-8, the same name every time, different names stay different', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 300 }),
        fc.string(),
        (a, b) => {
          const f = fitName(a);
          expect(Buffer.byteLength(f)).toBeLessThanOrEqual(200);
          expect(Buffer.from(f).toString('utf8')).toBe(f);
          expect(fitName(a)).toBe(f);
          if (a !== b) expect(fitName(b)).not.toBe(f);
        },
      ),
    );
  });
});
