import type { InputFormat, ReadErrorCode, RecordBatch, SourceRecord } from '../source-record.js';
import {
  deeperThan,
  locateJsonError,
  MAX_DEPTH,
  positionOf,
  quoteInexactNumbers,
} from './json-text.js';

/**
 * The largest record a reader holds: a JSON Lines line, a `.json` array element or a CSV row longer than
 * this fails alone as TOO_LARGE (its place and a bounded excerpt kept) and the reader goes on
 * with the next one, so no record makes it hold a file whole. The service publishes no
 * document limit; the emulator refuses request bodies above 16 MiB, so a record above this
 * could not be sent anyway, while anything a request can carry is read.
 */
export const MAX_RECORD_BYTES = 24 * 1024 * 1024;

/** How much of a too-large record the failures file keeps. */
export const EXCERPT_BYTES = 1000;

/** The first EXCERPT_BYTES of `parts` (whole characters only), decoded. */
export function excerptOf(parts: readonly Buffer[]): string {
  const size = parts.reduce((n, p) => n + p.length, 0);
  // Buffer.concat copies no more than the length it is given.
  const bytes = Buffer.concat(parts, Math.min(size, EXCERPT_BYTES));
  // Cut before the last character, which the excerpt may split.
  let end = bytes.length;
  if (size >= EXCERPT_BYTES) {
    let k = end - 1;
    while (k > 0 && (bytes[k]! & 0xc0) === 0x80) k -= 1;
    if (bytes[k]! >= 0xc0) end = k;
  }
  return bytes.toString('utf8', 0, end);
}

/** A record over `max` bytes: fails alone, keeping its line and an excerpt of its start. */
export function tooLarge(
  source: string,
  line: number,
  size: number,
  max: number,
  excerpt: string,
  format: InputFormat,
): SourceRecord {
  return parseError(
    source,
    line,
    `the record is ${size.toLocaleString('en-US')} bytes, over the ${max.toLocaleString('en-US')}-byte limit of a record: not read (the failures file keeps its first ${EXCERPT_BYTES} bytes)`,
    { raw: excerpt },
    format,
    'TOO_LARGE',
  );
}

/**
 * The batches of `items`, each passed through `each` on its way, then what `items` returns. A
 * consumer that stops early ends `items` too, and with it the bytes under it.
 */
export async function* mapBatches<R>(
  items: AsyncIterator<RecordBatch, R>,
  each: (batch: RecordBatch) => RecordBatch,
): AsyncGenerator<RecordBatch, R> {
  try {
    for (;;) {
      const next = await items.next();
      if (next.done) return next.value;
      yield each(next.value);
    }
  } finally {
    await items.return?.();
  }
}

/** The original of a record that could not be read: its text, and its bytes when not UTF-8. */
export interface RawInput {
  raw: string;
  rawBase64?: string;
  header?: string[];
}

export function parseError(
  source: string,
  line: number,
  message: string,
  original?: RawInput,
  format?: InputFormat,
  code: ReadErrorCode = 'PARSE_ERROR',
): SourceRecord {
  const rec: SourceRecord = { source, line, parseError: { code, message, ...original } };
  if (format !== undefined) rec.format = format;
  return rec;
}

const fatalDecoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The original of bytes decoded as `text`: with their base64 only when they are not valid UTF-8
 * (then `text` has U+FFFD where they were, and only the base64 gives them back).
 */
export function rawOf(bytes: Uint8Array, text: string): RawInput {
  if (!text.includes('\uFFFD')) return { raw: text };
  try {
    fatalDecoder.decode(bytes);
    return { raw: text };
  } catch {
    return { raw: text, rawBase64: Buffer.from(bytes).toString('base64') };
  }
}

/** True when the string holds only JSON whitespace (stops at the first other character). */
export function isBlank(text: string): boolean {
  return !/[^ \t\n\r]/.test(text);
}

/**
 * One JSON value → a record, or a failure that keeps the whole text:
 * - a syntax error names its column (JSON Lines) or line and column (`.json`, whose records
 *   may span lines; `column` is where the text starts on its first line);
 * - numbers JSON.parse cannot hold exactly (1e400, 30-digit integers) are kept as strings of
 *   their source text rather than changed (see quoteInexactNumbers);
 * - a value nested deeper than MAX_DEPTH fails alone as TOO_DEEP;
 * - a string or key holding a lone UTF-16 surrogate (`"\ud800"`, which names no character and
 *   would be stored as replacement characters) fails alone, like invalid UTF-8;
 * - an object that repeats a key fails alone, naming the key: JSON.parse would keep the last
 *   value and drop the others without a word, and which one the writer meant is not knowable.
 * The checks past JSON.parse only run on texts that could need them, so plain records pay
 * almost nothing for them.
 */
