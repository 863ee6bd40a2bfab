import {
  listingOf,
  MemoryPaginator,
  type ExportedMemory,
  type ListClient,
  type Listing,
  type PaginatorTally,
  type SeenIds,
} from './paginator.js';
import type { SourceRecord } from '../ingest/source-record.js';
import { docKey, type SentLog } from './sent-log.js';
import { documentFor, sourceDocumentId } from './source-documents.js';
import { heldStill, VERIFY_PASSES } from './verify.js';
import { idHash } from './written-ids.js';

/**
 * The records `synap migrate` ingests: the source's memories grouped back into their source
 * documents (source-documents.ts), each numbered by where it lies in the listing so that a
 * stopped migration can start reading again right after what its ingest state counts as
 * settled. Pass 0 is the listing; passes 1… are the verification passes of verify.ts (listing
 * again, sending what was missed while the source changed). A record's line is
 * `pass * PASS_LINES + position of its first memory` (position from 1 in that pass).
 */
const PASS_LINES = 1_000_000_000;

export interface MigrateRecordsOptions extends Listing {
  /** Name of the source in messages and failures, e.g. "export of profile staging". */
  source: string;
  /** Records on lines up to this are settled (a resume): reading starts after them. */
  after?: number;
  /** What was sent (this run and, on a resume, the earlier ones); new records are noted in it. */
  sent: SentLog;
  onPage?: (e: { pass: number; page: number; tally: PaginatorTally }) => void;
  /** Called once the listing and its verification passes are done. */
  onVerified?: (e: { passes: number; recovered: number; shown: boolean }) => void;
}

interface Pending {
  line: number;
  memories: ExportedMemory[];
  key: string;
}

/** The memory_ids a paginator saw, as hashes in the log's recent set. */
function seenOf(log: SentLog): SeenIds {
  return { addNew: (id) => log.recentMemories.addNew(String(idHash(id))) };
}

export async function* migrateRecords(
  client: ListClient,
  o: MigrateRecordsOptions,
): AsyncGenerator<SourceRecord> {
  const after = o.after ?? 0;
  const resumedPass = Math.floor(after / PASS_LINES);
  const resumedAt = after % PASS_LINES;
  const log = o.sent;

  const paginator = (pass: number, startPage: number) =>
    new MemoryPaginator(client, {
      ...listingOf(o),
      startPage,
      // The listing drops repeats (offset paging); a verification pass counts its own.
      ...(pass === 0 ? { seen: seenOf(log) } : {}),
    });

  /** The document id a group is sent under, noted in the log with its memories. */
  const send = (g: Pending, verifying: boolean): SourceRecord => {
    const first = g.memories[0]!;
    let id = g.key;
    if (id === '') id = String(first.memory_id);
    else {
      const used = verifying
        ? log.written.hasHash(docKey(g.key))
        : log.recentDocuments.has(String(docKey(g.key)));
      // The source document was sent already (its other memories): these go beside it.
      if (used) id = `${g.key}#${String(first.memory_id)}`;
      else log.document(g.line, g.key);
    }
    for (const m of g.memories)
      if (typeof m.memory_id === 'string') log.memory(g.line, m.memory_id);
    return { source: o.source, line: g.line, value: documentFor(g.memories, id) };
  };

  /**
   * One pass: pages from `startPage`, the memories `take` keeps grouped by source document
   * (adjacent ones), each group handed on once the next one begins, after its entries are
   * in the log. Returns the pass's counts.
   */
  async function* pass(
    n: number,
    skipThrough: number,
    take: (m: ExportedMemory) => boolean,
  ): AsyncGenerator<SourceRecord, { found: number; tally: PaginatorTally }> {
    const startPage = n === 0 ? Math.floor(skipThrough / o.pageSize) + 1 : 1;
    const pages = paginator(n, startPage);
    let open: Pending | undefined;
    let found = 0;
    for await (const page of pages) {
      const ready: Pending[] = [];
      const base = (page.page - 1) * o.pageSize;
      // A repeat of offset paging comes first on its page (an insert pushed it over from the
      // page before), so the memories kept stand after the repeats dropped.
      let position = base + page.duplicates;
      for (const m of page.memories) {
        position++;
        if (position <= skipThrough || !take(m)) continue;
        found++;
        const line = n * PASS_LINES + position;
        const key = sourceDocumentId(m);
        if (open && key !== '' && key === open.key) open.memories.push(m);
        else {
          if (open) ready.push(open);
          open = { line, memories: [m], key };
        }
      }
      const records = ready.map((g) => send(g, n > 0));
      log.flush();
      o.onPage?.({ pass: n, page: page.page, tally: pages.tally });
      for (const r of records) yield r;
    }
    if (open) {
      const r = send(open, n > 0);
      log.flush();
      yield r;
    }
    return { found, tally: pages.tally };
  }

  if (resumedPass === 0) yield* pass(0, resumedAt, () => true);

  let recovered = 0;
  for (let n = Math.max(1, resumedPass); n <= VERIFY_PASSES; n++) {
    log.written.seal();
    const missing = (m: ExportedMemory) =>
      typeof m.memory_id === 'string' && !log.written.has(m.memory_id);
    const skip = n === resumedPass ? resumedAt : 0;
    const { found, tally } = yield* pass(n, skip, missing);
    recovered += found;
    // A pass resumed part-way may have sent memories before the stop: it shows nothing.
    if (found === 0 && heldStill(tally) && skip === 0) {
      o.onVerified?.({ passes: n, recovered, shown: true });
      return;
    }
  }
  o.onVerified?.({ passes: VERIFY_PASSES, recovered, shown: false });
}
