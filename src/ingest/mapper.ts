import { createHash } from 'node:crypto';
import {
  DOCUMENT_TYPES,
  MODES,
  type CreateMemoryRequest,
  type DocumentType,
  type Mode,
} from '../client/types.js';
import type { SourceRecord } from './source-record.js';

export type IdFrom = 'hash' | 'none';

export interface MapDefaults {
  document_type?: DocumentType;
  mode?: Mode;
  user_id?: string;
  customer_id?: string;
  metadata?: Record<string, unknown>;
}

export interface MapOptions {
  /** api_field → source field (dotted path), from repeated `--map api=source`. */
  map?: Record<string, string>;
  defaults?: MapDefaults;
  idFrom?: IdFrom;
}

export interface RecordError {
  code: string;
  message: string;
  field?: string;
}

export type MapResult =
  | { ok: true; source: string; line: number; original: unknown; request: CreateMemoryRequest }
  | { ok: false; source: string; line: number; original: unknown; error: RecordError };

export const API_FIELDS = [
  'document',
  'document_id',
  'document_type',
  'document_created_at',
  'user_id',
  'customer_id',
  'mode',
  'metadata',
] as const;
type ApiField = (typeof API_FIELDS)[number];
const API_FIELD_SET: ReadonlySet<string> = new Set(API_FIELDS);
const DOC_TYPE_SET: ReadonlySet<string> = new Set(DOCUMENT_TYPES);
const MODE_SET: ReadonlySet<string> = new Set(MODES);

/** Parses repeated `--map api_field=source_field` values. */
export function parseMapSpecs(specs: string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const api = spec.slice(0, eq).trim();
    const src = spec.slice(eq + 1).trim();
    if (eq <= 0 || src === '') {
      throw new MapSpecError(
        `--map "${spec}": expected api_field=source_field, e.g. --map document=body`,
      );
    }
    if (!API_FIELD_SET.has(api)) {
      throw new MapSpecError(
        `--map "${spec}": "${api}" is not an API field (${API_FIELDS.join(', ')})`,
      );
    }
    map[api] = src;
  }
  return map;
}

export class MapSpecError extends Error {}

/**
 * Turns source records into create requests (product.md §2): API-named fields as they are,
 * `--map` renames, defaults fill gaps, and every other source field goes into metadata so
 * nothing in the source is silently dropped. Export lines and failures-file lines are
 * recognised and mapped back. Each record is validated; a bad one fails alone.
 */
export function createMapper(opts: MapOptions = {}): (r: SourceRecord) => MapResult {
  const map = opts.map ?? {};
  const mappedSources = new Set(Object.values(map));
  const defaults = opts.defaults ?? {};
  const idFrom = opts.idFrom ?? 'hash';

  return (r: SourceRecord): MapResult => {
    const fail = (error: RecordError, original: unknown = r.value): MapResult => ({
      ok: false,
      source: r.source,
      line: r.line,
      original,
      error,
    });
    if (r.parseError) {
      return fail({ code: r.parseError.code, message: r.parseError.message }, r.parseError.raw);
    }
    let value = r.value;
    let isCsv = r.format === 'csv' || r.format === 'tsv';
    if (!isPlainObject(value)) {
      return fail({
        code: 'INVALID_INPUT',
        message: `a record must be a JSON object, got ${describe(value)}`,
      });
    }
    // A failures-file line: retry the record it carries.
    if (isFailuresLine(value)) {
      value = value.record;
      isCsv = false;
      if (!isPlainObject(value)) {
        return fail({
          code: 'INVALID_INPUT',
          message: 'the failures-file line has no record object',
        });
      }
    }
    const exported = isExportLine(value);
    const fields: Partial<Record<ApiField, unknown>> = {};
    const extra: Record<string, unknown> = {};
    const source = value;

    if (exported) {
      mapExportLine(source, fields, extra);
    } else {
      for (const api of API_FIELDS) {
        const from = map[api];
        const v = from !== undefined ? getPath(source, from) : source[api];
        if (v !== undefined) fields[api] = v;
      }
      for (const key of Object.keys(source)) {
        if (mappedSources.has(key)) continue;
        if (API_FIELD_SET.has(key) && map[key] === undefined) continue;
        extra[key] = source[key];
      }
    }

    if (isCsv) {
      // CSV cells are strings; an empty cell means "not given".
      for (const api of API_FIELDS) if (fields[api] === '') delete fields[api];
      for (const k of Object.keys(extra)) if (extra[k] === '') delete extra[k];
      if (typeof fields.metadata === 'string') {
        try {
          fields.metadata = JSON.parse(fields.metadata);
        } catch {
          return fail({
            code: 'INVALID_INPUT',
            message: 'metadata is not valid JSON',
            field: 'metadata',
          });
        }
      }
    }

    const built = buildRequest(fields, extra, defaults);
    if ('error' in built) return fail(built.error);
    const request = built.request;
    if (request.document_id === null && idFrom === 'hash')
      request.document_id = hashDocumentId(request);
    return { ok: true, source: r.source, line: r.line, original: value, request };
  };
}