export function parseJsonRecord(
  text: string,
  source: string,
  line: number,
  format: 'jsonl' | 'json',
  column = 1,
): SourceRecord {
  const fail = (message: string, code?: ReadErrorCode): SourceRecord =>
    parseError(source, line, message, { raw: text }, format, code);
  // Where an offset of the text is: its column (JSON Lines) or its line and column.
  const at = (offset: number): string => {
    const pos = positionOf(text, offset, line, column);
    return format === 'jsonl' ? `column ${pos.column}` : `line ${pos.line}, column ${pos.column}`;
  };
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    const where = locateJsonError(text);
    if (!where) return fail('invalid JSON');
    if (text.charCodeAt(where.offset) === 0)
      return fail(`contains a NUL byte (at ${at(where.offset)})`);
    return fail(`invalid JSON at ${at(where.offset)}: ${where.message}`);
  }
  const exact = quoteInexactNumbers(text);
  if (exact !== undefined) value = JSON.parse(exact) as unknown;
  if (text.includes('\\u') && LONE_SURROGATE_ESCAPE.test(text) && hasLoneSurrogate(value)) {
    const escape = loneSurrogateEscape(text);
    return fail(`holds a lone UTF-16 surrogate (${escape}), which is not a character`);
  }
  const repeated = repeatedKey(text, value);
  if (repeated !== undefined) {
    const key = JSON.stringify(repeated.key);
    return fail(`repeats the key ${key} in one object (at ${at(repeated.offset)}): keep one`);
  }
  // Nesting past MAX_DEPTH takes at least two brackets a level.
  if (text.length > 2 * MAX_DEPTH && deeperThan(value))
    return fail(`nested more than ${MAX_DEPTH} levels deep`, 'TOO_DEEP');
  return { source, line, value, format };
}

/** A `\uD800`–`\uDFFF` escape: the only way a decoded UTF-8 text can come to hold a surrogate. */
const LONE_SURROGATE_ESCAPE = /\\u[dD][89a-fA-F][0-9a-fA-F]{2}/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether any string or key in the value holds a surrogate that is not half of a pair. */
function hasLoneSurrogate(v: unknown): boolean {
  const stack: unknown[] = [v];
  while (stack.length > 0) {
    const x = stack.pop();
    if (typeof x === 'string') {
      if (LONE_SURROGATE.test(x)) return true;
    } else if (Array.isArray(x)) {
      for (const y of x as unknown[]) stack.push(y);
    } else if (x !== null && typeof x === 'object') {
      for (const k of Object.keys(x)) {
        if (LONE_SURROGATE.test(k)) return true;
        stack.push((x as Record<string, unknown>)[k]);
      }
    }
  }
  return false;
}

/** The first surrogate escape of the text that is not half of a pair, as written. */
function loneSurrogateEscape(text: string): string {
  const re = /\\u([dD][89a-fA-F][0-9a-fA-F]{2})(\\u[dD][c-fC-F][0-9a-fA-F]{2})?/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const high = /^[dD][89abAB]/.test(m[1]!);
    if (!high || m[2] === undefined) return `\\u${m[1]!}`;
  }
  return 'an escape';
}

/** Keys written in the text: one structural ':' each (outside strings). Iterates with indexOf. */
function keysWritten(text: string): number {
  let n = 0;
  let i = 0;
  let colon = text.indexOf(':');
  for (;;) {
    if (colon === -1) return n;
    const quote = text.indexOf('"', i);
    if (quote === -1 || colon < quote) {
      n += 1;
      i = colon + 1;
      colon = text.indexOf(':', i);
      continue;
    }
    // Skip the string opened at `quote`.
    let j = quote + 1;
    for (;;) {
      j = text.indexOf('"', j);
      if (j === -1) return n;
      let backslashes = 0;
      for (let b = j - 1; text.charCodeAt(b) === 92; b--) backslashes += 1;
      if (backslashes % 2 === 0) break;
      j += 1;
    }
    i = j + 1;
    if (colon < i) colon = text.indexOf(':', i);
  }
}

/** Keys the parsed value holds, at every level (JSON.parse makes no inherited ones). */
function keysHeld(v: unknown): number {
  let n = 0;
  const stack: unknown[] = [v];
  while (stack.length > 0) {
    const x = stack.pop();
    if (Array.isArray(x)) {
      for (const y of x as unknown[]) if (y !== null && typeof y === 'object') stack.push(y);
    } else {
      const o = x as Record<string, unknown>;
      for (const k in o) {
        n += 1;
        const y = o[k];
        if (y !== null && typeof y === 'object') stack.push(y);
      }
    }
  }
  return n;
}

/**
 * Keys written as `"…":` (no space before the colon): a '":' whose quote is not escaped. Inside
 * a string a quote is always escaped, so none of these is in one. Native searches only.
 */
function tightKeys(text: string): number {
  let n = 0;
  for (let i = text.indexOf('":'); i !== -1; i = text.indexOf('":', i + 2)) {
    let backslashes = 0;
    for (let b = i - 1; text.charCodeAt(b) === 92; b--) backslashes += 1;
    if (backslashes % 2 === 0) n += 1;
  }
  return n;
}

/** A quote, whitespace, a colon: a key written with space before its colon (or text like it). */
const LOOSE_KEY = /"\s+:/;

/**
 * The first key an object of the (valid JSON) text repeats, and where its second occurrence
 * is; undefined when none is. Counting comes first (cheap): only a text that writes more keys
 * than its value holds is scanned for which.
 */
function repeatedKey(text: string, value: unknown): { key: string; offset: number } | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const held = keysHeld(value);
  // The usual case, every key written tight: a count of '":' says it all.
  if (tightKeys(text) === held && !LOOSE_KEY.test(text)) return undefined;
  if (keysWritten(text) === held) return undefined;
  const open: (Set<string> | undefined)[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 123) open.push(new Set());
    else if (c === 91) open.push(undefined);
    else if (c === 125 || c === 93) open.pop();
    else if (c === 34) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 34) j += text.charCodeAt(j) === 92 ? 2 : 1;
      let k = j + 1;
      while (k < text.length && /\s/.test(text[k]!)) k += 1;
      const keys = open[open.length - 1];
      if (text.charCodeAt(k) === 58 && keys) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (keys.has(key)) return { key, offset: i };
        keys.add(key);
      }
      i = j;
    }
  }
  return undefined;
}
