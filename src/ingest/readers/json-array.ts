import { StringDecoder } from 'node:string_decoder';
import type { SourceRecord } from '../source-record.js';
import { parseError, parseJsonRecord, preview } from './common.js';

type ScanState = 'start' | 'between' | 'element' | 'done';

/**
 * A JSON array streamed element by element: a small scanner tracks strings, escapes and
 * nesting to find where each top-level element ends, so the file is never held whole (only
 * the current element). Each element's line is the line its first character is on. Elements
 * starting at or before `startAfterLine` are scanned but not kept or parsed (resume). Yields
 * the records of each chunk read as one array (never empty).
 */
export async function* readJsonArray(
  bytes: AsyncIterable<Buffer>,
  source: string,
  startAfterLine = 0,
): AsyncGenerator<SourceRecord[]> {
  const decoder = new StringDecoder('utf8');
  let line = 1;
  let state = 'start' as ScanState;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let parts: string[] = [];
  let elementLine = 1;
  let keep = true;
  let first = true;
  let trailing = false;

  const finishElement = (): SourceRecord | undefined => {
    if (!keep) return undefined;
    const text = parts.join('').trim();
    parts = [];
    if (text === '') return parseError(source, elementLine, 'empty array element');
    return parseJsonRecord(text, source, elementLine);
  };

  for await (const chunk of bytes) {
    const out: SourceRecord[] = [];
    let text = decoder.write(chunk);
    if (first && text.length > 0) {
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
            if (keep) parts.push(text.slice(segStart, i));
            const rec = finishElement();
            if (rec) out.push(rec);
            state = 'done';
            continue;
          }
          depth -= 1;
        } else if (c === 44 && depth === 0) {
          if (keep) parts.push(text.slice(segStart, i));
          const rec = finishElement();
          if (rec) out.push(rec);
          state = 'between';
        }
        continue;
      }
      if (c === 32 || c === 9 || c === 10 || c === 13) continue;
      if (state === 'start') {
        if (c !== 91) {
          yield [parseError(source, line, 'a .json input must be a JSON array of records')];
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
        keep = elementLine > startAfterLine;
        segStart = i;
        depth = 0;
        inString = false;
        escaped = false;
        i -= 1; // re-read this (non-newline) character as part of the element
      } else {
        trailing = true;
      }
    }
    if (state === 'element' && keep) parts.push(text.slice(segStart));
    if (out.length > 0) yield out;
  }
  if (state === 'element') {
    yield [
      parseError(
        source,
        elementLine,
        'the JSON array ends early (truncated file?)',
        preview(parts.join('')),
      ),
    ];
  } else if (state === 'between') {
    yield [parseError(source, line, 'the JSON array is not closed')];
  } else if (trailing) {
    yield [parseError(source, line, 'unexpected content after the JSON array')];
  }
}
