import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SynapClient } from '../../src/client/client.js';
import { DEFAULT_RETRY_POLICY } from '../../src/client/retry-policy.js';
import { ingest } from '../../src/ingest/pipeline.js';
import type { SourceRecord } from '../../src/ingest/source-record.js';
import {
  acceptAll,
  documentKey,
  documentsOf,
  itemsLike,
  json,
  notJson,
  partialResults,
  reorderedWithRefusals,
  reversedResults,
  startHostileServer,
  storing,
  type Answer,
  type HostileServer,
  type Plan,
  type RecordedRequest,
  type Storing,
} from '../helpers/hostile-server.js';

/**
 * How batch answers become outcomes (issue 21 item 2, item 8): results are matched to their
 * documents by document_id, never by position; only an item that says it was queued counts
 * as accepted; an answer (or an item) that cannot be matched is ambiguous for its documents
 * and follows the --on-ambiguous rule: resent when every document has a document_id (the
 * repeat is harmless), otherwise OUTCOME_UNKNOWN in the failures file. Over real HTTP, with the
 * real client and pipeline, against test/helpers/hostile-server.ts.
 */

const KEY = 'synap_batchAnswersKey0123456789abcdef';

interface FailureLine {
  record: { document_id?: string; document: string };
  error: { code: string; message: string };
}

