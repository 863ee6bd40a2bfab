import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiResult } from '../../src/client/client.js';
import type {
  BatchCreateResponse,
  BatchItemResult,
  CreateMemoryRequest,
  MemoryStatusResponse,
} from '../../src/client/types.js';
import type { IngestClient, IngestRunOptions } from '../../src/ingest/options.js';
import { ingest } from '../../src/ingest/pipeline.js';
import { heldPrefix } from '../../src/ledger/finished.js';
import { Ledger, LEDGER_FILE } from '../../src/ledger/ledger.js';
import type { LedgerView } from '../../src/ledger/verdict.js';

/** Accepts every document, or fails those `fail` names. */
class AcceptingClient implements IngestClient {
  sent: CreateMemoryRequest[] = [];
  constructor(private readonly fail = (_d: CreateMemoryRequest) => false) {}
  batch(docs: CreateMemoryRequest[]): Promise<ApiResult<BatchCreateResponse>> {
    this.sent.push(...docs);
    const results = docs.map((d, i): BatchItemResult => ({
      ingestion_id: `ing-${i}`,
      document_id: d.document_id,
      ...(this.fail(d)
        ? {
            status: 'failed' as const,
            queued_at: null,
            error_code: 'INVALID_INPUT',
            error_message: 'no',
          }
        : { status: 'queued' as const, queued_at: '2025-01-01T00:00:00Z' }),
    }));
    const failed = results.filter((r) => r.status === 'failed').length;
    return Promise.resolve({
      data: { batch_id: 'b', total: docs.length, succeeded: docs.length - failed, failed, results },
      status: 200,
      correlationId: 'cid',
    });
  }
  status(): Promise<ApiResult<MemoryStatusResponse>> {
    throw new Error('not used');
  }
}

const chats = (from: number, to: number, edited = new Set<number>()) =>
  Array.from({ length: to - from + 1 }, (_, k) => {
    const i = from + k;
    return JSON.stringify({
      document: `User: chat ${i}${edited.has(i) ? ' (edit)' : '       '}\nAssistant: ok`,
      document_id: `chat-${i}`,
      user_id: 'u1',
    });
  }).join('\n') + '\n';

/**
 * A finished input is remembered in the ledger (its bytes' hash, the options, the ledger's
 * generation), so a second run of the same bytes settles those records as unchanged without
 * mapping, hashing or looking up each one; anything that could make one of them differ (an
 * edit, other options, an entry of the ledger changed or forgotten) makes the run ask again.
 */
