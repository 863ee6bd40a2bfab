import { isTimeZone } from '../client/datetime.js';
import { integer, refuse } from '../value-rules.js';

export { integer };

/**
 * The option parsers every command shares, for commander's argParser. They throw a UsageError
 * (exit 2) worded one way: `<flag> must be <what> (got "<value>")` (see value-rules.ts).
 */

/** A number above 0 of some unit, e.g. seconds or requests per minute. */
export function positive(flag: string, unit: string): (raw: string) => number {
  return (raw) => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n <= 0)
      refuse(flag, `a number of ${unit} > 0`, raw);
    return n;
  };
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration such as `30m`, `90s`, `1h30m` or `500ms` (a bare number is seconds), in milliseconds. */
export function duration(flag: string): (raw: string) => number {
  return (raw) => {
    const text = raw.trim().toLowerCase();
    if (/^\d+(\.\d+)?$/.test(text) && Number(text) > 0) return Math.round(Number(text) * 1000);
    let total = 0;
    let consumed = 0;
    for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
      if (m.index !== consumed) break;
      total += Number(m[1]) * UNITS[m[2]!]!;
      consumed += m[0].length;
    }
    if (consumed !== text.length || text === '' || !(total > 0)) {
      refuse(flag, 'a duration like 30m, 2h, 90s or 1h30m', raw);
    }
    return Math.round(total);
  };
}

/** A repeatable `key=value` option, collected into one object (a later key wins). */
export function keyValue(
  flag: string,
  example: string,
): (raw: string, previous?: Record<string, string>) => Record<string, string> {
  return (raw, previous = {}) => {
    const eq = raw.indexOf('=');
    if (eq <= 0 || raw.slice(0, eq).trim() === '') refuse(flag, `key=value, e.g. ${example}`, raw);
    return { ...previous, [raw.slice(0, eq).trim()]: raw.slice(eq + 1) };
  };
}

/** An IANA time zone name (`Europe/Berlin`, `UTC`), as this Node's Intl knows them. */
export function timeZone(flag: string): (raw: string) => string {
  return (raw) => {
    const zone = raw.trim();
    if (zone === '' || !isTimeZone(zone))
      refuse(flag, 'an IANA time zone such as UTC or Europe/Berlin', raw);
    return zone;
  };
}
