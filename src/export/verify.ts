import {
  keptOf,
  listingOf,
  MemoryPaginator,
  type ExportPage,
  type ListClient,
  type Listing,
  type PaginatorTally,
} from './paginator.js';
import type { WrittenIds } from './written-ids.js';

/**
 * Offset paging over a set that changes cannot see what it skipped: when memories already
 * exported are deleted and as many are created (the service consolidating), the memories after
 * them shift back past the export's position, and the totals stay the same. So after the last
 * page the export lists everything again and writes what it had not written, and does so until
 * one pass finds nothing missing over a listing that held still (the same total on every page,
 * as many distinct memories as that total), or VERIFY_PASSES passes have not shown it.
 */
export const VERIFY_PASSES = 3;

export interface VerifyOptions extends Listing {
  client: ListClient;
  written: WrittenIds;
  /** Writes memories the earlier passes missed; false when the reader went away. */
  write(page: Pick<ExportPage, 'memories' | 'source'>): Promise<boolean>;
  /** After each page of a pass (checkpoints, progress). */
  onPage(page: number): Promise<void>;
}

/**
 * Runs the passes: how many ran, the memories they found missing and wrote, whether one showed
 * the listing complete (nothing missing while it held still), and whether the reader closed the
 * output during one.
 */
export async function verifyCompleteness(o: VerifyOptions) {
  let recovered = 0;
  for (let pass = 1; pass <= VERIFY_PASSES; pass++) {
    o.written.seal();
    const paginator = new MemoryPaginator(o.client, listingOf(o));
    let found = 0;
    for await (const page of paginator) {
      const missing = keptOf(
        page,
        ({ memory_id: id }) => typeof id === 'string' && !o.written.has(id),
      );
      if (missing.memories.length > 0) {
        if (!(await o.write(missing)))
          return { passes: pass, recovered, shown: false, closed: true };
        for (const m of missing.memories) o.written.add(m.memory_id as string);
        found += missing.memories.length;
      }
      await o.onPage(page.page);
    }
    recovered += found;
    if (found === 0 && heldStill(paginator.tally))
      return { passes: pass, recovered, shown: true, closed: false };
  }
  return { passes: VERIFY_PASSES, recovered, shown: false, closed: false };
}

/**
 * True when a listing held still: the same total on every page and that many distinct memories
 * listed (a server without totals: no repeats either).
 */
export function heldStill(t: PaginatorTally): boolean {
  return (
    t.totalChanges.length === 0 &&
    (t.lastTotal === undefined ? t.duplicates === 0 : t.received - t.duplicates === t.lastTotal)
  );
}
