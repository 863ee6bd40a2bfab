import { systemClock } from '../clock.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../client/retry-policy.js';
import { DEFAULT_MODE, type Mode } from '../client/types.js';
import { StoppedEarlyError } from '../errors.js';
import { checkB2cFlags, instanceRules, type InstanceRules } from '../ingest/isolation.js';
import {
  checkCredits,
  estimateDocuments,
  estimateExceedsBalance,
  exceedsBalance,
  type CreditCheck,
} from '../ingest/credit-check.js';
import type { IngestSummary } from '../ingest/summary.js';
import { printCreditCheck } from '../output/credits.js';
import type { Session } from '../session.js';
import { abortOnSignals } from '../signals.js';
import type { IngestFlags } from './ingest-options.js';

// What an ingest (or a migrate) settles with the server before it sends anything. Kept apart
// from the pipeline (ingest-run.ts) so the pipeline's modules can load while whoami is asked.

/** The retry policy of an ingest: the default, with `--on-ambiguous`. */
export function ingestRetryPolicy(flags: Pick<IngestFlags, 'onAmbiguous'>): RetryPolicy {
  return {
    ...DEFAULT_RETRY_POLICY,
    ambiguous: flags.onAmbiguous === 'fail' ? 'never' : 'retry-idempotent',
  };
}

/** The mode an ingest sends when a record names none: flag, profile, else the SDK's default. */
function runMode(flags: IngestFlags, session: Pick<Session, 'defaults'>): Mode {
  return flags.mode ?? (session.defaults.mode as Mode | undefined) ?? DEFAULT_MODE;
}

/**
 * What an ingest learns before it sends anything: whose key this is (whoami: the X-Client-ID /
 * X-Instance-ID headers and, on a B2C instance, the customer_id refusals; `--customer-id` or
 * `--map customer_id=` stop it there, exit 2) and, for `inputs` whose size says roughly how
 * many documents they hold, the credit estimate against the balance (exit 6 when it exceeds
 * it, unless --yes). A dry run without a key asks nothing.
 */
export async function prepareIngest(
  session: Pick<Session, 'apiKey' | 'client' | 'defaults'>,
  flags: IngestFlags,
  opts: {
    inputs?: string[];
    share?: number;
    quiet: boolean;
    /** What the ledger holds of an input, asked once whoami has answered (estimateDocuments). */
    held?: (input: string, size: number) => Promise<number>;
  },
): Promise<{
  instance: InstanceRules | undefined;
  credits: CreditCheck | undefined;
  /**
   * The estimate exceeds the balance but may be over (scaled from a sample, a shard's share, or
   * records the instance's ledger holds unchanged): count exactly what would be sent
   * (`recountCredits`) before refusing.
   */
  recount?: boolean;
}> {
  if (session.apiKey === '') return { instance: undefined, credits: undefined };
  // Ctrl-C while whoami or the estimate is asked ends the run as an interruption (130), as
  // it would a moment later; nothing has been sent yet.
  const signals = abortOnSignals({ message: 'interrupted before anything was sent' });
  // --max-duration bounds these questions too: a server that does not answer them stops the
  // run as resumable (exit 5) within the bound, not after every retry has timed out.
  // On the run's clock (src/clock.ts), as every other wait of the run; ended with the questions.
  const deadline = new AbortController();
  if (flags.maxDuration !== undefined) {
    systemClock.sleep(flags.maxDuration, deadline.signal).then(
      () =>
        deadline.abort(
          new StoppedEarlyError(
            'stopped by --max-duration before anything was sent (the server did not answer whoami or the credit estimate in time)',
            { hints: ['Nothing was sent: run the same command again once the server answers.'] },
          ),
        ),
      () => {},
    );
  }
  const signal = AbortSignal.any([signals.signal, deadline.signal]);
  const call = { signal };
  try {
    const identifying = session.client.identify(call);
    identifying.catch(() => {});
    const held = opts.held;
    // The inputs' sizes are read while whoami is in flight (local reads, nothing sent); the
    // ledger, which is the instance's, once it has answered.
    const estimating =
      flags.dryRun || !opts.inputs
        ? undefined
        : estimateDocuments(opts.inputs, {
            restart: flags.restart === true,
            format: flags.format,
            held: held ? (input, size) => identifying.then(() => held(input, size)) : undefined,
          });
    // Its outcome is awaited below, or not at all when whoami stops the run first.
    estimating?.catch(() => {});
    const instance = instanceRules(await identifying);
    checkB2cFlags(instance, flags);
    if (!estimating) return { instance, credits: undefined };
    const total = await estimating;
    signal.throwIfAborted();
    const documents = total ? Math.ceil(total.documents * (opts.share ?? 1)) : 0;
    if (documents === 0) return { instance, credits: undefined };
    // The run's ledger (no --resend) may hold some of these records unchanged.
    const atMost = flags.resend !== true;
    const counted = total !== undefined && total.exact && opts.share === undefined;
    const credits = await checkCredits(
      session.client,
      { documents, exact: counted && !atMost, mode: runMode(flags, session), atMost },
      call,
    );
    signal.throwIfAborted();
    // An estimate that may be over never stops a run by itself: the run counts exactly first.
    const over = exceedsBalance(credits) && flags.yes !== true;
    if (over && !credits.exact) return { instance, credits, recount: true };
    printCreditCheck(credits, { quiet: opts.quiet });
    if (over) throw estimateExceedsBalance(credits);
    return { instance, credits };
  } catch (err) {
    if (deadline.signal.aborted && !signals.signal.aborted) throw deadline.signal.reason;
    throw err;
  } finally {
    deadline.abort();
    signals.dispose();
  }
}

/**
 * The credit check for exactly the documents a run would send (`count`: a dry pass with the
 * run's ledger), for an estimate that exceeded the balance but may have been over. Exit 6
 * when even the exact count exceeds it (unless --yes).
 */
export async function recountCredits(
  session: Pick<Session, 'client' | 'defaults'>,
  flags: IngestFlags,
  count: () => Promise<number>,
  o: { quiet: boolean; estimated?: CreditCheck | undefined },
): Promise<CreditCheck | undefined> {
  const documents = await count();
  if (documents === 0) return undefined;
  const before = o.estimated;
  // The same number as estimated: the quote already asked for it stands, now exact.
  const credits =
    before && before.documents === documents && before.note === null
      ? { documents, exact: true, estimate: before.estimate, balance: before.balance, note: null }
      : await checkCredits(session.client, {
          documents,
          exact: true,
          mode: runMode(flags, session),
        });
  printCreditCheck(credits, { quiet: o.quiet });
  if (exceedsBalance(credits) && flags.yes !== true) throw estimateExceedsBalance(credits);
  return credits;
}

/** --dry-run: the estimate for exactly the records it would send (none without a key). */
export async function dryRunCredits(
  session: Pick<Session, 'apiKey' | 'client' | 'defaults'>,
  flags: IngestFlags,
  summary: IngestSummary,
): Promise<CreditCheck | undefined> {
  if (session.apiKey === '' || summary.sent === 0) return undefined;
  return checkCredits(session.client, {
    documents: summary.sent,
    exact: true,
    mode: runMode(flags, session),
  });
}
