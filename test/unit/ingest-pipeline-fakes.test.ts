import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiResult } from '../../src/client/client.js';
import {
  AuthenticationError,
  InvalidInputError,
  RetryBudgetExhaustedError,
  ServiceUnavailableError,
} from '../../src/client/errors.js';
import type {
  BatchCreateResponse,
  BatchItemResult,
  CreateMemoryRequest,
  MemoryStatusResponse,
} from '../../src/client/types.js';
import type { IngestClient, IngestRunOptions } from '../../src/ingest/options.js';
import { ingest, IngestAbortedError } from '../../src/ingest/pipeline.js';
import type { SourceRecord } from '../../src/ingest/source-record.js';

type Behaviour = (docs: CreateMemoryRequest[]) => Promise<ApiResult<BatchCreateResponse>>;

function ok(
  docs: CreateMemoryRequest[],
  item?: (d: CreateMemoryRequest) => Partial<BatchItemResult>,
) {
  const results = docs.map((d, i) => ({
    ingestion_id: `ing-${d.document_id ?? i}`,
    document_id: d.document_id,
    status: 'queued' as const,
    queued_at: '2025-01-01T00:00:00Z',
    ...item?.(d),
  }));
  return Promise.resolve({
    data: { batch_id: 'b', total: docs.length, succeeded: docs.length, failed: 0, results },
    status: 200,
    correlationId: 'cid-batch',
  });
}

class FakeClient implements IngestClient {
  calls: CreateMemoryRequest[][] = [];
  constructor(private readonly behaviour: Behaviour) {}
  batch(docs: CreateMemoryRequest[]) {
    this.calls.push(docs);
    return this.behaviour(docs);
  }
  status(): Promise<ApiResult<MemoryStatusResponse>> {
    throw new Error('not used');
  }
}

async function* records(
  n: number,
  make = (i: number) => ({ document: `doc ${i}` }),
  pulled?: { n: number },
) {
  for (let i = 1; i <= n; i++) {
    if (pulled) pulled.n = i;
    yield { source: 'src', line: i, value: make(i) } as SourceRecord;
  }
}

/** Records from elsewhere (as migrate gives them), with the run's other options. */
function ingestRecords(
  source: AsyncIterable<SourceRecord>,
  opts: Omit<IngestRunOptions, 'records'>,
) {
  return ingest({ ...opts, records: source });
}

