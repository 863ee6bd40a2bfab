import type { CreateMemoryRequest } from '../client/types.js';
import { derivedDocumentId, sha256Hex } from '../ingest/document-id.js';
import type { FinishedInput } from './ledger.js';

/**
 * The ledger's questions about one record, without SQLite (an ingest loads this at once; the
 * ledger itself only where a run has one).
 */

/** What an ingest asks of an instance's ledger (ledger.ts InstanceLedger; a fake in tests). */
export interface LedgerView {
  readonly instanceId: string;
  /** The body hash held for the id: a string, null (held, body unknown), undefined (not held). */
  lookup(documentId: string): string | null | undefined;
  /** Optional: the ids about to be looked up, to ask for them together. */
  prefetch?(documentIds: readonly string[]): void;
  /** Documents the service accepted, in one transaction. */
  recordMany(entries: readonly { documentId: string; bodyHash: string | null }[]): void;
  /**
   * Optional: the hash a request is compared and recorded under, instead of its own body's
   * (`bodyHash`); null when it is not known. Migrate records the source's entry for a
   * document, not the hash of the body it rebuilt from the memories (migrate-ledger.ts).
   */
  hashOf?(request: CreateMemoryRequest): string | null;
  /** Optional: the body hash the service last refused for the id (a 409 for an edit). */
  refused?(documentId: string): string | undefined;
  /** Optional: bodies the service refused as already ingested under an id it holds. */
  recordRefused?(entries: readonly { documentId: string; bodyHash: string }[]): void;
  /**
   * Optional, all three or none (finished.ts): the ledger's generation, what it remembers of a
   * finished input, and remembering one.
   */
  generation?(): number;
  finishedInput?(path: string): FinishedInput | undefined;
  recordFinished?(input: FinishedInput, since: number): boolean;
}

/**
 * The hash of a request's body as the ledger keeps it (40 hex digits of a SHA-256):
 * - for an id the mapper made from the body (`--id-from hash`), the id's own digits: the
 *   SHA-256 of the canonical JSON of the body (document-id.ts), so such an id names its body
 *   and the ledger can know it from the id alone (a rebuild from a listing, a 409);
 * - for an id of the source's own, the SHA-256 of the request as it is sent (JSON.stringify,
 *   keys in the mapper's order): one native call instead of a canonical form, as nothing but
 *   this machine's next run compares it. A source that reorders a record's metadata keys
 *   makes it look changed (sent once more), never unchanged.
 */
function bodyHash(request: CreateMemoryRequest): string {
  const derived = derivedDocumentId(request);
  if (derived !== undefined) return derived.slice(HASH_PREFIX.length);
  return sha256Hex(JSON.stringify(request)).slice(0, 40);
}

const HASH_PREFIX = 'sha256-';

/** The body hash a document id names, when it is a `--id-from hash` id; else null. */
export function hashNamedBy(documentId: string): string | null {
  return /^sha256-[0-9a-f]{40}$/.test(documentId) ? documentId.slice(HASH_PREFIX.length) : null;
}

/**
 * - `unchanged`: the instance holds this id with this body (or with a body this machine does
 *   not know, after a rebuild): not sent;
 * - `updated`: it holds the id with another body: sent;
 * - `new`: not held: sent;
 * - `kept`: held with another body, and the service refused this very body before (409): it
 *   keeps its earlier version, so sending it again would be refused again; not sent;
 * - `untracked`: the record has no document_id (`--id-from none`): sent, never recorded, as
 *   nothing would tell its next run from another document.
 */
export type Verdict =
  | { kind: 'unchanged' }
  | { kind: 'kept'; documentId: string }
  | { kind: 'new' | 'updated'; documentId: string; bodyHash: string | null }
  | { kind: 'untracked' };

/**
 * An unknown hash on either side (held after a rebuild, or a view's `hashOf` that cannot tell)
 * counts as unchanged: nothing shows the two bodies differ.
 */
export function verdictOf(ledger: LedgerView, request: CreateMemoryRequest): Verdict {
  const id = request.document_id;
  if (typeof id !== 'string' || id === '') return { kind: 'untracked' };
  const held = ledger.lookup(id);
  const hash = ledger.hashOf ? ledger.hashOf(request) : bodyHash(request);
  if (held === undefined) return { kind: 'new', documentId: id, bodyHash: hash };
  if (held === null || hash === null || held === hash) return { kind: 'unchanged' };
  // Asked only for a changed record (rare): one lookup, not one per record.
  if (ledger.refused?.(id) === hash) return { kind: 'kept', documentId: id };
  return { kind: 'updated', documentId: id, bodyHash: hash };
}
