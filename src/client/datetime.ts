/**
 * `document_created_at` as the service's model reads it (the Python SDK's
 * `Optional[datetime]`, pydantic 2): an ISO 8601 date or date-time, or a Unix time. The model
 * refuses second 60, hour 24, offsets of a day or more and year 0; it reads any bare number as
 * Unix seconds (or milliseconds past 2e10), so `"20240102"` would be stored as August 1970. The
 * client therefore sends one normal form only: ISO 8601 with an offset.
 */

/** The parts of an ISO 8601 date or date-time; `offsetMinutes` null for a naive time. */
interface IsoDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** The fraction's digits after the point as written ('' for none), at most 6 kept. */
  fraction: string;
  /** Minutes east of UTC; null when the text names no offset (a naive time or a date). */
  offsetMinutes: number | null;
  /** The offset as written was `Z`/`z`. */
  zulu: boolean;
}

/** Parses `n` ASCII digits at `i`, or -1. */
function digits(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = i; k < i + n; k++) {
    const d = s.charCodeAt(k) - 48;
    if (!(d >= 0 && d <= 9)) return -1; // NaN past the end too
    v = v * 10 + d;
  }
  return v;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * An ISO 8601 date (`2024-03-15`) or date-time (`2024-03-15T10:30`, `…:00`, `….123456`, `Z`,
 * `+02:00`, `+0200`; `t`, a space or `_` instead of `T`) with the values the model accepts:
 * year 1–9999, real calendar days, hour ≤ 23, minute and second ≤ 59, offset below 24 hours.
 * Hand-written (no regex, no Date) as it runs on every record.
 */
function parseIsoDateTime(s: string): IsoDateTime | undefined {
  const len = s.length;
  if (len < 10) return undefined;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  if (year < 1 || month < 1 || month > 12 || day < 1) return undefined;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return undefined;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  if (day > (month === 2 && leap ? 29 : DAYS[month - 1]!)) return undefined;
  const parts: IsoDateTime = {
    year,
    month,
    day,
    hour: 0,
    minute: 0,
    second: 0,
    fraction: '',
    offsetMinutes: null,
    zulu: false,
  };
  if (len === 10) return parts;
  const sep = s[10];
  if (sep !== 'T' && sep !== 't' && sep !== ' ' && sep !== '_') return undefined;
  parts.hour = digits(s, 11, 2);
  parts.minute = digits(s, 14, 2);
  if (parts.hour < 0 || parts.hour > 23 || parts.minute < 0 || parts.minute > 59) return undefined;
  if (s.charCodeAt(13) !== 58) return undefined;
  let i = 16;
  if (s.charCodeAt(i) === 58) {
    parts.second = digits(s, i + 1, 2);
    if (parts.second < 0 || parts.second > 59) return undefined;
    i += 3;
    if (s.charCodeAt(i) === 46) {
      const start = i + 1;
      i = start;
      while (i < len && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i += 1;
      if (i === start || i - start > 9) return undefined;
      parts.fraction = s.slice(start, Math.min(i, start + 6));
    }
  }
  if (i === len) return parts;
  const z = s[i];
  if (z === 'Z' || z === 'z') {
    if (i + 1 !== len) return undefined;
    parts.offsetMinutes = 0;
    parts.zulu = true;
    return parts;
  }
  if (z !== '+' && z !== '-') return undefined;
  const oh = digits(s, i + 1, 2);
  i += 3;
  if (s.charCodeAt(i) === 58) i += 1;
  const om = digits(s, i, 2);
  if (oh < 0 || oh > 23 || om < 0 || om > 59 || i + 2 !== len) return undefined;
  parts.offsetMinutes = (z === '-' ? -1 : 1) * (oh * 60 + om);
  return parts;
}

/**
 * An ISO 8601 date or date-time the service's datetime model accepts (see `parseIsoDateTime`);
 * a date-time without an offset counts, as the SDK sends naive times so.
 */
export function isIsoDate(s: string): boolean {
  return parseIsoDateTime(s) !== undefined;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `Z` for UTC, else `±HH:MM`. */
function offsetText(minutes: number, zulu: boolean): string {
  if (minutes === 0 && zulu) return 'Z';
  const sign = minutes < 0 ? '-' : '+';
  const m = Math.abs(minutes);
  return `${sign}${pad(Math.floor(m / 60))}:${pad(m % 60)}`;
}

/** ISO 8601 with an offset: `2024-03-15T10:30:00Z`, `2024-03-15T10:30:00.5+02:00`. */
function formatIsoDateTime(p: IsoDateTime, offsetMinutes: number, zulu: boolean): string {
  const fraction = p.fraction === '' ? '' : `.${p.fraction}`;
  return (
    `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:` +
    `${pad(p.second)}${fraction}${offsetText(offsetMinutes, zulu)}`
  );
}

/** Whether `zone` is an IANA time zone name this Node knows (`Europe/Berlin`, `UTC`). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Minutes east of UTC of `zone` at the instant `utcMs` (an offset in seconds is rounded). */
function zoneOffsetAt(zone: string, utcMs: number): number {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
    formatters.set(zone, f);
  }
  // `GMT+05:30`, `GMT-00:44:30` (local mean time), or `GMT` alone for no offset.
  const name = f.formatToParts(new Date(utcMs)).find((p) => p.type === 'timeZoneName')?.value;
  const m = /^GMT(?:([+-])(\d\d):(\d\d)(?::(\d\d))?)?$/.exec(name ?? '');
  if (!m) throw new Error(`unreadable offset of ${zone}: ${name}`);
  const minutes = Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0) + Number(m[4] ?? 0) / 60;
  return Math.round(m[1] === '-' ? -minutes : minutes);
}

