import { open } from 'node:fs/promises';
import { isGzip } from './format.js';
import { findFormat, formatFromName } from './formats/index.js';

const SAMPLE_BYTES = 256 * 1024;

/** Records in an input, counted (`exact`) or scaled from its first 256 KiB. */
export interface RecordEstimate {
  records: number;
  exact: boolean;
}

/**
 * Counts the records of a sample of one format. Each is a small state machine over bytes, so
 * it costs a pass over the sample and nothing else: one function per format, so a format
 * registry can name it as its "estimate" hook.
 */
interface RecordCounter {
  /** Feeds the next bytes. */
  push(chunk: Buffer): void;
  /** Records seen so far; `atEnd`: the input ended here (a last record without a newline counts). */
  count(atEnd: boolean): number;
}

/**
 * JSON Lines: a record is a line with something on it besides white space. CSV or TSV
 * (`quotes`, RFC 4180): a record is a line with anything on it, and a line break inside a
 * quoted field is part of the field, so a record ends at a line break outside quotes; an
 * escaped quote ("") toggles twice, which is no toggle. The header row is a record here (the
 * caller knows it is no document).
 */
function lineCounter(quotes: boolean): RecordCounter {
  let records = 0;
  let quoted = false;
  let content = false;
  return {
    push(chunk) {
      for (let i = 0; i < chunk.length; i++) {
        const c = chunk[i]!;
        if (quotes && c === 0x22) {
          quoted = !quoted;
          content = true;
        } else if (c === 0x0a && !quoted) {
          if (content) records += 1;
          content = false;
        } else if (!content && c !== 0x0d && (quotes || (c !== 0x20 && c !== 0x09))) {
          content = true;
        }
      }
    },
    count: (atEnd) => records + (atEnd && content ? 1 : 0),
  };
}

/**
 * A JSON array: its top-level elements (strings, with their escapes, may hold brackets and
 * commas). A document that is one object, not an array, is one record.
 */
function jsonArrayCounter(): RecordCounter {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let started = false;
  let topObject = false;
  let elements = 0;
  /** Inside the array at depth 1, waiting for the next element to start. */
  let expecting = false;
  return {
    push(chunk) {
      for (let i = 0; i < chunk.length; i++) {
        const c = chunk[i]!;
        if (inString) {
          if (escaped) escaped = false;
          else if (c === 0x5c) escaped = true;
          else if (c === 0x22) inString = false;
          continue;
        }
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
        if (!started) {
          // A BOM is passed over; the first significant byte says array or single object.
          if (c === 0xef || c === 0xbb || c === 0xbf) continue;
          started = true;
          if (c === 0x5b) {
            depth = 1;
            expecting = true;
            continue;
          }
          topObject = true;
        }
        if (topObject) continue;
        if (depth === 1 && expecting && c !== 0x5d && c !== 0x2c) {
          elements += 1;
          expecting = false;
        }
        if (c === 0x22) inString = true;
        else if (c === 0x5b || c === 0x7b) depth += 1;
        else if (c === 0x5d || c === 0x7d) depth -= 1;
        else if (c === 0x2c && depth === 1) expecting = true;
      }
    },
    count: () => (topObject ? 1 : elements),
  };
}

/** The counter for each layout of the format registry. */
const COUNTERS = {
  lines: () => lineCounter(false),
  rows: () => lineCounter(true),
  elements: jsonArrayCounter,
};

/**
 * The records of an input file in `format` (the file name's unless given): counted exactly
 * when the whole file fits in the first 256 KiB, else scaled from them (`exact: false`; good
 * for a progress bar and an ETA, and for a credit estimate that says "about"). Undefined where
 * bytes say nothing cheap: gzip, and formats without a counter (those read whole).
 */
export async function estimateInput(
  path: string,
  size?: number,
  format = formatFromName(path),
): Promise<RecordEstimate | undefined> {
  const layout = findFormat(format)?.layout;
  if (path.toLowerCase().endsWith('.gz') || layout === undefined) return undefined;
  const counter = COUNTERS[layout]();
  const handle = await open(path, 'r');
  try {
    const total = size ?? (await handle.stat()).size;
    if (total === 0) return { records: 0, exact: true };
    const buf = Buffer.alloc(Math.min(SAMPLE_BYTES, total));
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    if (bytesRead === 0) return undefined;
    if (isGzip(buf.subarray(0, bytesRead))) return undefined;
    counter.push(buf.subarray(0, bytesRead));
    if (bytesRead >= total) return { records: counter.count(true), exact: true };
    const seen = counter.count(false);
    return { records: Math.max(1, Math.round((seen * total) / bytesRead)), exact: false };
  } finally {
    await handle.close();
  }
}

/** Records of an input for progress (see estimateInput). */
export async function estimateRecords(path: string, size: number): Promise<number | undefined> {
  const e = await estimateInput(path, size);
  return e && e.records > 0 ? e.records : undefined;
}
