import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ListMemoriesResponse } from '../../src/client/types.js';
import { migrateRecords } from '../../src/export/migrate-records.js';
import type { ListParams } from '../../src/client/client.js';
import type { ListClient } from '../../src/export/paginator.js';
import type { SourceRecord } from '../../src/ingest/source-record.js';
import { SentLog } from '../../src/export/sent-log.js';
import { documentFor } from '../../src/export/source-documents.js';

type M = Record<string, unknown>;
const mem = (id: string, doc: string | undefined, extra: M = {}): M => ({
  memory_id: id,
  content: `fact ${id}`,
  memory_type: 'fact',
  created_at: '2026-12-07T10:00:00Z',
  document_created_at: `2025-02-01T23:17:00Z`,
  ...(doc !== undefined ? { source_document_id: doc } : {}),
  user_id: 'u1',
  customer_id: 'acme',
  metadata: { k: 'v' },
  ...extra,
});

class FakeList implements ListClient {
  onPage?: (page: number) => void;
  constructor(public items: M[]) {}
  async list(p: ListParams) {
    const start = (p.page - 1) * p.pageSize;
    const data: ListMemoriesResponse = {
      data: this.items.slice(start, start + p.pageSize) as never,
      page: p.page,
      page_size: p.pageSize,
      total: this.items.length,
      total_pages: Math.ceil(this.items.length / p.pageSize),
    };
    this.onPage?.(p.page);
    return { data, status: 200 };
  }
}

async function collect(it: AsyncIterable<SourceRecord>) {
  const out: SourceRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
}
const value = (r: SourceRecord) => r.value as M;

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'synap-migrate-unit-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('documentFor', () => {
  it("one memory: the source's id and time, its fields kept, created_at too", () => {
    const d = documentFor([mem('m1', 'doc-1', { __proto__x: 1 })], 'doc-1');
    expect(d).toMatchObject({
      document: 'fact m1',
      document_id: 'doc-1',
      document_created_at: '2025-02-01T23:17:00Z',
      user_id: 'u1',
      customer_id: 'acme',
    });
    expect((d.metadata as M).k).toBe('v');
    expect((d.metadata as M).synap_export).toMatchObject({
      memory_id: 'm1',
      created_at: '2026-12-07T10:00:00Z',
      source_document_id: 'doc-1',
      memory_type: 'fact',
    });
  });

  it('a memory without document_created_at keeps its created_at; an earlier synap_export is kept', () => {
    const m = mem('m1', 'doc-1', { metadata: { synap_export: { memory_id: 'older' } } });
    delete m.document_created_at;
    const d = documentFor([m], 'doc-1');
    expect(d.document_created_at).toBe('2026-12-07T10:00:00Z');
    expect(((d.metadata as M).synap_export as M).earlier).toEqual({ memory_id: 'older' });
  });
});

describe('migrateRecords', () => {
  it('groups adjacent memories of one source document (across pages) into one document', async () => {
    const list = new FakeList([
      mem('a1', 'A'),
      mem('a2', 'A'),
      mem('a3', 'A'),
      mem('b1', 'B'),
      mem('x1', undefined),
      mem('c1', 'C'),
    ]);
    const records = await collect(
      migrateRecords(list, { pageSize: 2, source: 's', sent: SentLog.inMemory() }),
    );
    expect(records.map((r) => value(r).document_id)).toEqual(['A', 'B', 'x1', 'C']);
    expect(records.map((r) => r.line)).toEqual([1, 4, 5, 6]);
    expect(value(records[0]!).document).toBe('fact a1\n\nfact a2\n\nfact a3');
    const exported = (value(records[0]!).metadata as M).synap_export as M;
    expect((exported.memories as M[]).map((m) => m.memory_id)).toEqual(['a1', 'a2', 'a3']);
  });

  it('memories of a document listed apart go beside it under another id, not as a duplicate', async () => {
    const list = new FakeList([mem('a1', 'A'), mem('b1', 'B'), mem('a2', 'A')]);
    const records = await collect(
      migrateRecords(list, { pageSize: 10, source: 's', sent: SentLog.inMemory() }),
    );
    expect(records.map((r) => value(r).document_id)).toEqual(['A', 'B', 'A#a2']);
  });

  it('a resume starts after the settled lines and remembers what they sent', async () => {
    const items = Array.from({ length: 10 }, (_, i) => mem(`m${i}`, `D${i}`));
    const list = new FakeList(items);
    const path = join(dir, 'sent');
    const first = SentLog.open(path, 0);
    const gen = migrateRecords(list, { pageSize: 3, source: 's', sent: first });
    for (let i = 0; i < 5; i++) await gen.next(); // lines 1-5 read
    await gen.return(undefined);
    first.close();
    // The state says lines up to 4 are settled: line 5 is read again, the rest follow once.
    let verified: unknown;
    const again = SentLog.open(path, 4);
    const records = await collect(
      migrateRecords(list, {
        pageSize: 3,
        source: 's',
        sent: again,
        after: 4,
        onVerified: (v) => (verified = v),
      }),
    );
    again.close();
    expect(records.map((r) => value(r).document_id)).toEqual(['D4', 'D5', 'D6', 'D7', 'D8', 'D9']);
    // The verification pass finds nothing missing: the settled ones were in the log.
    expect(verified).toEqual({ passes: 1, recovered: 0, shown: true });
  });

  it('memories skipped while the source churns are found by the verification pass and sent once', async () => {
    const items = Array.from({ length: 40 }, (_, i) => mem(`m${i}`, `D${i}`));
    const list = new FakeList(items);
    let churned = false;
    list.onPage = (page) => {
      if (page !== 2 || churned) return;
      churned = true;
      // Delete 5 already listed, create 5: same total, 5 memories shift back unseen.
      list.items.splice(0, 5);
      for (let i = 0; i < 5; i++) list.items.push(mem(`new${i}`, `N${i}`));
    };
    let verified: { recovered: number; shown: boolean } | undefined;
    const records = await collect(
      migrateRecords(list, {
        pageSize: 10,
        source: 's',
        sent: SentLog.inMemory(),
        onVerified: (v) => (verified = v),
      }),
    );
    const ids = records.map((r) => value(r).document_id as string);
    expect(new Set(ids).size).toBe(ids.length);
    for (const m of list.items) expect(ids).toContain(m.source_document_id);
    expect(verified).toMatchObject({ recovered: 5, shown: true });
  });

  it('a source that never holds still: bounded passes, and completeness is not shown', async () => {
    const items = Array.from({ length: 30 }, (_, i) => mem(`m${i}`, `D${i}`));
    const list = new FakeList(items);
    let n = 0;
    list.onPage = () => {
      list.items.splice(0, 1);
      list.items.push(mem(`new${n}`, `N${n++}`));
    };
    let verified: { passes: number; shown: boolean } | undefined;
    await collect(
      migrateRecords(list, {
        pageSize: 10,
        source: 's',
        sent: SentLog.inMemory(),
        onVerified: (v) => (verified = v),
      }),
    );
    expect(verified).toMatchObject({ passes: 3, shown: false });
  });
});
