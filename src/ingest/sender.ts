import { hasDocumentId, NotSentError, type ApiResult } from '../client/client.js';
import {
  ConflictError,
  InvalidInputError,
  SynapError,
  UnreadableAnswerError,
} from '../client/errors.js';
import { asRecord, str } from '../client/error-body.js';
import {
  DEFAULT_RETRY_POLICY,
  mayRepeat,
  repeatsAmbiguous,
  type RetryPolicy,
} from '../client/retry-policy.js';
import type { BatchCreateResponse, CreateMemoryRequest } from '../client/types.js';

/** What the sender needs of SynapClient. */
export interface BatchClient {
  batch(
    documents: CreateMemoryRequest[],
    opts?: { signal?: AbortSignal; stop?: AbortSignal },
  ): Promise<ApiResult<BatchCreateResponse>>;
  /** The server's text without the caller's key (SynapClient.scrub). */
  scrub?(text: string): string;
  /** Says whether a failed create was repeated (default DEFAULT_RETRY_POLICY). */
  readonly retryPolicy?: RetryPolicy;
}

export interface FailureInfo {
  code: string;
  status: number | null;
  message: string;
}

/** What became of one document of a batch. */
export type ItemOutcome =
  | { kind: 'accepted'; ingestionId: string | null; correlationId: string }
  | { kind: 'skipped'; correlationId: string }
  | { kind: 'failed'; error: FailureInfo; correlationId: string | null }
  /** Not sent, or sent and abandoned with a document_id: safe to send again on resume. */
  | { kind: 'unsent' };

export interface SendOptions {
  /** Aborts the batch even on the wire (after a stop's grace period). */
  signal?: AbortSignal;
  /** The run is stopping: no new attempt starts, waits end (CallOptions.stop). */
  stop?: AbortSignal;
  /** Resends left for documents an answer left ambiguous (default 1). */
  ambiguousResends?: number;
}

/**
 * Sends one batch and maps the answer back to its documents, one outcome each, in order:
 * - per-item results are matched to documents by document_id (by position only for documents
 *   that have none, and only when the answer has one result per document); an item counts as
 *   accepted only when its status says it was taken (queued, processing, completed,
 *   partial_success); an item refused as a duplicate (a duplicate code, or without a code a
 *   message saying the document exists: saysDocumentExists) is skipped; any other item that
 *   failed (failed, error, cancelled) fails alone;
 * - a document the answer says nothing clear about (no result, `{}`, no or an unknown status,
 *   an answer without results, a 200 whose body is not JSON) is ambiguous: it may have been
 *   stored. Under the --on-ambiguous rule such documents are sent once more when each has a
 *   document_id (a repeat comes back "already ingested"), otherwise, or when the repeat is no
 *   clearer, they fail as OUTCOME_UNKNOWN and are never sent again automatically;
 * - a whole-batch 400/422 or a 409 that says the documents already exist is split in halves
 *   and re-sent until the documents at fault are alone, so one bad document never fails its
 *   neighbours (a lone duplicate 409 = skipped); a 413 (too large) is split the same way, so
 *   the same body is never sent again; any other 409 fails the batch's documents with the
 *   server's message;
 * - a transient failure the client gave up on fails the batch's documents; when the retry
 *   policy did not repeat it because it may have been applied (no document_id, or
 *   `--on-ambiguous fail`), they fail as OUTCOME_UNKNOWN;
 * - an abort leaves documents with an id unsent (a resume re-sends them safely).
 * Anything else (401/403/402, a credit stop, another 4xx, retry budget exhausted, a bug) is
 * thrown: it ends the run.
 */
