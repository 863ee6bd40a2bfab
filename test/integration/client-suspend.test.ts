import { afterEach, describe, expect, it } from 'vitest';
import { SynapClient } from '../../src/client/client.js';
import { NetworkTimeoutError } from '../../src/client/errors.js';
import { DEFAULT_RETRY_POLICY } from '../../src/client/retry-policy.js';
import {
  acceptAll,
  hang,
  startHostileServer,
  type HostileServer,
} from '../helpers/hostile-server.js';

/**
 * Sleep and wake (issue 21 item 7): a laptop lid closed while a request is on the wire
 * suspends the whole process. When it wakes, an answer that arrived meanwhile must be read, not
 * thrown away by a request timer that counted the suspension. Here the event loop is held
 * (Atomics.wait) for longer than the attempt time-out, right as the server answers: the
 * process sees what a SIGSTOP/SIGCONT does, without a real 30 s sleep.
 */

const KEY = 'synap_suspendTestKey0123456789abcdef';

/** Blocks this thread (and so the event loop) for `ms`, as a suspended process would be. */
function suspend(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe('request time-outs across a suspension', () => {
  const servers: HostileServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });
  const clientFor = (s: HostileServer, attemptTimeoutMs: number) =>
    new SynapClient({
      baseUrl: s.url,
      apiKey: KEY,
      retry: { ...DEFAULT_RETRY_POLICY, attempts: 1, attemptTimeoutMs },
    });
  const doc = {
    document: 'User: hello',
    document_type: 'ai-chat-conversation' as const,
    document_id: 'sleepy-1',
    document_created_at: null,
    user_id: null,
    customer_id: null,
    scope: null,
    mode: 'long-range' as const,
    metadata: {},
  };

  it('an answer that arrived during a suspension longer than the time-out is read, not timed out', async () => {
    const s = await startHostileServer((req) => {
      if (!req.path.endsWith('/batch')) return undefined;
      // The process "sleeps" for 2.5 time-outs just as the server answers.
      suspend(2500);
      return acceptAll(req);
    });
    servers.push(s);
    const result = await clientFor(s, 1000).batch([doc]);
    expect(result.status).toBe(200);
    expect(result.data.results).toHaveLength(1);
  });

  it('a server that never answers still times out after the time-out of running time', async () => {
    const s = await startHostileServer((req) => (req.path.endsWith('/batch') ? hang() : undefined));
    servers.push(s);
    const started = performance.now();
    const err = await clientFor(s, 600)
      .batch([doc])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkTimeoutError);
    expect((err as Error).message).toMatch(/no answer within 1s/);
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(590);
    expect(took).toBeLessThan(3000);
  });

  it('a suspension while no answer has come counts only in part: the wait goes on after waking', async () => {
    const s = await startHostileServer((req) => (req.path.endsWith('/batch') ? hang() : undefined));
    servers.push(s);
    const started = performance.now();
    const call = clientFor(s, 1000)
      .batch([doc])
      .catch((e: unknown) => e);
    // Let the request go out, then "sleep" for three time-outs.
    await new Promise((r) => setTimeout(r, 100));
    suspend(3000);
    const err = await call;
    expect(err).toBeInstanceOf(NetworkTimeoutError);
    // Woken at 3.1 s; the time-out still needed most of its second of awake time after that.
    expect(performance.now() - started).toBeGreaterThan(3100 + 300);
  });
});
