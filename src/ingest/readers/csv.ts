import { pipeline, Readable } from 'node:stream';
import { parse as parseCsv, type CsvError, type Options } from 'csv-parse';
import type { SourceRecord } from '../source-record.js';
import { parseError, rawOf } from './common.js';
import { LineWindow } from './line-window.js';

interface ParsedRow {
  record: string[];
  info: { lines: number };
}

/** Counts line breaks in a field (CRLF, CR or LF each one break). */
function countBreaks(f: string): { breaks: number; crlf: number } {
  let breaks = 0;
  let crlf = 0;
  for (let i = 0; i < f.length; i++) {
    const c = f.charCodeAt(i);
    if (c === 13) {
      breaks += 1;
      if (f.charCodeAt(i + 1) === 10) {
        crlf += 1;
        i += 1;
      }
    } else if (c === 10) breaks += 1;
  }
  return { breaks, crlf };
}

/**
 * Column names from the header row: trimmed; a blank one is `column_N` (its 1-based
 * position), a repeated one gets `_2`, `_3`… so no column's values overwrite another's.
 */
function headerNames(fields: string[]): string[] {
  const seen = new Set<string>();
  return fields.map((h, i) => {
    const name = h.trim() === '' ? `column_${i + 1}` : h.trim();
    let unique = name;
    for (let n = 2; seen.has(unique); n++) unique = `${name}_${n}`;
    seen.add(unique);
    return unique;
  });
}

/** Bytes looked at for the header line when a `.csv` file's delimiter is chosen. */
const HEADER_PEEK = 64 * 1024;
/** Delimiters a `.csv` file may use instead of a comma, most usual first. */
const OTHER_DELIMITERS = [';', '\t', '|'];

/**
 * The delimiter of a `.csv` file, from its header line: a comma when the line has one outside
 * quotes, else whichever of `;`, tab, `|` it has most (Excel writes `;` where the decimal
 * separator is a comma), else a comma (a one-column file).
 */
export function detectDelimiter(head: Buffer): string {
  let end = head.length;
  const lf = head.indexOf(10);
  const cr = head.indexOf(13);
  if (lf !== -1) end = lf;
  if (cr !== -1 && cr < end) end = cr;
  const counts = new Map<string, number>();
  let quoted = false;
  for (let i = 0; i < end; i++) {
    const c = String.fromCharCode(head[i]!);
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === ',' || OTHER_DELIMITERS.includes(c)))
      counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  if (counts.has(',')) return ',';
  let best = ',';
  let most = 0;
  for (const d of OTHER_DELIMITERS) {
    const n = counts.get(d) ?? 0;
    if (n > most) {
      best = d;
      most = n;
    }
  }
  return best;
}

/**
 * The chunks of `bytes` with the first ones (up to the first line break, at most HEADER_PEEK
 * bytes) read ahead and handed to `onHead` before any is passed on. Closes the source when the
 * consumer stops early.
 */
async function* withHead(
  bytes: AsyncIterable<Buffer>,
  onHead: (head: Buffer) => void,
): AsyncGenerator<Buffer> {
  const it = bytes[Symbol.asyncIterator]();
  let done = false;
  try {
    const head: Buffer[] = [];
    let size = 0;
    while (size < HEADER_PEEK) {
      const r = await it.next();
      if (r.done) {
        done = true;
        break;
      }
      head.push(r.value);
      size += r.value.length;
      if (r.value.indexOf(10) !== -1 || r.value.indexOf(13) !== -1) break;
    }
    onHead(head.length === 1 ? head[0]! : Buffer.concat(head));
    yield* head;
    while (!done) {
      const r = await it.next();
      if (r.done) done = true;
      else yield r.value;
    }
  } finally {
    if (!done) await it.return?.();
  }
}

/**
 * Everything an object-mode stream has buffered, as one array per wake-up (never empty), so
 * the rows of a chunk cost one promise rather than one each. Ends at the stream's end, throws
 * its error, and destroys it when the consumer stops early.
 */
