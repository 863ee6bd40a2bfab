import http from 'node:http';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { api, doc } from '../helpers/emulator.js';
import { FakeClock } from '../helpers/fake-clock.js';

/**
 * The emulator against the official SDK's contract (maximem_synap_sdk: the request models, the
 * B2C rule, scope paths, credit bodies, credits routes), over real HTTP.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let open: RunningEmulator[] = [];
async function emulator(opts: Parameters<typeof startEmulator>[0] = {}) {
  const emu = await startEmulator(opts);
  open.push(emu);
  return emu;
}
afterEach(async () => {
  await Promise.all(open.map((e) => e.close()));
  open = [];
});

describe('batch: the request model refuses the whole batch; service rules fail one item', () => {
  it('one document with a null mode refuses the whole batch with a 422 naming it, whatever fail_fast says', async () => {
    const emu = await emulator();
    for (const failFast of [false, true]) {
      const documents = [doc('a'), doc('b'), doc('c'), doc('d', { mode: null })];
      const res = await api(emu, 'POST', '/api/v1/memories/batch', {
        body: { documents, fail_fast: failFast },
      });
      expect(res.status).toBe(422);
      expect(res.body.detail).toEqual([
        {
          type: 'enum',
          loc: ['body', 'documents', 3, 'mode'],
          msg: "Input should be 'fast' or 'long-range'",
          input: null,
          ctx: { expected: "'fast' or 'long-range'" },
        },
      ]);
    }
    expect(emu.documents()).toHaveLength(0);
  });

  it('fail_fast=false: a service refusal fails its item only, with a failed status', async () => {
    const emu = await emulator({ isolation: 'equals_customer' });
    const res = await api(emu, 'POST', '/api/v1/memories/batch', {
      body: {
        documents: [
          doc('kept', { document_id: 'k-1', user_id: 'dana' }),
          doc('b2c refuses this', { document_id: 'k-2', user_id: 'dana', customer_id: 'acme' }),
          doc('kept too', { document_id: 'k-3' }),
        ],
        fail_fast: false,
      },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ total: 3, succeeded: 2, failed: 1 });
    expect(res.body.results[1]).toMatchObject({
      document_id: 'k-2',
      status: 'failed',
      error_code: 'CUSTOMER_ID_NOT_ACCEPTED',
    });
    expect(res.body.results[1].ingestion_id).toMatch(UUID);
    expect(emu.documents().map((d) => d.document_id)).toEqual(['k-1', 'k-3']);
  });

  it('a refused item sent without a document_id still gets the ids the SDK response model requires', async () => {
    const emu = await emulator();
    const res = await api(emu, 'POST', '/api/v1/memories/batch', {
      body: { documents: [doc('   '), doc('fine')] },
    });
    expect(res.status).toBe(200);
    const failed = res.body.results[0];
    expect(failed).toMatchObject({ status: 'failed', error_code: 'INVALID_INPUT' });
    expect(failed.ingestion_id).toMatch(UUID);
    expect(failed.document_id).toMatch(UUID);
    const status = await api(emu, 'GET', `/api/v1/memories/status/${failed.ingestion_id}`);
    expect(status.body).toMatchObject({ status: 'failed', document_id: failed.document_id });
  });

  it('fail_fast=true: a service refusal refuses the batch with its own status', async () => {
    const emu = await emulator({ isolation: 'equals_customer' });
    const res = await api(emu, 'POST', '/api/v1/memories/batch', {
      body: { documents: [doc('a'), doc('b', { customer_id: 'acme' })], fail_fast: true },
    });
    expect(res.status).toBe(400);
    expect(res.body.details).toMatchObject({ field: 'documents[1].customer_id', index: 1 });
    expect(emu.documents()).toHaveLength(0);
  });

  it('a null fail_fast is refused (bool with a default), a missing one is false', async () => {
    const emu = await emulator();
    const nul = await api(emu, 'POST', '/api/v1/memories/batch', {
      body: { documents: [doc('a')], fail_fast: null },
    });
    expect(nul.status).toBe(422);
    expect(nul.body.detail[0]).toMatchObject({ loc: ['body', 'fail_fast'], type: 'bool_type' });
    const missing = await api(emu, 'POST', '/api/v1/memories/batch', {
      body: { documents: [doc('a')] },
    });
    expect(missing.status).toBe(200);
  });
});

describe('--isolation equals_customer (B2C)', () => {
  it('whoami reports the isolation; strict (B2B) by default', async () => {
    const b2b = await emulator();
    expect((await api(b2b, 'GET', '/api/v1/auth/whoami')).body.user_context_isolation).toBe(
      'strict',
    );
    const b2c = await emulator({ isolation: 'equals_customer' });
    expect((await api(b2c, 'GET', '/api/v1/auth/whoami')).body.user_context_isolation).toBe(
      'equals_customer',
    );
  });

  it('refuses a customer_id with 400 on create and on list, and takes user_id alone', async () => {
    const emu = await emulator({ isolation: 'equals_customer' });
    const refused = await api(emu, 'POST', '/api/v1/memories/create', {
      body: doc('x', { user_id: 'dana', customer_id: 'acme' }),
    });
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('CUSTOMER_ID_NOT_ACCEPTED');
    expect(refused.body.detail).toContain('B2C');
    expect(refused.body.detail).toContain('acme');
    const ok = await api(emu, 'POST', '/api/v1/memories/create', {
      body: doc('x', { user_id: 'dana' }),
    });
    expect(ok.status).toBe(200);
    expect((await api(emu, 'GET', '/api/v1/memories?customer_id=acme')).status).toBe(400);
    expect((await api(emu, 'GET', '/api/v1/memories?user_id=dana')).body.total).toBe(1);
    // The same body is fine on a B2B instance.
    const b2b = await emulator();
    const accepted = await api(b2b, 'POST', '/api/v1/memories/create', {
      body: doc('x', { user_id: 'dana', customer_id: 'acme' }),
    });
    expect(accepted.status).toBe(200);
  });
});

describe('--isolation strict (B2B, the default)', () => {
  it('refuses a user_id without a customer_id with 400; both, customer only and neither are taken', async () => {
    const emu = await emulator();
    const refused = await api(emu, 'POST', '/api/v1/memories/create', {
      body: doc('x', { user_id: 'dana' }),
    });
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('CUSTOMER_ID_REQUIRED');
    expect(refused.body.detail).toContain('B2B');
    expect(refused.body.detail).toContain('dana');
    for (const ids of [{ user_id: 'dana', customer_id: 'acme' }, { customer_id: 'acme' }, {}]) {
      const ok = await api(emu, 'POST', '/api/v1/memories/create', { body: doc('x', ids) });
      expect(ok.status, JSON.stringify(ids)).toBe(200);
    }
    // In a batch the refusal fails its item only.
    const res = await api(emu, 'POST', '/api/v1/memories/batch', {
      body: {
        documents: [
          doc('kept', { document_id: 'b-1', user_id: 'dana', customer_id: 'acme' }),
          doc('refused', { document_id: 'b-2', user_id: 'dana' }),
        ],
        fail_fast: false,
      },
    });
    expect(res.body).toMatchObject({ total: 2, succeeded: 1, failed: 1 });
    expect(res.body.results[1]).toMatchObject({
      document_id: 'b-2',
      error_code: 'CUSTOMER_ID_REQUIRED',
    });
    // A B2C instance files a user_id alone (above); a scope path names the level itself.
    const ladder = await emulator({ scopeLevels: ['customer', 'team', 'user'] });
    const scoped = await api(ladder, 'POST', '/api/v1/memories/create', {
      body: doc('x', { user_id: 'dana', scope: { customer: 'acme', team: 'pay', user: 'dana' } }),
    });
    expect(scoped.status).toBe(200);
  });
});

describe('scope paths (scopeLevels / --scoping)', () => {
  it('without nested scoping a scope is refused (400), null is fine', async () => {
    const emu = await emulator();
    const refused = await api(emu, 'POST', '/api/v1/memories/create', {
      body: doc('x', { scope: { customer: 'acme' } }),
    });
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('SCOPE_NOT_ACCEPTED');
    expect((await api(emu, 'POST', '/api/v1/memories/create', { body: doc('x') })).status).toBe(
      200,
    );
  });

  it('on a ladder: the path from the top is stored and listed; {} and gaps are refused', async () => {
    const emu = await emulator({ scopeLevels: ['customer', 'team', 'user'] });
    const scope = { customer: 'acme', team: 'payments', user: 'dana' };
    const ok = await api(emu, 'POST', '/api/v1/memories/create', {
      body: doc('filed on a rung', {
        document_id: 's-1',
        user_id: 'dana',
        customer_id: 'acme',
        scope,
      }),
    });
    expect(ok.status).toBe(200);
    expect(emu.documents()[0]!.scope).toEqual(scope);
    const listed = await api(emu, 'GET', '/api/v1/memories');
    expect(listed.body.data[0].scope).toEqual(scope);
    const team = await api(emu, 'POST', '/api/v1/memories/create', {
      body: doc('team-wide', {
        customer_id: 'acme',
        scope: { customer: 'acme', team: 'payments' },
      }),
    });
    expect(team.status).toBe(200);

    for (const [bad, code] of [
      [{}, 'INVALID_SCOPE'],
      [{ team: 'payments' }, 'INVALID_SCOPE'],
      [{ customer: 'acme', region: 'eu' }, 'INVALID_SCOPE'],
    ] as const) {
      const res = await api(emu, 'POST', '/api/v1/memories/create', {
        body: doc('x', { scope: bad }),
      });
      expect(res.status, JSON.stringify(bad)).toBe(422);
      expect(res.body.code).toBe(code);
    }
    // user_id and customer_id alone cannot say which team: refused rather than guessed.
    const guess = await api(emu, 'POST', '/api/v1/memories/create', {
      body: doc('x', { user_id: 'dana', customer_id: 'acme' }),
    });
    expect(guess.status).toBe(422);
    expect(guess.body.code).toBe('SCOPE_REQUIRED');
  });
});

describe('credit stops (--credit-stop) and 402 bodies', () => {
  it('trial_limit_reached: every write answered 429 with the gate body inside detail; reads still work', async () => {
    const emu = await emulator({ creditStop: 'trial_limit_reached' });
    for (const [path, body] of [
      ['/api/v1/memories/create', doc('x')],
      ['/api/v1/memories/batch', { documents: [doc('x')] }],
    ] as const) {
      const res = await api(emu, 'POST', path, { body });
      expect(res.status, path).toBe(429);
      expect(res.headers['retry-after']).toBe('3600');
      expect(res.body.detail).toMatchObject({
        error: 'trial_limit_reached',
        upgrade_url: '/dashboard/billing',
        balance_credits: expect.any(Number),
      });
      expect(res.body.detail.reason).toBeUndefined();
    }
    expect((await api(emu, 'GET', '/api/v1/memories')).status).toBe(200);
    expect(emu.documents()).toHaveLength(0);
    expect(emu.stats().faults.credit_stops).toBe(2);
    expect(emu.stats().rate_limited).toBe(0);
  });

  it('subscription_inactive: reason and manage_url; at the top level with --error-format error', async () => {
    const emu = await emulator({ creditStop: 'subscription_inactive' });
    const nested = await api(emu, 'POST', '/api/v1/memories/create', { body: doc('x') });
    expect(nested.status).toBe(429);
    expect(nested.headers['retry-after']).toBeUndefined();
    expect(nested.body.detail).toMatchObject({
      error: 'trial_limit_reached',
      reason: 'subscription_inactive',
      manage_url: '/dashboard/billing',
      upgrade_url: '/dashboard/billing',
    });
    emu.setFaults({ errorFormat: 'error' });
    const top = await api(emu, 'POST', '/api/v1/memories/create', { body: doc('x') });
    expect(top.status).toBe(429);
    expect(top.body.detail).toBeUndefined();
    expect(top.body).toMatchObject({
      reason: 'subscription_inactive',
      manage_url: '/dashboard/billing',
    });
  });

  it('with --credits N: writes go through until the wallet is spent, then meet the credit stop', async () => {
    const emu = await emulator({ credits: 3, creditStop: 'trial_limit_reached' });
    const first = await api(emu, 'POST', '/api/v1/memories/batch', {
      body: { documents: [doc('a'), doc('b'), doc('c')] },
    });
    expect(first.status).toBe(200);
    const stop = await api(emu, 'POST', '/api/v1/memories/create', { body: doc('d') });
    expect(stop.status).toBe(429);
    expect(stop.body.detail).toMatchObject({ error: 'trial_limit_reached', balance_credits: 0 });
    expect(emu.stats().faults).toMatchObject({ credit_stops: 1, credit_refusals: 0 });
  });

  it('402 carries reason, error and manage_url beside the balance fields, nested or top-level', async () => {
    const emu = await emulator({ credits: 0 });
    const nested = await api(emu, 'POST', '/api/v1/memories/create', { body: doc('x') });
    expect(nested.status).toBe(402);
    expect(nested.body.detail).toMatchObject({
      error: 'insufficient_credits',
      reason: 'overages_disabled',
      balance_credits: 0,
      minimum_required_credits: 1,
      recovery_url: '/v1/credits/balance',
      manage_url: '/dashboard/billing',
    });
    emu.setFaults({ errorFormat: 'error-object' });
    const top = await api(emu, 'POST', '/api/v1/memories/create', { body: doc('x') });
    expect(top.status).toBe(402);
    expect(top.body).toMatchObject({ reason: 'overages_disabled', balance_credits: 0 });
  });
});

describe('credits routes', () => {
  it('balance and ledger follow what writes spend; the ledger pages and filters', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const emu = await emulator({ credits: 10, clock });
    const before = await api(emu, 'GET', '/v1/credits/balance');
    expect(before.status).toBe(200);
    expect(before.body).toEqual({
      client_id: expect.stringMatching(/^cli_/),
      balance_credits: 10,
      warning_low: false,
      buckets: [{ source_type: 'grant', balance: 10, expires_at: null }],
    });
    await api(emu, 'POST', '/api/v1/memories/batch', {
      body: { documents: [doc('a'), doc('b'), doc('c', { document_id: 'dup' })] },
    });
    await clock.advance(2000);
    // A duplicate is not accepted, so it costs nothing.
    await api(emu, 'POST', '/api/v1/memories/batch', {
      body: { documents: [doc('d'), doc('c', { document_id: 'dup' })] },
    });
    await clock.advance(2000);
    for (let i = 0; i < 5; i++) {
      await api(emu, 'POST', '/api/v1/memories/create', { body: doc(`e${i}`) });
    }
    const after = await api(emu, 'GET', '/v1/credits/balance');
    expect(after.body).toMatchObject({ balance_credits: 1, warning_low: true });
    expect(emu.stats().credits_spent).toBe(9);

    const ledger = await api(emu, 'GET', '/v1/credits/ledger');
    expect(ledger.body).toMatchObject({ total: 4, limit: 100, offset: 0 });
    expect(ledger.body.entries.map((e: { delta: number }) => e.delta)).toEqual([-5, -1, -3, 10]);
    expect(ledger.body.entries[0]).toMatchObject({
      entry_type: 'usage',
      metric_type: 'memory_documents',
      category: 'ingestion',
      created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, 4)).toISOString(),
    });
    expect(ledger.body.entries[0].ledger_id).toMatch(UUID);
    const page = await api(emu, 'GET', '/v1/credits/ledger?limit=2&offset=1&entry_type=usage');
    expect(page.body).toMatchObject({ total: 3, limit: 2, offset: 1 });
    expect(page.body.entries.map((e: { delta: number }) => e.delta)).toEqual([-1, -3]);
    const window = await api(
      emu,
      'GET',
      '/v1/credits/ledger?from=2026-01-01T00:00:01Z&to=2026-01-01T00:00:03Z',
    );
    expect(window.body.entries.map((e: { delta: number }) => e.delta)).toEqual([-1]);
    for (const q of ['limit=0', 'offset=-1', 'from=yesterday']) {
      expect((await api(emu, 'GET', `/v1/credits/ledger?${q}`)).status, q).toBe(422);
    }
  });

  it('estimate: one credit per unit, from the SDK body; missing units refused', async () => {
    const emu = await emulator({ credits: 5 });
    const res = await api(emu, 'POST', '/v1/credits/estimate', {
      body: {
        metric_type: 'memory_documents',
        units: 250,
        item_count: 250,
        endpoint: '/api/v1/memories/batch',
        mode: 'long-range',
      },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ credits_estimate: 250 });
    const noUnits = await api(emu, 'POST', '/v1/credits/estimate', {
      body: {
        metric_type: 'memory_documents',
        units: null,
        item_count: null,
        endpoint: null,
        mode: null,
      },
    });
    expect(noUnits.status).toBe(422);
    expect(noUnits.body.detail[0].loc).toEqual(['body', 'units']);
    // Credits routes need the key, like every /v1 route.
    expect((await api(emu, 'GET', '/v1/credits/balance', { key: null })).status).toBe(401);
  });

  it('--absent-routes: the credits and list routes answer 404, like a deployment without them', async () => {
    const emu = await emulator({ absentRoutes: ['credits', 'list'] });
    for (const [method, path] of [
      ['GET', '/v1/credits/balance'],
      ['GET', '/v1/credits/ledger'],
      ['POST', '/v1/credits/estimate'],
      ['GET', '/api/v1/memories'],
    ]) {
      expect((await api(emu, method!, path!, { body: {} })).status, path).toBe(404);
    }
    expect((await api(emu, 'POST', '/api/v1/memories/create', { body: doc('x') })).status).toBe(
      200,
    );
  });
});

describe('error formats (--error-format)', () => {
  const bodies = async (format: string) => {
    const emu = await emulator({ errorFormat: format as 'fastapi' });
    const validation = await api(emu, 'POST', '/api/v1/memories/create', {
      body: doc('x', { mode: null }),
    });
    const notFound = await api(emu, 'GET', '/api/v1/memories/11111111-1111-4111-8111-111111111111');
    const conflict = await api(emu, 'POST', '/api/v1/memories/create', {
      body: doc('x', { document_id: 'same' }),
    });
    const again = await api(emu, 'POST', '/api/v1/memories/create', {
      body: doc('x', { document_id: 'same' }),
    });
    expect(validation.status).toBe(422);
    expect(notFound.status).toBe(404);
    expect(conflict.status).toBe(200);
    expect(again.status).toBe(409);
    return { validation: validation.body, notFound: notFound.body, conflict: again.body };
  };

  it('fastapi (default): string detail, array detail for validation, object for 409', async () => {
    const b = await bodies('fastapi');
    expect(b.validation.detail[0].loc).toEqual(['body', 'mode']);
    expect(typeof b.notFound.detail).toBe('string');
    expect(b.notFound.code).toBe('NOT_FOUND');
    expect(b.conflict.detail).toMatchObject({ code: 'DUPLICATE_DOCUMENT' });
  });

  it('detail: {"detail": "<message>"} only', async () => {
    const b = await bodies('detail');
    expect(Object.keys(b.validation)).toEqual(['detail']);
    expect(b.validation.detail).toContain('mode');
    expect(b.notFound).toEqual({ detail: expect.stringContaining('not found') });
    expect(typeof b.conflict.detail).toBe('string');
  });

  it('detail-array: every error as FastAPI issues', async () => {
    const b = await bodies('detail-array');
    expect(b.validation.detail[0].loc).toEqual(['body', 'mode']);
    expect(b.notFound.detail[0]).toMatchObject({ type: 'not_found', msg: expect.any(String) });
    expect(b.conflict.detail[0].type).toBe('duplicate_document');
  });

  it('detail-object: {"detail": {"code", "message"}}', async () => {
    const b = await bodies('detail-object');
    expect(b.notFound.detail).toMatchObject({ code: 'NOT_FOUND', message: expect.any(String) });
    expect(b.validation.detail).toMatchObject({ code: 'INVALID_INPUT', field: 'mode' });
  });

  it('error: {"error": "<message>", "code", "details"} (the documented shape)', async () => {
    const b = await bodies('error');
    expect(b.notFound).toMatchObject({
      error: expect.stringContaining('not found'),
      code: 'NOT_FOUND',
    });
    expect(b.notFound.detail).toBeUndefined();
    expect(b.conflict.code).toBe('DUPLICATE_DOCUMENT');
  });

  it('error-object: {"error": {"code", "message"}}', async () => {
    const b = await bodies('error-object');
    expect(b.notFound).toEqual({ error: { code: 'NOT_FOUND', message: expect.any(String) } });
    expect(b.validation.error.code).toBe('INVALID_INPUT');
  });
});

describe('headers and the Host guard', () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startEmulator();
  });
  afterAll(() => emu.close());

  it('X-Synap-Server-Ms on answers and errors alike', async () => {
    for (const res of [
      await api(emu, 'GET', '/api/v1/auth/whoami'),
      await api(emu, 'GET', '/api/v1/memories/nope'),
      await api(emu, 'GET', '/health'),
    ]) {
      const ms = Number(res.headers['x-synap-server-ms']);
      expect(Number.isFinite(ms) && ms >= 0, String(res.headers['x-synap-server-ms'])).toBe(true);
    }
  });

  /** A request with a chosen Host header (node:http sends it as given). */
  function withHost(host: string | null, path = '/health', key: string | null = null) {
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      const headers: Record<string, string> = {};
      if (host !== null) headers.Host = host;
      if (key !== null) headers.Authorization = `Bearer ${key}`;
      const req = http.request(
        new URL(path, emu.url),
        { headers, agent: false, setHost: host === null ? false : undefined },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('answers loopback names only (DNS rebinding): localhost, localhost., 127/8, [::1]', async () => {
    const port = new URL(emu.url).port;
    for (const host of [
      `localhost:${port}`,
      'LOCALHOST',
      `localhost.:${port}`,
      `127.0.0.1:${port}`,
      '127.1.2.3',
      `[::1]:${port}`,
    ]) {
      expect((await withHost(host)).status, host).toBe(200);
    }
    for (const host of [
      `evil.example:${port}`,
      'localhost.evil.example',
      '127.0.0.1.nip.io',
      '10.0.0.1',
      `[::2]:${port}`,
    ]) {
      const res = await withHost(host, '/_emulator/documents', emu.apiKey);
      expect(res.status, host).toBe(403);
      expect(res.body).toContain('HOST_NOT_ALLOWED');
      expect(res.body).not.toContain('document_id');
    }
    expect((await withHost(`evil.example:${port}`, '/api/v1/auth/whoami', emu.apiKey)).status).toBe(
      403,
    );
    // No Host at all (HTTP/1.0) or an empty one: refused too.
    for (const raw of [
      'GET /health HTTP/1.0\r\n\r\n',
      'GET /health HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n',
    ]) {
      const statusLine = await new Promise<string>((resolve, reject) => {
        let data = '';
        const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(raw));
        socket.on('data', (d: Buffer) => (data += d.toString()));
        socket.on('close', () => resolve(data.split('\r\n')[0]!));
        socket.on('error', reject);
      });
      expect(statusLine, raw).toContain('403');
    }
  });
});
