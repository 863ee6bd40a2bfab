import type { CreditBalance, CreditLedgerPage } from '../client/types.js';
import type { CreditCheck } from '../ingest/credit-check.js';
import { info, warn, writeOut } from './messages.js';
import { notify } from './notices.js';
import { renderKeyValue, renderTable } from './table.js';
import type { View } from './view.js';

// Made on first use: the first Intl.NumberFormat of a process loads ICU data (~20 ms), which
// an ingest that prints no credit line (--json, --quiet) should not wait for before it starts.
let grouped: Intl.NumberFormat | undefined;
const credits = (n: number) =>
  (grouped ??= new Intl.NumberFormat('en-US', { maximumFractionDigits: 4 })).format(n);
const plural = (n: number, word: string) => `${credits(n)} ${word}${n === 1 ? '' : 's'}`;

/** `synap credits`: the balance and its buckets. */
export function printCreditBalance(b: CreditBalance, view: View): void {
  const buckets = Array.isArray(b.buckets) ? b.buckets : [];
  const pairs: [string, string][] = [
    ['client', String(b.client_id ?? '')],
    ['balance', `${credits(Number(b.balance_credits))} credits${b.warning_low ? ' (low)' : ''}`],
  ];
  for (const bucket of buckets) {
    pairs.push([
      `  ${bucket.source_type}`,
      `${credits(Number(bucket.balance))}${bucket.expires_at ? `, expires ${bucket.expires_at}` : ''}`,
    ]);
  }
  writeOut(renderKeyValue(pairs, { color: view.color }));
  if (b.warning_low && !view.quiet) warn('the credit balance is low');
}

/** `synap credits ledger`: one page of entries as a table, where it is on stderr. */
export function printCreditLedger(page: CreditLedgerPage, view: View): void {
  const entries = Array.isArray(page.entries) ? page.entries : [];
  if (entries.length === 0) {
    writeOut(page.total > 0 ? `No entries at offset ${page.offset}.` : 'No ledger entries.');
  } else {
    const rows = entries.map((e) => [
      e.created_at,
      e.entry_type,
      e.delta > 0 ? `+${credits(e.delta)}` : credits(e.delta),
      e.metric_type ?? '',
      e.category ?? '',
      e.ledger_id,
    ]);
    writeOut(
      renderTable(['created', 'type', 'delta', 'metric', 'category', 'id'], rows, {
        color: view.color,
      }),
    );
  }
  const first = entries.length > 0 ? page.offset + 1 : page.offset;
  const last = page.offset + entries.length;
  const more = last < page.total ? `; next: --offset ${last}` : '';
  info(`entries ${first}-${last} of ${page.total}${more}`, { quiet: view.quiet });
}

/**
 * The credit check before an ingest: one line with the estimate and the balance, or a
 * warning saying why there is no estimate.
 */
export function printCreditCheck(check: CreditCheck, opts: { quiet: boolean }): void {
  if (check.note) {
    warn(check.note);
    return;
  }
  // Through notify(): timestamped like the run's other lines when stderr is a log.
  if (!opts.quiet) notify(`synap: ${describeCreditCheck(check)}`);
}

/** `estimate 1,200 credits for about 1,200 documents; balance 5,000` */
export function describeCreditCheck(check: CreditCheck): string {
  if (check.note) return check.note;
  const about = check.at_most ? 'at most ' : check.exact ? '' : 'about ';
  const estimate =
    check.estimate === null ? 'no estimate' : `estimate ${plural(check.estimate, 'credit')}`;
  const balance = check.balance === null ? 'balance unknown' : `balance ${credits(check.balance)}`;
  return `${estimate} for ${about}${plural(check.documents, 'document')}; ${balance}`;
}