describe('ingest pipeline with a fake client', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const base = (client: IngestClient, extra: Partial<IngestRunOptions> = {}) => {
    const dir = mkdtempSync(join(tmpdir(), 'synap-pipe-'));
    dirs.push(dir);
    return {
      client,
      map: {},
      profile: 'default',
      baseUrl: 'http://127.0.0.1:1',
      failuresPath: join(dir, 'f.jsonl'),
      ...extra,
    } as Omit<IngestRunOptions, 'records'> & { failuresPath: string };
  };
  const failureLines = (path: string) =>
    readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));

  it('maps per-item results back: accepted, duplicate = skipped, refused item = failed with its line', async () => {
    const client = new FakeClient((docs) =>
      ok(docs, (d) =>
        d.document === 'doc 2'
          ? {
              status: 'failed',
              error_code: 'DUPLICATE_DOCUMENT',
              error_message: 'already ingested',
            }
          : d.document === 'doc 4'
            ? { status: 'failed', error_code: 'INVALID_INPUT', error_message: 'too long' }
            : {},
      ),
    );
    const opts = base(client, { batchSize: 3 });
    const s = await ingestRecords(records(5), opts);
    expect(s).toMatchObject({
      status: 'partial',
      exit_code: 3,
      accepted: 3,
      skipped: 1,
      failed: 1,
      sent: 5,
    });
    expect(client.calls.map((c) => c.length)).toEqual([3, 2]);
    const [f] = failureLines(opts.failuresPath);
    expect(f).toMatchObject({
      source: 'src',
      line: 4,
      record: { document: 'doc 4' },
      correlation_id: 'cid-batch',
    });
    expect(f.error).toMatchObject({ code: 'INVALID_INPUT', message: 'too long' });
  });

  it('a whole-batch 422 is split until the bad document is alone; its neighbours are accepted', async () => {
    const client = new FakeClient((docs) =>
      docs.some((d) => d.document === 'doc 6')
        ? Promise.reject(
            new InvalidInputError('documents[x].document: bad', {
              status: 422,
              correlationId: 'c422',
            }),
          )
        : ok(docs),
    );
    const opts = base(client, { batchSize: 8 });
    const s = await ingestRecords(records(8), opts);
    expect(s).toMatchObject({ accepted: 7, failed: 1 });
    expect(failureLines(opts.failuresPath)[0]).toMatchObject({ line: 6, error: { status: 422 } });
  });

  it('401 aborts the run with the error (exit 4 from the error itself)', async () => {
    const client = new FakeClient(() =>
      Promise.reject(new AuthenticationError('bad key', { status: 401 })),
    );
    const err = await ingestRecords(records(10), base(client)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IngestAbortedError);
    expect((err as IngestAbortedError).cause).toBeInstanceOf(AuthenticationError);
    expect((err as IngestAbortedError).partial?.status).toBe('aborted');
  });

  it('an exhausted retry budget stops the run resumably (exit 5) without failing records', async () => {
    const client = new FakeClient(() => Promise.reject(new RetryBudgetExhaustedError()));
    const s = await ingestRecords(records(10), base(client));
    expect(s).toMatchObject({
      status: 'stopped',
      exit_code: 5,
      stop_reason: 'retry-budget',
      failed: 0,
    });
  });

  it('a failure that may have stored documents without an id is OUTCOME_UNKNOWN', async () => {
    const client = new FakeClient(() =>
      Promise.reject(new ServiceUnavailableError('HTTP 502', { status: 502 })),
    );
    const opts = base(client, { map: { idFrom: 'none' } });
    const s = await ingestRecords(records(2), opts);
    expect(s.failed).toBe(2);
    for (const f of failureLines(opts.failuresPath)) {
      expect(f.error.code).toBe('OUTCOME_UNKNOWN');
      expect(f.error.message).toMatch(
        /^outcome unknown: HTTP 502; the document has no document_id/,
      );
    }
  });

  it('a 503 that outlasted the retries is not "outcome unknown": nothing was stored', async () => {
    const client = new FakeClient(() =>
      Promise.reject(new ServiceUnavailableError('HTTP 503', { status: 503 })),
    );
    const opts = base(client, { map: { idFrom: 'none' } });
    const s = await ingestRecords(records(2), opts);
    expect(s.failed).toBe(2);
    for (const f of failureLines(opts.failuresPath)) {
      expect(f.error.code).toBe('SERVICE_UNAVAILABLE');
      expect(f.error.message).toMatch(/gave up after retries/);
    }
  });

  it('reads only as fast as it sends (bounded batches in flight)', async () => {
    const pending: (() => void)[] = [];
    const client = new FakeClient(
      (docs) => new Promise((resolve) => pending.push(() => void ok(docs).then(resolve))),
    );
    const pulled = { n: 0 };
    const run = ingestRecords(
      records(10_000, undefined, pulled),
      base(client, { batchSize: 10, concurrency: 2 }),
    );
    // Let the pipeline run until it blocks on the two unanswered requests.
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    expect(client.calls.length).toBe(2);
    // Two batches in flight, one being filled, one record waiting for a slot: nothing more.
    expect(pulled.n).toBeLessThanOrEqual(3 * 10 + 1);
    // Release everything as it comes.
    const drain = setInterval(() => pending.splice(0).forEach((p) => p()), 1);
    const s = await run;
    clearInterval(drain);
    expect(s).toMatchObject({ accepted: 10_000, failed: 0 });
  });

  it('a stop signal ends reading, settles in-flight requests and reports interrupted', async () => {
    const controller = new AbortController();
    let calls = 0;
    const client = new FakeClient((docs) => {
      calls += 1;
      if (calls === 3) controller.abort();
      return ok(docs);
    });
    const s = await ingestRecords(
      records(1000),
      base(client, { batchSize: 10, concurrency: 1, signal: controller.signal }),
    );
    expect(s).toMatchObject({ status: 'interrupted', exit_code: 130 });
    expect(s.accepted).toBe(s.sent);
    expect(s.accepted).toBeLessThan(1000);
  });

  it('a resumed file seeks past its settled prefix and sends only the rest, each record once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'synap-pipe-seek-'));
    dirs.push(dir);
    const input = join(dir, 'in.jsonl');
    const n = 5000;
    const pad = 'p'.repeat(300);
    writeFileSync(
      input,
      Array.from({ length: n }, (_, i) => JSON.stringify({ document: `doc ${i} ${pad}` })).join(
        '\n',
      ),
    );
    const controller = new AbortController();
    const first = new FakeClient((docs) => {
      if (first.calls.length === 40) controller.abort();
      return ok(docs);
    });
    const s1 = await ingest({
      ...base(first, { batchSize: 50, concurrency: 1, signal: controller.signal }),
      inputs: [input],
    });
    expect(s1.status).toBe('interrupted');
    const state = JSON.parse(readFileSync(`${input}.synap-state.json`, 'utf8')) as {
      settled_records: number;
      resume_from: { records: number; line: number; seek: { byte: number; line: number } | null };
    };
    expect(state.settled_records).toBe(s1.accepted);
    const { records, line, seek } = state.resume_from;
    expect(records).toBeLessThanOrEqual(state.settled_records);
    expect(line).toBe(records);
    // A seek position at or before the resume point, in the file's middle.
    expect(seek).not.toBeNull();
    expect(seek!.line).toBeLessThanOrEqual(line);
    expect(seek!.byte).toBeGreaterThan(0);

    const second = new FakeClient((docs) => ok(docs));
    const s2 = await ingest({ ...base(second), inputs: [input] });
    expect(s2).toMatchObject({ status: 'completed', resumed_past: state.settled_records });
    expect(s2.records_read).toBe(n - state.settled_records);
    const sent = [...first.calls.flat(), ...second.calls.flat()].map((d) => d.document);
    expect(sent).toHaveLength(n);
    expect(new Set(sent).size).toBe(n);
  });
});