function buildRequest(
  fields: Partial<Record<ApiField, unknown>>,
  extra: Record<string, unknown>,
  defaults: MapDefaults,
): { request: CreateMemoryRequest } | { error: RecordError } {
  const document = fields.document;
  if (document === undefined || document === null) {
    return { error: { code: 'INVALID_INPUT', message: 'document is missing', field: 'document' } };
  }
  if (typeof document !== 'string') {
    return {
      error: {
        code: 'INVALID_INPUT',
        message: `document must be a string, got ${describe(document)}`,
        field: 'document',
      },
    };
  }
  if (document.trim() === '') {
    return { error: { code: 'INVALID_INPUT', message: 'document is empty', field: 'document' } };
  }

  const ids: Record<'document_id' | 'user_id' | 'customer_id', string | null> = {
    document_id: null,
    user_id: defaults.user_id ?? null,
    customer_id: defaults.customer_id ?? null,
  };
  for (const f of ['document_id', 'user_id', 'customer_id'] as const) {
    const v = fields[f];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v === 'string') ids[f] = v;
    else if (typeof v === 'number' && Number.isFinite(v)) ids[f] = String(v);
    else
      return {
        error: {
          code: 'INVALID_INPUT',
          message: `${f} must be a string, got ${describe(v)}`,
          field: f,
        },
      };
  }

  let documentType: DocumentType | null = defaults.document_type ?? null;
  if (fields.document_type !== undefined && fields.document_type !== null) {
    const t = fields.document_type;
    if (typeof t !== 'string' || !DOC_TYPE_SET.has(t)) {
      return {
        error: {
          code: 'INVALID_INPUT',
          message: `document_type ${describe(t)} is not one of ${DOCUMENT_TYPES.join(', ')}`,
          field: 'document_type',
        },
      };
    }
    documentType = t as DocumentType;
  }

  let mode: Mode | null = defaults.mode ?? null;
  if (fields.mode !== undefined && fields.mode !== null) {
    const m = fields.mode;
    if (typeof m !== 'string' || !MODE_SET.has(m)) {
      return {
        error: {
          code: 'INVALID_INPUT',
          message: `mode ${describe(m)} is not one of ${MODES.join(', ')}`,
          field: 'mode',
        },
      };
    }
    mode = m as Mode;
  }

  let createdAt: string | null = null;
  const c = fields.document_created_at;
  if (c !== undefined && c !== null) {
    if (typeof c !== 'string' || !isIsoDate(c)) {
      return {
        error: {
          code: 'INVALID_INPUT',
          message: `document_created_at ${describe(c)} is not an ISO-8601 date (e.g. 2024-03-15T10:30:00Z)`,
          field: 'document_created_at',
        },
      };
    }
    createdAt = c;
  }

  let metadata: Record<string, unknown> = { ...(defaults.metadata ?? {}) };
  const m = fields.metadata;
  if (m !== undefined && m !== null) {
    if (!isPlainObject(m)) {
      return {
        error: {
          code: 'INVALID_INPUT',
          message: `metadata must be an object, got ${describe(m)}`,
          field: 'metadata',
        },
      };
    }
    metadata = { ...metadata, ...m };
  }
  for (const [k, v] of Object.entries(extra)) {
    if (!(k in metadata)) metadata[k] = v;
  }

  return {
    request: {
      document,
      document_type: documentType,
      document_id: ids.document_id,
      document_created_at: createdAt,
      user_id: ids.user_id,
      customer_id: ids.customer_id,
      mode,
      metadata,
    },
  };
}

/** A line of `synap export`: a memory as the API returned it. */
function isExportLine(v: Record<string, unknown>): boolean {
  return typeof v.memory_id === 'string' && typeof v.content === 'string' && !('document' in v);
}

/** A line of a failures file (`{source, line, record, error, …}`). */
function isFailuresLine(
  v: Record<string, unknown>,
): v is Record<string, unknown> & { record: unknown } {
  return (
    'record' in v &&
    isPlainObject(v.error) &&
    typeof v.line === 'number' &&
    typeof v.source === 'string'
  );
}

/**
 * An exported memory becomes a document again: content → document, created_at →
 * document_created_at, and the memory's id as document_id, so re-importing the same backup
 * (or migrating twice) is recognised as already ingested. Every other field is kept under
 * metadata.synap_export, so the backup loses nothing.
 */
function mapExportLine(
  v: Record<string, unknown>,
  fields: Partial<Record<ApiField, unknown>>,
  extra: Record<string, unknown>,
): void {
  fields.document = v.content;
  fields.document_id = v.memory_id;
  if (v.created_at !== undefined) fields.document_created_at = v.created_at;
  for (const f of ['user_id', 'customer_id', 'document_type', 'mode'] as const) {
    if (v[f] !== undefined && v[f] !== null) fields[f] = v[f];
  }
  if (isPlainObject(v.metadata)) fields.metadata = v.metadata;
  const rest: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) {
    if (k === 'content' || k === 'metadata') continue;
    if (k in fields && k !== 'memory_id') continue;
    rest[k] = val;
  }
  extra.synap_export = rest;
}

/**
 * A stable document_id derived from the request itself (canonical JSON, keys sorted), so
 * re-running the same input never creates duplicates.
 */
export function hashDocumentId(request: CreateMemoryRequest): string {
  const { document_id: _ignored, ...rest } = request;
  return `sha256-${createHash('sha256').update(canonicalJson(rest)).digest('hex').slice(0, 40)}`;
}

export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** ISO-8601 date or date-time with real calendar values (no 2024-02-30, no "yesterday"). */
export function isIsoDate(s: string): boolean {
  const m = ISO_DATE.exec(s);
  if (!m) return false;
  const [, y, mo, d, h, mi, sec] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1) return false;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) return false;
  if (
    h !== undefined &&
    (Number(h) > 23 || Number(mi) > 59 || (sec !== undefined && Number(sec) > 60))
  ) {
    return false;
  }
  return true;
}

function getPath(obj: Record<string, unknown>, path: string): unknown {
  if (path in obj) return obj[path];
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}
