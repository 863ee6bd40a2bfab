import { isIsoDate } from '../client/datetime.js';
import { isPlainObject } from '../json-value.js';
import {
  DEFAULT_DOCUMENT_TYPE,
  DEFAULT_MODE,
  DOCUMENT_TYPES,
  MERGE_STRATEGIES,
  MODES,
  type CreateMemoryRequest,
  type CreditEstimateRequest,
} from '../client/types.js';

/**
 * Request validation in two layers, as the service has them:
 *
 * 1. The request models of the official SDK (pydantic `CreateMemoryRequest`,
 *    `BatchCreateRequest`, `UpdateMemoryRequest`), which the service validates before its handler
 *    runs. What a model refuses is a 422 for the whole request with FastAPI's array `detail`
 *    (`RequestValidationError`), even for one bad item of a batch. The models' rules: a key
 *    with a default may be left out, but `null` is refused unless the field is Optional
 *    (`document_type`, `mode`, `metadata`, `merge_strategy`, `fail_fast`); enums are closed;
 *    unknown keys are ignored (pydantic's default).
 * 2. Rules of the service beyond the models (`Refusal`): empty documents and ids, B2C
 *    instances refusing `customer_id`, scope paths. In a batch these fail the item only.
 */

export type Loc = (string | number)[];

/** One entry of FastAPI's 422 `detail` array. */
export interface ValidationIssue {
  type: string;
  loc: Loc;
  msg: string;
  input: unknown;
  ctx?: Record<string, unknown>;
}

/** `loc` as a field name: ["body","documents",3,"mode"] → "documents[3].mode". */
export function fieldOf(loc: Loc): string {
  let out = '';
  for (const part of loc.slice(1)) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out === '' ? String(loc[0] ?? 'body') : out;
}

/** One issue, its keys in FastAPI's order. */
function issueAt(
  loc: Loc,
  type: string,
  msg: string,
  input: unknown,
  ctx?: Record<string, unknown>,
): ValidationIssue {
  return { type, loc, msg, input, ...(ctx ? { ctx } : {}) };
}

/** What a request model refuses: answered 422 with every issue, as FastAPI does. */
export class RequestValidationError extends Error {
  constructor(readonly issues: ValidationIssue[]) {
    super(issues.map((i) => `${fieldOf(i.loc)}: ${i.msg}`).join('; '));
  }
}

