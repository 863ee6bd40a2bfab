import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { CreditLedgerPage } from '../client/types.js';

/**
 * The emulator's credit wallet, behind `GET /v1/credits/balance`, `GET /v1/credits/ledger` and
 * `POST /v1/credits/estimate` (shapes of the SDK's credits interface).
 *
 * Cost model (the service's own prices are not public): one credit per unit, whatever the
 * `metric_type`, `endpoint` or `mode`; a write spends one credit per document it accepts. So an
 * estimate with `units` = the number of documents to ingest is exactly what they will spend.
 * The wallet is granted `--credits N` at start (without it, UNMETERED_CREDITS, far more than any
 * run spends); it lives in memory, so every start begins with a fresh wallet.
 */

const CREDITS_PER_UNIT = 1;
const UNMETERED_CREDITS = 1_000_000_000;

interface LedgerQuery {
  limit: number;
  offset: number;
  entryType?: string;
  /** Inclusive bounds, epoch ms. */
  from?: number;
  to?: number;
}

type Entry = CreditLedgerPage['entries'][number] & { at: number };

export class CreditWallet {
  private granted = 0;
  private spentTotal = 0;
  /** Oldest first; usage within one second is booked as one entry so the ledger stays small. */
  private readonly entries: Entry[] = [];

  constructor(
    readonly clientId: string,
    private readonly clock: Clock,
    credits: number | undefined,
  ) {
    this.setGrant(credits);
  }

  /** Sets the wallet's grant (`--credits`, or a run-time change); books the difference. */
  setGrant(credits: number | undefined): void {
    const target = credits ?? UNMETERED_CREDITS;
    const delta = target - this.granted;
    if (delta === 0) return;
    this.granted = target;
    this.book('grant', delta);
  }

  balance(): number {
    return Math.max(0, this.granted - this.spentTotal);
  }

  spent(): number {
    return this.spentTotal;
  }

  /** Spends one credit per document accepted by a write. */
  spendDocuments(documents: number): void {
    if (documents <= 0) return;
    const credits = documents * CREDITS_PER_UNIT;
    this.spentTotal += credits;
    const last = this.entries.at(-1);
    if (
      last?.entry_type === 'usage' &&
      Math.floor(last.at / 1000) === Math.floor(this.clock.now() / 1000)
    ) {
      last.delta -= credits;
      return;
    }
    this.book('usage', -credits);
  }

  /** Books a 'grant' (credits given to the wallet) or a 'usage' (spent by writes: documents). */
  private book(type: 'grant' | 'usage', delta: number): void {
    const at = this.clock.now();
    const usage = type === 'usage';
    this.entries.push({
      ledger_id: randomUUID(),
      entry_type: type,
      delta,
      metric_type: usage ? 'memory_documents' : null,
      category: usage ? 'ingestion' : null,
      created_at: new Date(at).toISOString(),
      at,
    });
  }

  balanceBody(): Record<string, unknown> {
    const balance = this.balance();
    return {
      client_id: this.clientId,
      balance_credits: balance,
      // Low: a tenth of what was granted, or less.
      warning_low: balance <= this.granted * 0.1,
      buckets: balance > 0 ? [{ source_type: 'grant', balance, expires_at: null }] : [],
    };
  }

  /** A page of the ledger, newest first. */
  ledger(q: LedgerQuery): CreditLedgerPage {
    const matching = this.entries
      .toReversed()
      .filter(
        (e) =>
          (q.entryType === undefined || e.entry_type === q.entryType) &&
          (q.from === undefined || e.at >= q.from) &&
          (q.to === undefined || e.at <= q.to),
      );
    const page = matching.slice(q.offset, q.offset + q.limit).map(({ at: _at, ...entry }) => entry);
    return { entries: page, total: matching.length, limit: q.limit, offset: q.offset };
  }

  estimate(units: number): number {
    return units * CREDITS_PER_UNIT;
  }
}
