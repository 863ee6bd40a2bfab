import { InvalidInputError } from './errors.js';
import {
  DEFAULT_DOCUMENT_TYPE,
  DEFAULT_MODE,
  DOCUMENT_TYPES,
  MODES,
  type CreateMemoryRequest,
  type DocumentType,
  type Mode,
  type ScopePath,
} from './types.js';

/**
 * What create/batch accept: a create request where only `document` is required. A key left out
 * (or null) gets what the official SDK sends for it: null for the ids, the date and scope,
 * `ai-chat-conversation` / `long-range` / `{}` for document_type / mode / metadata.
 */
export type CreateMemoryInput = Pick<CreateMemoryRequest, 'document'> & {
  [K in Exclude<keyof CreateMemoryRequest, 'document'>]?: CreateMemoryRequest[K] | null;
};

export function isDocumentType(v: unknown): v is DocumentType {
  return (DOCUMENT_TYPES as readonly unknown[]).includes(v);
}

export function isMode(v: unknown): v is Mode {
  return (MODES as readonly unknown[]).includes(v);
}

/**
 * The create body exactly as the official SDK builds it: every key,
 * in the SDK's order, defaults filled in, enums and scope checked before anything is sent.
 * Throws InvalidInputError (no request made) for a value the service would refuse.
 */
export function buildCreateBody(req: CreateMemoryInput): CreateMemoryRequest {
  const documentType = req.document_type ?? DEFAULT_DOCUMENT_TYPE;
  const mode = req.mode ?? DEFAULT_MODE;
  if (!isDocumentType(documentType)) {
    throw new InvalidInputError(
      `document_type ${JSON.stringify(documentType)} is not one of ${DOCUMENT_TYPES.join(', ')}`,
    );
  }
  if (!isMode(mode)) {
    throw new InvalidInputError(`mode ${JSON.stringify(mode)} is not one of ${MODES.join(', ')}`);
  }
  const scope = readScope(req.scope);
  if ('error' in scope) throw new InvalidInputError(scope.error);
  return {
    document: req.document,
    document_type: documentType,
    document_id: req.document_id ?? null,
    document_created_at: req.document_created_at ?? null,
    user_id: req.user_id ?? null,
    customer_id: req.customer_id ?? null,
    scope: scope.scope,
    mode,
    metadata: req.metadata ?? {},
  };
}

const SCOPE_EXAMPLE = 'e.g. customer=acme,team=payments,user=dana';
/** Keys JavaScript objects put first whatever their place, so a path's order would be lost. */
const INDEX_LIKE = /^(?:0|[1-9][0-9]{0,9})$/;

/**
 * A scope as a record or a flag gives it → the path to send, or why it cannot be sent.
 * Absent, null and "" mean no scope (null on the wire). Accepted: an object of level → name
 * (names may be whole numbers, sent as strings), or text: `level=name,level=name` or the JSON
 * of such an object (CSV cells). Refused: `{}` (the service treats an empty path as an error),
 * arrays, blank levels or names, other value types, and level names that are numbers.
 */
export function readScope(v: unknown): { scope: ScopePath | null } | { error: string } {
  if (v === undefined || v === null) return { scope: null };
  let value: unknown = v;
  if (typeof value === 'string') {
    const text = value.trim();
    if (text === '') return { scope: null };
    if (text.startsWith('{')) {
      try {
        value = JSON.parse(text) as unknown;
      } catch {
        return { error: `scope is not valid JSON: ${text.slice(0, 60)}` };
      }
    } else {
      const parsed = parseScopeText(text);
      if ('error' in parsed) return parsed;
      value = parsed.scope;
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      error: `scope must name levels, ${SCOPE_EXAMPLE} (got ${Array.isArray(value) ? 'an array' : typeof value})`,
    };
  }
  const out: ScopePath = {};
  let n = 0;
  for (const [level, name] of Object.entries(value as Record<string, unknown>)) {
    if (level.trim() === '') return { error: 'scope has a level without a name' };
    if (INDEX_LIKE.test(level))
      return { error: `scope level "${level}" is a number: name levels with words` };
    let s: string;
    if (typeof name === 'string') s = name;
    else if (typeof name === 'number' && Number.isSafeInteger(name)) s = String(name);
    else
      return {
        error: `scope level "${level}" must name a ${level} as text (got ${name === null ? 'null' : typeof name})`,
      };
    if (s.trim() === '') return { error: `scope level "${level}" is empty` };
    out[level] = s;
    n += 1;
  }
  if (n === 0)
    return { error: `scope is empty: name at least one level (${SCOPE_EXAMPLE}) or leave it out` };
  return { scope: out };
}

/** `customer=acme,team=payments,user=dana` → a path (levels kept in the order given). */
function parseScopeText(text: string): { scope: ScopePath } | { error: string } {
  const scope: ScopePath = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    const level = part.slice(0, eq).trim();
    const name = part.slice(eq + 1).trim();
    if (eq <= 0 || level === '' || name === '') {
      return { error: `scope "${text}": expected level=name pairs, ${SCOPE_EXAMPLE}` };
    }
    if (Object.hasOwn(scope, level)) {
      return { error: `scope "${text}": level "${level}" is given twice` };
    }
    scope[level] = name;
  }
  return { scope };
}
