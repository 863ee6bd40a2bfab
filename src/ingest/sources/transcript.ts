import { createHash } from 'node:crypto';
import type { SourceDocument } from './formats.js';

/** A transcript file (WebVTT or SRT) could not be read as one: why, and the line it is about. */
export class TranscriptError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

/** One piece of spoken text, with its speaker when the cue named one. */
export interface Utterance {
  speaker?: string;
  text: string;
}

/** A speaker turn: one speaker's consecutive utterances. */
export type Turn = Utterance;

/**
 * A leading `Name: ` as Zoom and many SRT files write it: a name of at most six words that
 * starts with a letter and holds no sentence punctuation, then a colon and a space. A time
 * (`10:30`) or a URL (`https://`) is not a name.
 */
const LEADING_NAME =
  /^([\p{L}][\p{L}\p{M}\p{N}'’.\-()]*(?: [\p{L}\p{M}\p{N}'’.\-()]+){0,5}):[ \t]+(?=\S)/u;

/** The speaker a cue's text starts with, and the text after it. */
export function leadingSpeaker(text: string): Utterance {
  const m = LEADING_NAME.exec(text);
  if (!m) return { text };
  return { speaker: m[1]!.trim(), text: text.slice(m[0].length) };
}

/** Whitespace runs (line breaks inside a cue included) become one space. */
function squash(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Utterances → turns: an utterance without a speaker keeps the last speaker (or none before
 * the first one), and consecutive utterances of one speaker become one turn.
 */
export function mergeTurns(utterances: Iterable<Utterance>): Turn[] {
  const turns: Turn[] = [];
  let last: string | undefined;
  for (const u of utterances) {
    const text = squash(u.text);
    if (!text) continue;
    const speaker = u.speaker ?? last;
    last = speaker;
    const prev = turns[turns.length - 1];
    if (prev && prev.speaker === speaker) prev.text = `${prev.text} ${text}`;
    else turns.push(speaker === undefined ? { text } : { speaker, text });
  }
  return turns;
}

/** Turns as the document's lines: `Name: text`, or the text alone when no one was named. */
export function turnsDocument(turns: Turn[]): string {
  return turns
    .map((t) => (t.speaker === undefined ? t.text : `${t.speaker}: ${t.text}`))
    .join('\n');
}

/** The speakers in order of first appearance. */
function speakersOf(turns: Turn[]): string[] {
  const seen = new Set<string>();
  for (const t of turns) if (t.speaker !== undefined) seen.add(t.speaker);
  return [...seen];
}

/**
 * A transcript's record value. `document_id` is `transcript:sha256-…` of the turns as sent, so
 * the same meeting read again (from another path, a copy, a fresh download) is the same
 * document, and `createdAt` (cue times are offsets, so the meeting's start comes from the user
 * or the file's modification time) does not change it.
 */
export function transcriptRecord(
  turns: Turn[],
  info: { source: 'vtt' | 'srt'; file: string; createdAt?: string },
): SourceDocument<'meeting-transcript'> | undefined {
  const document = turnsDocument(turns);
  if (!document) return undefined;
  const hash = createHash('sha256').update(document).digest('hex').slice(0, 40);
  const metadata: Record<string, string | string[]> = { source: info.source, file: info.file };
  const speakers = speakersOf(turns);
  if (speakers.length) metadata.speakers = speakers;
  const value: SourceDocument<'meeting-transcript'> = {
    document,
    document_type: 'meeting-transcript',
    document_id: `transcript:sha256-${hash}`,
    metadata,
  };
  if (info.createdAt !== undefined) value.document_created_at = info.createdAt;
  return value;
}

/** Text split into blocks at blank lines (CRLF, CR or LF), each block its lines and first line number. */
export function blocks(text: string): { line: number; lines: string[] }[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  const out: { line: number; lines: string[] }[] = [];
  let cur: { line: number; lines: string[] } | undefined;
  lines.forEach((l, i) => {
    if (l.trim() === '') {
      cur = undefined;
      return;
    }
    if (!cur) {
      cur = { line: i + 1, lines: [] };
      out.push(cur);
    }
    cur.lines.push(l);
  });
  return out;
}

/** The HTML character references subtitle files use (WebVTT's, and the few SRT editors write). */
const ENTITIES: Record<string, string> = Object.assign(Object.create(null) as object, {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  lrm: '',
  rlm: '',
});

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code =
        name[1] === 'x' || name[1] === 'X'
          ? parseInt(name.slice(2), 16)
          : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}
