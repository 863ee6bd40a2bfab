import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { parse as parseCsv, type CsvError, type Options } from 'csv-parse';
import { UsageError } from '../errors.js';
import { INPUT_FORMATS, type InputFormat, type SourceRecord } from './source-record.js';

export interface ReadOptions {
  /** Forces the format (needed or sniffed for stdin; files go by extension otherwise). */
  format?: InputFormat;
  /** Where '-' reads from (process.stdin by default). */
  stdin?: NodeJS.ReadableStream;
}

const RAW_PREVIEW = 200;
const NEWLINE = 0x0a;

/** Picks a format from a file name (".gz" looked through), or undefined. */
export function formatFromName(name: string): InputFormat | undefined {
  const lower = name.toLowerCase().replace(/\.gz$/, '');
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.tsv') || lower.endsWith('.tab')) return 'tsv';
  if (lower.endsWith('.json')) return 'json';
  return undefined;
}

export function parseFormat(value: string): InputFormat {
  const v = value.toLowerCase() === 'ndjson' ? 'jsonl' : value.toLowerCase();
  if ((INPUT_FORMATS as readonly string[]).includes(v)) return v as InputFormat;
  throw new UsageError(`unknown --format "${value}": use one of ${INPUT_FORMATS.join(', ')}`);
}

/**
 * Streams the records of every input in order. Files are read lazily, pulled by the consumer,
 * so a slow sender slows the reading and memory stays flat whatever the file size.
 */
export async function* readRecords(
  inputs: string[],
  opts: ReadOptions = {},
): AsyncGenerator<SourceRecord> {
  for (const input of inputs) {
    yield* readOne(input, opts);
  }
}

async function* readOne(input: string, opts: ReadOptions): AsyncGenerator<SourceRecord> {
  const isStdin = input === '-';
  const source = isStdin ? 'stdin' : input;
  let bytes: AsyncIterable<Buffer>;
  if (isStdin) {
    bytes = (opts.stdin ?? process.stdin) as AsyncIterable<Buffer>;
  } else {
    await assertReadable(input);
    bytes = createReadStream(input, { highWaterMark: 256 * 1024 });
  }
  // Peek at the first bytes: gzip magic and, for stdin, the format.
  const { head, rest } = await peek(bytes);
  let stream: AsyncIterable<Buffer> = prepend(head, rest);
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    stream = Readable.from(stream).pipe(createGunzip());
  }
  let format = opts.format ?? (isStdin ? undefined : formatFromName(input));
  if (format === undefined) {
    if (!isStdin) {
      throw new UsageError(
        `cannot tell the format of ${input} from its name: use --format jsonl|csv|tsv|json`,
      );
    }
    const { head: h2, rest: r2 } = await peek(stream);
    stream = prepend(h2, r2);
    format = sniffFormat(h2);
  }
  try {
    if (format === 'jsonl') yield* readJsonLines(stream, source);
    else if (format === 'json') yield* readJsonArray(stream, source);
    else yield* readDelimited(stream, source, format);
  } catch (err) {
    if (
      err instanceof Error &&
      /incorrect header check|unexpected end of file/i.test(err.message)
    ) {
      yield {
        source,
        line: 0,
        parseError: {
          code: 'PARSE_ERROR',
          message: `corrupt or truncated gzip data: ${err.message}`,
        },
      };
      return;
    }
    throw err;
  }
}

async function assertReadable(path: string): Promise<void> {
  try {
    const s = await stat(path);
    if (s.isDirectory()) throw new UsageError(`${path} is a directory, not an input file`);
    const fh = await open(path, 'r');
    await fh.close();
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : String(code ?? err);
    throw new UsageError(`cannot read ${path}: ${why}`);
  }
}

/** JSON Lines when the first significant character opens an object, JSON for '[', else CSV. */
function sniffFormat(head: Buffer): InputFormat {
  let text = head.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const first = text.trimStart()[0];
  if (first === '{') return 'jsonl';
  if (first === '[') return 'json';
  return 'csv';
}

async function peek(
  source: AsyncIterable<Buffer>,
): Promise<{ head: Buffer; rest: AsyncIterator<Buffer> }> {
  const it = source[Symbol.asyncIterator]();
  const parts: Buffer[] = [];
  let size = 0;
  while (size < 64) {
    const next = await it.next();
    if (next.done) break;
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    parts.push(chunk);
    size += chunk.length;
  }
  return { head: Buffer.concat(parts), rest: it };
}

async function* prepend(head: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  if (head.length > 0) yield head;
  for (;;) {
    const next = await rest.next();
    if (next.done) return;
    yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
  }
}

const fatalDecoder = new TextDecoder('utf-8', { fatal: true });

