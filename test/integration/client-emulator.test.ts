import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { SynapClient, type RequestEvent } from '../../src/client/client.js';
import type { CreateMemoryInput } from '../../src/client/create-body.js';
import {
  AuthenticationError,
  ConflictError,
  ContextNotFoundError,
  InsufficientCreditsError,
  InvalidInputError,
  NetworkTimeoutError,
  RetryBudgetExhaustedError,
  ServiceUnavailableError,
} from '../../src/client/errors.js';
import { RateLimiter } from '../../src/client/limiter.js';
import { MemoryPaginator } from '../../src/export/paginator.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../../src/client/retry-policy.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';

// The client against the real emulator (src/emulator) over HTTP on a free port. Backoff is tiny so retries cost milliseconds;
// every client has its own limiter so tests do not share the process-wide one.
const FAST: RetryPolicy = { ...DEFAULT_RETRY_POLICY, backoff: { baseMs: 1, capMs: 5 } };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function emulator(opts: Parameters<typeof startEmulator>[0] = {}): Promise<RunningEmulator> {
  const emu = await startEmulator({ seed: 1, ...opts });
  cleanups.push(() => emu.close());
  return emu;
}

function client(
  target: { url: string; apiKey?: string },
  extra: Partial<ConstructorParameters<typeof SynapClient>[0]> = {},
) {
  const events: RequestEvent[] = [];
  const c = new SynapClient({
    baseUrl: target.url,
    apiKey: target.apiKey ?? 'synap_test_key_0000000000',
    limiter: new RateLimiter(),
    retry: FAST,
    onRequest: (e) => events.push(e),
    ...extra,
  });
  return { c, events };
}

const doc = (i: number, withId = true): CreateMemoryInput => ({
  document: `memory number ${i}`,
  ...(withId ? { document_id: `doc-${i}` } : {}),
});

