import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiResult } from '../../src/client/client.js';
import type { BatchCreateResponse, CreateMemoryRequest } from '../../src/client/types.js';
import {
  doneMatches,
  peerDonePaths,
  PEER_POLL_MS,
  readDone,
  watchPeerDone,
  writeDone,
} from '../../src/ingest/done-file.js';
import type { IngestClient, IngestRunOptions, LimiterView } from '../../src/ingest/options.js';
import { ingest } from '../../src/ingest/pipeline.js';
import type { Shard } from '../../src/ingest/shard.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { writeChatFile } from '../helpers/ingest.js';

/** Accepts every document; `limiter` records what the run tells it of its peers. */
class AcceptingClient implements IngestClient {
  readonly finished: number[] = [];
  readonly limiter: LimiterView = {
    pauseRemainingMs: 0,
    peersFinished: (n) => this.finished.push(n),
  };
  batch(docs: CreateMemoryRequest[]): Promise<ApiResult<BatchCreateResponse>> {
    const results = docs.map((d, i) => ({
      ingestion_id: `ing-${d.document_id ?? i}`,
      document_id: d.document_id,
      status: 'queued' as const,
      queued_at: '2025-01-01T00:00:00Z',
    }));
    return Promise.resolve({
      data: { batch_id: 'b', total: docs.length, succeeded: docs.length, failed: 0, results },
      status: 200,
      correlationId: 'cid',
    });
  }
  status(): never {
    throw new Error('not used');
  }
}

/** Lets the watcher's file reads (real I/O, not the clock) complete until `done` holds. */
async function settled(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 2));
}

const shard = (index: number, count: number): Shard => ({ index, count, by: 'record' });

describe('a shard sees its peers finish (their done files) and tells the limiter', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'synap-peers-'));
    dirs.push(d);
    return d;
  };
  const run = (
    input: string,
    s: Shard,
    client: AcceptingClient,
    extra: Partial<IngestRunOptions> = {},
  ) =>
    ingest({
      client,
      inputs: [input],
      map: {},
      profile: 'default',
      baseUrl: 'http://127.0.0.1:1',
      batchSize: 10,
      shard: s,
      ...extra,
    });

  it('a peer that finished this input counts; one that finished another version of it does not', async () => {
    const dir = tmp();
    const input = writeChatFile(join(dir, 'in.jsonl'), 60, 'p');
    // Shards 1 and 2 of 3 finish first and leave their done files.
    for (const i of [1, 2]) {
      const s = await run(input, shard(i, 3), new AcceptingClient());
      expect(s.status).toBe('completed');
    }
    const client = new AcceptingClient();
    const s = await run(input, shard(0, 3), client);
    expect(s.status).toBe('completed');
    expect(client.finished).toEqual([2]);

    // The input grew: the peers' done files are of the old input, so they still have work.
    appendFileSync(
      input,
      `${JSON.stringify({ document: 'one more', user_id: 'u', customer_id: 'c' })}\n`,
    );
    const again = new AcceptingClient();
    await run(input, shard(0, 3), again, { restart: true });
    expect(again.finished).toEqual([]);
  });

  it('peerDonePaths names the other shards’ done files beside this one’s', () => {
    const paths = peerDonePaths('/d/in.jsonl.shard-1-of-3', shard(1, 3));
    expect([...paths]).toEqual([
      [0, '/d/in.jsonl.shard-0-of-3.synap-done.json'],
      [2, '/d/in.jsonl.shard-2-of-3.synap-done.json'],
    ]);
    // A base cut to fit (no tag at its end) or a file shard: nothing to watch.
    expect(peerDonePaths('/d/in.jsonl-3fa2b1', shard(1, 3)).size).toBe(0);
    expect(peerDonePaths('/d/in.jsonl', { index: 1, count: 3, by: 'file' }).size).toBe(0);
  });

  it('watchPeerDone reports each peer that finishes while it watches, once, on the clock', async () => {
    const dir = tmp();
    const base = join(dir, 'in.jsonl.shard-0-of-3');
    const paths = peerDonePaths(base, shard(0, 3));
    const clock = new FakeClock();
    const identity = { size: 100, mtimeMs: 1, fingerprint: 'f' };
    const state = {
      input: { path: 'in.jsonl', size: 100, mtime_ms: 1, fingerprint: 'f' },
      options_hash: 'h',
      settled_records: 10,
      counts: { accepted: 3, skipped: 0, failed: 0 },
      failures_file: null,
      started_at: new Date(0).toISOString(),
    } as unknown as Parameters<typeof writeDone>[1];
    const told: number[] = [];
    const watch = watchPeerDone({
      paths,
      shard: shard(0, 3),
      matches: (d) => doneMatches(d, identity as never, 'h'),
      clock,
      onFinished: (n) => told.push(n),
    });
    await settled(() => clock.pending() > 0);
    await clock.advance(PEER_POLL_MS);
    expect(told).toEqual([]);
    // Shard 2 finishes; a done file of the wrong shard count at shard 1's name is no sign.
    await writeDone(paths.get(2)!, state, shard(2, 3), clock.now());
    await writeDone(paths.get(1)!, state, shard(1, 4), clock.now());
    await settled(() => clock.pending() > 0);
    await clock.advance(PEER_POLL_MS);
    await settled(() => told.length >= 1);
    expect(told).toEqual([1]);
    await writeDone(paths.get(1)!, state, shard(1, 3), clock.now());
    await settled(() => clock.pending() > 0);
    await clock.advance(PEER_POLL_MS);
    await settled(() => told.length >= 2);
    expect(told).toEqual([1, 2]);
    await watch.stop();
    expect((await readDone(paths.get(1)!))?.shard.index).toBe(1);
  });
});