describe('ledger: a finished input run again', () => {
  let dir: string;
  let ledger: Ledger;
  let asked: number;
  let view: LedgerView;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'synap-finished-'));
    ledger = Ledger.open(join(dir, 'state'));
    asked = 0;
    const inner = ledger.instance('inst');
    // The ledger as the run sees it, counting the ids it is asked about.
    view = Object.assign(
      Object.create(Object.getPrototypeOf(inner) as object) as LedgerView,
      inner,
      {
        prefetch(ids: readonly string[]) {
          asked += ids.length;
          inner.prefetch(ids);
        },
        lookup: (id: string) => inner.lookup(id),
      },
    );
  });
  afterEach(() => {
    ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (input: string, client: IngestClient, extra: Partial<IngestRunOptions> = {}) =>
    ingest({
      client,
      map: {},
      profile: 'default',
      baseUrl: 'http://127.0.0.1:1',
      inputs: [input],
      ledger: view,
      ...extra,
    } as IngestRunOptions);

  it('asks the ledger about none of its records, and sends nothing', async () => {
    const input = join(dir, 'chats.jsonl');
    writeFileSync(input, chats(1, 300));
    expect(await run(input, new AcceptingClient())).toMatchObject({ accepted: 300 });
    asked = 0;
    const again = new AcceptingClient();
    const s = await run(input, again);
    expect(s).toMatchObject({ status: 'completed', sent: 0, unchanged: 300, records_read: 300 });
    expect(again.sent).toHaveLength(0);
    expect(asked).toBe(0);
    // A dry run with the ledger says the same at the same cost.
    expect(await run(input, again, { dryRun: true })).toMatchObject({ sent: 0, unchanged: 300 });
    expect(asked).toBe(0);
  });

  it('grown: only the appended records are asked about and sent; then the whole is remembered', async () => {
    const input = join(dir, 'chats.jsonl');
    writeFileSync(input, chats(1, 100));
    await run(input, new AcceptingClient());
    writeFileSync(input, chats(1, 110));
    asked = 0;
    const c = new AcceptingClient();
    expect(await run(input, c)).toMatchObject({ sent: 10, unchanged: 100 });
    expect(c.sent.map((d) => d.document_id)).toEqual(
      Array.from({ length: 10 }, (_, k) => `chat-${101 + k}`),
    );
    expect(asked).toBe(10);
    asked = 0;
    expect(await run(input, new AcceptingClient())).toMatchObject({ sent: 0, unchanged: 110 });
    expect(asked).toBe(0);
  });

  it('a record edited in place (same size, same ends) is sent as updated', async () => {
    const input = join(dir, 'chats.jsonl');
    writeFileSync(input, chats(1, 50));
    await run(input, new AcceptingClient());
    const edited = chats(1, 50, new Set([20]));
    expect(edited.length).toBe(chats(1, 50).length);
    writeFileSync(input, edited);
    const c = new AcceptingClient();
    expect(await run(input, c)).toMatchObject({ sent: 1, updated: 1, unchanged: 49 });
    expect(c.sent[0]!.document_id).toBe('chat-20');
  });

  it('other options make every record differ: all sent as updated', async () => {
    const input = join(dir, 'chats.jsonl');
    writeFileSync(input, chats(1, 20));
    await run(input, new AcceptingClient());
    const c = new AcceptingClient();
    const s = await run(input, c, { map: { defaults: { metadata: { night: 2 } } } });
    expect(s).toMatchObject({ sent: 20, updated: 20 });
  });

  it('an entry forgotten, or changed by another run, after the run: that record is sent again', async () => {
    const input = join(dir, 'chats.jsonl');
    writeFileSync(input, chats(1, 40));
    await run(input, new AcceptingClient());
    ledger.forget('inst', ['chat-7']);
    const c = new AcceptingClient();
    expect(await run(input, c)).toMatchObject({ sent: 1, unchanged: 39 });
    expect(c.sent.map((d) => d.document_id)).toEqual(['chat-7']);

    // Another input gives chat-9 another body: the instance holds that one now.
    const other = join(dir, 'other.jsonl');
    writeFileSync(other, chats(9, 9, new Set([9])));
    expect(await run(other, new AcceptingClient())).toMatchObject({ sent: 1, updated: 1 });
    const c2 = new AcceptingClient();
    expect(await run(input, c2)).toMatchObject({ sent: 1, updated: 1, unchanged: 39 });
    expect(c2.sent.map((d) => d.document_id)).toEqual(['chat-9']);
  });

  it('an entry changed by an older synap (INSERT OR REPLACE, no knowledge of this) is seen', async () => {
    const input = join(dir, 'chats.jsonl');
    writeFileSync(input, chats(1, 10));
    await run(input, new AcceptingClient());
    const db = new Database(join(dir, 'state', LEDGER_FILE));
    db.prepare(
      "INSERT OR REPLACE INTO documents (instance, document_id, body_hash) SELECT id, 'chat-3', zeroblob(20) FROM instances WHERE instance_id = 'inst'",
    ).run();
    db.close();
    const c = new AcceptingClient();
    expect(await run(input, c)).toMatchObject({ sent: 1, updated: 1, unchanged: 9 });
  });

  it('a run with a failed record remembers nothing: the next run asks about every record', async () => {
    const input = join(dir, 'chats.jsonl');
    writeFileSync(input, chats(1, 30));
    const s = await run(input, new AcceptingClient((d) => d.document_id === 'chat-5'), {
      failuresPath: join(dir, 'f.jsonl'),
    } as Partial<IngestRunOptions>);
    expect(s).toMatchObject({ accepted: 29, failed: 1 });
    asked = 0;
    const c = new AcceptingClient();
    expect(await run(input, c)).toMatchObject({ sent: 1, unchanged: 29 });
    expect(asked).toBe(30);
    // That run settled every record: now it is remembered.
    asked = 0;
    expect(await run(input, new AcceptingClient())).toMatchObject({ sent: 0, unchanged: 30 });
    expect(asked).toBe(0);
  });

  it('grown after a last line without a line break: the appended bytes may continue it, so each record is asked about', async () => {
    const input = join(dir, 'chats.jsonl');
    writeFileSync(input, chats(1, 20).trimEnd());
    await run(input, new AcceptingClient());
    writeFileSync(input, chats(1, 22));
    asked = 0;
    expect(await run(input, new AcceptingClient())).toMatchObject({ sent: 2, unchanged: 20 });
    expect(asked).toBe(22);
  });

  it('grown is trusted only for an uncompressed line-record file: a gzip member may go on with its last line', async () => {
    const input = join(dir, 'chats.jsonl');
    writeFileSync(input, chats(1, 20));
    await run(input, new AcceptingClient());
    const memo = ledger.finishedInput('inst', input)!;
    // The same remembered bytes, then more, under a plain name and under a compressed one.
    for (const [name, held] of [
      ['grown.jsonl', 20],
      ['grown.jsonl.gz', 0],
    ] as const) {
      const path = join(dir, name);
      writeFileSync(path, chats(1, 22));
      ledger.recordFinished('inst', { ...memo, path }, memo.generation);
      const read = { path, size: statSync(path).size, options_hash: memo.options_hash };
      expect((await heldPrefix(view, read)).records, name).toBe(held);
    }
  });

  it('what another build remembered is not trusted', async () => {
    const input = join(dir, 'chats.jsonl');
    writeFileSync(input, chats(1, 20));
    await run(input, new AcceptingClient());
    const read = { path: input, size: statSync(input).size, options_hash: 'x' };
    const memo = ledger.finishedInput('inst', input)!;
    read.options_hash = memo.options_hash;
    expect((await heldPrefix(view, read)).records).toBe(20);
    ledger.recordFinished('inst', { ...memo, version: 'synap 0.0.1+elsewhere' }, memo.generation);
    expect(await heldPrefix(view, read)).toMatchObject({ records: 0, documents: 0 });
  });

  it('one id twice with two bodies in one input: both are sent every night, as without memory', async () => {
    const input = join(dir, 'twice.jsonl');
    const line = (text: string) =>
      JSON.stringify({ document: text, document_id: 'dup', user_id: 'u1' });
    writeFileSync(input, `${line('first body')}\n${line('second body')}\n`);
    await run(input, new AcceptingClient());
    const c = new AcceptingClient();
    const s = await run(input, c);
    expect(c.sent).toHaveLength(s.sent);
    expect(s.sent).toBeGreaterThan(0);
  });
});

