/**
 * What JSON.parse does not say about a JSON text: where a syntax error is (as line and column,
 * the same on every Node version), which numbers it cannot hold exactly, and how deep a value
 * is nested. Every function here is iterative: no input can overflow the call stack.
 */

/**
 * Records nested deeper than this fail alone (TOO_DEEP). Far beyond real data, well within
 * what JSON.stringify (recursive in V8, about 4,000 levels) and the service can take.
 */
export const MAX_DEPTH = 512;

/** True when a value nests objects/arrays more than `max` levels (the value itself is level 1). */
export function deeperThan(v: unknown, max: number = MAX_DEPTH): boolean {
  if (v === null || typeof v !== 'object') return false;
  const stack: object[] = [v];
  const depths: number[] = [1];
  while (stack.length > 0) {
    const c = stack.pop()!;
    const d = depths.pop()!;
    if (d > max) return true;
    if (Array.isArray(c)) {
      for (const x of c as unknown[]) {
        if (x !== null && typeof x === 'object') {
          stack.push(x);
          depths.push(d + 1);
        }
      }
    } else {
      const o = c as Record<string, unknown>;
      for (const k in o) {
        const x = o[k];
        if (x !== null && typeof x === 'object') {
          stack.push(x);
          depths.push(d + 1);
        }
      }
    }
  }
  return false;
}

export interface JsonSyntaxError {
  /** Index in the text (UTF-16 code units) of the first character that cannot be there. */
  offset: number;
  message: string;
}

const isWs = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
/** The characters after a backslash that make a two-character escape: " \\ / b f n r t. */
const SIMPLE_ESCAPES = new Set([34, 92, 47, 98, 102, 110, 114, 116]);