/** A refusal by a service rule beyond the request model (status 400 or 422). */
export class Refusal extends Error {
  constructor(
    readonly status: 400 | 422,
    readonly code: string,
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A create request after the model, with its defaults applied; a JSON object document (the
 * model allows one) is kept as its JSON text.
 */
export interface ValidDocument extends CreateMemoryRequest {
  /** Whether `document` came as a string (only a string can be empty). */
  documentIsText: boolean;
}

export type ValidUpdate = ReturnType<typeof validateUpdate>;

/** How the instance files writes: B2B/B2C isolation and its scope ladder. */
export interface InstanceRules {
  /** whoami's user_context_isolation; 'equals_customer' is B2C. */
  isolation: string;
  /** Levels of a nested scope ladder, top first (e.g. customer, team, user); null = none. */
  scopeLevels: readonly string[] | null;
}

const STRING_MSG = 'Input should be a valid string';
const DICT_MSG = 'Input should be a valid dictionary';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_ID_LENGTH = 512;

export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}

function expected(values: readonly string[]): string {
  const quoted = values.map((v) => `'${v}'`);
  return quoted.length === 1
    ? quoted[0]!
    : `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
}

/** Collects issues while reading one object against a model. */
class ModelReader {
  constructor(
    private readonly obj: Record<string, unknown>,
    private readonly loc: Loc,
    private readonly issues: ValidationIssue[],
  ) {}

  private issue(field: string, type: string, msg: string, ctx?: Record<string, unknown>): void {
    this.issues.push(issueAt([...this.loc, field], type, msg, this.obj[field], ctx));
  }

  /** A required key left out: FastAPI's input is the whole object. */
  missing(field: string): void {
    this.issues.push(issueAt([...this.loc, field], 'missing', 'Field required', this.obj));
  }

  /** str, required. */
  requiredString(field: string): string {
    if (this.obj[field] === undefined) this.missing(field);
    else if (this.obj[field] === null) this.issue(field, 'string_type', STRING_MSG);
    return this.optionalString(field) ?? '';
  }

  /** A number with ge=0: a required float, or an Optional[int] = None. */
  nonNegative(field: string, required: boolean, integer: boolean): number | null {
    const value = this.obj[field];
    if (value === undefined && required) this.missing(field);
    // Unset is None for an Optional field; null for a required one fails the type check below.
    if (value === undefined || (value === null && !required)) return null;
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      (integer && !Number.isInteger(value))
    ) {
      const [type, what] = integer ? ['int_type', 'integer'] : ['float_type', 'number'];
      this.issue(field, type, `Input should be a valid ${what}`);
      return null;
    }
    if (value < 0) {
      const msg = 'Input should be greater than or equal to 0';
      this.issue(field, 'greater_than_equal', msg, { ge: 0 });
      return null;
    }
    return value;
  }

  /** Optional[str] = None. */
  optionalString(field: string): string | null {
    const value = this.obj[field];
    if (value === undefined || value === null) return null;
    if (typeof value !== 'string') {
      this.issue(field, 'string_type', STRING_MSG);
      return null;
    }
    return value;
  }

  /** An enum with a default: absent → default; null or another value → refused. */
  enumWithDefault<T extends string>(field: string, allowed: readonly T[], fallback: T): T {
    const value = this.obj[field];
    if (value === undefined) return fallback;
    return this.enumValue(field, allowed) ?? fallback;
  }

  /** Optional[enum] = None. */
  optionalEnum<T extends string>(field: string, allowed: readonly T[]): T | null {
    const value = this.obj[field];
    if (value === undefined || value === null) return null;
    return this.enumValue(field, allowed);
  }

  private enumValue<T extends string>(field: string, allowed: readonly T[]): T | null {
    const value = this.obj[field];
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) {
      return value as T;
    }
    const list = expected(allowed);
    this.issue(field, 'enum', `Input should be ${list}`, { expected: list });
    return null;
  }

  /** Dict[str, Any] with a default factory: absent → {}; null or a non-object → refused. */
  dictWithDefault(field: string): Record<string, unknown> {
    const value = this.obj[field];
    if (value === undefined) return {};
    if (!isPlainObject(value)) {
      this.issue(field, 'dict_type', DICT_MSG);
      return {};
    }
    return value;
  }

  /** Optional[Dict[str, Any]] = None. */
  optionalDict(field: string): Record<string, unknown> | null {
    const value = this.obj[field];
    if (value === undefined || value === null) return null;
    return this.dictWithDefault(field);
  }

  /** Optional[Dict[str, str]] = None (the scope path). */
  optionalStringDict(field: string): Record<string, string> | null {
    const value = this.obj[field];
    if (value === undefined || value === null) return null;
    if (!isPlainObject(value)) {
      this.issue(field, 'dict_type', DICT_MSG);
      return null;
    }
    let ok = true;
    for (const [key, v] of Object.entries(value)) {
      if (typeof v !== 'string') {
        ok = false;
        this.issues.push(issueAt([...this.loc, field, key], 'string_type', STRING_MSG, v));
      }
    }
    return ok ? (value as Record<string, string>) : null;
  }

  /** Union[str, Dict[str, Any]], required. */
  document(): { text: string; isText: boolean } {
    const value = this.obj.document;
    if (value === undefined) {
      this.missing('document');
      return { text: '', isText: true };
    }
    if (typeof value === 'string') return { text: value, isText: true };
    if (isPlainObject(value)) return { text: JSON.stringify(value), isText: false };
    // pydantic reports a failed union once per member.
    this.issues.push(
      issueAt([...this.loc, 'document', 'str'], 'string_type', STRING_MSG, value),
      issueAt([...this.loc, 'document', 'dict[str,any]'], 'dict_type', DICT_MSG, value),
    );
    return { text: '', isText: true };
  }

  /** Optional[datetime] = None: ISO-8601 text, or a Unix time in seconds (or ms) as pydantic takes. */
  optionalDatetime(field: string): string | null {
    const value = this.obj[field];
    if (value === undefined || value === null) return null;
    // A number, or a string of one, is a Unix time: seconds, or milliseconds past 2e10.
    const unix =
      typeof value === 'number'
        ? value
        : typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)
          ? Number(value)
          : undefined;
    if (unix !== undefined && Number.isFinite(unix)) {
      const ms = Math.abs(unix) > 2e10 ? unix : unix * 1000;
      const date = new Date(ms);
      if (!Number.isNaN(date.getTime())) return date.toISOString();
    }
    if (typeof value === 'string' && isIsoDate(value)) return value;
    this.issue(field, 'datetime_parsing', 'Input should be a valid datetime');
    return null;
  }

  /** bool = False, with pydantic's lax coercions. */
  boolWithDefault(field: string, fallback: boolean): boolean {
    const value = this.obj[field];
    if (value === undefined) return fallback;
    if (typeof value === 'boolean') return value;
    if (value === 0 || value === 1) return value === 1;
    if (typeof value === 'string') {
      const v = value.toLowerCase();
      if (['true', '1', 'yes', 'on', 't', 'y'].includes(v)) return true;
      if (['false', '0', 'no', 'off', 'f', 'n'].includes(v)) return false;
      this.issue(
        field,
        'bool_parsing',
        'Input should be a valid boolean, unable to interpret input',
      );
      return fallback;
    }
    this.issue(field, 'bool_type', 'Input should be a valid boolean');
    return fallback;
  }
}

function modelAttributesIssue(loc: Loc, input: unknown): ValidationIssue {
  const msg = 'Input should be a valid dictionary or object to extract fields from';
  return issueAt(loc, 'model_attributes_type', msg, input);
}

/** The body as an object, else the model's refusal of it whole. */
function bodyObject(body: unknown): Record<string, unknown> {
  if (isPlainObject(body)) return body;
  throw new RequestValidationError([modelAttributesIssue(['body'], body)]);
}

/** Reads one CreateMemoryRequest at `loc`, adding what the model refuses to `issues`. */
function readCreate(body: unknown, loc: Loc, issues: ValidationIssue[]): ValidDocument | null {
  if (!isPlainObject(body)) {
    issues.push(modelAttributesIssue(loc, body));
    return null;
  }
  const before = issues.length;
  const r = new ModelReader(body, loc, issues);
  const document = r.document();
  const doc: ValidDocument = {
    document: document.text,
    documentIsText: document.isText,
    document_type: r.enumWithDefault('document_type', DOCUMENT_TYPES, DEFAULT_DOCUMENT_TYPE),
    document_id: r.optionalString('document_id'),
    document_created_at: r.optionalDatetime('document_created_at'),
    user_id: r.optionalString('user_id'),
    customer_id: r.optionalString('customer_id'),
    scope: r.optionalStringDict('scope'),
    mode: r.enumWithDefault('mode', MODES, DEFAULT_MODE),
    metadata: r.dictWithDefault('metadata'),
  };
  return issues.length === before ? doc : null;
}

/** Validates a create body against the model; throws RequestValidationError. */
export function validateCreate(body: unknown): ValidDocument {
  const issues: ValidationIssue[] = [];
  const doc = readCreate(body, ['body'], issues);
  if (!doc) throw new RequestValidationError(issues);
  return doc;
}

/**
 * Validates a batch body: the envelope and every document against the models, all at once (one
 * bad document refuses the whole request, whatever fail_fast says), then the batch size.
 */
export function validateBatch(
  body: unknown,
  maxSize: number,
): { documents: ValidDocument[]; failFast: boolean } {
  const issues: ValidationIssue[] = [];
  const obj = bodyObject(body);
  const r = new ModelReader(obj, ['body'], issues);
  const failFast = r.boolWithDefault('fail_fast', false);
  const raw = obj.documents;
  const documents: ValidDocument[] = [];
  if (raw === undefined) {
    r.missing('documents');
  } else if (!Array.isArray(raw)) {
    issues.push(issueAt(['body', 'documents'], 'list_type', 'Input should be a valid list', raw));
  } else {
    raw.forEach((item, index) => {
      const doc = readCreate(item, ['body', 'documents', index], issues);
      if (doc) documents.push(doc);
    });
  }
  if (issues.length > 0) throw new RequestValidationError(issues);
  // Bounds the model does not state: the docs' 100 per batch, and no empty batch (the SDKs
  // refuse one before sending).
  if (documents.length === 0) throw invalidInput('documents', 'documents must not be empty');
  if (documents.length > maxSize) {
    const got = documents.length;
    throw invalidInput('documents', `a batch holds at most ${maxSize} documents (got ${got})`);
  }
  return { documents, failFast };
}

/** Validates an UpdateMemoryRequest body. */
export function validateUpdate(body: unknown) {
  const issues: ValidationIssue[] = [];
  const r = new ModelReader(bodyObject(body), ['body'], issues);
  const document = r.document();
  const update = {
    document: document.text,
    merge_strategy: r.enumWithDefault('merge_strategy', MERGE_STRATEGIES, 'smart-merge'),
    document_type: r.optionalEnum('document_type', DOCUMENT_TYPES),
    metadata: r.optionalDict('metadata'),
  };
  if (issues.length > 0) throw new RequestValidationError(issues);
  if (document.isText && document.text.trim() === '') throw emptyDocument();
  return update;
}

/** A 422 INVALID_INPUT refusal of `field`. */
function invalidInput(field: string, message: string): Refusal {
  return new Refusal(422, 'INVALID_INPUT', field, message);
}

function emptyDocument(): Refusal {
  return invalidInput('document', 'document must not be empty');
}

function idRefusal(doc: ValidDocument, field: 'document_id' | 'user_id' | 'customer_id') {
  const value = doc[field];
  if (value === null) return undefined;
  if (value.length === 0) return invalidInput(field, `${field} must not be empty`);
  if (value.length > MAX_ID_LENGTH) {
    return invalidInput(field, `${field} is longer than ${MAX_ID_LENGTH} characters`);
  }
  return undefined;
}

function scopeRefusal(doc: ValidDocument, rules: InstanceRules): Refusal | undefined {
  const invalid = (message: string, field = 'scope') =>
    new Refusal(422, 'INVALID_SCOPE', field, message);
  const { scope } = doc;
  const levels = rules.scopeLevels;
  if (scope === null) {
    // On a ladder with a level between customer and user, user_id and customer_id cannot say
    // which rung a user-level write belongs to; the service refuses rather than guess.
    if (levels !== null && levels.length > 2 && doc.user_id !== null) {
      return new Refusal(
        422,
        'SCOPE_REQUIRED',
        'scope',
        `this instance has nested scoping (${levels.join(' > ')}): a write with user_id must name its level in scope, e.g. {${levels.map((l) => `"${l}": "…"`).join(', ')}}`,
      );
    }
    return undefined;
  }
  const keys = Object.keys(scope);
  if (keys.length === 0) {
    return invalid(
      'scope must name at least one level ({} is not absence: send null or leave it out)',
    );
  }
  if (levels === null) {
    // "An error rather than ignored": being ignored would widen a caller who asked to be narrowed.
    return new Refusal(
      400,
      'SCOPE_NOT_ACCEPTED',
      'scope',
      'scope is not accepted on this instance: it has no nested scoping (send null or leave it out)',
    );
  }
  // A path names every level from the top down to the one it is filed at.
  const depth = keys.length;
  const wanted = levels.slice(0, depth);
  if (depth > levels.length || !wanted.every((level) => keys.includes(level))) {
    return invalid(
      `scope must name the levels from the top down, one entry each: ${levels.join(' > ')} (got ${keys.join(', ')})`,
    );
  }
  const empty = wanted.find((level) => scope[level]!.trim() === '');
  if (empty !== undefined) {
    return invalid(`scope.${empty} must not be empty`, `scope.${empty}`);
  }
  return undefined;
}

/** The service's rules beyond the model for one document; undefined when it may be stored. */
export function documentRefusal(doc: ValidDocument, rules: InstanceRules): Refusal | undefined {
  if (doc.documentIsText && doc.document.trim().length === 0) return emptyDocument();
  // Documented: a B2C instance refuses customer_id with HTTP 400 on every call.
  if (rules.isolation === 'equals_customer' && doc.customer_id !== null && doc.customer_id !== '') {
    return new Refusal(
      400,
      'CUSTOMER_ID_NOT_ACCEPTED',
      'customer_id',
      `customer_id is not accepted on this instance, which is B2C (user_context_isolation='equals_customer'); send user_id only (got customer_id=${JSON.stringify(doc.customer_id)})`,
    );
  }
  // Documented: a B2B instance ('strict') files a user under its customer, so a user_id on
  // its own is refused with HTTP 400. A scope path names the level itself.
  if (
    rules.isolation === 'strict' &&
    doc.scope === null &&
    doc.user_id !== null &&
    doc.user_id !== '' &&
    (doc.customer_id === null || doc.customer_id === '')
  ) {
    return new Refusal(
      400,
      'CUSTOMER_ID_REQUIRED',
      'customer_id',
      `user_id needs a customer_id on this instance, which is B2B (user_context_isolation='strict'): send the user's customer_id with it, or neither for a client-wide memory (got user_id=${JSON.stringify(doc.user_id)})`,
    );
  }
  return (
    idRefusal(doc, 'document_id') ??
    idRefusal(doc, 'user_id') ??
    idRefusal(doc, 'customer_id') ??
    scopeRefusal(doc, rules)
  );
}

