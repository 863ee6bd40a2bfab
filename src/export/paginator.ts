import type { ItemBytes, ListParams } from '../client/client.js';
import type { ListMemoriesResponse } from '../client/types.js';
import { MAX_PAGE_SIZE } from '../client/types.js';
import { CliError, ExitCode } from '../errors.js';
import { isPlainObject } from '../json-value.js';
import { RecentIds } from './recent-ids.js';

/**
 * Pages through the memory list (GET /api/v1/memories?page&page_size, offset pages of at most
 * 100) and hands out each page's memories once.
 *
 * Offset pagination over a set that changes while we read can repeat items (an insert before our
 * offset shifts them forward) or skip them (a delete shifts them back). Repeats are removed here
 * by memory_id, against the ids written most recently (see RecentIds); skips cannot be seen
 * page by page, so the paginator keeps the totals the server reported and the caller compares
 * them with what was written at the end.
 */

/** The one client method export needs (SynapClient.list fits). */
export interface ListClient {
  list(
    params: ListParams,
    opts?: { signal?: AbortSignal },
  ): Promise<{
    data: ListMemoriesResponse;
    correlationId?: string;
    /** Byte ranges of the items in the body (SynapClient.list's ListResult.items). */
    items?: ItemBytes;
  }>;
}

/** The memory_ids a paginator has handed out: addNew is false for a repeat. */
export interface SeenIds {
  addNew(id: string): boolean;
}

/** One exported memory: every field the API returned, unknown ones too. */
export type ExportedMemory = Record<string, unknown>;

/** What one listing of the memories reads: its page size, its filters, and what aborts it. */
export interface Listing {
  pageSize: number;
  userId?: string;
  customerId?: string;
  signal?: AbortSignal;
}

/** The listing part of options that hold more. */
export function listingOf(o: Listing): Listing {
  return { pageSize: o.pageSize, userId: o.userId, customerId: o.customerId, signal: o.signal };
}

export interface PaginateOptions extends Listing {
  /** First page to fetch (resume); default 1. */
  startPage?: number;
  /** memory_ids already written (resume), most recent last; the paginator adds to it. */
  seen?: SeenIds;
}

export interface ExportPage {
  /** The page number that was fetched. */
  page: number;
  /** Memories on this page not seen before, in server order. */
  memories: ExportedMemory[];
  /**
   * The bytes the server sent for each of `memories`: `spans` holds a [start, end) pair of
   * `body` per memory, in the same order. Absent when the body could not be split with
   * certainty; the memories are then written as JSON.stringify makes them.
   */
  source?: ItemBytes;
  /** Items skipped because their memory_id was already seen. */
  duplicates: number;
  /** `total` of this response, when the server sent one. */
  total: number | undefined;
  /** The page the next fetch would ask for. */
  nextPage: number;
  /** True when this was the last page. */
  last: boolean;
}

export interface TotalChange {
  /** Page whose response reported the new total. */
  page: number;
  previous: number;
  current: number;
}

/** Counts the caller needs for the summary, checkpoints and completeness warnings. */
export interface PaginatorTally {
  pages: number;
  received: number;
  duplicates: number;
  /** Memories without a string memory_id (written, but they cannot be deduplicated). */
  withoutId: number;
  firstTotal: number | undefined;
  lastTotal: number | undefined;
  maxTotal: number | undefined;
  totalChanges: TotalChange[];
}

/** A page could not be fetched (after the client's own retries): the export stops here. */
export class ExportPageError extends CliError {
  readonly page: number;
  constructor(page: number, cause: unknown) {
    const inner = cause instanceof Error ? cause.message : String(cause);
    const known = cause instanceof CliError;
    super(`export stopped at page ${page}: ${inner}`, {
      exitCode: known ? cause.exitCode : ExitCode.FAILURE,
      ...(known && cause.correlationId ? { correlationId: cause.correlationId } : {}),
      hints: known ? [...cause.hints] : [],
      cause,
    });
    this.page = page;
  }
}

/** Pages requested ahead of the one being written. */
const PAGES_AHEAD = 2;

function finiteNonNegative(n: unknown): number | undefined {
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : undefined;
}

export class MemoryPaginator implements AsyncIterable<ExportPage> {
  readonly seen: SeenIds;
  readonly tally: PaginatorTally = {
    pages: 0,
    received: 0,
    duplicates: 0,
    withoutId: 0,
    firstTotal: undefined,
    lastTotal: undefined,
    maxTotal: undefined,
    totalChanges: [],
  };
  /** The next page to fetch; after the last page it stays one past it. */
  nextPage: number;