function showChar(text: string, i: number): string {
  const c = text.codePointAt(i)!;
  if (c === 0) return 'a NUL byte';
  if (c < 0x20 || c === 0x7f)
    return `control character U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
  return JSON.stringify(String.fromCodePoint(c));
}

/**
 * The first syntax error of a text JSON.parse refused (RFC 8259 grammar), or undefined when the
 * text is valid JSON. Runs only on failures, so it is written for clear messages, not speed.
 */
export function locateJsonError(text: string): JsonSyntaxError | undefined {
  const n = text.length;
  let i = 0;
  const stack: number[] = [];
  const ws = (): void => {
    while (i < n && isWs(text.charCodeAt(i))) i += 1;
  };
  const fail = (expected: string): JsonSyntaxError =>
    i >= n
      ? { offset: n, message: `the JSON ends early (${expected} expected)` }
      : { offset: i, message: `${showChar(text, i)} where ${expected} was expected` };

  const string = (): JsonSyntaxError | undefined => {
    const start = i;
    i += 1; // the opening quote
    for (;;) {
      if (i >= n)
        return { offset: n, message: `the JSON ends early (string at ${start} not closed)` };
      const c = text.charCodeAt(i);
      if (c === 34) {
        i += 1;
        return undefined;
      }
      if (c < 0x20) return { offset: i, message: `${showChar(text, i)} inside a string` };
      if (c === 92) {
        const e = text.charCodeAt(i + 1);
        if (e === 117) {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6)))
            return { offset: i, message: 'a \\u escape without four hex digits' };
          i += 6;
          continue;
        }
        if (SIMPLE_ESCAPES.has(e)) {
          i += 2;
          continue;
        }
        if (i + 1 >= n) return { offset: n, message: 'the JSON ends early (inside a string)' };
        return { offset: i, message: `an unknown escape \\${text[i + 1]!}` };
      }
      i += 1;
    }
  };

  const number = (): JsonSyntaxError | undefined => {
    if (text.charCodeAt(i) === 45) i += 1;
    if (text.charCodeAt(i) === 48) i += 1;
    else if (isDigit(text.charCodeAt(i))) while (isDigit(text.charCodeAt(i))) i += 1;
    else return fail('a digit');
    if (text.charCodeAt(i) === 46) {
      i += 1;
      if (!isDigit(text.charCodeAt(i))) return fail('a digit after the decimal point');
      while (isDigit(text.charCodeAt(i))) i += 1;
    }
    const e = text.charCodeAt(i);
    if (e === 101 || e === 69) {
      i += 1;
      const s = text.charCodeAt(i);
      if (s === 43 || s === 45) i += 1;
      if (!isDigit(text.charCodeAt(i))) return fail('a digit in the exponent');
      while (isDigit(text.charCodeAt(i))) i += 1;
    }
    return undefined;
  };

  // After '{' or ',' in an object: a key, then ':'.
  const key = (): JsonSyntaxError | undefined => {
    ws();
    if (text.charCodeAt(i) !== 34) return fail('a property name in double quotes');
    const e = string();
    if (e) return e;
    ws();
    if (text.charCodeAt(i) !== 58) return fail("':' after the property name");
    i += 1;
    return undefined;
  };

  for (;;) {
    // A value starts here.
    ws();
    if (i >= n) return fail('a value');
    const c = text.charCodeAt(i);
    let err: JsonSyntaxError | undefined;
    let opened = false;
    if (c === 123) {
      i += 1;
      ws();
      if (text.charCodeAt(i) === 125) i += 1;
      else {
        stack.push(123);
        err = key();
        opened = true;
      }
    } else if (c === 91) {
      i += 1;
      ws();
      if (text.charCodeAt(i) === 93) i += 1;
      else {
        stack.push(91);
        opened = true;
      }
    } else if (c === 34) err = string();
    else if (c === 45 || isDigit(c)) err = number();
    else if (text.startsWith('true', i)) i += 4;
    else if (text.startsWith('false', i)) i += 5;
    else if (text.startsWith('null', i)) i += 4;
    else return fail('a value');
    if (err) return err;
    if (opened) continue;
    // A value ended: close what it completes, or find the comma before the next one.
    for (;;) {
      ws();
      const top = stack[stack.length - 1];
      if (top === undefined) {
        return i < n
          ? { offset: i, message: `${showChar(text, i)} after the end of the JSON value` }
          : undefined;
      }
      const d = text.charCodeAt(i);
      if (d === 44) {
        i += 1;
        if (top === 123) {
          err = key();
          if (err) return err;
        }
        break;
      }
      if ((top === 123 && d === 125) || (top === 91 && d === 93)) {
        i += 1;
        stack.pop();
        continue;
      }
      return fail(top === 123 ? "',' or '}'" : "',' or ']'");
    }
  }
}

/** 1-based line and column (in characters) of `offset`, for a text that starts at line:column. */
export function positionOf(
  text: string,
  offset: number,
  startLine: number,
  startColumn: number,
): { line: number; column: number } {
  let line = startLine;
  let lineStart = 0;
  for (let k = text.indexOf('\n'); k !== -1 && k < offset; k = text.indexOf('\n', k + 1)) {
    line += 1;
    lineStart = k + 1;
  }
  let column = lineStart === 0 ? startColumn : 1;
  for (let k = lineStart; k < offset && k < text.length; k++) {
    const c = text.charCodeAt(k);
    // The second half of a surrogate pair is the same character.
    if (!(c >= 0xdc00 && c <= 0xdfff && k > lineStart)) column += 1;
  }
  return { line, column };
}

// A number JSON.parse could alter has 16+ significant digits (a run of 16 digits and dots) or
// an exponent of 3+ digits. Only texts with one of these are scanned number by number.
const MAYBE_INEXACT = /[0-9][0-9.]{15}|[0-9.][eE][+-]?[0-9]{3}/;

/**
 * The text with every number that JSON.parse cannot hold exactly (1e400 → Infinity, 1e-400 → 0,
 * 123456789012345678901 rounded, 0.1234567890123456789 cut) turned into a string of its source
 * text, or undefined when there is none. A number counts as exact when the number JSON writes
 * back has the same decimal value (1.50 and 1.5 are the same number). Call with valid JSON.
 */
export function quoteInexactNumbers(text: string): string | undefined {
  if (!MAYBE_INEXACT.test(text)) return undefined;
  let out: string | undefined;
  let copied = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // Skip the string.
      for (i += 1; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 92) i += 1;
        else if (d === 34) break;
      }
      continue;
    }
    if (c !== 45 && !isDigit(c)) continue;
    let end = i + 1;
    while (end < n) {
      const d = text.charCodeAt(end);
      if (isDigit(d) || d === 46 || d === 101 || d === 69 || d === 43 || d === 45) end += 1;
      else break;
    }
    const token = text.slice(i, end);
    if (!sameDecimal(token, Number(token))) {
      out = (out ?? '') + text.slice(copied, i) + JSON.stringify(token);
      copied = end;
    }
    i = end - 1;
  }
  return out === undefined ? undefined : out + text.slice(copied);
}

/** Does the JSON number `token` have the value JSON would write for `value`? */
function sameDecimal(token: string, value: number): boolean {
  if (!Number.isFinite(value)) return false;
  const a = decimal(token);
  const b = decimal(String(value));
  return a.digits === b.digits && (a.digits === '' || (a.exp === b.exp && a.neg === b.neg));
}

/** A decimal number as sign, significant digits (no leading/trailing zeros) and exponent. */
function decimal(s: string): { neg: boolean; digits: string; exp: number } {
  let i = 0;
  const neg = s.charCodeAt(0) === 45;
  if (neg) i = 1;
  let mantissa = '';
  let pointAt = -1;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) pointAt = mantissa.length;
    else if (isDigit(c)) mantissa += s[i]!;
    else break;
  }
  let exp = i < s.length ? Number(s.slice(i + 1)) : 0;
  if (pointAt !== -1) exp -= mantissa.length - pointAt;
  let lead = 0;
  while (lead < mantissa.length && mantissa.charCodeAt(lead) === 48) lead += 1;
  let trail = mantissa.length;
  while (trail > lead && mantissa.charCodeAt(trail - 1) === 48) trail -= 1;
  exp += mantissa.length - trail;
  return { neg, digits: mantissa.slice(lead, trail), exp };
}