/** Decodes one line; invalid UTF-8 is reported rather than silently replaced. */
function decodeLine(buf: Buffer): { text: string } | { error: string } {
  const text = buf.toString('utf8');
  if (text.includes('\uFFFD')) {
    try {
      fatalDecoder.decode(buf);
    } catch {
      return { error: 'invalid UTF-8' };
    }
  }
  return { text };
}

/** JSON Lines: one JSON value a line; blank lines are not records. */
export async function* readJsonLines(
  bytes: AsyncIterable<Buffer>,
  source: string,
): AsyncGenerator<SourceRecord> {
  let lineNo = 0;
  let pending: Buffer[] = [];
  const emit = (buf: Buffer): SourceRecord | undefined => {
    lineNo += 1;
    let end = buf.length;
    if (end > 0 && buf[end - 1] === 0x0d) end -= 1;
    const lineBuf = end === buf.length ? buf : buf.subarray(0, end);
    const decoded = decodeLine(lineBuf);
    if ('error' in decoded) {
      return {
        source,
        line: lineNo,
        parseError: {
          code: 'PARSE_ERROR',
          message: decoded.error,
          raw: preview(lineBuf.toString('utf8')),
        },
      };
    }
    let text = decoded.text;
    if (lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.trim() === '') return undefined;
    return parseJsonRecord(text, source, lineNo);
  };
  for await (const chunk of bytes) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl === -1) break;
      let line: Buffer;
      if (pending.length > 0) {
        pending.push(chunk.subarray(start, nl));
        line = Buffer.concat(pending);
        pending = [];
      } else {
        line = chunk.subarray(start, nl);
      }
      const rec = emit(line);
      if (rec) yield rec;
      start = nl + 1;
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
  }
  if (pending.length > 0) {
    const rec = emit(Buffer.concat(pending));
    if (rec) yield rec;
  }
}

function parseJsonRecord(text: string, source: string, line: number): SourceRecord {
  if (text.includes('\u0000')) {
    return {
      source,
      line,
      parseError: { code: 'PARSE_ERROR', message: 'contains a NUL byte', raw: preview(text) },
    };
  }
  try {
    return { source, line, value: JSON.parse(text) };
  } catch (err) {
    return {
      source,
      line,
      parseError: {
        code: 'PARSE_ERROR',
        message: `invalid JSON: ${(err as Error).message}`,
        raw: preview(text),
      },
    };
  }
}

function preview(text: string): string {
  return text.length > RAW_PREVIEW ? `${text.slice(0, RAW_PREVIEW)}…` : text;
}

/**
 * A JSON array streamed element by element: a small scanner tracks strings, escapes and
 * nesting to find where each top-level element ends, so the file is never held whole.
 */
export async function* readJsonArray(
  bytes: AsyncIterable<Buffer>,
  source: string,
): AsyncGenerator<SourceRecord> {
  const decoder = new StringDecoder('utf8');
  let line = 1;
  let state = 'start' as 'start' | 'between' | 'element' | 'done';
  let depth = 0;
  let inString = false;
  let escaped = false;
  let parts: string[] = [];
  let elementLine = 1;
  let first = true;
  let trailing = false;

  const finishElement = (): SourceRecord | undefined => {
    const text = parts.join('').trim();
    parts = [];
    if (text === '') return undefined;
    return parseJsonRecord(text, source, elementLine);
  };

  for await (const chunk of bytes) {
    let text = decoder.write(chunk);
    if (first) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    let segStart = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) line += 1;
      if (state === 'element') {
        if (inString) {
          if (escaped) escaped = false;
          else if (c === 92) escaped = true;
          else if (c === 34) inString = false;
          continue;
        }
        if (c === 34) inString = true;
        else if (c === 123 || c === 91) depth += 1;
        else if (c === 125 || c === 93) {
          if (depth === 0 && c === 93) {
            parts.push(text.slice(segStart, i));
            const rec = finishElement();
            if (rec) yield rec;
            state = 'done';
            continue;
          }
          depth -= 1;
        } else if (c === 44 && depth === 0) {
          parts.push(text.slice(segStart, i));
          const rec = finishElement();
          if (rec) yield rec;
          state = 'between';
        }
        continue;
      }
      if (c === 32 || c === 9 || c === 10 || c === 13) continue;
      if (state === 'start') {
        if (c !== 91) {
          yield {
            source,
            line,
            parseError: {
              code: 'PARSE_ERROR',
              message: 'a .json input must be a JSON array of records',
            },
          };
          return;
        }
        state = 'between';
      } else if (state === 'between') {
        if (c === 93) {
          state = 'done';
          continue;
        }
        state = 'element';
        elementLine = line;
        segStart = i;
        depth = 0;
        inString = false;
        escaped = false;
        i -= 1; // re-read this character as part of the element
        if (c === 10) line -= 1;
      } else if (state === 'done') {
        trailing = true;
      }
    }
    if (state === 'element') parts.push(text.slice(segStart));
  }
  if (state === 'element') {
    yield {
      source,
      line: elementLine,
      parseError: {
        code: 'PARSE_ERROR',
        message: 'the JSON array ends early (truncated file?)',
        raw: preview(parts.join('')),
      },
    };
  } else if (state !== 'done' && state !== 'start') {
    yield {
      source,
      line,
      parseError: { code: 'PARSE_ERROR', message: 'the JSON array is not closed' },
    };
  } else if (trailing) {
    yield {
      source,
      line,
      parseError: { code: 'PARSE_ERROR', message: 'unexpected content after the JSON array' },
    };
  }
}

