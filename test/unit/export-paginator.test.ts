import { describe, expect, it } from 'vitest';
import { CliError, ExitCode } from '../../src/errors.js';
import {
  completenessWarnings,
  ExportPageError,
  MemoryPaginator,
  type ExportPage,
  type ListClient,
} from '../../src/export/paginator.js';
import type { ListParams } from '../../src/client/client.js';
import type { ListMemoriesResponse, Memory } from '../../src/client/types.js';
import { RecentIds } from '../../src/export/recent-ids.js';

function mem(i: number, extra: Record<string, unknown> = {}): Memory {
  return {
    memory_id: `m${i}`,
    memory_type: 'fact',
    content: `content ${i}`,
    confidence: 0.9,
    created_at: '2025-01-01T00:00:00Z',
    ...extra,
  };
}

/** An in-memory list endpoint over a mutable array, with hooks to change it between pages. */
class FakeList implements ListClient {
  calls: ListParams[] = [];
  beforePage?: (page: number) => void;
  failPage?: number;
  constructor(public items: Memory[]) {}
  async list(params: ListParams) {
    this.calls.push(params);
    this.beforePage?.(params.page);
    if (params.page === this.failPage) {
      throw new CliError('service unavailable (503)', {
        exitCode: ExitCode.FAILURE,
        correlationId: 'corr-9',
      });
    }
    const start = (params.page - 1) * params.pageSize;
    const data: ListMemoriesResponse = {
      data: this.items.slice(start, start + params.pageSize),
      page: params.page,
      page_size: params.pageSize,
      total: this.items.length,
      total_pages: Math.ceil(this.items.length / params.pageSize),
    };
    return { data, status: 200, correlationId: `c${params.page}` };
  }
}

async function collect(p: MemoryPaginator): Promise<ExportPage[]> {
  const pages: ExportPage[] = [];
  for await (const page of p) pages.push(page);
  return pages;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => mem(i));

