import { stat } from 'node:fs/promises';
import type { SynapClient } from '../client/client.js';
import {
  AuthenticationError,
  CreditsNotSupportedError,
  CreditStopError,
  InsufficientCreditsError,
  SynapError,
} from '../client/errors.js';
import { API_PATHS } from '../client/types.js';
import { ingestStateFile } from './checkpointer.js';
import { estimateInput } from './estimate.js';
import { findFormat, formatFromName, type InputFormat } from './formats/index.js';

/**
 * The credit check before an ingest sends anything: the service's own estimate for the whole
 * run (`POST /v1/credits/estimate`) against the wallet's balance (`GET /v1/credits/balance`).
 *
 * What is asked: `metric_type` `memory_documents`, `units` and `item_count` the number of
 * documents, `endpoint` the batch route, `mode` the run's mode. The service's price list is
 * not public; the quote is its answer to that question, and the CLI adds nothing to it.
 */
const ESTIMATE_METRIC = 'memory_documents';

/** What the check found (part of the summary: `credits`). */
export interface CreditCheck {
  /** Documents the estimate is for. */
  documents: number;
  /** True for a counted number (--dry-run), false for one estimated from the input sizes. */
  exact: boolean;
  /**
   * The documents are those the inputs hold, and the instance's ledger may hold some of them
   * unchanged: an upper bound ("at most"), never a reason to stop a run by itself.
   */
  at_most?: boolean;
  /** Credits the service quotes for them; null when it could not be asked. */
  estimate: number | null;
  /** The wallet's balance; null when it could not be asked. */
  balance: number | null;
  /** Why a figure is missing (e.g. a deployment without credits routes). */
  note: string | null;
}

/** What the check needs of SynapClient. */
type CreditsClient = Pick<SynapClient, 'creditsEstimate' | 'creditsBalance'>;

/**
 * Documents the inputs of a run hold, less what a saved state says is settled and what the
 * ledger holds of an input it remembers as finished (`held`): records counted
 * per format (estimate.ts: JSON Lines lines, CSV rows with their quoted line breaks, JSON array
 * elements; a CSV header is no document). `exact` when every input was counted whole, not
 * scaled from a sample. Undefined when no input can be estimated (stdin, pipes, gzip, formats
 * without a counter); `partial` when only some could.
 */
export async function estimateDocuments(
  inputs: readonly string[],
  opts: {
    restart: boolean;
    format?: InputFormat;
    /**
     * Documents of the input's first records that the instance's ledger holds as they are (a
     * finished input run again: ledger/finished.ts); 0 when it knows of none.
     */
    held?: (input: string, size: number) => Promise<number>;
  },
): Promise<{ documents: number; partial: boolean; exact: boolean } | undefined> {
  let documents = 0;
  let known = 0;
  let exact = true;
  for (const input of inputs) {
    const s = input === '-' ? undefined : await stat(input).catch(() => undefined);
    if (!s?.isFile()) continue;
    const size = s.size;
    const format = findFormat(opts.format ?? formatFromName(input));
    if (!format) continue;
    // Counted records where a counter knows the format; else the format's own rough figure.
    const counted =
      (await estimateInput(input, size, format.name).catch(() => undefined)) ??
      (await format
        .estimate?.(input, size)
        .then((n) => (n === undefined ? undefined : { records: n, exact: false }))
        .catch(() => undefined));
    if (counted === undefined) continue;
    known += 1;
    if (!counted.exact) exact = false;
    const header = counted.records > 0 && format.tabular ? 1 : 0;
    let settled = 0;
    if (!opts.restart) {
      // An unreadable state is reported by the run itself; here it only means "nothing settled".
      const state = await ingestStateFile(input)
        .read()
        .catch(() => undefined);
      // A state of the same input, or of what it was before it grew.
      if (state && state.input.size <= size) settled = state.settled_records;
    }
    // Held as they are: not sent (the ledger remembers the input finished, bytes unchanged).
    const held = opts.held ? await opts.held(input, size).catch(() => 0) : 0;
    documents += Math.max(0, counted.records - header - Math.max(settled, held));
  }
  if (known === 0) return undefined;
  return { documents, partial: known < inputs.length, exact: exact && known === inputs.length };
}

/**
 * Asks for the estimate of `documents` and for the balance. A deployment without the routes
 * (404/405), or a failure to get an answer, is a `note` and the run goes on; a refused key, a
 * 402 or a credit stop are thrown (they would stop the run at its first request anyway).
 */
export async function checkCredits(
  client: CreditsClient,
  o: { documents: number; exact: boolean; mode: string; atMost?: boolean },
  call: { signal?: AbortSignal } = {},
): Promise<CreditCheck> {
  const check: CreditCheck = {
    documents: o.documents,
    exact: o.exact,
    ...(o.atMost ? { at_most: true } : {}),
    estimate: null,
    balance: null,
    note: null,
  };
  try {
    const quote = await client.creditsEstimate(
      {
        metric_type: ESTIMATE_METRIC,
        units: o.documents,
        item_count: o.documents,
        endpoint: API_PATHS.batch,
        mode: o.mode,
      },
      call,
    );
    const estimate = Number(quote.data?.credits_estimate);
    if (Number.isFinite(estimate)) check.estimate = estimate;
    const balance = await client.creditsBalance(call);
    const credits = Number(balance.data?.balance_credits);
    if (Number.isFinite(credits)) check.balance = credits;
  } catch (err) {
    if (
      err instanceof AuthenticationError ||
      err instanceof InsufficientCreditsError ||
      err instanceof CreditStopError ||
      !(err instanceof SynapError)
    ) {
      throw err;
    }
    check.note =
      err instanceof CreditsNotSupportedError
        ? `${err.message}: no credit estimate`
        : `no credit estimate: ${err.message}`;
  }
  return check;
}

/** Whether the check says the run would spend more than the wallet holds. */
export function exceedsBalance(check: CreditCheck): boolean {
  return check.estimate !== null && check.balance !== null && check.estimate > check.balance;
}

/** The error that stops a run whose estimate exceeds the balance (exit 6, nothing sent). */
export function estimateExceedsBalance(check: CreditCheck): InsufficientCreditsError {
  const about = check.exact ? '' : 'about ';
  return new InsufficientCreditsError(
    `this run would spend ${about}${check.estimate} credits (${about}${check.documents} ` +
      `document${check.documents === 1 ? '' : 's'}) and the balance is ${check.balance}: nothing was sent`,
    {
      code: 'ESTIMATE_EXCEEDS_BALANCE',
      hints: [
        "Add credits (see 'synap credits'), or add --yes to send anyway: the run stops " +
          '(exit 6, resumable) when the server refuses for credits.',
      ],
    },
  );
}
