import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordsOf } from '../helpers/reader-files.js';
import type { SourceRecord } from '../../src/ingest/source-record.js';
import { parseSrt } from '../../src/ingest/sources/srt.js';
import {
  leadingSpeaker,
  mergeTurns,
  TranscriptError,
  transcriptRecord,
  turnsDocument,
} from '../../src/ingest/sources/transcript.js';
import { cueUtterances, parseWebVtt } from '../../src/ingest/sources/webvtt.js';

import { zipOf } from '../helpers/zip-writer.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'sources', 'transcripts');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

describe('WebVTT', () => {
  it('Teams style: voice tags name the speakers; NOTE/STYLE, ids, timings, settings and tags left out', () => {
    expect(turnsDocument(parseWebVtt(fixture('teams-standup.vtt')))).toBe(
      [
        "Alice Smith: Good morning everyone, let's get started. First item is the launch date.",
        'Bob Jones: I think we can make March & keep the budget <100k>. Assuming the vendor delivers on time.',
        'Carol Wu: Agreed.',
        'Alice Smith: Great, thanks both.',
        'Carol Wu: One more thing: the demo moves to Friday.',
      ].join('\n'),
    );
  });

  it('Zoom style: a leading "Name:" names the speaker; a time or a URL is not a name', () => {
    expect(turnsDocument(parseWebVtt(fixture('zoom-retro.vtt')))).toBe(
      [
        'Dana Lee: Hi all, can you hear me?',
        "Evan Park: Yes, loud and clear. Let's start with what went well. We meet at 10:30 tomorrow for the follow-up.",
        'Dana Lee: Sounds good. Notes are at https://example.org/retro',
      ].join('\n'),
    );
  });

  it('a file without the WEBVTT signature is refused, naming its line', () => {
    expect(() => parseWebVtt('\n\n1\n00:00:01.000 --> 00:00:02.000\nhi\n')).toThrow(
      TranscriptError,
    );
    const thrown = (() => {
      try {
        parseWebVtt('\n\nnope\n');
      } catch (e) {
        return e;
      }
    })();
    expect(thrown).toBeInstanceOf(TranscriptError);
    expect(thrown).toMatchObject({ line: 3, message: expect.stringMatching(/"WEBVTT"/) });
  });

  it('cues before any speaker have none; a cue with two voices gives two utterances', () => {
    expect(cueUtterances('<v A>x</v> <v B>y')).toEqual([
      { speaker: 'A', text: 'x' },
      { speaker: 'B', text: 'y' },
    ]);
    const turns = parseWebVtt(
      'WEBVTT\n\n00:01.000 --> 00:02.000\nno one yet\n\n00:02.000 --> 00:03.000\n<v Ann>hello\n',
    );
    expect(turnsDocument(turns)).toBe('no one yet\nAnn: hello');
  });
});

describe('SRT', () => {
  it('numbers, timings, positions, <i>/<font> tags and {\\an8} left out; CRLF and BOM read', () => {
    expect(turnsDocument(parseSrt(fixture('review.srt')))).toBe(
      [
        'Dr. Ruth Okafor: Welcome to the quarterly review. We have three topics today.',
        'Sam Ito: Can we start with hiring? Yes. Of course.',
        'Dr. Ruth Okafor: Hiring first, then budget & travel.',
      ].join('\n'),
    );
  });

  it('a text with no cue is refused', () => {
    const thrown = (() => {
      try {
        parseSrt('\njust some words\n\nand more\n');
      } catch (e) {
        return e;
      }
    })();
    // The one error class of both transcript formats, naming the line it is about.
    expect(thrown).toBeInstanceOf(TranscriptError);
    expect(thrown).toMatchObject({
      line: 2,
      message: 'not an SRT file: no cue with a timing line',
    });
  });
});

describe('transcripts in a zip', () => {
  it("an entry's own time dates the meeting (with the warning); an entry without one is not dated", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'synap-vtt-zip-'));
    try {
      const at = new Date(2023, 5, 1, 10, 0, 0);
      const zip = join(dir, 'meetings.zip');
      writeFileSync(
        zip,
        zipOf([
          { name: 'a/standup.vtt', data: fixture('teams-standup.vtt'), modified: at },
          { name: 'b/review.srt', data: fixture('review.srt') },
        ]),
      );
      const warnings: string[] = [];
      const got: SourceRecord[] = [];
      for await (const r of recordsOf(zip, { onWarning: (w) => warnings.push(w.code) }))
        got.push(r);
      expect(
        got.map((r) => (r.value as { document_created_at?: string }).document_created_at),
      ).toEqual([at.toISOString(), undefined]);
      expect(warnings).toEqual(['CREATED_AT_FROM_FILE', 'NO_CREATED_AT']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('turns and records', () => {
  it('consecutive utterances of one speaker merge; unnamed ones keep the last speaker', () => {
    expect(
      mergeTurns([
        { text: 'intro' },
        { speaker: 'A', text: 'one\ntwo' },
        { text: 'three' },
        { speaker: 'B', text: 'four' },
        { speaker: 'B', text: '  ' },
        { speaker: 'A', text: 'five' },
      ]),
    ).toEqual([
      { text: 'intro' },
      { speaker: 'A', text: 'one two three' },
      { speaker: 'B', text: 'four' },
      { speaker: 'A', text: 'five' },
    ]);
  });

  it('leading names: words and initials, not sentences, times or URLs', () => {
    expect(leadingSpeaker('Mary-Jane O’Neil: hi')).toEqual({
      speaker: 'Mary-Jane O’Neil',
      text: 'hi',
    });
    expect(leadingSpeaker('at 10:30 we go')).toEqual({ text: 'at 10:30 we go' });
    expect(leadingSpeaker('see https://x.org')).toEqual({ text: 'see https://x.org' });
    expect(leadingSpeaker('this sentence is far too long to be a name: no')).toEqual({
      text: 'this sentence is far too long to be a name: no',
    });
  });

  it('the record: meeting-transcript, an id from the turns (not the time), speakers in metadata', () => {
    const turns = parseWebVtt(fixture('zoom-retro.vtt'));
    const a = transcriptRecord(turns, {
      source: 'vtt',
      file: 'zoom-retro.vtt',
      createdAt: '2024-05-01T09:00:00.000Z',
    });
    const b = transcriptRecord(turns, { source: 'vtt', file: 'copy.vtt' });
    expect(a).toEqual({
      document: turnsDocument(turns),
      document_type: 'meeting-transcript',
      document_id: expect.stringMatching(/^transcript:sha256-[0-9a-f]{40}$/) as unknown as string,
      document_created_at: '2024-05-01T09:00:00.000Z',
      metadata: { source: 'vtt', file: 'zoom-retro.vtt', speakers: ['Dana Lee', 'Evan Park'] },
    });
    expect(b!.document_id).toBe(a!.document_id);
    expect(transcriptRecord([], { source: 'srt', file: 'x.srt' })).toBeUndefined();
  });
});
