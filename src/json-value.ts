/**
 * JSON text written without recursion (no input is nested deep enough to overflow the stack):
 * canonical (keys sorted at every level) for hashes and comparisons, or plain.
 */

/**
 * JSON of short strings that recur on every record (metadata keys, document_type and mode
 * values): computed once each, up to a bound.
 */
const RECURRING_JSON = new Map<string, string>();

export function recurringJson(s: string): string {
  let out = RECURRING_JSON.get(s);
  if (out === undefined) {
    out = JSON.stringify(s);
    if (RECURRING_JSON.size < 4096) RECURRING_JSON.set(s, out);
  }
  return out;
}

interface Frame {
  /** The array, or the object's values in key order. */
  values: unknown[];
  /** JSON of each key followed by ':' (objects), or undefined (arrays). */
  keys: string[] | undefined;
  next: number;
}

/**
 * JSON with object keys sorted at every level; undefined properties left out (as JSON does).
 * Iterative (an explicit stack), so no input is nested deep enough to overflow the call stack.
 */
export function canonicalJson(v: unknown): string {
  return writeJson(v, true);
}

/** JSON.stringify's output (keys in their own order) for values of any depth: iterative. */
export function plainJson(v: unknown): string {
  return writeJson(v, false);
}

function writeJson(v: unknown, sorted: boolean): string {
  let out = '';
  const stack: Frame[] = [];
  let value = v;
  for (;;) {
    // Write `value`: a scalar whole, a container's opening (its members come next).
    if (value === null || typeof value !== 'object') {
      out += JSON.stringify(value) ?? 'null';
    } else if (Array.isArray(value)) {
      if (value.length === 0) out += '[]';
      else {
        out += '[';
        stack.push({ values: value, keys: undefined, next: 1 });
        value = value[0];
        continue;
      }
    } else {
      const obj = value as Record<string, unknown>;
      const keys: string[] = [];
      const values: unknown[] = [];
      const names = Object.keys(obj);
      if (sorted) names.sort();
      for (const k of names) {
        const val = obj[k];
        if (val === undefined) continue;
        keys.push(`${sorted ? recurringJson(k) : JSON.stringify(k)}:`);
        values.push(val);
      }
      if (values.length === 0) out += '{}';
      else {
        out += `{${keys[0]!}`;
        stack.push({ values, keys, next: 1 });
        value = values[0];
        continue;
      }
    }
    // Close finished containers; move on to the next member of the innermost open one.
    for (;;) {
      const top = stack[stack.length - 1];
      if (top === undefined) return out;
      if (top.next < top.values.length) {
        const i = top.next++;
        out += top.keys ? `,${top.keys[i]!}` : ',';
        value = top.values[i];
        break;
      }
      out += top.keys ? '}' : ']';
      stack.pop();
    }
  }
}

/** A JSON object: an object that is neither null nor an array. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
