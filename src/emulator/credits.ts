import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';

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

export interface LedgerEntry {
  ledger_id: string;
  /** 'grant' (credits given to the wallet) or 'usage' (spent by writes). */
  entry_type: 'grant' | 'usage';
  delta: number;
  metric_type: string | null;
  category: string | null;
  created_at: string;
}

export interface LedgerQuery {
  limit: number;
  offset: number;
  entryType?: string;
  /** Inclusive bounds, epoch ms. */
  from?: number;
  to?: number;
}

interface Entry extends LedgerEntry {
  at: number;
}

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
    this.book('grant', delta, null, null);
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
    this.spentTotal += documents * CREDITS_PER_UNIT;
    const now = this.clock.now();
    const last = this.entries[this.entries.length - 1];
    if (
      last &&
      last.entry_type === 'usage' &&
      Math.floor(last.at / 1000) === Math.floor(now / 1000)
    ) {
      last.delta -= documents * CREDITS_PER_UNIT;
      return;
    }
    this.book('usage', -documents * CREDITS_PER_UNIT, 'memory_documents', 'ingestion');
  }

  private book(
    type: LedgerEntry['entry_type'],
    delta: number,
    metricType: string | null,
    category: string | null,
  ): void {
    const at = this.clock.now();
    this.entries.push({
      ledger_id: randomUUID(),
      entry_type: type,
      delta,
      metric_type: metricType,
      category,
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
  ledger(q: LedgerQuery): { entries: LedgerEntry[]; total: number; limit: number; offset: number } {
    const matching: Entry[] = [];
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (q.entryType !== undefined && e.entry_type !== q.entryType) continue;
      if (q.from !== undefined && e.at < q.from) continue;
      if (q.to !== undefined && e.at > q.to) continue;
      matching.push(e);
    }
    const page = matching.slice(q.offset, q.offset + q.limit).map(({ at: _at, ...entry }) => entry);
    return { entries: page, total: matching.length, limit: q.limit, offset: q.offset };
  }

  estimate(units: number): number {
    return units * CREDITS_PER_UNIT;
  }
}
