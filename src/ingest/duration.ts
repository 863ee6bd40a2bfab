import { UsageError } from '../errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `30m`, `90s`, `1h30m`, `500ms` (a bare number is seconds) into milliseconds. */
export function parseDuration(raw: string, flag: string): number {
  const text = raw.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const m of text.matchAll(part)) {
    if (m.index !== consumed) break;
    total += Number(m[1]) * UNITS[m[2]!]!;
    consumed += m[0].length;
  }
  if (consumed !== text.length || text === '' || !(total > 0)) {
    throw new UsageError(`${flag} "${raw}": expected a duration like 30m, 2h, 90s or 1h30m`);
  }
  return Math.round(total);
}
