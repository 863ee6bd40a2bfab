import { NotSentError, type ApiResult } from '../client/client.js';
import { ConflictError, InvalidInputError, outcomeUnknown, SynapError } from '../client/errors.js';
import {
  DEFAULT_RETRY_POLICY,
  repeatsAmbiguous,
  type RetryPolicy,
} from '../client/retry-policy.js';
import type { BatchCreateResponse, BatchItemResult, CreateMemoryRequest } from '../client/types.js';

/** What the sender needs of SynapClient. */
export interface BatchClient {
  batch(
    documents: CreateMemoryRequest[],
    opts?: { signal?: AbortSignal; stop?: AbortSignal; failFast?: boolean },
  ): Promise<ApiResult<BatchCreateResponse>>;
  /** The server's text without the caller's key (SynapClient.scrub). */
  scrub?(text: string): string;
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
  /** The client's retry policy: says whether a failed create was repeated (default DEFAULT_RETRY_POLICY). */
  policy?: RetryPolicy;
}

const DUPLICATE = /already (been )?ingested|duplicate/i;

function hasId(r: CreateMemoryRequest): boolean {
  return typeof r.document_id === 'string' && r.document_id !== '';
}

/**
 * Sends one batch and maps the answer back to its documents, one outcome each, in order:
 * - per-item results: a duplicate ("already ingested", DUPLICATE_DOCUMENT) is skipped, other
 *   failed items fail alone, the rest are accepted;
 * - a whole-batch 400/422 or 409 is split in halves and re-sent until the documents at fault
 *   are alone, so one bad document never fails its neighbours (a lone 409 = skipped); a 413
 *   (too large) is split the same way, so the same body is never sent again;
 * - a transient failure the client gave up on fails the batch's documents; when the retry
 *   policy did not repeat it because it may have been applied (no document_id, or
 *   `--on-ambiguous fail`), they fail as OUTCOME_UNKNOWN: they may have been stored, so they
 *   are never sent again automatically;
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
    result = await client.batch(docs, {
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.stop ? { stop: opts.stop } : {}),
    });
  } catch (err) {
    // Nothing went out: every document is unsent, with or without an id.
    if (err instanceof NotSentError) return docs.map(() => ({ kind: 'unsent' }));
    if (opts.signal?.aborted || (opts.stop?.aborted && isAbort(err, opts.stop))) {
      return docs.map((d) => abandoned(d));
    }
    const splits =
      err instanceof InvalidInputError ||
      err instanceof ConflictError ||
      (err instanceof SynapError && err.status === 413);
    if (splits && docs.length > 1) {
      const half = Math.ceil(docs.length / 2);
      const left = await sendBatch(client, docs.slice(0, half), opts);
      const right = await sendBatch(client, docs.slice(half), opts);
      return [...left, ...right];
    }
    if (err instanceof ConflictError) {
      return [{ kind: 'skipped', correlationId: err.correlationId ?? '' }];
    }
    if (err instanceof InvalidInputError || (err instanceof SynapError && err.status === 413)) {
      return [
        {
          kind: 'failed',
          error: { code: err.code, status: err.status ?? null, message: err.message },
          correlationId: err.correlationId ?? null,
        },
      ];
    }
    if (err instanceof SynapError && err.transient) {
      const policy = opts.policy ?? DEFAULT_RETRY_POLICY;
      const unknown = outcomeUnknown(err) && !repeatsAmbiguous(policy, docs.every(hasId));
      return docs.map((d) => ({
        kind: 'failed',
        error: unknown
          ? {
              code: 'OUTCOME_UNKNOWN',
              status: err.status ?? null,
              message: !docs.every(hasId)
                ? `outcome unknown: ${err.message}; ${hasId(d) ? 'a document of the batch has' : 'the document has'} no document_id, so the batch was not sent again (it may or may not be stored)`
                : `outcome unknown: ${err.message}; not sent again (--on-ambiguous fail): it may or may not be stored`,
            }
          : {
              code: err.code,
              status: err.status ?? null,
              message: `${err.message} (gave up after retries)`,
            },
        correlationId: err.correlationId ?? null,
      }));
    }
    throw err;
  }
  return mapResults(docs, result, client.scrub?.bind(client) ?? ((t) => t));
}

/** The error is the stop signal's own abort (a wait it ended), not an answer. */
function isAbort(err: unknown, stop: AbortSignal): boolean {
  return err === stop.reason || (err instanceof Error && err.name === 'AbortError');
}

function abandoned(d: CreateMemoryRequest): ItemOutcome {
  if (hasId(d)) return { kind: 'unsent' };
  return {
    kind: 'failed',
    error: {
      code: 'OUTCOME_UNKNOWN',
      status: null,
      message:
        'outcome unknown: the request was abandoned when the run stopped; the document has no document_id, so it is not sent again automatically',
    },
    correlationId: null,
  };
}

function mapResults(
  docs: CreateMemoryRequest[],
  r: ApiResult<BatchCreateResponse>,
  scrub: (text: string) => string,
): ItemOutcome[] {
  const results: BatchItemResult[] = Array.isArray(r.data?.results) ? r.data.results : [];
  let lookup: (d: CreateMemoryRequest, i: number) => BatchItemResult | undefined;
  if (results.length === docs.length) {
    lookup = (_d, i) => results[i];
  } else {
    // A server that answered for fewer (or more) items than sent: match by document_id.
    const byId = new Map<string, BatchItemResult>();
    for (const res of results) if (res.document_id) byId.set(res.document_id, res);
    lookup = (d) => (d.document_id ? byId.get(d.document_id) : undefined);
  }
  return docs.map((d, i): ItemOutcome => {
    const res = lookup(d, i);
    if (!res) {
      return {
        kind: 'failed',
        error: {
          code: 'NO_RESULT',
          status: r.status,
          message: 'outcome unknown: the batch answer has no result for this document',
        },
        correlationId: r.correlationId,
      };
    }
    if (res.status === 'failed') {
      const message = scrub(res.error_message ?? 'the server refused this document');
      if (res.error_code === 'DUPLICATE_DOCUMENT' || DUPLICATE.test(message)) {
        return { kind: 'skipped', correlationId: r.correlationId };
      }
      return {
        kind: 'failed',
        error: { code: res.error_code ?? 'ITEM_FAILED', status: null, message },
        correlationId: r.correlationId,
      };
    }
    return {
      kind: 'accepted',
      ingestionId: res.ingestion_id ?? null,
      correlationId: r.correlationId,
    };
  });
}
