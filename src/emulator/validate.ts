import {
  DOCUMENT_TYPES,
  MERGE_STRATEGIES,
  MODES,
  type DocumentType,
  type MergeStrategy,
  type Mode,
} from '../client/types.js';

/** A request field the service would refuse; becomes a 422 (or a failed batch item). */
export class FieldError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** A create request after validation, with the service's defaults applied. */
export interface ValidDocument {
  document: string;
  document_id: string | null;
  document_type: DocumentType;
  mode: Mode;
  document_created_at: string | null;
  user_id: string | null;
  customer_id: string | null;
  metadata: Record<string, unknown>;
}

export interface ValidUpdate {
  document: string;
  merge_strategy: MergeStrategy;
  document_type: DocumentType | null;
  metadata: Record<string, unknown> | null;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Date, or date + time with optional fraction and optional Z / ±hh:mm offset (what fromisoformat takes).
const ISO_RE =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;
const MAX_ID_LENGTH = 512;

export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}

export function isIsoDate(value: string): boolean {
  if (!ISO_RE.test(value)) return false;
  const year = Number(value.slice(0, 4));
  const month = Number(value.slice(5, 7));
  const day = Number(value.slice(8, 10));
  // Reject days the month does not have (Date.parse would roll 2024-02-30 over to March).
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (month < 1 || month > 12 || probe.getUTCDate() !== day) return false;
  // Date.parse rejects the space separator; normalise, and trim fractions JS cannot read.
  const normalised = value.replace(' ', 'T').replace(/(\.\d{3})\d+/, '$1');
  return !Number.isNaN(Date.parse(normalised));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(
  body: Record<string, unknown>,
  field: string,
  prefix: string,
): string | null {
  const value = body[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new FieldError(prefix + field, `${field} must be a string`);
  if (value.length === 0) throw new FieldError(prefix + field, `${field} must not be empty`);
  if (value.length > MAX_ID_LENGTH) {
    throw new FieldError(prefix + field, `${field} is longer than ${MAX_ID_LENGTH} characters`);
  }
  return value;
}

function enumValue<T extends string>(
  body: Record<string, unknown>,
  field: string,
  allowed: readonly T[],
  prefix: string,
): T | null {
  const value = body[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new FieldError(
      prefix + field,
      `${field} must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)})`,
    );
  }
  return value as T;
}

function requiredDocument(body: Record<string, unknown>, prefix: string): string {
  const document = body.document;
  if (document === undefined || document === null) {
    throw new FieldError(prefix + 'document', 'document is required');
  }
  if (typeof document !== 'string') {
    throw new FieldError(prefix + 'document', 'document must be a string');
  }
  if (document.trim().length === 0) {
    throw new FieldError(prefix + 'document', 'document must not be empty');
  }
  return document;
}

function optionalMetadata(
  body: Record<string, unknown>,
  prefix: string,
): Record<string, unknown> | null {
  const value = body.metadata;
  if (value === undefined || value === null) return null;
  if (!isPlainObject(value))
    throw new FieldError(prefix + 'metadata', 'metadata must be an object');
  return value;
}

/** Validates one CreateMemoryRequest (synap-api.md §5.1). `prefix` names the item in a batch. */
export function validateCreate(body: unknown, prefix = ''): ValidDocument {
  if (!isPlainObject(body)) {
    throw new FieldError(prefix || 'body', 'request body must be a JSON object');
  }
  const document = requiredDocument(body, prefix);
  const documentCreatedAt = optionalString(body, 'document_created_at', prefix);
  if (documentCreatedAt !== null && !isIsoDate(documentCreatedAt)) {
    throw new FieldError(
      prefix + 'document_created_at',
      `document_created_at must be an ISO-8601 date (got ${JSON.stringify(documentCreatedAt)})`,
    );
  }
  return {
    document,
    document_id: optionalString(body, 'document_id', prefix),
    document_type:
      enumValue(body, 'document_type', DOCUMENT_TYPES, prefix) ?? 'ai-chat-conversation',
    mode: enumValue(body, 'mode', MODES, prefix) ?? 'long-range',
    document_created_at: documentCreatedAt,
    user_id: optionalString(body, 'user_id', prefix),
    customer_id: optionalString(body, 'customer_id', prefix),
    metadata: optionalMetadata(body, prefix) ?? {},
  };
}

/** Validates an UpdateMemoryRequest (synap-api.md §5.5). */
export function validateUpdate(body: unknown): ValidUpdate {
  if (!isPlainObject(body)) throw new FieldError('body', 'request body must be a JSON object');
  return {
    document: requiredDocument(body, ''),
    merge_strategy: enumValue(body, 'merge_strategy', MERGE_STRATEGIES, '') ?? 'smart-merge',
    document_type: enumValue(body, 'document_type', DOCUMENT_TYPES, ''),
    metadata: optionalMetadata(body, ''),
  };
}

/** Checks the batch envelope; items are validated one by one by the caller. */
export function validateBatchEnvelope(
  body: unknown,
  maxSize: number,
): { documents: unknown[]; failFast: boolean } {
  if (!isPlainObject(body)) throw new FieldError('body', 'request body must be a JSON object');
  const { documents, fail_fast: failFast } = body;
  if (!Array.isArray(documents)) throw new FieldError('documents', 'documents must be an array');
  if (documents.length === 0) throw new FieldError('documents', 'documents must not be empty');
  if (documents.length > maxSize) {
    throw new FieldError(
      'documents',
      `a batch holds at most ${maxSize} documents (got ${documents.length})`,
    );
  }
  if (failFast !== undefined && failFast !== null && typeof failFast !== 'boolean') {
    throw new FieldError('fail_fast', 'fail_fast must be a boolean');
  }
  return { documents, failFast: failFast === true };
}

/** Parses a positive integer query parameter, or throws a FieldError naming it. */
export function intParam(
  raw: string | null,
  field: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === null || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new FieldError(field, `${field} must be an integer`);
  const value = Number(raw);
  if (value < min || value > max) {
    throw new FieldError(field, `${field} must be between ${min} and ${max} (got ${value})`);
  }
  return value;
}
