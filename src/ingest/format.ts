import { UsageError } from '../errors.js';
import { INPUT_FORMATS, type InputFormat } from './source-record.js';

/** Picks a format from a file name (".gz" looked through), or undefined. */
export function formatFromName(name: string): InputFormat | undefined {
  const lower = name.toLowerCase().replace(/\.gz$/, '');
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.tsv') || lower.endsWith('.tab')) return 'tsv';
  if (lower.endsWith('.json')) return 'json';
  return undefined;
}

/** `--format` value → format ("ndjson" is accepted as a synonym of "jsonl"). */
export function parseFormat(value: string): InputFormat {
  const v = value.toLowerCase() === 'ndjson' ? 'jsonl' : value.toLowerCase();
  if ((INPUT_FORMATS as readonly string[]).includes(v)) return v as InputFormat;
  throw new UsageError(`unknown --format "${value}": use one of ${INPUT_FORMATS.join(', ')}`);
}

/**
 * Format of an unnamed input (stdin) from its first bytes: JSON Lines when the first
 * significant character opens an object, a JSON array for '[', CSV otherwise.
 */
export function sniffFormat(head: Buffer): InputFormat {
  let i = 0;
  // UTF-8 BOM
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3;
  while (i < head.length) {
    const c = head[i]!;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
    i += 1;
  }
  if (head[i] === 0x7b) return 'jsonl';
  if (head[i] === 0x5b) return 'json';
  return 'csv';
}

/** gzip magic bytes (RFC 1952): 1f 8b. */
export function isGzip(head: Buffer): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}