  constructor(
    private readonly client: ListClient,
    private readonly opts: PaginateOptions,
  ) {
    if (!Number.isInteger(opts.pageSize) || opts.pageSize < 1 || opts.pageSize > MAX_PAGE_SIZE) {
      throw new RangeError(`pageSize must be 1..${MAX_PAGE_SIZE} (got ${opts.pageSize})`);
    }
    this.seen = opts.seen ?? new RecentIds();
    this.nextPage = opts.startPage ?? 1;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ExportPage> {
    // Up to PAGES_AHEAD next pages are requested while the consumer writes this one, so the
    // server always has a request to work on: it never waits for our parsing or writing.
    // Pages past the last the server announced are never asked for.
    const ahead = new Map<number, ReturnType<ListClient['list']>>();
    for (;;) {
      const page = this.nextPage;
      const pending = ahead.get(page);
      ahead.delete(page);
      const result = await (pending ?? this.fetch(page));
      const body = result.data as Partial<ListMemoriesResponse> | null | undefined;
      if (!body || typeof body !== 'object' || !Array.isArray(body.data)) {
        throw new ExportPageError(
          page,
          new CliError("the server's list response has no `data` array; is this a Synap server?", {
            ...(result.correlationId ? { correlationId: result.correlationId } : {}),
          }),
        );
      }
      const items = body.data as unknown[];
      const total = finiteNonNegative(body.total);
      this.noteTotal(page, total);

      if (!items.every(isPlainObject)) {
        const notObject = new CliError('the server sent a list item that is not a JSON object');
        throw new ExportPageError(page, notObject);
      }
      let duplicates = 0;
      const kept = keptOf({ memories: items, source: result.items }, ({ memory_id: id }) => {
        if (typeof id !== 'string') this.tally.withoutId++;
        else if (!this.seen.addNew(id)) {
          duplicates++;
          return false;
        }
        return true;
      });
      this.tally.pages++;
      this.tally.received += items.length;
      this.tally.duplicates += duplicates;

      const lastPage = this.lastPageNumber(body, total);
      const last =
        items.length === 0 ||
        (lastPage !== undefined ? page >= lastPage : items.length < this.pageSizeOf(body));
      this.nextPage = page + 1;
      if (!last) {
        // Without totals only the next page is certain to be worth asking for.
        const until = lastPage === undefined ? page + 1 : Math.min(page + PAGES_AHEAD, lastPage);
        for (let p = page + 1; p <= until; p++) {
          if (ahead.has(p)) continue;
          const request = this.fetch(p);
          // Observed when awaited; this only keeps an abandoned request from being "unhandled".
          request.catch(() => {});
          ahead.set(p, request);
        }
      }
      yield {
        page,
        ...kept,
        duplicates,
        total,
        nextPage: this.nextPage,
        last,
      };
      if (last) return;
    }
  }

  private async fetch(page: number): ReturnType<ListClient['list']> {
    const { pageSize, userId, customerId, signal } = this.opts;
    try {
      return await this.client.list({ page, pageSize, userId, customerId }, signal && { signal });
    } catch (err) {
      // "List not supported" on page 1 is about the server, not a page: keep its message as is.
      if (page === 1 && err instanceof CliError && err.name === 'ListNotSupportedError') throw err;
      if (signal?.aborted) throw err;
      throw new ExportPageError(page, err);
    }
  }

  private noteTotal(page: number, total: number | undefined): void {
    if (total === undefined) return;
    const t = this.tally;
    if (t.firstTotal === undefined) t.firstTotal = total;
    if (t.lastTotal !== undefined && t.lastTotal !== total) {
      t.totalChanges.push({ page, previous: t.lastTotal, current: total });
    }
    t.lastTotal = total;
    t.maxTotal = Math.max(t.maxTotal ?? 0, total);
  }

  private pageSizeOf(body: Partial<ListMemoriesResponse>): number {
    return finiteNonNegative(body.page_size) || this.opts.pageSize;
  }

  /**
   * The last page by the latest response: total_pages, or ceil(total / page_size) when
   * total_pages is missing, so the end follows a set that grew meanwhile. Undefined when the
   * server sends no totals; then an empty or short page is the end.
   */
  private lastPageNumber(
    body: Partial<ListMemoriesResponse>,
    total: number | undefined,
  ): number | undefined {
    const totalPages = finiteNonNegative(body.total_pages);
    if (totalPages !== undefined) return totalPages;
    return total === undefined ? undefined : Math.ceil(total / this.pageSizeOf(body));
  }
}

/** The memories of `page` that `keep` accepts, in order, with their bytes as sent. */
export function keptOf(
  page: Pick<ExportPage, 'memories' | 'source'>,
  keep: (memory: ExportedMemory) => boolean,
): Pick<ExportPage, 'memories' | 'source'> {
  const memories: ExportedMemory[] = [];
  const spans = page.source?.spans;
  const kept: number[] = [];
  page.memories.forEach((m, i) => {
    if (!keep(m)) return;
    memories.push(m);
    if (spans) kept.push(spans[i * 2]!, spans[i * 2 + 1]!);
  });
  return {
    memories,
    ...(page.source ? { source: { body: page.source.body, spans: Uint32Array.from(kept) } } : {}),
  };
}

/** Warnings about completeness once the last page is done; empty when everything adds up. */
export function completenessWarnings(tally: PaginatorTally, written: number): string[] {
  const warnings = totalChangeWarnings(
    tally,
    '; offset paging over a changing set can repeat or skip memories',
  );
  if (tally.maxTotal !== undefined && written < tally.maxTotal) {
    warnings.push(
      `${written} memories were written but the server reported up to ${tally.maxTotal}; ` +
        `${tally.maxTotal - written} may have been skipped (deleted meanwhile, or shifted by ` +
        'changes while paging): run the export again when the data is quiet',
    );
  }
  return warnings;
}

/** The warning, then `ending`, when the listing's total changed while it was paged; else none. */
export function totalChangeWarnings(tally: PaginatorTally, ending = ''): string[] {
  if (tally.totalChanges.length === 0 || tally.firstTotal === undefined) return [];
  return [
    `the number of memories changed during the export: the server reported ${tally.firstTotal} ` +
      `at the start and ${tally.lastTotal} at the end (${tally.totalChanges.length} change(s))${ending}`,
  ];
}