/** Reads an integer query parameter as FastAPI's `Query(ge=min, le=max)` would. */
export function intParam(
  raw: string | null,
  field: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === null || raw === '') return fallback;
  const refuse = (type: string, msg: string, ctx?: Record<string, unknown>) =>
    new RequestValidationError([issueAt(['query', field], type, msg, raw, ctx)]);
  if (!/^[+-]?\d+$/.test(raw.trim())) {
    throw refuse(
      'int_parsing',
      'Input should be a valid integer, unable to parse string as an integer',
    );
  }
  const value = Number(raw);
  if (value < min) {
    throw refuse('greater_than_equal', `Input should be greater than or equal to ${min}`, {
      ge: min,
    });
  }
  if (value > max) {
    throw refuse('less_than_equal', `Input should be less than or equal to ${max}`, { le: max });
  }
  return value;
}

/** The path parameter `field`, declared as UUID: anything else is FastAPI's 422 uuid_parsing. */
export function uuidParam(params: Record<string, string>, field: string): string {
  const value = params[field]!;
  if (isUuid(value)) return value;
  const msg = 'Input should be a valid UUID';
  throw new RequestValidationError([issueAt(['path', field], 'uuid_parsing', msg, value)]);
}

/** The estimate body (the SDKs send every key; `metric_type` and `units` are required). */
export function validateEstimate(body: unknown): CreditEstimateRequest {
  const issues: ValidationIssue[] = [];
  const r = new ModelReader(bodyObject(body), ['body'], issues);
  const estimate = {
    metric_type: r.requiredString('metric_type'),
    units: r.nonNegative('units', true, false) ?? 0,
    item_count: r.nonNegative('item_count', false, true),
    endpoint: r.optionalString('endpoint'),
    mode: r.optionalString('mode'),
  };
  if (issues.length > 0) throw new RequestValidationError(issues);
  return estimate;
}

/** An optional ISO-8601 query parameter (credits ledger from/to), as epoch ms. */
export function dateParam(raw: string | null, field: string): number | undefined {
  if (raw === null || raw === '') return undefined;
  // Date.parse takes only `T` between date and time, and at most milliseconds.
  const ms = isIsoDate(raw)
    ? Date.parse(
        `${raw.slice(0, 10)}${raw.length > 10 ? 'T' : ''}${raw.slice(11)}`.replace(
          /(\.\d{3})\d+/,
          '$1',
        ),
      )
    : NaN;
  if (Number.isNaN(ms)) {
    const msg = 'Input should be a valid datetime';
    throw new RequestValidationError([issueAt(['query', field], 'datetime_parsing', msg, raw)]);
  }
  return ms;
}
