import { isPlainObject } from '../json-value.js';
import type { ExportedMemory } from './paginator.js';

/**
 * What a migration sends for the memories of one source document: the document again, under
 * the source's own document_id (the memories' `source_document_id`), so a nightly job that
 * ingests the same records into the target finds them already there instead of creating them
 * a second time. The source extracts several memories from one document and lists them next
 * to each other; they become one document again, their contents joined by blank lines.
 *
 * - `document_created_at`: the source document's own time (the memory's
 *   `document_created_at`), else the memory's `created_at`; never the time of the migration.
 * - user_id, customer_id, document_type, mode and a scope path come from the first memory.
 * - metadata: the first memory's metadata, plus `synap_export`: every other field of the
 *   memory as the source listed it (one memory), or `{source_document_id, memories: […]}` with
 *   each memory's fields but its metadata when it equals the document's (several). Nothing the
 *   source knew is dropped. A `synap_export` already in the metadata (a memory migrated
 *   before) is kept under `synap_export.earlier`.
 *
 * A memory without a source_document_id is a document of its own under its memory_id.
 */
export type SourceDocument = Record<string, unknown>;

/** The fields a create request takes from the first memory as they are. */
const CARRIED = ['user_id', 'customer_id', 'document_type', 'mode'] as const;

/** The source document a memory came from ('' when the listing does not say). */
export function sourceDocumentId(memory: ExportedMemory): string {
  const id = memory.source_document_id;
  return typeof id === 'string' ? id : '';
}

/**
 * The create request for `memories` (one source document, in listing order), sent under
 * `documentId` (the source's document_id, or another id the caller chose).
 */
export function documentFor(memories: ExportedMemory[], documentId: string): SourceDocument {
  const first = memories[0]!;
  const text = (m: ExportedMemory) =>
    typeof m.content === 'string' ? m.content : JSON.stringify(m.content ?? '');
  const doc: SourceDocument = Object.create(null) as SourceDocument;
  doc.document = memories.length === 1 ? first.content : memories.map(text).join('\n\n');
  doc.document_id = documentId;
  const created = first.document_created_at ?? first.created_at;
  if (created !== undefined && created !== null) doc.document_created_at = created;
  for (const f of CARRIED) {
    const v = first[f];
    if (v !== undefined && v !== null) doc[f] = v;
  }
  if (isPlainObject(first.scope)) doc.scope = first.scope;
  const metadata: Record<string, unknown> = isPlainObject(first.metadata)
    ? { ...first.metadata }
    : {};
  const earlier = metadata.synap_export;
  const exported =
    memories.length === 1
      ? restOf(first, undefined)
      : Object.assign(Object.create(null) as Record<string, unknown>, {
          source_document_id: sourceDocumentId(first),
          memories: memories.map((m) => restOf(m, first.metadata, true)),
        });
  if (earlier !== undefined) exported.earlier = earlier;
  metadata.synap_export = exported;
  doc.metadata = metadata;
  return doc;
}

/**
 * The fields of `m` that the request does not carry as its own: all but content, metadata and
 * the carried fields (which the request holds); with `keepContent`, everything but a metadata
 * equal to the document's.
 */
function restOf(
  m: ExportedMemory,
  documentMetadata: unknown,
  keepContent = false,
): Record<string, unknown> {
  // Without a prototype: a field named __proto__ is kept as a field like any other.
  const rest = Object.create(null) as Record<string, unknown>;
  for (const [k, v] of Object.entries(m)) {
    if (keepContent) {
      if (k === 'metadata' && JSON.stringify(v) === JSON.stringify(documentMetadata)) continue;
      rest[k] = v;
      continue;
    }
    if (k === 'content' || k === 'metadata') continue;
    if ((CARRIED as readonly string[]).includes(k) && v !== null && v !== undefined) continue;
    if (k === 'scope' && isPlainObject(v)) continue;
    rest[k] = v;
  }
  return rest;
}
