import type { SourceRecord } from '../source-record.js';

/** How much of a bad record's text is kept for messages and the failures file. */
export const RAW_PREVIEW = 200;

export function preview(text: string): string {
  return text.length > RAW_PREVIEW ? `${text.slice(0, RAW_PREVIEW)}…` : text;
}

export function parseError(
  source: string,
  line: number,
  message: string,
  raw?: string,
): SourceRecord {
  return raw === undefined
    ? { source, line, parseError: { code: 'PARSE_ERROR', message } }
    : { source, line, parseError: { code: 'PARSE_ERROR', message, raw } };
}

/** True when the string holds only JSON whitespace (stops at the first other character). */
export function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
  }
  return true;
}

/**
 * One JSON value → a record, or a PARSE_ERROR naming why. The NUL check runs only after
 * JSON.parse failed (a raw NUL is never valid JSON), so good records pay nothing for it.
 */
export function parseJsonRecord(text: string, source: string, line: number): SourceRecord {
  try {
    return { source, line, value: JSON.parse(text) as unknown };
  } catch (err) {
    if (text.includes('\u0000'))
      return parseError(source, line, 'contains a NUL byte', preview(text));
    return parseError(source, line, `invalid JSON: ${(err as Error).message}`, preview(text));
  }
}
