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

const TIMING = /^\s*(?:\d+:)?\d{2}:\d{2}\.\d{3}\s+-->\s+(?:\d+:)?\d{2}:\d{2}\.\d{3}(?:\s|$)/;

/**
 * A cue's payload → utterances. `<v Name>` (with classes: `<v.loud Name>`) starts a voice span
 * until `</v>` or the next `<v …>`; text outside a voice span has no speaker from a tag and may
 * name one with a leading `Name:`. Every other tag (`<c>`, `<i>`, `<b>`, `<u>`, `<ruby>`, `<rt>`,
 * `<lang>`, timestamps) is dropped and its text kept; character references are decoded.
 */
export function cueUtterances(payload: string): Utterance[] {
  const out: Utterance[] = [];
  let speaker: string | undefined;
  let text = '';
  const flush = () => {
    if (text.trim()) {
      if (speaker !== undefined) out.push({ speaker, text });
      else out.push(leadingSpeaker(text.trim()));
    }
    text = '';
  };
  const re = /<([^>]*)>/g;
  let at = 0;
  for (let m = re.exec(payload); m; m = re.exec(payload)) {
    text += decodeEntities(payload.slice(at, m.index));
    at = m.index + m[0].length;
    const tag = m[1]!;
    const voice = /^v(?:\.[^\s>]*)?(?:[ \t]+([^>]*))?$/.exec(tag);
    if (voice) {
      flush();
      const name = decodeEntities(voice[1] ?? '').trim();
      speaker = name || undefined;
    } else if (/^\/v\s*$/.test(tag)) {
      flush();
      speaker = undefined;
    }
  }
  text += decodeEntities(payload.slice(at));
  flush();
  return out;
}

/**
 * A WebVTT file (W3C WebVTT) → speaker turns. The `WEBVTT` signature is required; the header,
 * `NOTE`, `STYLE` and `REGION` blocks, cue identifiers, timings and settings are left out. Cues
 * are taken in file order (Teams and Zoom write them in time order). A file without the
 * signature is refused with a TranscriptError.
 */
export function parseWebVtt(text: string): Turn[] {
  const bs = blocks(text);
  const head = bs[0];
  if (!head || !/^WEBVTT(?:[ \t]|$)/.test(head.lines[0]!)) {
    throw new TranscriptError(
      'not a WebVTT file: it does not start with "WEBVTT"',
      head?.line ?? 1,
    );
  }
  const utterances: Utterance[] = [];
  for (const b of bs.slice(1)) {
    const first = b.lines[0]!;
    if (/^(NOTE|STYLE|REGION)(?:[ \t]|$)/.test(first)) continue;
    const t = b.lines.findIndex((l) => l.includes('-->'));
    // A block without a timing line is not a cue (WebVTT parsers skip it too).
    if (t < 0 || t > 1 || !TIMING.test(b.lines[t]!)) continue;
    utterances.push(...cueUtterances(b.lines.slice(t + 1).join('\n')));
  }
  return mergeTurns(utterances);
}

/** The `vtt` format's reader: one meeting-transcript document per file. */
export async function readWebVtt(
  bytes: AsyncIterable<Buffer>,
  ctx: FormatReadContext,
): Promise<AsyncGenerator<RecordBatch>> {
  return readTranscript('vtt', parseWebVtt, bytes, ctx);
}
