import { isDocumentType, isMode, readScope } from '../client/create-body.js';
import { normalizeCreatedAt } from '../client/datetime.js';
import { isPlainObject } from '../json-value.js';
import {
  CREATE_BODY_KEYS,
  DEFAULT_DOCUMENT_TYPE,
  DEFAULT_MODE,
  DOCUMENT_TYPES,
  MODES,
  type CreateMemoryRequest,
  type DocumentType,
  type Mode,
  type ScopePath,
} from '../client/types.js';

/**
 * Validation of a mapped record before it is sent, so a bad record fails alone: document
 * present, a string, not blank; document_type and mode in the API enums; document_created_at
 * a date the service's model accepts, sent as ISO 8601 with an offset (client/datetime.ts); ids strings (numbers are turned into strings: user_id 42 → "42"); scope a
 * non-empty level=name path; metadata an object. What a record leaves out comes from the run's
 * defaults (flags, profile), then from the official SDK's, so the body is the SDK's.
 * `document` must be a string: the SDK model also allows an object, but the wire example and
 * the server's extraction are about text, so an object is refused with a clear message rather
 * than guessed into text. The B2B scope rule is left to the server.
 */

/** The fields of a create request, in the order the SDK sends them. */
export const API_FIELDS = CREATE_BODY_KEYS;
export type ApiField = (typeof API_FIELDS)[number];
export const API_FIELD_SET: ReadonlySet<string> = new Set(API_FIELDS);

export interface RecordError {
  code: string;
  message: string;
  field?: string;
}

export interface MapDefaults {
  document_type?: DocumentType;
  mode?: Mode;
  user_id?: string;
  customer_id?: string;
  /** `--scope`: the path of records that give none. */
  scope?: ScopePath;
  /** `--timezone`: the IANA zone naive document_created_at values are in (default UTC). */
  timezone?: string;
  metadata?: Record<string, unknown>;
}
const ID_FIELDS = ['document_id', 'user_id', 'customer_id'] as const;

function invalid(field: ApiField, message: string): { error: RecordError } {
  return { error: { code: 'INVALID_INPUT', message, field } };
}

/**
 * Builds the create request from the fields a record gave (after --map) plus defaults, or
 * says which field is wrong. `extra` (source fields that are not API fields) goes into
 * metadata without overriding keys the record's own metadata or the defaults set.
 * document_id stays null when absent (the mapper derives one).
 */
export function validateRequest(
  fields: Partial<Record<ApiField, unknown>>,
  extra: Record<string, unknown> | undefined,
  defaults: MapDefaults,
):
  | {
      request: CreateMemoryRequest;
      /** What a hash document_id is computed from, when not the request itself. */
      idBasis?: CreateMemoryRequest;
    }
  | { error: RecordError } {
  const document = fields.document;
  if (document === undefined || document === null)
    return invalid('document', 'document is missing');
  if (typeof document !== 'string') {
    return invalid('document', `document must be a string, got ${describeValue(document)}`);
  }
  if (isBlankText(document)) return invalid('document', 'document is empty');

  let documentId: string | null = null;
  let userId: string | null = defaults.user_id ?? null;
  let customerId: string | null = defaults.customer_id ?? null;
  for (const f of ID_FIELDS) {
    const v = fields[f];
    if (v === undefined || v === null || v === '') continue;
    let s: string;
    if (typeof v === 'string') s = v;
    else if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'bigint') s = String(v);
    else return invalid(f, `${f} must be a string, got ${describeValue(v)}`);
    if (f === 'document_id') documentId = s;
    else if (f === 'user_id') userId = s;
    else customerId = s;
  }

  // The defaults are valid (flags and profiles are checked when read): only a record's own
  // value can be out of the enum.
  const documentType = fields.document_type ?? defaults.document_type ?? DEFAULT_DOCUMENT_TYPE;
  if (!isDocumentType(documentType)) {
    return invalid(
      'document_type',
      `document_type ${describeValue(documentType)} is not one of ${DOCUMENT_TYPES.join(', ')}`,
    );
  }
  const mode = fields.mode ?? defaults.mode ?? DEFAULT_MODE;
  if (!isMode(mode)) {
    return invalid('mode', `mode ${describeValue(mode)} is not one of ${MODES.join(', ')}`);
  }

  let scope: ScopePath | null = defaults.scope ?? null;
  const sc = fields.scope;
  if (sc !== undefined && sc !== null && sc !== '') {
    const read = readScope(sc);
    if ('error' in read) return invalid('scope', read.error);
    scope = read.scope;
  }

  let createdAt: string | null = null;
  let idBasis: string | undefined;
  const c = fields.document_created_at;
  if (c !== undefined && c !== null) {
    const zone = defaults.timezone ?? 'UTC';
    const normal = normalizeCreatedAt(c, zone);
    if ('error' in normal) {
      return invalid(
        'document_created_at',
        `document_created_at ${describeValue(c)} ${normal.error}`,
      );
    }
    createdAt = normal.value;
    // Ids hashed before dates were normalised hashed the text as given: keep them stable.
    if (typeof c === 'string' && c !== createdAt && zone === 'UTC') idBasis = c;
  }

  const md = fields.metadata;
  if (md !== undefined && md !== null && !isPlainObject(md)) {
    return invalid('metadata', `metadata must be an object, got ${describeValue(md)}`);
  }
  // Without a prototype, and filled from own keys only: a key named like an Object.prototype
  // property (`constructor`, `toString`, `__proto__`) is data, kept under its own name.
  const metadata: Record<string, unknown> = Object.assign(emptyRecord(), defaults.metadata, md);
  if (extra) {
    for (const k of Object.keys(extra)) if (!Object.hasOwn(metadata, k)) metadata[k] = extra[k];
  }

  const request: CreateMemoryRequest = {
    document,
    document_type: documentType,
    document_id: documentId,
    document_created_at: createdAt,
    user_id: userId,
    customer_id: customerId,
    scope,
    mode,
    metadata,
  };
  return idBasis === undefined
    ? { request }
    : { request, idBasis: { ...request, document_created_at: idBasis } };
}

function isBlankText(s: string): boolean {
  // Fast answer for the usual case: a first character that is not whitespace.
  const c = s.charCodeAt(0);
  if (c > 0x20 && c !== 0xa0 && c < 0x1680) return false;
  return s.trim() === '';
}

/** An object without a prototype, for keys that come from outside (no key is inherited). */
export function emptyRecord<T = unknown>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** The value of `key` when it is `obj`'s own property, never one it inherits. */
export function ownValue(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/**
 * The value at a dotted path (`parts`, the path split at its dots; undefined for a plain key;
 * by default split here), never an inherited one; a key that itself contains the dots wins
 * ("a.b" as one key).
 */
export function valueAt(
  obj: Record<string, unknown>,
  path: string,
  parts = path.includes('.') ? path.split('.') : undefined,
): unknown {
  if (!parts || Object.hasOwn(obj, path)) return ownValue(obj, path);
  let cur: unknown = obj;
  for (const part of parts) {
    if (!isPlainObject(cur)) return undefined;
    cur = ownValue(cur, part);
  }
  return cur;
}

/** A value for a message: strings quoted and cut at 40 characters, others by kind. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}
