import type { DocumentType } from '../../client/types.js';
import type { FailedText, FormatSpec } from '../formats/spec.js';
import type { SourceRecord } from '../source-record.js';

/*
 * The registry entries of the sources that are not rows: mail (mbox, eml) and meeting
 * transcripts (vtt, srt). Each reader is imported when an input of its format is opened, so
 * `--help` loads none of them (nor postal-mime or html-to-text). Every source is read from its
 * start (never seeked), is not rows under a header, is not checked for nesting as it is read
 * (the mapper checks), and is fixed in its source when a record cannot be read.
 */

/** The record value a source's document becomes, shaped like the API fields the mapper takes. */
export interface SourceDocument<Type extends DocumentType> {
  document: string;
  document_type: Type;
  document_id: string;
  document_created_at?: string;
  metadata: Record<string, unknown>;
}

/** A file is one document (a transcript, a note). */
const oneDocument = (): Promise<number> => Promise.resolve(1);

/** The text after a UTF-8 BOM, as latin1 (enough to look at ASCII marks). */
function headText(head: Buffer): string {
  const start = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  return head.subarray(start).toString('latin1');
}

/**
 * A message kept as text in the failures file is not parsed again there (MIME parsing is
 * asynchronous, the failures-file re-read is not): it stays a failure that says what to do.
 */
function keepMail(f: FailedText): SourceRecord {
  return f.keep(
    'a mail message that could not be read is kept as text: fix it in the mailbox (or save it as an .eml) and ingest that',
  );
}

/** A transcript kept as text in the failures file stays a failure that says what to do. */
function keepTranscript(f: FailedText): SourceRecord {
  return f.keep('a transcript that could not be read is kept as text: fix the file and ingest it');
}

/** Header names a saved message (RFC 5322) commonly starts with. */
const FIRST_HEADER =
  /^(?:Return-Path|Received|Delivered-To|From|To|Subject|Date|Message-ID|MIME-Version|DKIM-Signature|ARC-[A-Za-z-]+|Authentication-Results|X-[A-Za-z0-9-]+):[ \t]/i;

const MBOX = {
  name: 'mbox' as const,
  label: 'mbox',
  extensions: ['.mbox', '.mbx'],
  // Apple Mail exports a mailbox as a folder `Inbox.mbox/` holding the mailbox as `mbox`.
  fileNames: ['mbox'],
  describe: 'a mailbox (Gmail, Thunderbird), a document a message',
  // RFC 4155: a mailbox starts with its first message's From line.
  sniff: (head: Buffer) => headText(head).startsWith('From '),
  read: async (bytes, ctx) =>
    (await import('./mbox.js')).readMbox(ctx.source, bytes, { startAfterLine: ctx.startAfterLine }),
  reread: keepMail,
  fixedInSource: true,
} satisfies FormatSpec;

const EML = {
  name: 'eml' as const,
  label: 'EML',
  extensions: ['.eml'],
  describe: 'one saved mail message, a document',
  sniff: (head: Buffer) => FIRST_HEADER.test(headText(head)),
  read: async (bytes, ctx) =>
    (await import('./eml.js')).readEml(ctx.source, bytes, { startAfterLine: ctx.startAfterLine }),
  reread: keepMail,
  fixedInSource: true,
} satisfies FormatSpec;

const VTT = {
  name: 'vtt' as const,
  label: 'WebVTT',
  aliases: ['webvtt'],
  extensions: ['.vtt'],
  describe: 'a meeting transcript (Teams, Zoom), a document a file',
  sniff: (head: Buffer) => /^WEBVTT(?:[ \t\r\n]|$)/.test(headText(head)),
  read: async (bytes, ctx) => (await import('./webvtt.js')).readWebVtt(bytes, ctx),
  reread: keepTranscript,
  estimate: oneDocument,
  fixedInSource: true,
} satisfies FormatSpec;

const SRT = {
  name: 'srt' as const,
  label: 'SRT',
  extensions: ['.srt'],
  describe: 'a meeting transcript in subtitles, a document a file',
  // A cue number, then its timing line.
  sniff: (head: Buffer) => /^\d+\r?\n\d+:\d{2}:\d{2}[,.]\d{1,3}\s*-->/.test(headText(head)),
  read: async (bytes, ctx) => (await import('./srt.js')).readSrt(bytes, ctx),
  reread: keepTranscript,
  estimate: oneDocument,
  fixedInSource: true,
} satisfies FormatSpec;

export const NOTES = {
  name: 'notes' as const,
  label: 'notes',
  aliases: ['markdown', 'md'],
  extensions: ['.md', '.markdown', '.txt'],
  describe: 'notes, YAML front matter, a document a file',
  read: async (bytes, ctx) => (await import('./notes.js')).readNote(bytes, ctx),
  // The id of a note read from a folder is its path inside that folder, which a failures line
  // does not know: the note is ingested again from its folder, not from here.
  reread: (f) =>
    f.keep(
      `a note that could not be read is kept as text: fix ${f.origin ?? 'the note'} and ingest the folder it was read from again (named alone, a note takes its file name as its id)`,
    ),
  estimate: oneDocument,
  fixedInSource: true,
} satisfies FormatSpec;

/**
 * A Slack export's channels.json: an array of channels, the first with a C… id and the
 * is_general flag only channels.json has (groups.json and mpims.json lack it).
 */
const SLACK_CHANNELS = /^\s*\[\s*\{(?=[^{}]*"id"\s*:\s*"C[A-Z0-9]+")(?=[^{}]*"is_general"\s*:)/;

const SLACK = {
  name: 'slack' as const,
  label: 'Slack export',
  extensions: ['.json'],
  refines: 'json',
  sniffBytes: 2048,
  describe: "a Slack export's channels.json, a document a day",
  sniff: (head: Buffer) => SLACK_CHANNELS.test(headText(head)),
  read: async (bytes, ctx) => (await import('./slack.js')).readSlackExport(bytes, ctx),
  reread: (f) =>
    f.keep(
      'a Slack day that could not be read is kept as text: fix the file and ingest the export',
    ),
  fixedInSource: true,
} satisfies FormatSpec;

/** Every entry of this file, in the order sniffing tries them. */
export const SOURCE_FORMATS = [MBOX, EML, VTT, SRT, NOTES, SLACK] as const;
