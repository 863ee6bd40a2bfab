import type { CreateMemoryRequest } from '../client/types.js';
import { hashDocumentId } from './document-id.js';
import type { InputFormat, SourceRecord } from './source-record.js';
import {
  API_FIELD_SET,
  API_FIELDS,
  isPlainObject,
  describeValue,
  validateRequest,
  type ApiField,
  type MapDefaults,
  type RecordError,
} from './validate.js';

// Re-exported: the command and the tests import these from the mapper.
export { canonicalJson, hashDocumentId } from './document-id.js';
export { API_FIELDS, isIsoDate, type MapDefaults, type RecordError } from './validate.js';

export type IdFrom = 'hash' | 'none';

export interface MapOptions {
  /** api_field → source field (dotted path), from repeated `--map api=source`. */
  map?: Record<string, string>;
  defaults?: MapDefaults;
  /** 'hash' (default): a record without document_id gets a stable hash id; 'none': null. */
  idFrom?: IdFrom;
  /**
   * Format of the records when a SourceRecord does not say (records from readRecords carry
   * `format` for CSV/TSV rows). CSV/TSV: every value is a string, an empty cell is absent,
   * and a `metadata` cell holds JSON.
   */
  sourceFormat?: InputFormat;
}

export type MapResult =
  | { ok: true; source: string; line: number; original: unknown; request: CreateMemoryRequest }
  | { ok: false; source: string; line: number; original: unknown; error: RecordError };

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

function failure(r: SourceRecord, original: unknown, error: RecordError): MapResult {
  return { ok: false, source: r.source, line: r.line, original, error };
}

/**
 * Turns source records into create requests (product.md §2):
 * - API-named fields are taken as they are; `--map api=source` (dotted paths) renames;
 *   defaults fill fields a record lacks.
 * - Every other top-level field — CSV columns and JSON keys alike — goes into metadata (under
 *   its own name, never overriding the record's metadata), so nothing in the source is
 *   silently dropped.
 * - Export lines (`synap export`) and failures-file lines are recognised and mapped back.
 * - document_id: kept when present (numbers stringified), else derived (see document-id.ts)
 *   with idFrom 'hash', else null.
 * Each record is validated (validate.ts); a bad one fails alone, naming the field.
 */
export function createMapper(opts: MapOptions = {}): (r: SourceRecord) => MapResult {
  const map = opts.map ?? {};
  // Per-field source paths, resolved once; dotted paths split once.
  const plan = API_FIELDS.map((api) => {
    const from = map[api];
    return { api, from, parts: from?.includes('.') ? from.split('.') : undefined };
  });
  const mappedSources: ReadonlySet<string> = new Set(Object.values(map));
  const hasMap = mappedSources.size > 0;
  const defaults = opts.defaults ?? {};
  const hashIds = (opts.idFrom ?? 'hash') === 'hash';
  const defaultFormat = opts.sourceFormat;

  return (r: SourceRecord): MapResult => {
    if (r.parseError) {
      return failure(r, r.parseError.raw, {
        code: r.parseError.code,
        message: r.parseError.message,
      });
    }
    let value = r.value;
    const format = r.format ?? defaultFormat;
    let isCsv = format === 'csv' || format === 'tsv';
    if (!isPlainObject(value)) {
      return failure(r, value, {
        code: 'INVALID_INPUT',
        message: `a record must be a JSON object, got ${describeValue(value)}`,
      });
    }
    // A failures-file line: retry the record it carries (the original, before mapping).
    if (isFailuresLine(value)) {
      value = value.record;
      isCsv = false;
      if (!isPlainObject(value)) {
        return failure(r, value, {
          code: 'INVALID_INPUT',
          message: 'the failures-file line has no record object',
        });
      }
    }
    const src = value;
    let fields: Partial<Record<ApiField, unknown>>;
    let extra: Record<string, unknown> | undefined;

    if (isExportLine(src)) {
      fields = {};
      extra = mapExportLine(src, fields);
    } else if (!hasMap) {
      // The usual case, no --map: read the API fields by name into an object of one fixed
      // shape (undefined = not given), which is much cheaper per record than keyed writes.
      fields = {
        document: src.document,
        document_id: src.document_id,
        document_type: src.document_type,
        document_created_at: src.document_created_at,
        user_id: src.user_id,
        customer_id: src.customer_id,
        mode: src.mode,
        metadata: src.metadata,
      };
      // Unknown top-level fields → metadata (JSON and CSV alike: nothing silently dropped).
      for (const key in src) if (!API_FIELD_SET.has(key)) (extra ??= {})[key] = src[key];
    } else {
      fields = {};
      for (const p of plan) {
        const v =
          p.from === undefined ? src[p.api] : p.parts ? getPath(src, p.from, p.parts) : src[p.from];
        if (v !== undefined) fields[p.api] = v;
      }
      for (const key in src) {
        if (mappedSources.has(key)) continue;
        if (API_FIELD_SET.has(key) && map[key] === undefined) continue;
        (extra ??= {})[key] = src[key];
      }
    }

    if (isCsv) {
      // CSV cells are strings; an empty cell means "not given".
      for (const api of API_FIELDS) if (fields[api] === '') fields[api] = undefined;
      if (extra) for (const k in extra) if (extra[k] === '') delete extra[k];
      if (typeof fields.metadata === 'string') {
        try {
          fields.metadata = JSON.parse(fields.metadata) as unknown;
        } catch {
          return failure(r, src, {
            code: 'INVALID_INPUT',
            message: `metadata is not valid JSON: ${describeValue(fields.metadata)}`,
            field: 'metadata',
          });
        }
      }
    }

    const built = validateRequest(fields, extra, defaults);
    if ('error' in built) return failure(r, src, built.error);
    const request = built.request;
    if (request.document_id === null && hashIds) request.document_id = hashDocumentId(request);
    return { ok: true, source: r.source, line: r.line, original: src, request };
  };
}

/** A line of `synap export`: a memory as the API returned it (§5.4), not a create request. */
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
 * document_created_at, and the memory's own id (memory_id, as is) as document_id, so
 * re-importing the same backup, or migrating twice, is recognised as already ingested.
 * user_id/customer_id/document_type/mode are kept when the export has them; the memory's
 * metadata stays metadata; every other field (memory_type, confidence, category,
 * source_document_id, updated_at, memory_id…) is kept under metadata.synap_export, so the
 * backup loses nothing. Returns the extra metadata.
 */
function mapExportLine(
  v: Record<string, unknown>,
  fields: Partial<Record<ApiField, unknown>>,
): Record<string, unknown> {
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
  return { synap_export: rest };
}

/** A dotted path; a key that itself contains the dots wins ("a.b" as one key). */
function getPath(obj: Record<string, unknown>, path: string, parts: string[]): unknown {
  if (path in obj) return obj[path];
  let cur: unknown = obj;
  for (const part of parts) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}