/** Milliseconds of a UTC wall time, for any year (Date.UTC maps 0–99 to 1900–1999). */
function utc(year: number, month: number, day: number, hour: number, minute: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, 0, 0);
  return d.getTime();
}

/**
 * The offset `zone` has at the local wall time of `p` (a time a clock change skips takes the
 * offset from before the change, so it moves forward by the gap, as most libraries do).
 */
function zoneOffsetFor(zone: string, p: IsoDateTime): number {
  const wall = utc(p.year, p.month, p.day, p.hour, p.minute);
  const first = zoneOffsetAt(zone, wall);
  const second = zoneOffsetAt(zone, wall - first * 60_000);
  if (first === second) return first;
  // Near a change: keep whichever offset gives back the same wall time.
  return zoneOffsetAt(zone, wall - second * 60_000) === second ? second : first;
}

/** A Unix time of 10 digits (seconds) or 13 (milliseconds), as ISO 8601 in UTC; else why not. */
function fromUnix(integerDigits: string, value: number): { value: string } | { error: string } {
  const n = integerDigits.length;
  if (n !== 10 && n !== 13) {
    return {
      error: `is a bare number of ${n} digit${n === 1 ? '' : 's'}: only Unix times of 10 (seconds) or 13 (milliseconds) digits are read; write a date as ISO-8601 (e.g. 2024-01-02)`,
    };
  }
  const ms = n === 10 ? value * 1000 : value;
  const iso = new Date(Math.floor(ms)).toISOString(); // 2024-03-15T10:30:00.000Z
  return { value: iso.endsWith('.000Z') ? `${iso.slice(0, 19)}Z` : iso };
}

/**
 * `document_created_at` as the client sends it, or why not: an ISO 8601 date or date-time the
 * model accepts, with its offset (written `±HH:MM`; `Z` kept), a naive one read in `zone`
 * (default UTC); a number, or a string of digits, of 10 (Unix seconds) or 13 (Unix
 * milliseconds) digits before any fraction. Other bare numbers are refused: the model would
 * read `20240102` as seconds since 1970.
 */
export function normalizeCreatedAt(
  value: unknown,
  zone = 'UTC',
): { value: string } | { error: string } {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return { error: 'is not a date' };
    return fromUnix(String(Math.trunc(value)), value);
  }
  if (typeof value !== 'string') return { error: 'is not a date' };
  const s = value.trim();
  const numeric = /^(\d+)(?:\.\d+)?$/.exec(s);
  if (numeric) return fromUnix(numeric[1]!, Number(s));
  const p = parseIsoDateTime(s);
  if (!p) return { error: 'is not an ISO-8601 date (e.g. 2024-03-15T10:30:00Z)' };
  if (p.offsetMinutes !== null) return { value: formatIsoDateTime(p, p.offsetMinutes, p.zulu) };
  const offset = zone === 'UTC' ? 0 : zoneOffsetFor(zone, p);
  return { value: formatIsoDateTime(p, offset, zone === 'UTC' || offset === 0) };
}
