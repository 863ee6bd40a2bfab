import { constants, gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import type { SourceRecord } from '../../src/ingest/source-record.js';

/**
 * Generated inputs for property tests of the readers (and, through the CLI, of resume): random
 * records written as JSON Lines, CSV or a JSON array, optionally gzipped, with random edits
 * (garbage lines, invalid UTF-8, NUL bytes inside a record) and a random cut point. Each
 * input knows, for every record whose text made it into the bytes, that text and the line it
 * starts on, so a test can check the invariant with checkReaderOutcome.
 */

type GenFormat = 'jsonl' | 'csv' | 'json';

interface WrittenRecord {
  /** The record as generated (what a reader must give back when it is intact). */
  value: Record<string, unknown>;
  /** Its bytes as they are in the input (after edits and the cut), without the line end. */
  text: Buffer;
  /** 1-based line its first byte is on. */
  line: number;
  /** Byte offset of its first byte in `plain`. */
  offset: number;
  /** Its text is exactly as serialized (no edit, not cut). */
  intact: boolean;
  /** The cut went through it (its text is a prefix of what was serialized). */
  cut: boolean;
}

export interface GeneratedInput {
  format: GenFormat;
  gzip: boolean;
  /** The compressed stream was cut too: what follows the cut is unreadable. */
  gzipCut: boolean;
  /** What the reader reads. */
  bytes: Buffer;
  /** The same bytes before gzip (for messages). */
  plain: Buffer;
  records: WrittenRecord[];
  /** Sizes to split `bytes` into when streamed (chunk boundaries anywhere). */
  chunks: number[];
}

type Edit =
  | { kind: 'garbage'; before: number; text: string }
  | { kind: 'bad-utf8'; record: number; bytes: number[] }
  | { kind: 'nul'; record: number };

const INVALID_UTF8: number[][] = [
  [0xff],
  [0x80],
  [0xc3], // a lead byte without its continuation
  [0xc0, 0xaf], // overlong
  [0xed, 0xa0, 0x80], // a UTF-16 surrogate encoded
  [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
];

const wellFormed = (maxLength: number) => fc.string({ unit: 'grapheme', maxLength });

/** Text a CSV value may hold: anything, including delimiters, quotes and line breaks. */
const csvText = fc.oneof(
  wellFormed(12),
  fc
    .array(fc.constantFrom('a', 'é', ',', '"', '\n', '\r\n', '\r', ' ', '😀', '\uFFFD', 'x'), {
      maxLength: 8,
    })
    .map((a) => a.join('')),
);

function recordArb(format: GenFormat, columns: string[]): fc.Arbitrary<Record<string, unknown>> {
  if (format === 'csv') {
    return fc
      .tuple(csvText, fc.array(csvText, { minLength: columns.length, maxLength: columns.length }))
      .map(([document, rest]) => {
        const out: Record<string, unknown> = { document };
        columns.forEach((c, i) => (out[c] = rest[i]!));
        return out;
      });
  }
  return fc.record(
    {
      document: fc.string({ unit: 'binary', maxLength: 16 }),
      user_id: fc.string({ maxLength: 6 }),
      metadata: fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }), {
        maxKeys: 3,
      }),
      n: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
    },
    { requiredKeys: ['document'] },
  );
}

/**
 * Garbage that never parses as a record: it starts with '@', and holds no character that
 * would make a row (CSV: no delimiter or quote) or an object (JSON array: no braces or commas).
 */
function garbageArb(format: GenFormat): fc.Arbitrary<string> {
  const chars =
    format === 'jsonl'
      ? ['a', '{', '}', '[', ']', '"', ',', ':', ' ', '\\', 'é', '1']
      : format === 'csv'
        ? ['a', '{', '}', ' ', ';', 'é', '1', '\\', "'"]
        : ['a', '[', ']', ':', ' ', 'é', '1'];
  return fc.array(fc.constantFrom(...chars), { maxLength: 10 }).map((a) => `@${a.join('')}`);
}