/**
 * CSV / TSV with a header row, through csv-parse. Each row becomes an object keyed by the
 * header; its line is where the row starts (quoted fields may span lines).
 */
export async function* readDelimited(
  bytes: AsyncIterable<Buffer>,
  source: string,
  format: 'csv' | 'tsv',
): AsyncGenerator<SourceRecord> {
  const skipped: { lines: number; message: string }[] = [];
  const csvOptions: Options = {
    bom: true,
    delimiter: format === 'tsv' ? '\t' : ',',
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
  const checked = async function* (): AsyncGenerator<Buffer> {
    for await (const chunk of bytes) {
      if (!invalidUtf8Seen) {
        try {
          validator.decode(chunk, { stream: true });
        } catch {
          invalidUtf8Seen = true;
        }
      }
      yield chunk;
    }
  };
  const parser = Readable.from(checked()).pipe(csv);
  let header: string[] | undefined;
  let crlfInFields = 0;
  let prevEnd = 0;
  // Rows csv-parse had to skip are reported in file order: before the first row that ends
  // after them (the parser runs ahead of the consumer).
  const flushSkipped = function* (beforeRawLine: number): Generator<SourceRecord> {
    while (skipped.length > 0 && skipped[0]!.lines < beforeRawLine) {
      const s = skipped.shift()!;
      yield {
        source,
        line: prevEnd + 1,
        parseError: {
          code: 'PARSE_ERROR',
          message: `malformed CSV: ${s.message.replace(/ at line \d+/, '')}`,
        },
      };
    }
  };
  for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    yield* flushSkipped(item.info.lines);
    const fields = item.record;
    let breaks = 0;
    for (const f of fields) {
      if (f.indexOf('\n') === -1 && f.indexOf('\r') === -1) continue;
      // csv-parse counts a CRLF inside quotes as two lines; count it once.
      const crlf = f.split('\r\n').length - 1;
      crlfInFields += crlf;
      breaks += (f.match(/\r\n|\r|\n/g) ?? []).length;
    }
    const end = item.info.lines - crlfInFields;
    const line = end - breaks;
    prevEnd = end;
    if (header === undefined) {
      header = fields.map((h, i) => (h.trim() === '' ? `column_${i + 1}` : h.trim()));
      continue;
    }
    if (fields.length !== header.length) {
      yield {
        source,
        line,
        parseError: {
          code: 'PARSE_ERROR',
          message: `row has ${fields.length} fields but the header has ${header.length}`,
          raw: preview(fields.join(format === 'tsv' ? '\t' : ',')),
        },
      };
      continue;
    }
    const value: Record<string, string> = {};
    let bad: string | undefined;
    for (let i = 0; i < header.length; i++) {
      const v = fields[i]!;
      if (v.includes('\u0000')) bad = `column "${header[i]}" contains a NUL byte`;
      else if (invalidUtf8Seen && v.includes('\uFFFD'))
        bad = `column "${header[i]}" contains invalid UTF-8`;
      value[header[i]!] = v;
    }
    if (bad) {
      yield { source, line, parseError: { code: 'PARSE_ERROR', message: bad } };
      continue;
    }
    yield { source, line, value, format };
  }
  yield* flushSkipped(Infinity);
}

/**
 * What identifies an input for resume: a changed file must not be resumed from a watermark
 * that meant something else. Hashes the size and the first and last 64 KiB, so it is cheap
 * for any size and catches appends, truncation and edits at either end.
 */
export async function inputIdentity(
  path: string,
): Promise<{ path: string; size: number; mtimeMs: number; fingerprint: string }> {
  const s = await stat(path);
  const hash = createHash('sha256').update(`${s.size}:`);
  const fh = await open(path, 'r');
  try {
    const span = 64 * 1024;
    const head = Buffer.alloc(Math.min(span, s.size));
    await fh.read(head, 0, head.length, 0);
    hash.update(head);
    if (s.size > span) {
      const tailLen = Math.min(span, s.size - span);
      const tail = Buffer.alloc(tailLen);
      await fh.read(tail, 0, tailLen, s.size - tailLen);
      hash.update(tail);
    }
  } finally {
    await fh.close();
  }
  return {
    path: basename(path) === path ? path : path,
    size: s.size,
    mtimeMs: s.mtimeMs,
    fingerprint: hash.digest('hex'),
  };
}
