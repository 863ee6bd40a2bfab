import type { RebuildCounts } from '../ledger/ledger.js';
import { info, writeOut } from './messages.js';
import { renderTable } from './table.js';
import type { View } from './view.js';

/** `synap ledger status` (also its --json result). */
export interface LedgerStatus {
  path: string;
  /** The database and its write-ahead log, in bytes. */
  bytes: number;
  instances: { instance_id: string; documents: number; unknown_bodies: number }[];
}

export interface LedgerForgotten {
  instance_id: string;
  forgotten: number;
  /** Every document of the instance (no ids named). */
  all: boolean;
}

export interface LedgerRebuilt extends RebuildCounts {
  instance_id: string;
  /** Memories listed. */
  memories: number;
  /** Listed memories that name no source document. */
  without_document_id: number;
}

export function printLedgerStatus(s: LedgerStatus, view: View): void {
  info(`ledger: ${s.path} (${s.bytes} bytes)`);
  if (s.instances.length === 0) {
    info('no instance yet: an ingest records what each instance accepts');
    return;
  }
  writeOut(
    renderTable(
      ['instance', 'documents', 'body unknown'],
      s.instances.map((i) => [i.instance_id, String(i.documents), String(i.unknown_bodies)]),
      { color: view.color },
    ),
  );
}

export function printLedgerForgotten(r: LedgerForgotten): void {
  const what = r.all ? 'every document' : 'the named documents';
  info(`${r.instance_id}: forgot ${what} (${r.forgotten} held); the next ingest sends them again`);
}

export function printLedgerRebuilt(r: LedgerRebuilt): void {
  info(
    `${r.instance_id}: ${r.memories} memories listed, ${r.listed} documents: ${r.added} added, ` +
      `${r.kept} already held, ${r.removed} no longer listed (forgotten)`,
  );
  if (r.unknown_bodies > 0) {
    info(
      `${r.unknown_bodies} of the added documents have ids of their own, so the listing does not ` +
        'show the body they were sent with: records with these ids count as unchanged ' +
        "(an edited one is sent with --resend or after 'synap ledger forget ID')",
    );
  }
  if (r.without_document_id > 0) {
    info(`${r.without_document_id} memories name no source document: nothing to record for them`);
  }
}