describe('MemoryPaginator', () => {
  it('pages through everything once, with filters and page size passed on', async () => {
    const list = new FakeList(range(250));
    const p = new MemoryPaginator(list, { pageSize: 100, userId: 'u1', customerId: 'c1' });
    const pages = await collect(p);
    expect(pages.map((x) => x.memories.length)).toEqual([100, 100, 50]);
    expect(pages.at(-1)?.last).toBe(true);
    expect(list.calls).toHaveLength(3);
    expect(list.calls[0]).toEqual({ page: 1, pageSize: 100, userId: 'u1', customerId: 'c1' });
    expect(p.tally.pages).toBe(3);
    expect([...(p.seen as RecentIds)]).toHaveLength(250);
    expect(completenessWarnings(p.tally, 250)).toEqual([]);
  });

  it('keeps unknown fields of every memory', async () => {
    const list = new FakeList([mem(1, { shiny_new_field: { a: [1, 2] }, user_id: 'u' })]);
    const pages = await collect(new MemoryPaginator(list, { pageSize: 10 }));
    expect(pages[0]?.memories[0]).toEqual(mem(1, { shiny_new_field: { a: [1, 2] }, user_id: 'u' }));
  });

  it('an empty list is one request and no memories', async () => {
    const list = new FakeList([]);
    const pages = await collect(new MemoryPaginator(list, { pageSize: 100 }));
    expect(pages).toHaveLength(1);
    expect(pages[0]?.memories).toEqual([]);
    expect(pages[0]?.last).toBe(true);
  });

  it('removes repeats caused by inserts at the front and warns that the total changed', async () => {
    const list = new FakeList(range(30));
    let n = 1000;
    // Before page 2, two memories appear at the front: page 2 now starts with two already-seen ones.
    list.beforePage = (page) => {
      if (page === 2) list.items.unshift(mem(n++), mem(n++));
    };
    const p = new MemoryPaginator(list, { pageSize: 10 });
    const pages = await collect(p);
    const ids = pages.flatMap((x) => x.memories.map((m) => m.memory_id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(p.tally.duplicates).toBe(2);
    expect(p.tally.totalChanges).toEqual([{ page: 2, previous: 30, current: 32 }]);
    // The two new ones were inserted before our offset: 30 written, 32 reported.
    const warnings = completenessWarnings(p.tally, ids.length);
    expect(warnings[0]).toContain('30 at the start and 32 at the end');
    expect(warnings[1]).toContain('30 memories were written but the server reported up to 32');
  });

  it('follows a set that grows past the first total_pages', async () => {
    const list = new FakeList(range(20));
    list.beforePage = (page) => {
      if (page === 2) list.items.push(...range(35).slice(20));
    };
    const p = new MemoryPaginator(list, { pageSize: 10 });
    const pages = await collect(p);
    expect(pages.flatMap((x) => x.memories)).toHaveLength(35);
    expect(list.calls.map((c) => c.page)).toEqual([1, 2, 3, 4]);
  });

  it('reports a skip when deletes shift items behind the offset', async () => {
    const list = new FakeList(range(30));
    list.beforePage = (page) => {
      if (page === 2) list.items.splice(0, 5);
    };
    const p = new MemoryPaginator(list, { pageSize: 10 });
    const ids = (await collect(p)).flatMap((x) => x.memories.map((m) => m.memory_id));
    const written = ids.length;
    // m10..m14 moved onto page 1 after it was read: 25 written, 5 of the survivors missed.
    expect(written).toBe(25);
    expect(ids).not.toContain('m12');
    const warnings = completenessWarnings(p.tally, written);
    expect(warnings.join('\n')).toContain('reported up to 30');
  });

  it('keeps two pages requested ahead of the one being written, never past the last page', async () => {
    const list = new FakeList(range(50));
    let inFlight = 0;
    let most = 0;
    const slow: ListClient = {
      list: async (params) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        return list.list(params);
      },
    };
    const pages: number[] = [];
    for await (const page of new MemoryPaginator(slow, { pageSize: 10 })) {
      pages.push(page.page);
      await new Promise((r) => setTimeout(r, 20)); // a slow writer
    }
    expect(pages).toEqual([1, 2, 3, 4, 5]);
    expect(list.calls.map((c) => c.page)).toEqual([1, 2, 3, 4, 5]);
    expect(most).toBe(2);
  });

  it('remembers a bounded number of recent ids: memory stays flat on any size of export', async () => {
    const ids = new RecentIds(3);
    for (const id of ['a', 'b', 'c']) ids.addNew(id);
    ids.addNew('b'); // already held: no change
    expect(['a', 'b', 'c'].map((x) => ids.has(x))).toEqual([true, true, true]);
    ids.addNew('d'); // forgets the oldest
    expect(['a', 'b', 'c', 'd'].map((x) => ids.has(x))).toEqual([false, true, true, true]);
    expect([...ids]).toEqual(['b', 'c', 'd']);
    // A small window still removes the repeats that inserts at the front cause.
    const list = new FakeList(range(30));
    list.beforePage = (page) => {
      if (page === 2) list.items.unshift(mem(900), mem(901));
    };
    const p = new MemoryPaginator(list, { pageSize: 10, seen: new RecentIds(10) });
    const written = (await collect(p)).flatMap((x) => x.memories.map((m) => m.memory_id));
    expect(new Set(written).size).toBe(written.length);
    expect(p.tally.duplicates).toBe(2);
  });

  it('resumes at startPage and skips ids already written', async () => {
    const list = new FakeList(range(25));
    const seen = new RecentIds(100);
    seen.addNew('m10');
    seen.addNew('m11');
    const p = new MemoryPaginator(list, { pageSize: 10, startPage: 2, seen });
    const pages = await collect(p);
    expect(list.calls.map((c) => c.page)).toEqual([2, 3]);
    expect(pages.flatMap((x) => x.memories)).toHaveLength(13);
    expect(p.tally.duplicates).toBe(2);
  });

  it('a failed page stops the export, naming the page and keeping exit code and correlation id', async () => {
    const list = new FakeList(range(50));
    list.failPage = 3;
    const p = new MemoryPaginator(list, { pageSize: 10 });
    const got: ExportPage[] = [];
    const err = await (async () => {
      for await (const page of p) got.push(page);
    })().catch((e: unknown) => e);
    expect(got).toHaveLength(2);
    expect(err).toBeInstanceOf(ExportPageError);
    const e = err as ExportPageError;
    expect(e.page).toBe(3);
    expect(e.message).toBe('export stopped at page 3: service unavailable (503)');
    expect(e.correlationId).toBe('corr-9');
    expect(e.exitCode).toBe(ExitCode.FAILURE);
    expect(p.nextPage).toBe(3);
  });

  it('a response without a data array is an error, not an empty export', async () => {
    const client: ListClient = {
      list: async () => ({ data: { items: [] } as unknown as ListMemoriesResponse }),
    };
    await expect(collect(new MemoryPaginator(client, { pageSize: 10 }))).rejects.toThrow(
      /page 1: .*no `data` array/,
    );
  });

  it('without totals a short page is the last one', async () => {
    const items = range(15);
    const client: ListClient = {
      list: async ({ page, pageSize }) => ({
        data: {
          data: items.slice((page - 1) * pageSize, page * pageSize),
        } as unknown as ListMemoriesResponse,
      }),
    };
    const pages = await collect(new MemoryPaginator(client, { pageSize: 10 }));
    expect(pages.map((x) => x.memories.length)).toEqual([10, 5]);
  });

  it('refuses page sizes outside 1..100', () => {
    const list = new FakeList([]);
    expect(() => new MemoryPaginator(list, { pageSize: 0 })).toThrow(RangeError);
    expect(() => new MemoryPaginator(list, { pageSize: 101 })).toThrow(RangeError);
  });
});
