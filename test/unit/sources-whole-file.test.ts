import { describe, expect, it } from 'vitest';
import type { SourceRecord } from '../../src/ingest/source-record.js';
import { readEml } from '../../src/ingest/sources/eml.js';
import { readNote } from '../../src/ingest/sources/notes.js';
import { readSrt } from '../../src/ingest/sources/srt.js';
import { readWebVtt } from '../../src/ingest/sources/webvtt.js';

const MB = 1024 * 1024;

/** `total` bytes in 1 MB chunks that start with `head` (the same chunk, so no copies). */
async function* bigInput(head: string, total: number): AsyncGenerator<Buffer> {
  const first = Buffer.alloc(MB, 'a');
  first.write(head);
  yield first;
  const rest = Buffer.alloc(MB, 'a');
  for (let sent = MB; sent < total; sent += MB) yield rest;
}

async function records(gen: AsyncIterable<SourceRecord[]>): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  for await (const batch of gen) out.push(...batch);
  return out;
}

const ctx = (source: string) => ({ source, startAfterLine: 0 });

describe('a source read whole', () => {
  it('fails when larger than 64 MB, keeping its first 64 KB', async () => {
    const cases: [
      string,
      Promise<AsyncIterable<SourceRecord[]>> | AsyncIterable<SourceRecord[]>,
    ][] = [
      ['larger than 64 MB: not read as a note', readNote(bigInput('# n\n', 65 * MB), ctx('n.md'))],
      [
        'larger than 64 MB: not read as a transcript',
        readWebVtt(bigInput('WEBVTT\n\n', 65 * MB), ctx('a.vtt')),
      ],
      [
        'larger than 64 MB: not read as a transcript',
        readSrt(bigInput('1\n', 65 * MB), ctx('a.srt')),
      ],
      [
        'the message is larger than 64 MB; only its beginning is kept',
        readEml('a.eml', bigInput('Subject: x\n\n', 65 * MB)),
      ],
    ];
    for (const [message, gen] of cases) {
      const got = await records(await gen);
      expect(got).toHaveLength(1);
      expect(got[0]!.line).toBe(1);
      expect(got[0]!.parseError?.message).toBe(message);
      expect(got[0]!.parseError?.raw).toHaveLength(64 * 1024);
    }
  });

  it('reads a file of exactly 64 MB', async () => {
    const got = await records(await readNote(bigInput('# n\n', 64 * MB), ctx('n.md')));
    expect(got).toHaveLength(1);
    expect(got[0]!.parseError).toBeUndefined();
    expect((got[0]!.value as { document: string }).document).toHaveLength(64 * MB);
  });
});
