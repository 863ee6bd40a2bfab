import {
  listingOf,
  MemoryPaginator,
  type ListClient,
  type Listing,
  type PaginatorTally,
} from './paginator.js';

/** The shape ingest readers produce (src/ingest): one record of a source, by line. */
export interface ExportSourceRecord {
  source: string;
  line: number;
  value: unknown;
}

export interface ExportRecordsOptions extends Listing {
  /** Name of the source in ingest messages and failures, e.g. "export of profile staging". */
  source: string;
  /** Called after each page with the paginator's counts (progress, warnings). */
  onPage?: (e: { page: number; memories: number; tally: PaginatorTally }) => void;
}

/**
 * The memories of an export as ingest source records, in order, without a file in between:
 * `line` is the memory's position in the export (as it would be in `synap export` output),
 * `value` the memory exactly as the API returned it. Errors of a page end the iteration.
 */
export async function* exportRecords(
  client: ListClient,
  opts: ExportRecordsOptions,
): AsyncGenerator<ExportSourceRecord, PaginatorTally> {
  const paginator = new MemoryPaginator(client, listingOf(opts));
  let line = 0;
  for await (const page of paginator) {
    for (const memory of page.memories) {
      line++;
      yield { source: opts.source, line, value: memory };
    }
    opts.onPage?.({ page: page.page, memories: line, tally: paginator.tally });
  }
  return paginator.tally;
}