function csvField(v: string): string {
  return /[",\r\n]/.test(v) || v === '' ? `"${v.replace(/"/g, '""')}"` : v;
}

/** Lines of `b[0..end)`: 1 + line breaks (CR, LF and CRLF each one for CSV; LF for JSON). */
function lineAt(b: Buffer, end: number, format: GenFormat): number {
  let line = 1;
  for (let i = 0; i < end; i++) {
    const c = b[i];
    if (c === 10) line += 1;
    else if (c === 13 && format === 'csv' && b[i + 1] !== 10) line += 1;
  }
  return line;
}

export const generatedInput: fc.Arbitrary<GeneratedInput> = fc
  .record({
    format: fc.constantFrom<GenFormat>('jsonl', 'csv', 'json'),
    columns: fc.uniqueArray(fc.constantFrom('user_id', 'priority', 'note', 'x y'), {
      minLength: 1,
      maxLength: 3,
    }),
    crlf: fc.boolean(),
    compact: fc.boolean(),
    gzip: fc.boolean(),
  })
  .chain((shape) =>
    fc.record({
      shape: fc.constant(shape),
      values: fc.array(recordArb(shape.format, shape.columns), { maxLength: 10 }),
      edits: fc.array(
        fc.oneof(
          fc.record({
            kind: fc.constant('garbage' as const),
            before: fc.nat(12),
            text: garbageArb(shape.format),
          }),
          fc.record({
            kind: fc.constant('bad-utf8' as const),
            record: fc.nat(12),
            bytes: fc.constantFrom(...INVALID_UTF8),
          }),
          fc.record({ kind: fc.constant('nul' as const), record: fc.nat(12) }),
        ),
        { maxLength: 3 },
      ),
      cut: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { freq: 2 }),
      gzipCut: fc.option(fc.double({ min: 0.1, max: 0.95, noNaN: true }), { freq: 5 }),
      chunkSizes: fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }),
    }),
  )
  .map(({ shape, values, edits, cut, gzipCut, chunkSizes }) =>
    build(shape, values, edits as Edit[], cut, gzipCut, chunkSizes),
  );

function build(
  shape: { format: GenFormat; columns: string[]; crlf: boolean; compact: boolean; gzip: boolean },
  generated: Record<string, unknown>[],
  edits: Edit[],
  cutAt: number | null,
  gzipCutAt: number | null,
  chunkSizes: number[],
): GeneratedInput {
  const { format } = shape;
  const eol = shape.crlf ? '\r\n' : '\n';
  // Records that differ, so each can be told from the others by value.
  const values: Record<string, unknown>[] = generated.map((v, i) => ({
    ...v,
    document_id: `r${i}`,
  }));
  const pieces: { text: Buffer; record?: number }[] = [];
  const sep = (s: string) => pieces.push({ text: Buffer.from(s) });
  const header = ['document_id', 'document', ...shape.columns];
  if (format === 'csv') sep(`${header.map(csvField).join(',')}${eol}`);
  if (format === 'json') sep(shape.compact ? '[' : `[${eol}`);
  const garbageBefore = (i: number) => {
    for (const e of edits) {
      if (e.kind !== 'garbage' || e.before !== i) continue;
      // In a JSON array, garbage is its own element; elsewhere, its own line.
      sep(format === 'json' ? `${e.text},${eol}` : `${e.text}${eol}`);
    }
  };
  values.forEach((v, i) => {
    garbageBefore(i);
    let text =
      format === 'csv'
        ? Buffer.from(header.map((h) => csvField(String(v[h] ?? ''))).join(','))
        : Buffer.from(JSON.stringify(v));
    let badUtf8 = false;
    for (const e of edits) {
      if (e.kind === 'garbage' || e.record !== i) continue;
      // One invalid sequence per record: two put side by side can make a valid character
      // (0xC3 then 0x80 is "À"), and the record would not be one that must fail.
      if (e.kind === 'bad-utf8' && badUtf8) continue;
      if (e.kind === 'bad-utf8') badUtf8 = true;
      // Inside the document's text, so this record is the one that must fail.
      const at = documentOffset(text, format);
      const insert = e.kind === 'nul' ? Buffer.from([0]) : Buffer.from(e.bytes);
      text = Buffer.concat([text.subarray(0, at), insert, text.subarray(at)]);
    }
    pieces.push({ text, record: i });
    const last = i === values.length - 1;
    if (format === 'json') sep(last ? '' : shape.compact ? ',' : `,${eol}`);
    else sep(eol);
  });
  garbageBefore(values.length);
  if (format === 'json') sep(shape.compact ? ']' : `${eol}]${eol}`);

  let plain = Buffer.concat(pieces.map((p) => p.text));
  const cut = cutAt === null ? plain.length : Math.floor(cutAt * plain.length);
  plain = plain.subarray(0, cut);
  const records: WrittenRecord[] = [];
  let offset = 0;
  for (const [k, p] of pieces.entries()) {
    const start = offset;
    offset += p.text.length;
    if (p.record === undefined || start >= cut) continue;
    // A CSV row whose line end the cut went through is cut too (CRLF cut to CR reads as text).
    const eolCut = format === 'csv' && cut < offset + (pieces[k + 1]?.text.length ?? 0);
    const end = Math.min(offset, cut);
    const v = values[p.record]!;
    const serialized =
      format === 'csv'
        ? Buffer.from(header.map((h) => csvField(String(v[h] ?? ''))).join(','))
        : Buffer.from(JSON.stringify(v));
    const text = p.text.subarray(0, end - start);
    records.push({
      value: format === 'csv' ? v : (JSON.parse(JSON.stringify(v)) as Record<string, unknown>),
      text,
      line: lineAt(plain, start, format),
      offset: start,
      intact: text.equals(serialized),
      cut: end < offset || eolCut,
    });
  }
  let bytes = plain;
  if (shape.gzip) {
    bytes = gzipSync(plain);
    if (gzipCutAt !== null) bytes = bytes.subarray(0, Math.floor(gzipCutAt * bytes.length));
  }
  return {
    format,
    gzip: shape.gzip,
    gzipCut: shape.gzip && gzipCutAt !== null,
    bytes,
    plain,
    records,
    chunks: chunkSizes,
  };
}

/** Where a record's document text starts (just inside its quotes, or its CSV field). */
function documentOffset(text: Buffer, format: GenFormat): number {
  if (format === 'csv') {
    // document_id (r<n>, never quoted) then the document field.
    const comma = text.indexOf(0x2c);
    return text[comma + 1] === 0x22 ? comma + 2 : comma + 1;
  }
  const key = text.indexOf('"document":"');
  return key + '"document":"'.length;
}

/** Splits bytes into chunks of the given sizes (cycling), as a stream would deliver them. */
export function chunked(bytes: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length]!;
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}

/**
 * The bytes a failure carries: its exact bytes when given, else its text. A value that is not
 * an object is a failure too (the mapper refuses it, keeping its JSON text).
 */
function failureBytes(r: SourceRecord): Buffer | undefined {
  const pe = r.parseError;
  if (!pe) {
    const v = r.value;
    const isObject = typeof v === 'object' && v !== null && !Array.isArray(v);
    return isObject ? undefined : Buffer.from(JSON.stringify(v) ?? '');
  }
  if (pe.rawBase64 !== undefined) return Buffer.from(pe.rawBase64, 'base64');
  return pe.raw === undefined ? undefined : Buffer.from(pe.raw);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) =>
    deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

/**
 * The readers' invariant: every record whose text is in the input is either yielded intact
 * (deep-equal, at its line) or reported as a failure carrying its original text (at its line,
 * or — where one failure holds several records' text — at an earlier line); never both,
 * never neither; nothing is yielded that was not written. Returns the violations (empty: ok).
 *
 * Two limits of the formats are allowed for: a CSV row cut without a line end reads as a
 * shorter row (CSV has no end marker), and after a cut gzip stream the rest is one failure
 * whose text cannot be decoded.
 */
export function checkReaderOutcome(input: GeneratedInput, out: SourceRecord[]): string[] {
  const problems: string[] = [];
  const used = new Set<SourceRecord>();
  const gzipFailure = out.find((r) => r.parseError && /gzip/.test(r.parseError.message));
  // What of a cut gzip stream can be decoded at all; records past it are in no failure's text.
  const decoded = input.gzipCut
    ? gunzipSync(input.bytes, { finishFlush: constants.Z_SYNC_FLUSH }).length
    : input.plain.length;
  for (let i = 1; i < out.length; i++)
    if (out[i]!.line < out[i - 1]!.line) problems.push(`lines out of order at ${i}`);
  for (const [k, w] of input.records.entries()) {
    const next = input.records[k + 1];
    // CSV has no end marker: a row cut without its line end (by the cut, or where a cut gzip
    // stream stops decoding) reads as a shorter row.
    const atGzipCut =
      input.gzipCut &&
      gzipFailure !== undefined &&
      (w.offset + w.text.length > decoded ||
        w.line >= gzipFailure.line ||
        // the last record before the failure: the stream may stop anywhere in it
        next === undefined ||
        next.line >= gzipFailure.line);
    const csvTail = input.format === 'csv' && (w.cut || atGzipCut);
    const id = `record at line ${w.line} (${JSON.stringify(w.text.toString('utf8')).slice(0, 80)})`;
    const yielded = out.filter(
      (r) => !r.parseError && r.line === w.line && (deepEqual(r.value, w.value) || csvTail),
    );
    const failed = out.filter((r) => {
      const b = failureBytes(r);
      if (b === undefined || w.text.length === 0 || r.line > w.line) return false;
      // After a cut gzip stream, the record the cut went through fails with what was decoded
      // (only a record reaching past what can be decoded: several JSON array records share a
      // line, and the cut one's start may equal an earlier one's).
      if (
        input.gzipCut &&
        r.line === w.line &&
        w.offset + w.text.length > decoded &&
        b.length > 0 &&
        w.text.subarray(0, b.length).equals(b)
      )
        return true;
      return b.includes(w.text);
    });
    // Not wholly decodable: the gzip failure stands for it (its start may have been given too).
    const lostToGzip = atGzipCut;
    for (const r of yielded) used.add(r);
    for (const r of failed) used.add(r);
    if (yielded.length > 0 && !w.intact && !csvTail)
      problems.push(`${id}: yielded although its text was changed`);
    if (yielded.length > 1) problems.push(`${id}: yielded ${yielded.length} times`);
    if (yielded.length > 0 && failed.length > 0) problems.push(`${id}: both yielded and failed`);
    if (yielded.length === 0 && failed.length === 0 && !lostToGzip && w.text.length > 0)
      problems.push(`${id}: neither yielded nor in a failure`);
    for (const r of failed) {
      const b = failureBytes(r)!;
      if (b.subarray(0, w.text.length).equals(w.text) && r.line !== w.line)
        problems.push(`${id}: its failure says line ${r.line}`);
    }
  }
  for (const r of out) {
    // A scalar or array is not a record: the mapper fails it, keeping its JSON text.
    const isObject = typeof r.value === 'object' && r.value !== null && !Array.isArray(r.value);
    if (!r.parseError && !used.has(r) && isObject)
      problems.push(
        `yielded at line ${r.line} a record that was not written: ${JSON.stringify(r.value)}`,
      );
  }
  return problems;
}
