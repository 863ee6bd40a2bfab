import type { CreateMemoryRequest } from '../client/types.js';
import { customerIdRefusal, customerIdRequired, type InstanceRules } from './isolation.js';
import { hashDocumentId } from './document-id.js';
import { isFailuresLine, RecordOriginal } from './failures-file.js';
import { parseJsonRecord } from './readers/common.js';
import { deeperThan, MAX_DEPTH } from './readers/json-text.js';
import { findFormat, formatSpec, isTabular } from './formats/index.js';
import type { InputFormat, SourceRecord } from './source-record.js';
import { isPlainObject } from '../json-value.js';
import {
  API_FIELD_SET,
  API_FIELDS,
  emptyRecord,
  describeValue,
  ownValue,
  validateRequest,
  valueAt,
  type ApiField,
  type MapDefaults,
  type RecordError,
} from './validate.js';

export type IdFrom = 'hash' | 'none';

export interface MapOptions {
  /** api_field → source field (dotted path), from repeated `--map api=source`. */
  map?: Record<string, string>;
  defaults?: MapDefaults;
  /** 'hash' (default): a record without document_id gets a stable hash id; 'none': null. */
  idFrom?: IdFrom;
  /** The instance's rules for user_id and customer_id (isolation.ts); a record breaking them fails. */
  instance?: InstanceRules;
}

export type MapResult =
  | { ok: true; source: string; line: number; original: unknown; request: CreateMemoryRequest }
  | { ok: false; source: string; line: number; original: unknown; error: RecordError };

function failure(r: SourceRecord, original: unknown, error: RecordError): MapResult {
  return { ok: false, source: r.source, line: r.line, original, error };
}

/**
 * Turns source records into create requests:
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

  const mapper = (r: SourceRecord): MapResult => {
    const pe = r.parseError;
    if (pe) {
      const original =
        pe.raw === undefined
          ? undefined
          : new RecordOriginal(pe.raw, r.format ?? 'jsonl', pe.header, pe.rawBase64);
      return failure(r, original, { code: pe.code, message: pe.message });
    }
    let value = r.value;
    let format = r.format;
    // Records that did not come through a JSON reader have not had their depth checked.
    if (!(format !== undefined && formatSpec(format).depthChecked) && deeperThan(value)) {
      return failure(r, value, {
        code: 'TOO_DEEP',
        message: `nested more than ${MAX_DEPTH} levels deep`,
      });
    }
    if (!isPlainObject(value)) return notAnObject(r, value, format);
    // A failures-file line: retry the record it carries (the original, before mapping).
    if (isFailuresLine(value)) {
      const line = value;
      if (line.record === null || line.record === undefined) {
        // A failure the reader recorded without a record (an archive entry never read, the
        // rest of an entry that broke off): nothing here can be sent; it says where to go.
        const why = ownValue(line.error as Record<string, unknown>, 'message');
        return failure(r, undefined, {
          code: 'INVALID_INPUT',
          message:
            `holds no record to send: ${String(line.source)} line ${String(line.line)} failed as it was read` +
            `${typeof why === 'string' ? ` (${why})` : ''}; fix it there and ingest that again`,
        });
      }
      const lineFormat = findFormat(line.format)?.name;
      if (typeof line.record === 'string') {
        const again = rereadText(line.record, line, lineFormat ?? 'jsonl', r);
        if (again.parseError || !isPlainObject(again.value)) return mapper(again);
        value = again.value;
      } else value = line.record;
      format = isTabular(lineFormat) ? lineFormat : undefined;
      if (!isPlainObject(value)) return notAnObject(r, value, format);
    }
    const csvFormat = isTabular(format) ? format : undefined;
    const src = value;
    let fields: Partial<Record<ApiField, unknown>>;
    let extra: Record<string, unknown> | undefined;

    const isExport = isExportLine(src);
    if (isExport) {
      fields = emptyRecord();
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
        scope: src.scope,
        mode: src.mode,
        metadata: src.metadata,
      };
      // Unknown top-level fields → metadata (JSON and CSV alike: nothing silently dropped).
      // Own keys into an object without a prototype, so `constructor` or `__proto__` is data.
      for (const key of Object.keys(src))
        if (!API_FIELD_SET.has(key)) (extra ??= emptyRecord())[key] = src[key];
    } else {
      fields = emptyRecord();
      for (const p of plan) {
        const v = p.from === undefined ? ownValue(src, p.api) : valueAt(src, p.from, p.parts);
        if (v !== undefined) fields[p.api] = v;
      }
      for (const key of Object.keys(src)) {
        if (mappedSources.has(key)) continue;
        if (API_FIELD_SET.has(key) && map[key] === undefined) continue;
        (extra ??= emptyRecord())[key] = src[key];
      }
    }

    // A CSV row fails with its format, so its failures-file line is read back as a row.
    const original = csvFormat ? new RecordOriginal(src, csvFormat) : src;
    if (csvFormat) {
      // CSV cells are strings; an empty cell means "not given".
      for (const api of API_FIELDS) if (fields[api] === '') fields[api] = undefined;
      if (extra) for (const k of Object.keys(extra)) if (extra[k] === '') delete extra[k];
      if (typeof fields.metadata === 'string') {
        const cell = parseJsonRecord(fields.metadata, r.source, r.line, 'jsonl');
        if (cell.parseError) {
          return failure(r, original, {
            code: cell.parseError.code === 'TOO_DEEP' ? 'TOO_DEEP' : 'INVALID_INPUT',
            message: `metadata is not valid JSON: ${describeValue(fields.metadata)}`,
            field: 'metadata',
          });
        }
        fields.metadata = cell.value;
      }
    }

    const built = validateRequest(fields, extra, defaults);
    if ('error' in built) {
      const error =
        built.error.field === 'document' && (csvFormat || map.document !== undefined) && !isExport
          ? documentSourceError(built.error, src, map.document, csvFormat)
          : built.error;
      return failure(r, original, error);
    }
    const request = built.request;
    const instance = opts.instance;
    if (instance?.isolation === 'b2c' && request.customer_id !== null) {
      return failure(r, original, customerIdRefusal(instance, request.customer_id));
    }
    if (
      instance?.isolation === 'b2b' &&
      request.user_id !== null &&
      request.customer_id === null &&
      request.scope === null
    ) {
      return failure(r, original, customerIdRequired(instance, request.user_id));
    }
    if (request.document_id === null && hashIds) {
      request.document_id = hashDocumentId(built.idBasis ?? request);
    }
    return { ok: true, source: r.source, line: r.line, original, request };
  };
  return mapper;
}

/**
 * A missing or empty document said in terms of the source: which field (or CSV column) it was
 * read from, and whether that was absent, null, empty or blank.
 */
