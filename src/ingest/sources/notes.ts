import { parseDocument } from 'yaml';
import type { FormatReadContext } from '../formats/spec.js';
import { parseError, rawOf } from '../readers/common.js';
import type { RecordBatch } from '../source-record.js';
import type { SourceDocument } from './formats.js';
import { readWhole, tooLargeToRead } from './whole-file.js';
import { decodeWindows1252 } from './windows-1252.js';

/** What a note's text gives: a record value, nothing to send (empty), or why it cannot be read. */
export type NoteResult =
  { value: SourceDocument<'document'> } | { empty: true } | { error: string; line: number };

/** A note's front matter (the YAML between `---` lines at its very start) and its body. */
export interface FrontMatterSplit {
  yaml?: string;
  /** The 1-based line the YAML starts on. */
  yamlLine: number;
  body: string;
}

/**
 * Splits off YAML front matter: the text must start with a `---` line and the block ends at the
 * next `---` (or `...`) line. Without a closing line there is no front matter: a lone `---` at
 * the top of a Markdown file is a rule, not metadata.
 */
export function splitFrontMatter(text: string): FrontMatterSplit {
  const t = text.replace(/^\uFEFF/, '');
  const open = /^---[ \t]*\r?\n/.exec(t);
  if (!open) return { yamlLine: 0, body: t };
  const rest = t.slice(open[0].length);
  const close = /^(?:---|\.\.\.)[ \t]*(?:\r?\n|$)/m.exec(rest);
  if (!close) return { yamlLine: 0, body: t };
  return {
    yaml: rest.slice(0, close.index),
    yamlLine: 2,
    body: rest.slice(close.index + close[0].length),
  };
}

/**
 * A front-matter date as ISO 8601 UTC: a YAML date, `2024-01-31`, `2024-01-31 10:00`,
 * `2024-01-31T10:00:00+02:00`. A time without a zone is read as UTC (the machine's zone would
 * make the id's neighbour, the time, depend on where the command runs). Undefined when it names
 * no time.
 */
export function frontMatterDate(v: unknown): string | undefined {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : v.toISOString();
  if (typeof v !== 'string') return undefined;
  const m =
    /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)[ ]?(Z|[+-]\d{2}:?\d{2})?)?$/i.exec(
      v.trim(),
    );
  if (!m) return undefined;
  const zone = m[3] ? m[3].replace(/^([+-]\d{2})(\d{2})$/, '$1:$2') : 'Z';
  const t = Date.parse(
    `${m[1]}T${m[2] ?? '00:00'}${m[2] && m[2].length === 5 ? ':00' : ''}${zone}`,
  );
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

/** Tags as a list of strings: a YAML list, or a string of comma- or space-separated tags (`#a #b`). */
export function tagList(v: unknown): string[] {
  const raw = Array.isArray(v) ? v : typeof v === 'string' ? v.split(/[,\s]+/) : [];
  const out: string[] = [];
  for (const t of raw) {
    if (typeof t !== 'string' && typeof t !== 'number') continue;
    const s = String(t).trim().replace(/^#/, '');
    if (s && !out.includes(s)) out.push(s);
  }
  return out;
}

/** A YAML value in JSON terms (YAML dates become ISO strings). */
function jsonValue(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(jsonValue);
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const [k, x] of Object.entries(v)) o[k] = jsonValue(x);
    return { ...o };
  }
  return v;
}

function baseTitle(relPath: string): string {
  const name = relPath.split('/').pop() ?? relPath;
  return name.replace(/\.(md|markdown|txt)$/i, '');
}

/**
 * One note → its record value. `relPath` is its path relative to the folder given (with `/`),
 * so `document_id` is `file:<relPath>` and an edited note updates its memory. Front matter is not
 * part of the document: `title` goes to metadata (else the file name), `date` or `created` to
 * `document_created_at` (else `modifiedAt`), `tags` to metadata, and any other keys to
 * `metadata.front_matter`, so nothing in it is silently dropped. Front matter that is not valid
 * YAML is an error naming its line; a note with no text is empty.
 */
export function noteRecord(relPath: string, text: string, modifiedAt?: Date): NoteResult {
  const split = splitFrontMatter(text);
  let fm: Record<string, unknown> = {};
  if (split.yaml !== undefined && split.yaml.trim() !== '') {
    const doc = parseDocument(split.yaml);
    const err = doc.errors[0];
    if (err) {
      const line = split.yamlLine + (err.linePos?.[0].line ?? 1) - 1;
      const what = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      return { error: `front matter is not valid YAML (line ${line}): ${what}`, line };
    }
    const js: unknown = doc.toJS();
    if (js && typeof js === 'object' && !Array.isArray(js)) fm = js as Record<string, unknown>;
  }
  const document = split.body.trim();
  if (!document) return { empty: true };

  const { title, date, created, tags, ...rest } = fm;
  const metadata: Record<string, unknown> = {
    source: 'notes',
    path: relPath,
    title: typeof title === 'string' && title.trim() ? title.trim() : baseTitle(relPath),
  };
  const tagsList = tagList(tags);
  if (tagsList.length) metadata.tags = tagsList;
  if (Object.keys(rest).length) metadata.front_matter = jsonValue(rest);
  const when = frontMatterDate(date) ?? frontMatterDate(created) ?? modifiedAt?.toISOString();
  const value: SourceDocument<'document'> = {
    document,
    document_type: 'document',
    document_id: `file:${relPath}`,
    metadata,
  };
  if (when !== undefined) value.document_created_at = when;
  return { value };
}

