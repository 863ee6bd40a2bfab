import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync, brotliCompressSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { SynapClient } from '../../src/client/client.js';
import { SynapError } from '../../src/client/errors.js';
import { RateLimiter } from '../../src/client/limiter.js';
import { DEFAULT_RETRY_POLICY } from '../../src/client/retry-policy.js';
import { createTransport } from '../../src/client/transport.js';

// The client's HTTP transport over real loopback sockets: connection reuse, compressed
// bodies, redirects, a base URL with a path.

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function serve(handler: http.RequestListener) {
  const sockets = new Set<unknown>();
  const seen: { url: string; headers: http.IncomingHttpHeaders }[] = [];
  const server = http.createServer((req, res) => {
    sockets.add(req.socket);
    seen.push({ url: req.url!, headers: req.headers });
    req.resume();
    req.on('end', () => handler(req, res));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, connections: () => sockets.size };
}

const KEY = 'synap_transport_key_000000000000';
const client = (url: string) =>
  new SynapClient({
    baseUrl: url,
    apiKey: KEY,
    limiter: new RateLimiter(),
    // One attempt: what the transport itself does, not what a retry makes of it.
    retry: { ...DEFAULT_RETRY_POLICY, attempts: 1 },
  });

describe('client transport', () => {
  it('keeps connections alive: 40 calls, 4 at a time, over at most 4 connections', async () => {
    const s = await serve((_req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end('{"ok":true}');
    });
    const c = client(s.url);
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next++ < 40) expect((await c.whoami()).status).toBe(200);
      }),
    );
    expect(s.seen).toHaveLength(40);
    expect(s.connections()).toBeLessThanOrEqual(4);
  });

  it('asks for compression and reads gzip and brotli bodies', async () => {
    const body = JSON.stringify({ client_id: 'c'.repeat(2000), instance_id: 'i' });
    let n = 0;
    const s = await serve((_req, res) => {
      const gz = n++ % 2 === 0;
      res.writeHead(200, {
        'Content-Type': 'application/json',
        'Content-Encoding': gz ? 'gzip' : 'br',
      });
      res.end(gz ? gzipSync(body) : brotliCompressSync(body));
    });
    const c = client(s.url);
    for (let i = 0; i < 2; i++) {
      const r = await c.whoami();
      expect((r.data as { client_id: string }).client_id).toHaveLength(2000);
    }
    expect(s.seen[0]!.headers['accept-encoding']).toMatch(/gzip/);
  });

  it('does not follow a redirect: the key stays where the base URL points, and the error says where it was sent', async () => {
    const elsewhere = await serve((_req, res) => res.end('{}'));
    const s = await serve((_req, res) => {
      res.writeHead(307, { Location: `${elsewhere.url}/api/v1/auth/whoami` });
      res.end();
    });
    const err = await client(s.url)
      .whoami()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SynapError);
    expect((err as SynapError).transient).toBe(false);
    expect((err as Error).message).toContain(
      `redirected (HTTP 307 to ${new URL(elsewhere.url).host}`,
    );
    expect(s.seen).toHaveLength(1);
    expect(elsewhere.seen).toHaveLength(0);
  });

  it('keeps the path of a base URL', async () => {
    const s = await serve((_req, res) => res.end('{}'));
    await client(`${s.url}/synap/`).whoami();
    expect(s.seen[0]!.url).toBe('/synap/api/v1/auth/whoami');
  });

  it('an abort rejects with the signal reason; a refused connection with its code', async () => {
    const s = await serve(() => {
      /* never answers */
    });
    const send = createTransport(s.url);
    const ac = new AbortController();
    const p = send({ method: 'GET', path: '/x', headers: {}, signal: ac.signal });
    ac.abort(new Error('stop here'));
    await expect(p).rejects.toThrow('stop here');
    const closed = createTransport('http://127.0.0.1:1');
    const err = await closed({
      method: 'GET',
      path: '/',
      headers: {},
      signal: new AbortController().signal,
    }).catch((e: unknown) => e);
    expect((err as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });
});
