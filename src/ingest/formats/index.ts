import { UsageError } from '../../errors.js';
import { estimateRecords } from '../estimate.js';
import { SOURCE_FORMATS } from '../sources/formats.js';
import { rereadDelimited, rereadJson } from './reread.js';
import { chatgptConversation } from '../readers/chatgpt.js';
import { claudeConversation } from '../readers/claude.js';
import {
  conversationRecord,
  readConversations,
  type ConversationResult,
} from '../readers/conversation.js';
import type { SourceRecord } from '../source-record.js';
import type { FailedText, FormatSpec } from './spec.js';

export type { FormatSpec } from './spec.js';

/*
 * The input formats: one entry each. Adding a format is a reader in src/ingest/readers/ and an
 * entry here; `--format`, sniffing, the reader dispatch, the failures-file re-read, the record
 * estimate and the help texts all read this list. Readers are imported when an input is
 * opened, so `--help` and completion load none of them.
 */

/** The first significant byte (after a UTF-8 BOM and JSON whitespace), or undefined. */
function firstByte(head: Buffer): number | undefined {
  let i = 0;
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3;
  while (i < head.length) {
    const c = head[i]!;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return c;
    i += 1;
  }
  return undefined;
}

const JSONL = {
  name: 'jsonl' as const,
  aliases: ['ndjson'],
  extensions: ['.jsonl', '.ndjson'],
  label: 'JSONL',
  describe: 'JSON Lines, one record a line',
  // An object first: one JSON value a line.
  sniff: (head: Buffer) => firstByte(head) === 0x7b,
  read: async (bytes, ctx) =>
    (await import('../readers/jsonl.js')).readJsonLines(
      bytes,
      ctx.source,
      ctx.startAfterLine,
      ctx.from,
    ),
  seekable: true,
  reread: rereadJson,
  layout: 'lines',
  estimate: estimateRecords,
  depthChecked: true,
} satisfies FormatSpec;

const JSON_ARRAY = {
  name: 'json' as const,
  extensions: ['.json'],
  label: 'JSON',
  describe: 'a JSON array of records (or one, or several)',
  sniff: (head: Buffer) => firstByte(head) === 0x5b,
  read: async (bytes, ctx) =>
    (await import('../readers/json-array.js')).readJsonArray(bytes, ctx.source, ctx.startAfterLine),
  reread: rereadJson,
  // Counted element by element (estimate.ts), not by lines.
  layout: 'elements',
  estimate: estimateRecords,
  depthChecked: true,
} satisfies FormatSpec;

/**
 * CSV and TSV differ in their delimiter only. csv-parse is loaded only to read a failures-file
 * row again (reread.ts); files are split by readers/csv-rows.ts.
 */
function delimited(name: 'csv' | 'tsv', extensions: string[], describe: string) {
  return {
    name,
    extensions,
    label: name.toUpperCase(),
    describe,
    read: async (bytes: AsyncIterable<Buffer>, ctx: { source: string; startAfterLine: number }) =>
      (await import('../readers/csv.js')).readDelimited(
        bytes,
        ctx.source,
        name,
        ctx.startAfterLine,
      ),
    reread: rereadDelimited(name),
    layout: 'rows',
    estimate: estimateRecords,
    tabular: true,
    // A row is one level of strings (a metadata cell's JSON is checked when it is parsed).
    depthChecked: true,
  } satisfies FormatSpec;
}

const CSV = delimited('csv', ['.csv'], 'comma-separated rows under a header');
const TSV = delimited('tsv', ['.tsv', '.tab'], 'tab-separated rows under a header');

/**
 * Both conversation exports are JSON arrays, read element by element and each conversation
 * converted to one document; a conversation kept as text (it did not parse) is parsed and
 * converted when its failures-file line is retried.
 */
function conversationExport(
  name: 'chatgpt' | 'claude',
  describe: string,
  key: RegExp,
  convert: (v: unknown) => ConversationResult,
) {
  return {
    name,
    extensions: ['.json'],
    refines: 'json',
    label: name === 'chatgpt' ? 'ChatGPT export' : 'Claude export',
    describe,
    sniffBytes: 64 * 1024,
    // A JSON array whose first element, as far as `head` shows it, holds `key` (a key inside a
    // string has its quotes escaped, \"mapping\", so cannot match).
    sniff: (head: Buffer) => firstByte(head) === 0x5b && key.test(head.toString('utf8')),
    read: (bytes: AsyncIterable<Buffer>, ctx: { source: string; startAfterLine: number }) =>
      Promise.resolve(readConversations(bytes, ctx.source, ctx.startAfterLine, name, convert)),
    reread: (f: FailedText): SourceRecord => {
      const parsed = rereadJson(f);
      return parsed.parseError ? parsed : conversationRecord(parsed, name, convert);
    },
    // An array of conversations, one document each.
    layout: 'elements',
    depthChecked: true,
  } satisfies FormatSpec;
}

