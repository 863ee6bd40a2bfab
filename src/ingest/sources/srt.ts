import type { FormatReadContext } from '../formats/spec.js';
import type { RecordBatch } from '../source-record.js';
import { readTranscript } from './transcript-reader.js';
import {
  blocks,
  decodeEntities,
  leadingSpeaker,
  mergeTurns,
  TranscriptError,
  type Turn,
  type Utterance,
} from './transcript.js';

const TIMING = /^\s*\d+:\d{2}:\d{2}[,.]\d{1,3}\s*-->\s*\d+:\d{2}:\d{2}[,.]\d{1,3}/;

/** A cue's text without its styling: HTML-like tags (`<i>`, `<font …>`) and ASS overrides (`{\an8}`). */
export function srtCueText(lines: string[]): string {
  return decodeEntities(
    lines
      .join('\n')
      .replace(/<\/?[a-z][^>]*>/gi, '')
      .replace(/\{\\[^}]*\}/g, ''),
  );
}

/**
 * An SRT file → speaker turns. A cue is a block with a timing line (`00:00:01,000 --> …`),
 * usually after its number; its text lines follow. Numbers, timings and styling are left out;
 * a speaker comes from a leading `Name:`. A line starting with `- ` (two speakers in one cue)
 * is an utterance of its own. A file with no cue at all is refused with a TranscriptError.
 */
export function parseSrt(text: string): Turn[] {
  const utterances: Utterance[] = [];
  let cues = 0;
  const bs = blocks(text);
  for (const b of bs) {
    const t = b.lines.findIndex((l) => TIMING.test(l));
    if (t < 0 || t > 1) continue;
    cues++;
    const body = srtCueText(b.lines.slice(t + 1));
    const dialogue = body.split('\n').every((l) => /^\s*-\s/.test(l)) && body.includes('\n');
    const pieces = dialogue ? body.split('\n').map((l) => l.replace(/^\s*-\s+/, '')) : [body];
    for (const p of pieces) utterances.push(leadingSpeaker(p.trim()));
  }
  if (cues === 0)
    throw new TranscriptError('not an SRT file: no cue with a timing line', bs[0]?.line ?? 1);
  return mergeTurns(utterances);
}

/** The `srt` format's reader: one meeting-transcript document per file. */
export async function readSrt(
  bytes: AsyncIterable<Buffer>,
  ctx: FormatReadContext,
): Promise<AsyncGenerator<RecordBatch>> {
  return readTranscript('srt', parseSrt, bytes, ctx);
}