function documentSourceError(
  error: RecordError,
  src: Record<string, unknown>,
  path: string | undefined,
  csv: string | undefined,
): RecordError {
  const name = path ?? 'document';
  const raw = path === undefined ? ownValue(src, name) : valueAt(src, path);
  const what = `${csv ? 'column' : 'field'} "${name}"${path === undefined ? '' : ' (--map document)'}`;
  let detail: string | undefined;
  if (raw === undefined) detail = `the record has no ${what}`;
  else if (raw === null) detail = `the ${what} is null`;
  else if (raw === '') detail = `the ${what} is empty`;
  else if (typeof raw === 'string') detail = `the ${what} holds only whitespace`;
  if (detail === undefined) return error;
  const head = raw === undefined || raw === null ? 'document is missing' : 'document is empty';
  return { ...error, message: `${head}: ${detail}` };
}

/**
 * A value that is not an object fails; its original is kept as JSON text (a string value
 * would otherwise read back as text that did not parse).
 */
function notAnObject(r: SourceRecord, value: unknown, format: InputFormat | undefined): MapResult {
  const text = value === undefined ? undefined : JSON.stringify(value);
  return failure(
    r,
    text === undefined ? undefined : new RecordOriginal(text, format === 'json' ? 'json' : 'jsonl'),
    {
      code: 'INVALID_INPUT',
      message: `a record must be a JSON object, got ${describeValue(value)}`,
    },
  );
}

/**
 * The text of a failures-file line whose record could not be read the first time (kept as
 * text), read again as what it was, by its format's registry entry: JSON, or a CSV row under
 * its header. Fails again — keeping the text — while it is still broken, and while it still
 * stands for bytes that are not UTF-8 (`raw_base64`), so a U+FFFD never slips in unnoticed.
 */
function rereadText(
  text: string,
  line: Record<string, unknown>,
  format: InputFormat,
  r: SourceRecord,
): SourceRecord {
  const header = Array.isArray(line.header) ? line.header.map(String) : undefined;
  const keep = (message: string): SourceRecord => ({
    source: r.source,
    line: r.line,
    format,
    parseError: {
      code: 'PARSE_ERROR',
      message,
      raw: text,
      ...(typeof line.raw_base64 === 'string' ? { rawBase64: line.raw_base64 } : {}),
      ...(header ? { header } : {}),
    },
  });
  if (typeof line.raw_base64 === 'string') {
    return keep(
      'the original bytes are not valid UTF-8: correct "record" and remove "raw_base64" to send it',
    );
  }
  return formatSpec(format).reread({
    text,
    source: r.source,
    line: r.line,
    keep,
    ...(header ? { header } : {}),
    ...(typeof line.source === 'string' ? { origin: line.source } : {}),
  });
}

/** A line of `synap export`: a memory as the API lists it, not a create request. */
export function isExportLine(v: Record<string, unknown>): boolean {
  return (
    typeof ownValue(v, 'memory_id') === 'string' &&
    typeof ownValue(v, 'content') === 'string' &&
    !Object.hasOwn(v, 'document')
  );
}

/**
 * An exported memory becomes a document again: content → document, its document_created_at
 * (else created_at) → document_created_at, and the memory's own id (memory_id, as is) as document_id, so
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
  // The source document's own time wins over the time the memory was made from it.
  const created = v.document_created_at ?? v.created_at;
  if (created !== undefined && created !== null) fields.document_created_at = created;
  for (const f of ['user_id', 'customer_id', 'document_type', 'mode'] as const) {
    if (v[f] !== undefined && v[f] !== null) fields[f] = v[f];
  }
  if (isPlainObject(v.metadata)) fields.metadata = v.metadata;
  // A scope path comes back as it was; any other kind of scope stays in synap_export.
  if (isPlainObject(v.scope)) fields.scope = v.scope;
  const rest = emptyRecord();
  for (const [k, val] of Object.entries(v)) {
    if (k === 'content' || k === 'metadata') continue;
    if (Object.hasOwn(fields, k) && k !== 'memory_id') continue;
    rest[k] = val;
  }
  return { synap_export: rest };
}