export async function sendBatch(
  client: BatchClient,
  docs: CreateMemoryRequest[],
  opts: SendOptions = {},
): Promise<ItemOutcome[]> {
  let result: ApiResult<BatchCreateResponse>;
  try {
    result = await client.batch(docs, { signal: opts.signal, stop: opts.stop });
  } catch (err) {
    // Nothing went out: every document is unsent, with or without an id.
    if (err instanceof NotSentError) return docs.map(() => ({ kind: 'unsent' }));
    if (opts.signal?.aborted || (opts.stop?.aborted && isAbort(err, opts.stop))) {
      return docs.map((d) => abandoned(d));
    }
    if (err instanceof UnreadableAnswerError) {
      return settleAmbiguous(
        client,
        docs,
        docs.map(() => err.message),
        err,
        opts,
      );
    }
    if (
      err instanceof InvalidInputError ||
      err instanceof ConflictError ||
      (err instanceof SynapError && err.status === 413)
    ) {
      // A conflict splits only when it says the documents already exist.
      const duplicate = err instanceof ConflictError && isDuplicateConflict(err);
      if ((duplicate || !(err instanceof ConflictError)) && docs.length > 1) {
        const half = Math.ceil(docs.length / 2);
        const left = await sendBatch(client, docs.slice(0, half), opts);
        const right = await sendBatch(client, docs.slice(half), opts);
        return [...left, ...right];
      }
      if (duplicate) return [{ kind: 'skipped', correlationId: err.correlationId ?? '' }];
      return docs.map(() => failed(err.code, err.message, err));
    }
    if (err instanceof SynapError && err.transient) {
      const policy = client.retryPolicy ?? DEFAULT_RETRY_POLICY;
      // What the client's policy decided: it did not repeat a batch that may have been stored.
      if (!mayRepeat(policy, docs.every(hasDocumentId), err)) {
        return docs.map((d) =>
          failed('OUTCOME_UNKNOWN', unknownMessage(err.message, docs, d, policy), err),
        );
      }
      const maybe = err.mayHaveApplied ? '; it may or may not be stored' : '';
      const message = `${err.message} (${triesText(err.attempts)}${maybe})`;
      return docs.map(() => failed(err.code, message, err));
    }
    throw err;
  }
  const scrub = client.scrub?.bind(client) ?? ((t: string) => t);
  const matched = matchResults(docs, result, scrub);
  const unclear = matched.flatMap((m, i) => (m.kind === 'ambiguous' ? [i] : []));
  if (unclear.length === 0) return matched as ItemOutcome[];
  const settled = await settleAmbiguous(
    client,
    unclear.map((i) => docs[i]!),
    unclear.map((i) => (matched[i] as Ambiguous).reason),
    result,
    opts,
  );
  const outcomes = matched as ItemOutcome[];
  for (const [k, docIndex] of unclear.entries()) outcomes[docIndex] = settled[k]!;
  return outcomes;
}

/** Where an outcome came from: an answer, or an error (which may lack a status or an id). */
type Answer = { status?: number | null; correlationId?: string | null };

/** A document failed with `code`: `message`, as `answer` said. */
function failed(code: string, message: string, answer: Answer): ItemOutcome {
  const error = { code, status: answer.status ?? null, message };
  return { kind: 'failed', error, correlationId: answer.correlationId ?? null };
}

/** How many attempts a transient failure took, for its message. */
function triesText(attempts: number | undefined): string {
  if (attempts === undefined) return 'gave up after retries';
  return attempts > 1 ? `gave up after ${attempts} attempts` : 'sent once, not retried';
}

/**
 * A 409 that says the document already exists (a duplicate document_id): the service's codes
 * and messages for it. Any other conflict (a compaction already running, a transcript
 * conflict) is not "already ingested".
 */
function isDuplicateConflict(err: SynapError): boolean {
  // CONFLICT is the status's own code: the body named none.
  const code = err.code.toUpperCase() === 'CONFLICT' ? undefined : err.code;
  return saysDocumentExists(code, err.message);
}

/**
 * Whether a refusal (a 409, or a failed item of a batch answer) says the document already
 * exists: by one of the service's duplicate codes, or, when it names no code of its own, by a
 * message saying so. A refusal with another code (compaction_in_progress, INVALID_INPUT) or
 * whose words only mention a duplicate ("duplicate key in metadata") is not.
 */
function saysDocumentExists(code: string | undefined, message: string): boolean {
  if (code !== undefined) return DUPLICATE_CODES.has(code.toUpperCase());
  return DUPLICATE_CONFLICT.test(message);
}

const DUPLICATE_CODES: ReadonlySet<string> = new Set([
  'DUPLICATE_DOCUMENT',
  'DOCUMENT_EXISTS',
  'DOCUMENT_ALREADY_EXISTS',
  'ALREADY_EXISTS',
  'ALREADY_INGESTED',
]);

/** A 409 message that says the document exists (without a code that says so). */
const DUPLICATE_CONFLICT =
  /already (been )?ingested|document(_id)?\b.*\balready exists|duplicate document/i;

/** The answer said nothing clear about a document: why. */
interface Ambiguous {
  kind: 'ambiguous';
  reason: string;
}

/**
 * Documents whose outcome an answer left unknown, under the --on-ambiguous rule: sent once more
 * when every one of them has a document_id and the policy repeats such calls, otherwise (or
 * when the repeat is no clearer) OUTCOME_UNKNOWN.
 */