describe('SynapClient against the emulator', () => {
  it('a call puts one abort listener on its signal while in flight (Node warns at eleven), and takes it off after', async () => {
    const emu = await emulator({ latencyMs: 200 });
    const { c } = client(emu);
    await c.whoami();
    const user = new AbortController();
    const calls = Array.from({ length: 12 }, () => c.whoami({ signal: user.signal }));
    await new Promise((r) => setTimeout(r, 50));
    expect(getEventListeners(user.signal, 'abort')).toHaveLength(12);
    await Promise.all(calls);
    expect(getEventListeners(user.signal, 'abort')).toHaveLength(0);
  });

  it('503 on every attempt: ServiceUnavailableError after the policy attempts, retries counted', async () => {
    const emu = await emulator({ failRate: 1 });
    const { c, events } = client(emu, { retry: { ...FAST, attempts: 3 } });
    const err = await c.whoami().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceUnavailableError);
    expect((err as ServiceUnavailableError).status).toBe(503);
    expect(c.stats()).toEqual({ requests: 3, rateLimited: 0, retries: 2, transientErrors: 3 });
    expect(emu.stats().requests_by_endpoint_status.whoami).toEqual({ '503': 3 });
    // one logical call = one correlation id, reused by its retries
    expect(events.map((e) => e.attempt)).toEqual([1, 2, 3]);
    expect(new Set(events.map((e) => e.correlationId)).size).toBe(1);
    expect((err as ServiceUnavailableError).correlationId).toBe(events[0]!.correlationId);
  });

  it('a transient failure followed by success returns the success', async () => {
    const emu = await emulator({ failRate: 1 });
    const { c } = client(emu, {
      retry: { ...FAST, attempts: 5 },
      onRequest: (e) => {
        if (e.status === 503 && e.attempt === 2) emu.setFaults({ failRate: 0 });
      },
    });
    const r = await c.whoami();
    expect(r.status).toBe(200);
    expect(c.stats()).toMatchObject({ requests: 3, retries: 2 });
  });

  it('the retry budget stops retries when it runs dry', async () => {
    const emu = await emulator({ failRate: 1 });
    const { c } = client(emu, {
      retry: { ...FAST, attempts: 10, budget: { initial: 1, ratio: 0, max: 1 } },
    });
    await expect(c.whoami()).rejects.toBeInstanceOf(RetryBudgetExhaustedError);
    expect(c.stats()).toMatchObject({ requests: 2, retries: 1 });
  });

  it('reset after commit: a create without document_id is NOT retried', async () => {
    const emu = await emulator({ resetRate: 1 });
    const { c } = client(emu);
    const err = await c.create(doc(1, false)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkTimeoutError);
    expect((err as Error).message).toMatch(/may have been applied/);
    expect(emu.stats().requests_by_endpoint.create).toBe(1);
    expect(emu.documents()).toHaveLength(1); // the write landed; the answer was lost
    expect(c.stats()).toMatchObject({ requests: 1, retries: 0 });
  });

  it('reset after commit: a batch where every document has an id IS retried and comes back as duplicates', async () => {
    const emu = await emulator({ resetRate: 1 });
    const { c } = client(emu, {
      onRequest: (e) => {
        if (e.error) emu.setFaults({ resetRate: 0 });
      },
    });
    const r = await c.batch([doc(1), doc(2)]);
    expect(r.status).toBe(200);
    expect(r.data.failed).toBe(2);
    expect(r.data.results.map((x) => x.error_code)).toEqual([
      'DUPLICATE_DOCUMENT',
      'DUPLICATE_DOCUMENT',
    ]);
    expect(emu.stats().requests_by_endpoint.batch).toBe(2);
    const stored = emu.documents();
    expect(stored.map((d) => d.document_id).sort()).toEqual(['doc-1', 'doc-2']);
    expect(stored.every((d) => d.times_received === 2)).toBe(true);
  });

  it('a batch with one document lacking an id is not retried', async () => {
    const emu = await emulator({ resetRate: 1 });
    const { c } = client(emu);
    await expect(c.batch([doc(1), doc(2, false)])).rejects.toBeInstanceOf(NetworkTimeoutError);
    expect(emu.stats().requests_by_endpoint.batch).toBe(1);
  });

  it('reset after commit: a create with a document_id is retried and ends in 409', async () => {
    const emu = await emulator({ resetRate: 1 });
    const { c } = client(emu, {
      onRequest: (e) => {
        if (e.error) emu.setFaults({ resetRate: 0 });
      },
    });
    const err = await c.create(doc(7)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).status).toBe(409);
    expect(emu.stats().requests_by_endpoint.create).toBe(2);
    expect(emu.documents()).toHaveLength(1);
  });

  it('free tier without rate headers: the 429 after the burst is waited out and the call succeeds, none early', async () => {
    // Sequential calls, so the only way to be early is to ignore Retry-After.
    const emu = await emulator({ tier: 'free', rateHeaders: false });
    const { c } = client(emu);
    const started = Date.now();
    for (let i = 0; i < 12; i++) expect((await c.whoami()).status).toBe(200);
    const s = emu.stats();
    expect(s.rate_limited).toBeGreaterThanOrEqual(1);
    expect(c.stats().rateLimited).toBe(s.rate_limited);
    expect(s.early_requests).toBe(0);
    expect(s.requests_by_endpoint_status.whoami!['200']).toBe(12);
    expect(c.limiter.stats().pauses).toBeGreaterThanOrEqual(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000); // Retry-After: 1 was honoured
  });

  it('free tier with rate headers, 13 concurrent calls: one asks first, the burst is used, the rest wait for the refill; no 429', async () => {
    const emu = await emulator({ tier: 'free' });
    const { c } = client(emu);
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 13 }, () => c.whoami()));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const s = emu.stats();
    expect(s.rate_limited).toBe(0);
    expect(s.early_requests).toBe(0);
    expect(s.requests_by_endpoint_status.whoami).toEqual({ '200': 13 });
    // A burst of 10, then one a second: the last of 13 no sooner than 3 s after the first.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
    expect(c.limiter.stats()).toMatchObject({ source: 'headers', model: 'bucket', rpm: 60 });
  });

  it('a wrong key is an AuthenticationError (exit 4), not retried, key not in the message', async () => {
    const emu = await emulator();
    const { c } = client({ url: emu.url, apiKey: 'synap_canary_key_ZZZZZZZZZZZZ' });
    const err = await c.whoami().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as AuthenticationError).exitCode).toBe(4);
    expect((err as Error).message).not.toContain('canary_key');
    expect(c.stats().requests).toBe(1);
  });

  it('an unknown memory id is ContextNotFoundError with the correlation id', async () => {
    const emu = await emulator();
    const { c } = client(emu);
    const err = await c.get('00000000-0000-4000-8000-000000000000').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContextNotFoundError);
    expect((err as ContextNotFoundError).correlationId).toMatch(/^syn_cli_/);
  });

  it('the export paginator walks every page of the list', async () => {
    const emu = await emulator();
    const { c } = client(emu);
    await c.batch([1, 2, 3, 4, 5].map((i) => doc(i)));
    const pages: number[] = [];
    for await (const p of new MemoryPaginator(c, { pageSize: 2 })) pages.push(p.memories.length);
    expect(pages).toEqual([2, 2, 1]);
  });

  it('pro tier with rate headers, 6 concurrent senders: paced from the headers, no 429, every document stored once', async () => {
    const emu = await emulator({ tier: 'pro', burst: 20 });
    const limiter = new RateLimiter();
    const { c } = client(emu, { limiter });
    let next = 0;
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        while (next < 40) {
          const start = next;
          next += 5;
          const r = await c.batch([0, 1, 2, 3, 4].map((k) => doc(start + k)));
          expect(r.data.succeeded).toBe(5);
        }
      }),
    );
    const s = emu.stats();
    expect(s.rate_limited).toBe(0);
    expect(s.early_requests).toBe(0);
    expect(limiter.stats()).toMatchObject({ source: 'headers', rpm: 600 });
    // Eight answers inside a burst of 20 may not yet show a refill (on a busy machine the
    // answers can come back out of order), so the mirror may still be undecided; it must never
    // take this bucket for a window. The decision itself is tested on a fake clock in
    // test/unit/client-limiter-mirror.test.ts.
    expect(['bucket', 'unknown']).toContain(limiter.stats().model);
    const ids = emu.documents().map((d) => d.document_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(40);
  });

  it('create sends every §5.1 key: unset ones arrive as null / {}', async () => {
    const emu = await emulator();
    const { c } = client(emu);
    const r = await c.create({ document: 'hello', document_id: 'only-id' });
    expect(r.data.document_id).toBe('only-id');
    const [stored] = emu.documents();
    expect(stored).toMatchObject({
      document_id: 'only-id',
      document: 'hello',
      user_id: null,
      customer_id: null,
      document_created_at: null,
      metadata: {},
    });
  });

  it('duplicate create → ConflictError 409; out of credits → InsufficientCreditsError (exit 6); bad input → InvalidInputError', async () => {
    const emu = await emulator({ credits: 2 });
    const { c } = client(emu);
    await c.create(doc(1));
    const conflict = await c.create(doc(1)).catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(ConflictError);
    await c.create(doc(2));
    const credits = await c.create(doc(3)).catch((e: unknown) => e);
    expect(credits).toBeInstanceOf(InsufficientCreditsError);
    expect((credits as InsufficientCreditsError).exitCode).toBe(6);
    expect((credits as InsufficientCreditsError).correlationId).toMatch(/^syn_cli_/);
    const bad = await c
      .create({ document: 'x', document_type: 'not-a-type' as never })
      .catch((e: unknown) => e);
    // Refused by the client before any request, as the SDK does, naming the allowed values.
    expect(bad).toBeInstanceOf(InvalidInputError);
    expect((bad as InvalidInputError).status).toBeUndefined();
    expect((bad as InvalidInputError).message).toMatch(
      /document_type "not-a-type" is not one of ai-chat/,
    );
  });

  it('status → get → update → delete round trip; unknown ingestion id is ContextNotFoundError', async () => {
    const emu = await emulator();
    const { c } = client(emu);
    const created = await c.create({
      document: 'Alice prefers tea.',
      document_id: 'rt-1',
      user_id: 'u1',
      customer_id: 'acme',
    });
    const st = await c.status(created.data.ingestion_id);
    expect(st.data.status).toBe('completed');
    const memoryId = st.data.memory_ids[0]!;
    expect((await c.get(memoryId)).data.memory_id).toBe(memoryId);
    const upd = await c.update(memoryId, {
      document: 'Alice prefers coffee.',
      merge_strategy: 'replace',
    });
    expect(upd.data.content).toMatch(/coffee/);
    const del = await c.delete(memoryId);
    expect(del.data.memory_id).toBe(memoryId);
    await expect(c.get(memoryId)).rejects.toBeInstanceOf(ContextNotFoundError);
    await expect(c.status('00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(
      ContextNotFoundError,
    );
  });

  it('the export paginator from a start page and with a user filter', async () => {
    const emu = await emulator();
    const { c } = client(emu);
    await c.batch(
      [1, 2, 3, 4, 5].map((i) => ({
        ...doc(i),
        user_id: i % 2 ? 'odd' : 'even',
        customer_id: 'acme',
      })),
    );
    const fromTwo: number[] = [];
    for await (const p of new MemoryPaginator(c, { pageSize: 2, startPage: 2 }))
      fromTwo.push(p.page);
    expect(fromTwo).toEqual([2, 3]);
    let odd = 0;
    for await (const p of new MemoryPaginator(c, { pageSize: 100, userId: 'odd' }))
      odd += p.memories.length;
    expect(odd).toBeGreaterThanOrEqual(3);
  });
});
