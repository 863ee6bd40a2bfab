import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arrayElementSpans } from '../../src/client/json-spans.js';

/** The byte slices a result points at, as text. */
function slices(text: string, key: string | null): string[] | undefined {
  const bytes = Buffer.from(text, 'utf8');
  const spans = arrayElementSpans(bytes, key);
  if (!spans) return undefined;
  const out: string[] = [];
  for (let i = 0; i < spans.length; i += 2) {
    out.push(bytes.subarray(spans[i], spans[i + 1]).toString('utf8'));
  }
  return out;
}

describe('arrayElementSpans', () => {
  it('finds each element of the named array, byte for byte as written', () => {
    const text =
      '{"total": 3, "data": [ {"n": 12345678901234567890, "f": 1.0},{"s":"a\\"],}{"} ,\t{"e":"\\u00e9 é ☕"} ], "page":1}';
    expect(slices(text, 'data')).toEqual([
      '{"n": 12345678901234567890, "f": 1.0}',
      '{"s":"a\\"],}{"}',
      '{"e":"\\u00e9 é ☕"}',
    ]);
  });

  it('reads a bare top-level array and an empty one', () => {
    expect(slices(' [1, "two", {"x": [3]} ] ', null)).toEqual(['1', '"two"', '{"x": [3]}']);
    expect(slices('{"data": []}', 'data')).toEqual([]);
  });

  it('skips other keys whatever their values hold', () => {
    const text = '{"meta": {"data": [9, 9]}, "list": ["data", "]"], "data": [{"a": "\\\\"}]}';
    expect(slices(text, 'data')).toEqual(['{"a": "\\\\"}']);
  });

  it('refuses what it cannot vouch for, so the caller re-serialises instead', () => {
    // A pretty-printed element would break its JSON Lines line.
    expect(slices('{"data": [{\n"a": 1}]}', 'data')).toBeUndefined();
    expect(slices('{"data": [{"a":\r1}]}', 'data')).toBeUndefined();
    // Line breaks between elements are harmless.
    expect(slices('{"data": [\n  {"a": 1},\n  {"b": 2}\n]\n}', 'data')).toEqual([
      '{"a": 1}',
      '{"b": 2}',
    ]);
    // JSON.parse keeps the last of two keys; an escaped key may spell the wanted one.
    expect(slices('{"data": [1], "data": [2]}', 'data')).toBeUndefined();
    expect(slices('{"d\\u0061ta": [1]}', 'data')).toBeUndefined();
    expect(slices('{"items": [1]}', 'data')).toBeUndefined();
    // Invalid UTF-8 is written the way the parsed text has it (U+FFFD), never passed on raw.
    const bad = Buffer.concat([
      Buffer.from('{"data": ["'),
      Buffer.from([0xff]),
      Buffer.from('"]}'),
    ]);
    expect(arrayElementSpans(bad, 'data')).toBeUndefined();
  });

  it('property: the slices parse to exactly the elements JSON.parse finds', () => {
    const spaces = fc.constantFrom('', ' ', '  ', '\t', '\n', ' \r\n ');
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue(), { maxLength: 8 }),
        fc.dictionary(
          fc.string().filter((k) => k !== 'data'),
          fc.jsonValue(),
          { maxKeys: 3 },
        ),
        fc.array(spaces, { minLength: 8, maxLength: 8 }),
        fc.boolean(),
        (elements, others, ws, prettyElements) => {
          const body = prettyElements
            ? JSON.stringify(elements, null, 1)
            : `[${ws[0]}${elements.map((e) => JSON.stringify(e)).join(`${ws[1]},${ws[2]}`)}${ws[3]}]`;
          const text = `{${ws[4]}${Object.entries(others)
            .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)},`)
            .join(ws[5])}${ws[6]}"data"${ws[7]}:${body}}`;
          const parsed = JSON.parse(text) as { data: unknown[] };
          const got = slices(text, 'data');
          if (got === undefined) {
            // Only a line break inside an element, or a key spelled with escapes, refuses.
            const escapedKey = Object.keys(others).some((k) => JSON.stringify(k).includes('\\'));
            expect(prettyElements || escapedKey).toBe(true);
            return;
          }
          expect(got.length).toBe(parsed.data.length);
          expect(got.map((s) => JSON.parse(s) as unknown)).toEqual(parsed.data);
          for (const s of got) expect(s).not.toMatch(/[\r\n]/);
        },
      ),
      { numRuns: 500 },
    );
  });
});
