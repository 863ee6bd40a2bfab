import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SynapClient, type RequestEvent } from '../../src/client/client.js';
import type { CreateMemoryInput } from '../../src/client/create-body.js';
import {
  ListNotSupportedError,
  NetworkTimeoutError,
  InvalidInputError,
  RateLimitError,
  SynapTransientError,
} from '../../src/client/errors.js';
import { RateLimiter } from '../../src/client/limiter.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../../src/client/retry-policy.js';
import { FakeClock } from '../helpers/fake-clock.js';

// Real HTTP against a tiny scripted node:http server on a free port (the emulator-backed tests
// are in test/integration/client-emulator.test.ts). Backoff is tiny so retries cost milliseconds;
// every client has its own limiter so tests do not share the process-wide one.
const FAST: RetryPolicy = { ...DEFAULT_RETRY_POLICY, backoff: { baseMs: 1, capMs: 5 } };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

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

/** A tiny HTTP server answering every request with `handler`. */
async function tinyServer(
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<{ url: string; seen: http.IncomingHttpHeaders[] }> {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    req.on('end', () => handler(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** A scripted server that also gets the request body. */
async function scripted(
  handler: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void,
) {
  const bodies = new WeakMap<http.IncomingMessage, string>();
  return tinyServerWithBody(handler, bodies);
}

async function tinyServerWithBody(
  handler: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void,
  _bodies: WeakMap<http.IncomingMessage, string>,
): Promise<{ url: string; seen: http.IncomingHttpHeaders[] }> {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers);
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => handler(req, res, body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function json(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Lets real I/O (the HTTP round trip) make progress. */
const settle = () => new Promise<void>((r) => setTimeout(r, 20));

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await settle();
  if (!cond()) throw new Error('condition never became true');
}

/**
 * Resolves `p` while moving the fake clock: real time lets HTTP progress; whenever a sleeper is
 * waiting, fake time jumps to it.
 */
async function drive<T>(clock: FakeClock, p: Promise<T>): Promise<T> {
  let done = false;
  const watched = p.finally(() => (done = true));
  watched.catch(() => {});
  while (!done) {
    await settle();
    if (!done && clock.pending() > 0) await clock.runUntilIdle();
  }
  return watched;
}

const doc = (i: number, withId = true): CreateMemoryInput => ({
  document: `memory number ${i}`,
  ...(withId ? { document_id: `doc-${i}` } : {}),
});

describe('SynapClient over real HTTP (scripted server)', () => {
  it('the correlation id sent is the one echoed back and reported', async () => {
    const server = await tinyServer((req, res) => {
      res.writeHead(200, {
        'Content-Type': 'application/json',
        'X-Correlation-Id': 'server-side-id',
      });
      res.end('{}');
    });
    const t = client(server);
    const r2 = await t.c.whoami();
    expect(r2.correlationId).toBe('server-side-id');
    expect(server.seen[0]!['x-correlation-id']).toMatch(/^syn_cli_\d+_[0-9a-f]{6}$/);
    expect(server.seen[0]!.authorization).toBe('Bearer synap_test_key_0000000000');
  });

  it.each([404, 405])('%i on the list path → ListNotSupportedError', async (status) => {
    const server = await tinyServer((req, res) => {
      res.writeHead(status, { 'Content-Type': 'text/plain' });
      res.end('Not Found');
    });
    const { c } = client(server);
    const err = await c.list({ page: 1, pageSize: 10 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ListNotSupportedError);
    expect((err as Error).message).toMatch(/this deployment has no memory listing endpoint/);
    expect((err as ListNotSupportedError).exitCode).toBe(1);
    expect((err as ListNotSupportedError).status).toBe(status);
    // About the deployment, not one request: no correlation id to quote.
    expect((err as ListNotSupportedError).correlationId).toBeUndefined();
  });

  it('204 is success with an empty object; 200 with a non-JSON body is a transient error', async () => {
    let mode = 204;
    const server = await tinyServer((req, res) => {
      if (mode === 204) {
        res.writeHead(204);
        res.end();
      } else {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end('<html>proxy login</html>');
      }
    });
    const { c } = client(server);
    const r = await c.delete('mem_1');
    expect(r).toMatchObject({ status: 204, data: {} });
    mode = 200;
    await expect(c.whoami()).rejects.toBeInstanceOf(SynapTransientError);
  });

  it('connection refused is a NetworkTimeoutError after retries (idempotent GET)', async () => {
    const server = await tinyServer((_req, res) => res.end('{}'));
    const url = server.url;
    await cleanups.pop()!(); // close it: the port now refuses
    const { c } = client({ url }, { retry: { ...FAST, attempts: 2 } });
    const err = await c.whoami().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkTimeoutError);
    expect((err as Error).message).toMatch(/connection refused/);
    expect(c.stats()).toMatchObject({ requests: 2, retries: 1 });
  });

  it('a per-attempt timeout is a NetworkTimeoutError naming the timeout', async () => {
    const server = await tinyServer(() => {
      /* never answers */
    });
    const { c } = client(server, { retry: { ...FAST, attemptTimeoutMs: 200, attempts: 1 } });
    const err = await c.whoami().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkTimeoutError);
    expect((err as Error).message).toMatch(/no answer within/);
  });

  it('sends Bearer auth, JSON content type, synap-cli User-Agent and the exact §5.1/§10 body', async () => {
    const bodies: string[] = [];
    const server = await scripted((req, res, body) => {
      if (req.url === '/api/v1/auth/whoami') {
        json(res, 200, { client_id: 'cli_1', instance_id: 'inst_0123456789abcdef' });
        return;
      }
      bodies.push(body);
      json(res, 200, { batch_id: 'b', total: 1, succeeded: 1, failed: 0, results: [] });
    });
    // The instance id whoami names prefixes the correlation id.
    const { c } = client(server, { identify: true });
    await c.batch([{ document: 'hi', user_id: 'u1' }]);
    const h = server.seen[1]!;
    expect(h.authorization).toBe('Bearer synap_test_key_0000000000');
    expect(h['content-type']).toBe('application/json');
    expect(h['user-agent']).toMatch(/^synap-cli\/\d+\.\d+\.\d+/);
    expect(h['x-correlation-id']).toMatch(/^syn_inst_0_\d{13}_[0-9a-f]{6}$/);
    expect(bodies[0]).toBe(
      '{"documents":[{"document":"hi","document_type":"ai-chat-conversation","document_id":null,' +
        '"document_created_at":null,"user_id":"u1","customer_id":null,"scope":null,' +
        '"mode":"long-range","metadata":{}}],"fail_fast":false}',
    );
  });

  it('429 with Retry-After: the call waits it out through the limiter, which holds every other call too', async () => {
    const clock = new FakeClock();
    const arrivals: { path: string; at: number }[] = [];
    let refused = false;
    const server = await scripted((req, res) => {
      arrivals.push({ path: req.url!, at: clock.now() });
      if (!refused) {
        refused = true;
        json(res, 429, { detail: 'slow down' }, { 'Retry-After': '3' });
      } else json(res, 200, { ok: true });
    });
    const limiter = new RateLimiter({ clock });
    const { c, events } = client(server, { clock, limiter });
    const t0 = clock.now();
    const first = c.whoami();
    await until(() => limiter.pauseRemainingMs > 0);
    const second = c.health().catch(() => undefined); // unmetered: not paced
    const third = c.get('m1'); // metered: must wait for the pause
    await settle();
    expect(arrivals.map((a) => a.path)).toEqual(['/api/v1/auth/whoami', '/health']);
    await clock.advance(2999);
    await settle();
    expect(arrivals).toHaveLength(2);
    await clock.advance(1);
    await drive(clock, Promise.all([first, third, second]));
    const metered = arrivals.filter((a) => a.path !== '/health');
    expect(metered.slice(1).every((a) => a.at - t0 >= 3000)).toBe(true);
    expect(events.filter((e) => e.status === 429)).toHaveLength(1);
    expect(c.stats().rateLimited).toBe(1);
    expect(limiter.stats().pauses).toBe(1);
  });

  it('429 with an HTTP-date Retry-After waits until that date', async () => {
    const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
    const arrivals: number[] = [];
    const server = await scripted((_req, res) => {
      arrivals.push(clock.now());
      if (arrivals.length === 1) {
        json(
          res,
          429,
          { error: 'too many', code: 'RATE_LIMITED' },
          {
            'Retry-After': 'Thu, 01 Jan 2026 00:00:05 GMT',
          },
        );
      } else json(res, 200, {});
    });
    const { c } = client(server, { clock, limiter: new RateLimiter({ clock }) });
    await drive(clock, c.whoami());
    expect(arrivals[1]! - arrivals[0]!).toBe(5000);
  });

  it("a call gives up with RateLimitError after the policy's rateLimit.maxWaits", async () => {
    const clock = new FakeClock();
    const server = await scripted((_req, res) =>
      json(res, 429, { detail: 'no' }, { 'Retry-After': '1', 'X-RateLimit-Limit': '60' }),
    );
    const limiter = new RateLimiter({ clock });
    const { c } = client(server, {
      clock,
      limiter,
      retry: { ...FAST, rateLimit: { ...FAST.rateLimit, maxWaits: 2 } },
    });
    const err = await drive(clock, c.whoami()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    // The 429s' X-RateLimit-Limit reached the limiter: it paces just under 60/min.
    expect(limiter.stats()).toMatchObject({ rpm: 58.8, source: 'headers' });
    expect((err as RateLimitError).retryAfterMs).toBe(1000);
    expect(server.seen).toHaveLength(3);
  });

  it('503, 503, 200: full-jitter backoff from the injected random on the injected clock', async () => {
    const clock = new FakeClock();
    const arrivals: number[] = [];
    const server = await scripted((_req, res) => {
      arrivals.push(clock.now());
      if (arrivals.length < 3) json(res, 503, { detail: 'busy' });
      else json(res, 200, { client_id: 'c', instance_id: 'i' });
    });
    const { c } = client(server, {
      clock,
      random: () => 0.5,
      retry: { ...FAST, backoff: { baseMs: 1000, capMs: 10_000 } },
    });
    const r = await drive(clock, c.whoami());
    expect(r.status).toBe(200);
    // delays: 0.5 × 1000, then 0.5 × 2000
    expect([arrivals[1]! - arrivals[0]!, arrivals[2]! - arrivals[1]!]).toEqual([500, 1000]);
  });

  it('503 with Retry-After waits at least that long before its retry', async () => {
    const clock = new FakeClock();
    const arrivals: number[] = [];
    const server = await scripted((_req, res) => {
      arrivals.push(clock.now());
      if (arrivals.length === 1) json(res, 503, { detail: 'maintenance' }, { 'Retry-After': '7' });
      else json(res, 200, {});
    });
    const { c } = client(server, { clock, random: () => 0 });
    await drive(clock, c.whoami());
    expect(arrivals[1]! - arrivals[0]!).toBe(7000);
  });

  it('502 with Retry-After waits at least that long before its retry', async () => {
    const clock = new FakeClock();
    const arrivals: number[] = [];
    const server = await scripted((_req, res) => {
      arrivals.push(clock.now());
      if (arrivals.length === 1) json(res, 502, { detail: 'bad gateway' }, { 'Retry-After': '7' });
      else json(res, 200, {});
    });
    const { c } = client(server, { clock, random: () => 0 });
    await drive(clock, c.whoami());
    expect(arrivals[1]! - arrivals[0]!).toBe(7000);
  });

  it('408 is retried as a request that may have been applied: a GET and a create with document_id, not a create without', async () => {
    const sent: string[] = [];
    const server = await scripted((req, res) => {
      sent.push(req.url ?? '');
      if (sent.length === 1 || req.url === '/api/v1/memories/create') {
        json(res, 408, { detail: 'request timeout' });
      } else json(res, 200, { client_id: 'c', instance_id: 'i' });
    });
    const { c, events } = client(server, { retry: { ...FAST, attempts: 3 } });
    expect((await c.whoami()).status).toBe(200);
    expect(events.map((e) => e.status)).toEqual([408, 200]);
    const once = await c.create(doc(1, false)).catch((e: unknown) => e);
    expect(once).toMatchObject({ status: 408, code: 'HTTP_408', transient: true, attempts: 1 });
    expect((once as Error).message).toBe(
      'HTTP 408: request timeout (POST /api/v1/memories/create)',
    );
    const withId = await c.create(doc(2)).catch((e: unknown) => e);
    expect(withId).toMatchObject({ status: 408, attempts: 3 });
    expect(sent.filter((u) => u === '/api/v1/memories/create')).toHaveLength(1 + 3);
  });

  it('a reset socket: GET retried; create without document_id surfaced at once', async () => {
    let n = 0;
    const server = await scripted((req, res) => {
      n += 1;
      if (n === 1 || req.url === '/api/v1/memories/create') req.socket.destroy();
      else json(res, 200, { client_id: 'c', instance_id: 'i' });
    });
    const { c, events } = client(server);
    expect((await c.whoami()).status).toBe(200);
    expect(events.map((e) => e.attempt)).toEqual([1, 2]);
    expect(events[0]!.error).toMatch(/reset|socket|network/);
    const err = await c.create(doc(1, false)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkTimeoutError);
    expect((err as NetworkTimeoutError).transient).toBe(true);
    expect(server.seen.filter((h) => h['content-length'] !== undefined)).toHaveLength(1);
  });

  it.each([400, 401, 402, 403, 404, 409, 422])('%i is never retried', async (status) => {
    const server = await scripted((_req, res) => json(res, status, { detail: 'no' }));
    const { c } = client(server);
    await expect(c.create(doc(1))).rejects.toMatchObject({ status, transient: false });
    expect(server.seen).toHaveLength(1);
  });

  it('a key echoed by the server never reaches the error message or the events', async () => {
    const key = 'synap_Canary0123456789abcdefXYZ';
    const server = await scripted((_req, res) =>
      json(res, 400, { error: `bad request from ${key}`, code: 'INVALID_INPUT' }),
    );
    const { c, events } = client({ url: server.url, apiKey: key });
    const err = await c.whoami().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(String((err as Error).message)).not.toContain('Canary0123456789');
    expect(JSON.stringify(events)).not.toContain('Canary0123456789');
  });

  it('an abort while waiting out a 429 rejects at once', async () => {
    const clock = new FakeClock();
    const server = await scripted((_req, res) => json(res, 429, {}, { 'Retry-After': '60' }));
    const limiter = new RateLimiter({ clock });
    const { c } = client(server, { clock, limiter });
    const ac = new AbortController();
    const p = c.whoami({ signal: ac.signal }).catch((e: unknown) => e);
    await until(() => limiter.pauseRemainingMs > 0);
    await settle();
    ac.abort(new Error('user stop'));
    expect(((await p) as Error).message).toBe('user stop');
    expect(server.seen).toHaveLength(1);
  });
});
