import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { recordsOf } from '../helpers/reader-files.js';
import type { SourceRecord } from '../../src/ingest/source-record.js';
import { checkReaderOutcome, chunked, generatedInput } from '../helpers/reader-inputs.js';

// Random records in random formats (JSON Lines, CSV, JSON array, gzip of each), cut at a random
// point, with garbage lines, invalid UTF-8 and NUL bytes put in, streamed in random chunk
// sizes: every record is yielded intact or reported as a failure carrying its original text,
// never both, never neither, at the right line.

async function readAll(bytes: Buffer, sizes: number[], format: 'jsonl' | 'csv' | 'json') {
  const out: SourceRecord[] = [];
  const stdin = Readable.from(chunked(bytes, sizes));
  for await (const r of recordsOf('-', { format, stdin })) out.push(r);
  return out;
}

describe('readers: nothing lost, nothing invented (property)', () => {
  it('holds for random inputs, edits, cuts and chunkings', async () => {
    await fc.assert(
      fc.asyncProperty(generatedInput, async (input) => {
        const out = await readAll(input.bytes, input.chunks, input.format);
        const problems = checkReaderOutcome(input, out);
        if (problems.length > 0) {
          throw new Error(
            `${problems.join('\n')}\ninput (${input.format}${input.gzip ? ', gzip' : ''}): ${JSON.stringify(input.plain.toString('latin1'))}\nread: ${JSON.stringify(out)}`,
          );
        }
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 400) },
    );
  }, 120_000);

  it('the checker itself catches a lost record and an invented one', () => {
    const input = fc.sample(
      generatedInput.filter((g) => g.records.some((r) => r.intact)),
      {
        numRuns: 1,
        seed: 7,
      },
    )[0]!;
    const w = input.records.find((r) => r.intact)!;
    expect(checkReaderOutcome(input, [])).not.toEqual([]);
    const invented: SourceRecord = { source: 'stdin', line: w.line, value: { nope: 1 } };
    expect(checkReaderOutcome(input, [invented]).join('\n')).toMatch(/not written/);
  });
});