describe('ledger: a file written by an earlier version', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'synap-old-ledger-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every entry it holds and works as a new one', () => {
    // The schema of the first ledger files: instances, documents, refused.
    const db = new Database(join(dir, LEDGER_FILE));
    db.pragma('journal_mode = WAL');
    db.exec(`
      CREATE TABLE instances (id INTEGER PRIMARY KEY, instance_id TEXT NOT NULL UNIQUE);
      CREATE TABLE documents (instance INTEGER NOT NULL, document_id TEXT NOT NULL, body_hash BLOB,
        PRIMARY KEY (instance, document_id)) WITHOUT ROWID;
      CREATE TABLE refused (instance INTEGER NOT NULL, document_id TEXT NOT NULL,
        body_hash BLOB NOT NULL, PRIMARY KEY (instance, document_id)) WITHOUT ROWID;
      INSERT INTO instances (id, instance_id) VALUES (1, 'inst');
      INSERT INTO documents VALUES (1, 'a', x'${'ab'.repeat(20)}'), (1, 'b', NULL);
      INSERT INTO refused VALUES (1, 'a', x'${'cd'.repeat(20)}');
    `);
    db.close();
    const ledger = Ledger.open(dir);
    try {
      expect(ledger.lookup('inst', 'a')).toBe('ab'.repeat(20));
      expect(ledger.lookup('inst', 'b')).toBeNull();
      expect(ledger.refused('inst', 'a')).toBe('cd'.repeat(20));
      const before = ledger.generation('inst');
      ledger.recordMany('inst', [{ documentId: 'c', bodyHash: 'ef'.repeat(20) }]);
      expect(ledger.generation('inst')).toBe(before);
      ledger.recordMany('inst', [{ documentId: 'a', bodyHash: 'ef'.repeat(20) }]);
      expect(ledger.generation('inst')).toBeGreaterThan(before);
      expect(ledger.status()).toEqual([{ instance_id: 'inst', documents: 3, unknown_bodies: 1 }]);
    } finally {
      ledger.close();
    }
  });
});