/**
 * A text whose first line is a JSON object or array is data (JSON Lines saved as .txt), not a
 * note: sending it as one document would hide every record in it.
 */
export function looksLikeJsonRecords(text: string): boolean {
  const first = text
    .replace(/^\uFEFF/, '')
    .trimStart()
    .split('\n', 1)[0]!
    .trim();
  if (!/^[[{]/.test(first)) return false;
  try {
    const v: unknown = JSON.parse(first);
    return typeof v === 'object' && v !== null;
  } catch {
    return /^\[\s*\{/.test(first);
  }
}

/**
 * The `notes` format's reader: one note file → one `document` (noteRecord) at line 1. Its id is
 * its path inside the folder given (`ctx.name`), else its file name. A binary file is skipped
 * with a warning (counted in the run's warnings, nothing sent); a note with no text gives no
 * record (the run says the input is empty); front matter that is not YAML fails the note.
 */
export async function* readNote(
  bytes: AsyncIterable<Buffer>,
  ctx: FormatReadContext,
): AsyncGenerator<RecordBatch> {
  if (ctx.startAfterLine >= 1) return;
  const { bytes: buf, truncated } = await readWhole(bytes);
  if (truncated) {
    yield [tooLargeToRead(ctx.source, 'a note', buf, 'notes')];
    return;
  }
  if (looksBinary(buf)) {
    ctx.warn?.({
      source: ctx.source,
      code: 'SKIPPED_BINARY',
      message: `${ctx.source}: skipped: a binary file, not a note`,
    });
    return;
  }
  const invalid = firstInvalidUtf8(buf);
  let text: string;
  if (invalid < 0) text = buf.toString('utf8');
  else {
    // Text in the Windows code page (a note saved by Notepad): read as that, and said.
    text = decodeWindows1252(buf);
    const before = buf.subarray(0, invalid);
    const line = before.filter((b) => b === 0x0a).length + 1;
    const byte = invalid - (before.lastIndexOf(0x0a) + 1) + 1;
    ctx.warn?.({
      source: ctx.source,
      code: 'NOT_UTF8',
      message: `${ctx.source}: not UTF-8 (line ${line}, byte ${byte}): read as Windows-1252; if it is in another encoding, convert it to UTF-8`,
    });
  }
  if (looksLikeJsonRecords(text)) {
    const raw = rawOf(buf.subarray(0, 64 * 1024), text.slice(0, 64 * 1024));
    yield [
      parseError(
        ctx.source,
        1,
        'holds JSON records, not a note: give --format jsonl (one a line) or --format json',
        raw,
        'notes',
      ),
    ];
    return;
  }
  const name = ctx.name ?? ctx.source.split(/[/\\:]/).pop() ?? ctx.source;
  const r = noteRecord(name, text, ctx.modifiedAt);
  if ('error' in r) {
    yield [parseError(ctx.source, r.line, r.error, rawOf(buf, text), 'notes')];
    return;
  }
  if ('empty' in r) return;
  yield [{ source: ctx.source, line: 1, value: r.value, format: 'notes' }];
}

/**
 * True when bytes look binary, so the file is no note: a NUL in the first 8 KB, or bytes that
 * are not UTF-8 with control characters among them. Text that is not UTF-8 and has none is
 * text in a legacy code page (Windows-1252), read as such by readNote.
 */
export function looksBinary(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, 8192);
  if (head.includes(0)) return true;
  const whole = bytes.length > head.length ? lastWholeChar(head) : head.length;
  if (firstInvalidUtf8(head.subarray(0, whole)) < 0) return false;
  return head.some(
    (b) => (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0c && b !== 0x0d) || b === 0x7f,
  );
}

/** The offset of the first byte that is not part of well-formed UTF-8, or -1 when all are. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i += 1;
      continue;
    }
    const n =
      c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0 || i + n >= b.length + (n > 0 ? 0 : 1)) return i;
    // The second byte's range is narrower after E0, ED, F0 and F4 (no overlongs, surrogates
    // or code points past U+10FFFF).
    const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
    if (b[i + 1]! < lo || b[i + 1]! > hi) return i;
    for (let k = 2; k <= n; k++) if ((b[i + k]! & 0xc0) !== 0x80) return i;
    i += n + 1;
  }
  return -1;
}

/** The length of `b` without a UTF-8 sequence cut at its end. */
function lastWholeChar(b: Uint8Array): number {
  let i = b.length;
  let back = 0;
  while (i > 0 && back < 4 && (b[i - 1]! & 0xc0) === 0x80) {
    i--;
    back++;
  }
  if (i > 0 && b[i - 1]! >= 0xc0) return i - 1;
  return b.length;
}