async function* drain<T>(stream: Readable): AsyncGenerator<T[]> {
  let error: Error | undefined;
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onEnd = () => {
    ended = true;
    notify();
  };
  const onError = (err: Error) => {
    error = err;
    notify();
  };
  stream.on('readable', notify);
  stream.on('end', onEnd);
  stream.on('error', onError);
  try {
    for (;;) {
      const batch: T[] = [];
      let item: T | null;
      while ((item = stream.read() as T | null) !== null) batch.push(item);
      if (batch.length > 0) {
        yield batch;
        continue;
      }
      if (error) throw error;
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    stream.off('readable', notify);
    stream.off('end', onEnd);
    stream.off('error', onError);
    if (!ended) stream.destroy();
  }
}

/**
 * CSV / TSV with a header row, through csv-parse (streaming). A `.csv` file's delimiter is
 * read from its header line (detectDelimiter): a comma, or `;`, tab or `|`. Each row becomes an object
 * keyed by the header, every value a string; its line is where the row starts (quoted fields
 * may span lines). A row whose column count differs from the header's, or with a NUL byte or
 * invalid UTF-8, fails alone as a PARSE_ERROR; rows csv-parse itself rejects are reported in
 * file order and the rows around them are still read. Rows starting at or before
 * `startAfterLine` are parsed (CSV quoting needs it) but not turned into records (resume).
 * Yields the records parsed so far as one array (never empty) at a time.
 */
export async function* readDelimited(
  bytes: AsyncIterable<Buffer>,
  source: string,
  format: 'csv' | 'tsv',
  startAfterLine = 0,
): AsyncGenerator<SourceRecord[], number> {
  const skipped: { lines: number; message: string }[] = [];
  // The header line is read before the parser is made, as the parser needs the delimiter.
  let delimiter = format === 'tsv' ? '\t' : ',';
  const input = withHead(bytes, (head) => {
    if (format === 'csv') delimiter = detectDelimiter(head);
  });
  const first = await input.next();
  const csvOptions: Options = {
    bom: true,
    delimiter,
    relax_column_count: true,
    // A quote inside an unquoted field (`37°36'37.8"N`, `"ab"c`) is kept as text, as most CSV
    // writers and csv-spectrum expect. Strict mode also hit a csv-parse bug: after skipping a
    // row with text after its closing quote it stayed "inside quotes" and lost every later row.
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    info: true,
    on_skip: (err: CsvError | undefined) => {
      if (err)
        skipped.push({ lines: (err as { lines?: number }).lines ?? 0, message: err.message });
      return undefined;
    },
  };
  const csv = parseCsv(csvOptions);
  // csv-parse decodes with replacement characters, so a U+FFFD in a field may be real text
  // (csv-spectrum has some) or a decoded invalid byte. The bytes are checked on their way in
  // (ahead of the parser); only once invalid UTF-8 was seen does a U+FFFD mark a bad row.
  let invalidUtf8Seen = false;
  const validator = new TextDecoder('utf-8', { fatal: true });
  // The input's recent lines, so a row that fails keeps its exact text (and bytes).
  const window = new LineWindow();
  const checked = async function* (): AsyncGenerator<Buffer> {
    const chunks = async function* (): AsyncGenerator<Buffer> {
      if (first.done) return;
      yield first.value;
      yield* input;
    };
    for await (const chunk of chunks()) {
      window.push(chunk);
      if (!invalidUtf8Seen) {
        try {
          validator.decode(chunk, { stream: true });
        } catch {
          invalidUtf8Seen = true;
        }
      }
      yield chunk;
    }
    // A multi-byte character cut off by the end of the input is invalid too.
    try {
      validator.decode();
    } catch {
      invalidUtf8Seen = true;
    }
  };
  // pipeline (not pipe) so an error upstream (e.g. corrupt gzip) reaches the parser's reader
  // instead of leaving it waiting, and a consumer that stops early tears the source down.
  const parser = pipeline(Readable.from(checked()), csv, () => undefined);
  let header: string[] | undefined;
  let crlfInFields = 0;
  let prevEnd = 0;
  // Whether a row's own bytes are UTF-8 (a U+FFFD in it may be real text).
  const validUtf8 = (from: number, to: number): boolean => {
    const bytes = window.bytes(from, to);
    return bytes !== undefined && rawOf(bytes, bytes.toString('utf8')).rawBase64 === undefined;
  };
  const original = (from: number, to: number) => {
    const bytes = window.bytes(from, to);
    if (bytes === undefined) return undefined;
    return { ...rawOf(bytes, bytes.toString('utf8')), ...(header ? { header } : {}) };
  };
  // Rows csv-parse had to skip lie between the rows around them: reported in file order, as
  // one failure holding the text of every line in between.
  // The parser runs ahead of the consumer: only errors it met before `beforeRawLine` (its own
  // line count) belong to this gap.
  const flushSkipped = (beforeRawLine: number, lastLine: number, out: SourceRecord[]): void => {
    let n = 0;
    while (n < skipped.length && skipped[n]!.lines < beforeRawLine) n += 1;
    if (n === 0) return;
    const first = skipped[0]!;
    skipped.splice(0, n);
    const line = prevEnd + 1;
    if (line <= startAfterLine) return;
    const more = n > 1 ? ` (and ${n - 1} more malformed rows after it)` : '';
    out.push(
      parseError(
        source,
        line,
        `malformed CSV: ${first.message.replace(/ at line \d+/, '')}${more}`,
        original(line, Math.max(line, lastLine)),
        format,
      ),
    );
  };
  for await (const items of drain<ParsedRow>(parser)) {
    const out: SourceRecord[] = [];
    for (const item of items) rowRecord(item, out);
    window.release(prevEnd + 1);
    if (out.length > 0) yield out;
  }
  const rest: SourceRecord[] = [];
  flushSkipped(Infinity, window.lastLine, rest);
  if (rest.length > 0) yield rest;
  return window.lastLine;

  function rowRecord(item: ParsedRow, out: SourceRecord[]): void {
    const fields = item.record;
    let breaks = 0;
    for (const f of fields) {
      if (f.indexOf('\n') === -1 && f.indexOf('\r') === -1) continue;
      // csv-parse counts a CRLF inside quotes as two lines; count it once.
      const b = countBreaks(f);
      crlfInFields += b.crlf;
      breaks += b.breaks;
    }
    const end = item.info.lines - crlfInFields;
    // A row starts after the one before it ends (a lone CR csv-parse kept as text is not a break).
    const line = Math.max(end - breaks, prevEnd + 1);
    if (skipped.length > 0) flushSkipped(item.info.lines, line - 1, out);
    prevEnd = end;
    if (header === undefined) {
      header = headerNames(fields);
      return;
    }
    if (line <= startAfterLine) return;
    if (fields.length !== header.length) {
      out.push(
        parseError(
          source,
          line,
          `row has ${fields.length} fields but the header has ${header.length}`,
          original(line, end),
          format,
        ),
      );
      return;
    }
    // No prototype: a column named `__proto__` or `toString` is a key like any other.
    const value = Object.create(null) as Record<string, string>;
    let bad: string | undefined;
    for (let i = 0; i < header.length; i++) {
      const v = fields[i]!;
      if (v.includes('\u0000')) bad = `column "${header[i]}" contains a NUL byte`;
      else if (invalidUtf8Seen && v.includes('\uFFFD') && !validUtf8(line, end))
        bad = `column "${header[i]}" contains invalid UTF-8`;
      value[header[i]!] = v;
    }
    if (bad) out.push(parseError(source, line, bad, original(line, end), format));
    else out.push({ source, line, value, format });
  }
}