describe('batch answers matched to documents', () => {
  const dirs: string[] = [];
  const servers: HostileServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function run(
    plan: Plan,
    o: { n?: number; ids?: boolean; ambiguous?: 'retry-idempotent' | 'never' } = {},
  ) {
    const server = await startHostileServer(plan);
    servers.push(server);
    const dir = mkdtempSync(join(tmpdir(), 'synap-answers-'));
    dirs.push(dir);
    const failuresPath = join(dir, 'f.jsonl');
    const client = new SynapClient({
      baseUrl: server.url,
      apiKey: KEY,
      retry: {
        ...DEFAULT_RETRY_POLICY,
        backoff: { baseMs: 1, capMs: 5 },
        ambiguous: o.ambiguous ?? 'retry-idempotent',
      },
    });
    const n = o.n ?? 8;
    const ids = o.ids !== false;
    async function* records(): AsyncIterable<SourceRecord> {
      for (let i = 1; i <= n; i++) {
        const value = ids
          ? { document: `note ${i}`, document_id: `d${i}` }
          : { document: `note ${i}` };
        yield { source: 'src', line: i, value };
      }
    }
    const summary = await ingest({
      client,
      records: records(),
      map: { idFrom: ids ? 'hash' : 'none' },
      profile: 'default',
      baseUrl: server.url,
      failuresPath,
      batchSize: n,
      concurrency: 1,
    });
    const failures: FailureLine[] = existsSync(failuresPath)
      ? readFileSync(failuresPath, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as FailureLine)
      : [];
    const batches = server.requests.filter((r) => r.path === '/api/v1/memories/batch');
    return { summary, failures, batches, server };
  }

  const idsOf = (req: RecordedRequest) => documentsOf(req).map((d) => d.document_id);

  it('results in reverse order: the refused documents are the ones that fail, the stored ones are accepted', async () => {
    const refused = new Set(['d2', 'd3', 'd5', 'd8']);
    const { summary, failures } = await run((req) =>
      req.path.endsWith('/batch') ? reorderedWithRefusals(req, (id) => refused.has(id)) : undefined,
    );
    expect(summary).toMatchObject({ accepted: 4, failed: 4, skipped: 0, exit_code: 3 });
    expect(failures.map((f) => f.record.document_id).sort()).toEqual([...refused].sort());
    for (const f of failures) {
      expect(f.error.code).toBe('INVALID_INPUT');
      expect(f.error.message).toBe(`document ${f.record.document_id} refused`);
    }
  });

  it('a 408 on a batch: with document_ids it is sent again and accepted; without, its documents are OUTCOME_UNKNOWN after one send', async () => {
    const timedOutOnce = () => {
      let first = true;
      return (req: RecordedRequest) => {
        if (!req.path.endsWith('/batch')) return undefined;
        if (!first) return acceptAll(req);
        first = false;
        return json(408, { detail: 'request timeout' });
      };
    };
    const withIds = await run(timedOutOnce());
    expect(withIds.summary).toMatchObject({ accepted: 8, failed: 0, exit_code: 0 });
    expect(withIds.batches).toHaveLength(2);
    const without = await run(timedOutOnce(), { ids: false });
    expect(without.batches).toHaveLength(1);
    expect(without.summary).toMatchObject({ accepted: 0, failed: 8, exit_code: 3 });
    for (const f of without.failures) {
      expect(f.error.code).toBe('OUTCOME_UNKNOWN');
      expect(f.error.message).toMatch(/^outcome unknown: HTTP 408: request timeout/);
    }
  });

  it('results reordered, all queued: every document accepted once, nothing resent', async () => {
    const { summary, batches } = await run((req) =>
      req.path.endsWith('/batch') ? reversedResults(req) : undefined,
    );
    expect(summary).toMatchObject({ accepted: 8, failed: 0, exit_code: 0 });
    expect(batches).toHaveLength(1);
  });

  it('a partial answer: the documents it does not name are resent (they have ids), then accepted', async () => {
    let first = true;
    const { summary, batches, failures } = await run((req) => {
      if (!req.path.endsWith('/batch')) return undefined;
      if (!first) return acceptAll(req);
      first = false;
      return partialResults(req, (i) => i % 2 === 0);
    });
    expect(failures).toEqual([]);
    expect(summary).toMatchObject({ accepted: 8, failed: 0, exit_code: 0 });
    expect(batches).toHaveLength(2);
    // Only the documents the first answer left out went again.
    expect(idsOf(batches[1]!)).toEqual(['d2', 'd4', 'd6', 'd8']);
  });

  it('a partial answer under --on-ambiguous fail: the unnamed documents are OUTCOME_UNKNOWN, not resent', async () => {
    const { summary, batches, failures } = await run(
      (req) => (req.path.endsWith('/batch') ? partialResults(req, (i) => i < 5) : undefined),
      { ambiguous: 'never' },
    );
    expect(batches).toHaveLength(1);
    expect(summary).toMatchObject({ accepted: 5, failed: 3, exit_code: 3 });
    expect(failures.map((f) => f.record.document_id)).toEqual(['d6', 'd7', 'd8']);
    for (const f of failures) {
      expect(f.error.code).toBe('OUTCOME_UNKNOWN');
      expect(f.error.message).toMatch(/answer has no result for this document/);
      expect(f.error.message).toMatch(/may or may not be stored/);
    }
  });

  it("items with status 'error' fail with the server's message; never counted accepted", async () => {
    const { summary, failures, batches } = await run((req) =>
      req.path.endsWith('/batch')
        ? itemsLike(req, (i) => ({
            ingestion_id: null,
            document_id: `d${i + 1}`,
            status: 'error',
            error_message: `engine error on d${i + 1}`,
          }))
        : undefined,
    );
    expect(batches).toHaveLength(1);
    expect(summary).toMatchObject({ accepted: 0, failed: 8, exit_code: 3 });
    expect(failures[0]!.error.message).toBe('engine error on d1');
  });

  for (const [what, item] of [
    ['{}', () => ({})],
    ['no status', (i: number) => ({ ingestion_id: `ing_${i}`, document_id: `d${i + 1}` })],
    ['an unknown status', (i: number) => ({ document_id: `d${i + 1}`, status: 'maybe' })],
  ] as const) {
    it(`items that are ${what}: ambiguous, resent once, then OUTCOME_UNKNOWN (never accepted)`, async () => {
      const { summary, failures, batches } = await run((req) =>
        req.path.endsWith('/batch') ? itemsLike(req, item) : undefined,
      );
      expect(summary.accepted).toBe(0);
      expect(summary).toMatchObject({ failed: 8, exit_code: 3 });
      expect(batches).toHaveLength(2);
      for (const f of failures) expect(f.error.code).toBe('OUTCOME_UNKNOWN');
    });
  }

  for (const [what, answer] of [
    ['an empty body', () => ({ kind: 'raw', status: 200, text: '' }) as const],
    ['{}', () => json(200, {})],
    ['results that is not an array', () => json(200, { results: 'ok' })],
  ] as const) {
    it(`a batch answer of ${what}: ambiguous for the whole batch (resent; then OUTCOME_UNKNOWN)`, async () => {
      const { summary, failures, batches } = await run((req) =>
        req.path.endsWith('/batch') ? answer() : undefined,
      );
      expect(batches).toHaveLength(2);
      expect(summary).toMatchObject({ accepted: 0, failed: 8, exit_code: 3 });
      for (const f of failures) expect(f.error.code).toBe('OUTCOME_UNKNOWN');
    });
  }

  it('a 200 whose body is not JSON, every time: OUTCOME_UNKNOWN saying so, not "gave up after retries"', async () => {
    const { summary, failures, batches } = await run((req) =>
      req.path.endsWith('/batch') ? notJson() : undefined,
    );
    expect(batches).toHaveLength(2);
    expect(summary).toMatchObject({ accepted: 0, failed: 8, exit_code: 3 });
    for (const f of failures) {
      expect(f.error.code).toBe('OUTCOME_UNKNOWN');
      expect(f.error.message).toMatch(/HTTP 200 with a body that is not JSON/);
      expect(f.error.message).not.toMatch(/gave up after retries/);
    }
  });

  it('a 200 cut short (HTTP/1.0 style, closed mid-body), then a good answer: resent and accepted', async () => {
    let first = true;
    const { summary, batches } = await run((req) => {
      if (!req.path.endsWith('/batch')) return undefined;
      if (!first) return acceptAll(req);
      first = false;
      return { kind: 'raw', status: 200, text: '{"batch_id":"b","results":[{"ingestion_id"' };
    });
    expect(batches).toHaveLength(2);
    expect(summary).toMatchObject({ accepted: 8, failed: 0, exit_code: 0 });
  });

  it('a non-JSON 200 under --on-ambiguous fail: sent once, OUTCOME_UNKNOWN naming the rule', async () => {
    const { failures, batches } = await run(
      (req) => (req.path.endsWith('/batch') ? notJson() : undefined),
      { ambiguous: 'never' },
    );
    expect(batches).toHaveLength(1);
    expect(failures).toHaveLength(8);
    expect(failures[0]!.error.message).toMatch(/--on-ambiguous fail/);
  });

  it('documents without ids: an answer in order, with server-assigned ids, is accepted', async () => {
    const { summary } = await run(
      (req) =>
        req.path.endsWith('/batch')
          ? itemsLike(req, (i) => ({
              ingestion_id: `ing_${i}`,
              document_id: `srv_${i}`,
              status: 'queued',
              queued_at: '2026-01-01T00:00:00Z',
            }))
          : undefined,
      { ids: false },
    );
    expect(summary).toMatchObject({ accepted: 8, failed: 0 });
  });

  it('documents without ids and an unreadable answer: not resent, OUTCOME_UNKNOWN', async () => {
    const { summary, failures, batches } = await run(
      (req) => (req.path.endsWith('/batch') ? json(200, {}) : undefined),
      { ids: false },
    );
    expect(batches).toHaveLength(1);
    expect(summary).toMatchObject({ accepted: 0, failed: 8 });
    expect(failures[0]!.error.message).toMatch(/no document_id/);
  });

  describe('every record ends stored once or in the failures file, and only what an item said was taken counts as accepted', () => {
    const refused = new Set(['d2', 'd3', 'd5', 'd8']);
    /** The batch answer shapes a hostile server gives (test/helpers/hostile-server.ts). */
    const shapes: [string, (req: RecordedRequest) => Answer][] = [
      ['reordered, four refused', (req) => reorderedWithRefusals(req, (id) => refused.has(id))],
      ['partial (every other result left out)', (req) => partialResults(req, (i) => i % 2 === 0)],
      [
        "error-status items ('error')",
        (req) =>
          itemsLike(req, (i) => ({
            ingestion_id: null,
            document_id: documentsOf(req)[i]?.document_id ?? null,
            status: 'error',
            error_message: 'engine error',
          })),
      ],
      ['empty: a body of {}', () => json(200, {})],
      ['empty: no body at all', () => ({ kind: 'raw', status: 200, text: '' })],
      ['empty: items of {}', (req) => itemsLike(req, () => ({}))],
      ['not JSON (an HTML page with a 200)', () => notJson()],
    ];
    const N = 8;

    /**
     * Whatever the server kept: each record is held once (a document without a document_id
     * sent twice would be held twice) or is in the failures file; every record not in the
     * failures file was said to be taken by an item of an answer, and the summary counts
     * exactly those as accepted.
     */
    function expectNothingLost(r: Awaited<ReturnType<typeof run>>, ids: boolean) {
      const failed = new Set(r.failures.map((f) => documentKey(f.record)));
      expect(r.failures, 'one failures line a record').toHaveLength(failed.size);
      const keys = Array.from({ length: N }, (_, k) =>
        ids ? `id:d${k + 1}` : `text:note ${k + 1}`,
      );
      const held = (k: string) => r.server.held.get(k) ?? 0;
      expect(
        keys.filter((k) => held(k) === 0 && !failed.has(k)),
        'neither stored nor in the failures file',
      ).toEqual([]);
      expect(
        keys.filter((k) => held(k) > 1),
        'stored more than once',
      ).toEqual([]);
      const counted = keys.filter((k) => !failed.has(k));
      expect(
        counted.filter((k) => !r.server.saidTaken.has(k)),
        'counted accepted, though no item said it was taken',
      ).toEqual([]);
      expect(r.summary.accepted + r.summary.skipped).toBe(counted.length);
      expect(r.summary.failed).toBe(failed.size);
    }

    for (const [what, shape] of shapes) {
      describe(what, () => {
        for (const stores of ['answered', 'all'] as Storing[]) {
          for (const again of ['the same answer again', 'a good answer next'] as const) {
            it(`the server keeps ${stores === 'answered' ? 'what it says it took' : 'every document'}, then gives ${again}`, async () => {
              for (const ids of [true, false]) {
                for (const ambiguous of ['retry-idempotent', 'never'] as const) {
                  let first = true;
                  const r = await run(
                    (req) => {
                      if (!req.path.endsWith('/batch')) return undefined;
                      if (!first && again === 'a good answer next') return acceptAll(req);
                      first = false;
                      return storing(shape(req), stores);
                    },
                    { n: N, ids, ambiguous },
                  );
                  expectNothingLost(r, ids);
                }
              }
            });
          }
        }
      });
    }
  });

  describe('answers cut short on the wire (a raw socket server)', () => {
    const sockets: net.Server[] = [];
    afterAll(async () => {
      for (const s of sockets) await new Promise<void>((r) => s.close(() => r()));
    });

    /** Answers whoami, then every batch with `head` + a cut-off body, then closes the socket. */
    async function rawServer(head: string): Promise<{ url: string; batches: () => number }> {
      let batches = 0;
      const server = net.createServer((socket) => {
        let seen = '';
        socket.on('data', (chunk: Buffer) => {
          seen += chunk.toString('utf8');
          const end = seen.indexOf('\r\n\r\n');
          if (end < 0) return;
          const length = Number(/content-length: (\d+)/i.exec(seen)?.[1] ?? 0);
          if (seen.length < end + 4 + length) return;
          if (seen.startsWith('POST /api/v1/memories/batch')) batches += 1;
          socket.end(`${head}\r\n\r\n{"batch_id":"b","results":[{"ingestion_id":"i`);
        });
        socket.on('error', () => {});
      });
      sockets.push(server);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const { port } = server.address() as net.AddressInfo;
      return { url: `http://127.0.0.1:${port}`, batches: () => batches };
    }

    async function ingestAgainst(url: string, ambiguous: 'retry-idempotent' | 'never') {
      const dir = mkdtempSync(join(tmpdir(), 'synap-cut-'));
      dirs.push(dir);
      const failuresPath = join(dir, 'f.jsonl');
      const client = new SynapClient({
        baseUrl: url,
        apiKey: KEY,
        retry: {
          ...DEFAULT_RETRY_POLICY,
          attempts: 2,
          backoff: { baseMs: 1, capMs: 5 },
          ambiguous,
        },
      });
      async function* records(): AsyncIterable<SourceRecord> {
        for (let i = 1; i <= 3; i++) {
          yield { source: 'src', line: i, value: { document: `n ${i}`, document_id: `c${i}` } };
        }
      }
      const summary = await ingest({
        client,
        records: records(),
        map: {},
        profile: 'default',
        baseUrl: url,
        failuresPath,
        concurrency: 1,
      });
      const failures = readFileSync(failuresPath, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as FailureLine);
      return { summary, failures };
    }

    it('HTTP/1.0 200 without a length, closed mid-body: OUTCOME_UNKNOWN saying the body is not JSON', async () => {
      const server = await rawServer('HTTP/1.0 200 OK\r\nContent-Type: application/json');
      const { summary, failures } = await ingestAgainst(server.url, 'never');
      expect(server.batches()).toBe(1);
      expect(summary).toMatchObject({ accepted: 0, failed: 3 });
      for (const f of failures) {
        expect(f.error.code).toBe('OUTCOME_UNKNOWN');
        expect(f.error.message).toMatch(/not JSON/);
        expect(f.error.message).not.toMatch(/gave up after retries/);
      }
    });

    it('HTTP/1.1 200 closed before its Content-Length: uncertain, never accepted', async () => {
      const server = await rawServer(
        'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500',
      );
      const { summary, failures } = await ingestAgainst(server.url, 'retry-idempotent');
      expect(summary.accepted).toBe(0);
      expect(summary.failed).toBe(3);
      for (const f of failures) {
        // Sent twice (the documents have ids), then given up: said so, and that it may be stored.
        expect(f.error.message).toMatch(/gave up after 2 attempts; it may or may not be stored/);
      }
    });
  });
});