const CHATGPT = conversationExport(
  'chatgpt',
  "ChatGPT's conversations.json, a document a chat",
  /"mapping"\s*:\s*\{/,
  chatgptConversation,
);

const CLAUDE = conversationExport(
  'claude',
  "Claude's conversations.json, a document a chat",
  /"chat_messages"\s*:\s*\[/,
  claudeConversation,
);

/** Every format, in the order sniffing tries them. */
export const FORMATS = [
  JSONL,
  CSV,
  TSV,
  JSON_ARRAY,
  CHATGPT,
  CLAUDE,
  ...SOURCE_FORMATS,
] as const satisfies readonly FormatSpec[];

/**
 * What an unnamed input (stdin) is read as when no format's sniffing claims it: rows under a
 * header, the one format that has no mark of its own in its first bytes.
 */
const SNIFF_FALLBACK: InputFormat = 'csv';

export type InputFormat = (typeof FORMATS)[number]['name'];

/** An entry, as a FormatSpec named by an InputFormat. */
type Entry = FormatSpec & { name: InputFormat };
const ENTRIES: readonly Entry[] = FORMATS;

/** The `--format` names, in registry order. */
export const INPUT_FORMATS: readonly InputFormat[] = FORMATS.map((f) => f.name);

const byName = new Map<string, Entry>();
for (const f of ENTRIES) {
  byName.set(f.name, f);
  for (const a of f.aliases ?? []) byName.set(a, f);
}

/** The entry of a format name or alias (as written: `--format` lower-cases first), or undefined. */
export function findFormat(name: unknown): Entry | undefined {
  return typeof name === 'string' ? byName.get(name) : undefined;
}

/** The entry of a known format. */
export function formatSpec(name: InputFormat): Entry {
  return byName.get(name)!;
}

/** True for rows under a header (CSV, TSV); false for an unknown or absent format. */
export function isTabular(name: unknown): boolean {
  return findFormat(name)?.tabular === true;
}

/** `  jsonl    JSON Lines, one record a line` for each format, for `--help`. */
export function formatsHelp(): string {
  const width = Math.max(...INPUT_FORMATS.map((n) => n.length)) + 2;
  return ENTRIES.map((f) => {
    const names = f.extensions.join(', ');
    const how = f.refines ? `${names}, by content` : names;
    return `  ${f.name.padEnd(width)}${f.describe} (${how})`;
  }).join('\n');
}

/** `JSONL, CSV, TSV, JSON, ChatGPT export, Claude export`, for one-line descriptions. */
export function formatLabels(): string {
  return ENTRIES.map((f) => f.label).join(', ');
}

/** `jsonl, csv, tsv, json`, for help texts. */
export function formatList(): string {
  return INPUT_FORMATS.join(', ');
}

/** Picks a format from a file name (".gz" looked through), or undefined. */
export function formatFromName(name: string): InputFormat | undefined {
  const lower = name.toLowerCase().replace(/\.gz$/, '');
  const base = lower.split(/[/\\]/).pop() ?? lower;
  return ENTRIES.find(
    (f) =>
      f.refines === undefined &&
      (f.extensions.some((e) => lower.endsWith(e)) || f.fileNames?.includes(base)),
  )?.name;
}

/** `--format` value → format (aliases accepted: "ndjson" is "jsonl"). */
export function parseFormat(value: string): InputFormat {
  const f = findFormat(value.toLowerCase());
  if (f) return f.name;
  throw new UsageError(`unknown --format "${value}": use one of ${formatList()}`);
}

/** The usage error for a file whose name says no format. */
export function unknownFormatError(input: string): UsageError {
  return new UsageError(
    `cannot tell the format of ${input} from its name: use --format ${INPUT_FORMATS.join('|')}`,
  );
}

/** Format of an unnamed input (stdin) from its first bytes (64 are enough). */
export function sniffFormat(head: Buffer): InputFormat {
  return ENTRIES.find((f) => f.refines === undefined && f.sniff?.(head))?.name ?? SNIFF_FALLBACK;
}

/** Bytes the refining formats of `base` want to see before they can say (0: none refine it). */
export function refineBytes(base: InputFormat): number {
  const refining = ENTRIES.filter((f) => f.refines === base);
  return Math.max(0, ...refining.map((f) => f.sniffBytes ?? 64));
}

/** A more specific format of `base` whose sniffing claims `head`, else `base`. */
export function refineFormat(base: InputFormat, head: Buffer): InputFormat {
  return ENTRIES.find((f) => f.refines === base && f.sniff?.(head))?.name ?? base;
}