async function settleAmbiguous(
  client: BatchClient,
  docs: CreateMemoryRequest[],
  reasons: string[],
  answer: Answer,
  opts: SendOptions,
): Promise<ItemOutcome[]> {
  const policy = client.retryPolicy ?? DEFAULT_RETRY_POLICY;
  const left = opts.ambiguousResends ?? 1;
  if (left > 0 && repeatsAmbiguous(policy, docs.every(hasDocumentId))) {
    return sendBatch(client, docs, { ...opts, ambiguousResends: left - 1 });
  }
  return docs.map((d, i) =>
    failed('OUTCOME_UNKNOWN', unknownMessage(reasons[i]!, docs, d, policy, left === 0), answer),
  );
}

/** An OUTCOME_UNKNOWN message: what happened, and why the document was not sent (again). */
function unknownMessage(
  reason: string,
  docs: CreateMemoryRequest[],
  d: CreateMemoryRequest,
  policy: RetryPolicy,
  resent = false,
): string {
  if (resent)
    return `outcome unknown: ${reason}, also when sent again; it may or may not be stored`;
  if (!docs.every(hasDocumentId)) {
    return `outcome unknown: ${reason}; ${hasDocumentId(d) ? 'a document of the batch has' : 'the document has'} no document_id, so the batch was not sent again (it may or may not be stored)`;
  }
  return `outcome unknown: ${reason}; not sent again (--on-ambiguous ${policy.ambiguous === 'never' ? 'fail' : 'retry'}): it may or may not be stored`;
}

/** The error is the stop signal's own abort (a wait it ended), not an answer. */
function isAbort(err: unknown, stop: AbortSignal): boolean {
  return err === stop.reason || (err instanceof Error && err.name === 'AbortError');
}

const ABANDONED =
  'outcome unknown: the request was abandoned when the run stopped; the document has no document_id, so it is not sent again automatically (it may or may not be stored)';

function abandoned(d: CreateMemoryRequest): ItemOutcome {
  return hasDocumentId(d) ? { kind: 'unsent' } : failed('OUTCOME_UNKNOWN', ABANDONED, {});
}

/** Item statuses that say the document was taken. */
const TAKEN = new Set(['queued', 'processing', 'completed', 'partial_success']);
/** Item statuses that say it was not. */
const REFUSED = new Set(['failed', 'error', 'cancelled']);

/**
 * Each document's result in a batch answer, by document_id; a document without one takes the
 * result at its own position, only when the answer has one result per document and that
 * result does not name another document of the batch.
 */
function matchResults(
  docs: CreateMemoryRequest[],
  r: ApiResult<BatchCreateResponse>,
  scrub: (text: string) => string,
): (ItemOutcome | Ambiguous)[] {
  const results = asRecord(r.data as unknown)?.results;
  if (!Array.isArray(results)) {
    const reason = `the server answered HTTP ${r.status} without a result per document`;
    return docs.map(() => ({ kind: 'ambiguous', reason }));
  }
  const byId = new Map<string, unknown>();
  for (const res of results) {
    const id = str(asRecord(res)?.document_id);
    if (id !== undefined && !byId.has(id)) byId.set(id, res);
  }
  const sentIds = new Set(docs.filter(hasDocumentId).map((d) => d.document_id));
  return docs.map((d, i) => {
    let res: unknown;
    if (hasDocumentId(d)) res = byId.get(d.document_id!);
    else if (results.length === docs.length) {
      const named = str(asRecord(results[i])?.document_id);
      if (named === undefined || !sentIds.has(named)) res = results[i];
    }
    if (res === undefined) {
      return { kind: 'ambiguous', reason: 'the batch answer has no result for this document' };
    }
    return itemOutcome(res, r.correlationId, scrub);
  });
}

/** What one result of a batch answer says about its document. */
function itemOutcome(
  raw: unknown,
  correlationId: string,
  scrub: (text: string) => string,
): ItemOutcome | Ambiguous {
  const res = asRecord(raw);
  const status = res?.status;
  if (res && typeof status === 'string' && REFUSED.has(status)) {
    const message = scrub(str(res.error_message) ?? `the server refused this document (${status})`);
    const code = str(res.error_code);
    if (saysDocumentExists(code, message)) return { kind: 'skipped', correlationId };
    return failed(code ?? 'ITEM_FAILED', message, { correlationId });
  }
  if (res && typeof status === 'string' && TAKEN.has(status)) {
    return { kind: 'accepted', ingestionId: str(res.ingestion_id) ?? null, correlationId };
  }
  const said =
    res === undefined
      ? 'is not an object'
      : status === undefined
        ? 'has no status'
        : `has status ${JSON.stringify(status).slice(0, 40)}`;
  return { kind: 'ambiguous', reason: `the batch answer's result for this document ${said}` };
}
