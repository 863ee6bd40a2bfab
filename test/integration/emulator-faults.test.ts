import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { api, doc } from '../helpers/emulator.js';
import { FakeClock } from '../helpers/fake-clock.js';

/** A raw POST that reports whether the server replied or dropped the connection. */
function rawCreate(
  emu: RunningEmulator,
  body: unknown,
): Promise<{ status?: number; error?: string }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve) => {
    const req = http.request(
      new URL('/api/v1/memories/create', emu.url),
      {
        method: 'POST',
        agent: false,
        headers: {
          Authorization: `Bearer ${emu.apiKey}`,
          'Content-Type': 'application/json',
          'Content-Length': String(Buffer.byteLength(payload)),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode }));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.end(payload);
  });
}

describe('emulator fault injection', () => {
  it('fail-rate 1.0 answers 503 and stores nothing', async () => {
    const emu = await startEmulator({ failRate: 1 });
    try {
      const res = await api(emu, 'POST', '/api/v1/memories/create', { body: doc('lost') });
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('SERVICE_UNAVAILABLE');
      expect(res.headers['x-correlation-id']).toMatch(/^req_/);
      expect(emu.documents()).toHaveLength(0);
      expect(emu.stats().faults.failures).toBe(1);
      // Health and the emulator's own endpoints are never faulted.
      expect((await api(emu, 'GET', '/health')).status).toBe(200);
      expect((await api(emu, 'GET', '/_emulator/stats')).status).toBe(200);
      expect((await api(emu, 'GET', '/_emulator/stats', { key: null })).status).toBe(401);
    } finally {
      await emu.close();
    }
  });

  it('reset-rate 1.0 stores the write, then drops the connection without a reply', async () => {
    const emu = await startEmulator({ resetRate: 1 });
    try {
      const res = await rawCreate(emu, doc('kept', { document_id: 'reset-1' }));
      expect(res.status).toBeUndefined();
      expect(res.error).toMatch(/ECONNRESET|socket hang up/);
      expect(emu.documents().map((d) => d.document_id)).toEqual(['reset-1']);
      expect(emu.stats().faults.resets).toBe(1);
      expect(emu.stats().requests_by_status.reset).toBe(1);
      // A retry after the reset meets the stored document: the 409 tells the client it landed.
      emu.setFaults({ resetRate: 0 });
      const retry = await rawCreate(emu, doc('kept', { document_id: 'reset-1' }));
      expect(retry.status).toBe(409);
    } finally {
      await emu.close();
    }
  });

  it('a seed makes fault decisions repeatable', async () => {
    const pattern = async () => {
      const emu = await startEmulator({ failRate: 0.5, seed: 42 });
      try {
        const out: number[] = [];
        for (let i = 0; i < 20; i++)
          out.push((await api(emu, 'GET', '/api/v1/auth/whoami')).status);
        return out;
      } finally {
        await emu.close();
      }
    };
    const first = await pattern();
    expect(first).toContain(503);
    expect(first).toContain(200);
    expect(await pattern()).toEqual(first);
  });

  it('latency delays each API request (with jitter between 50% and 150%)', async () => {
    const emu = await startEmulator({ latencyMs: 200 });
    try {
      const started = performance.now();
      const res = await api(emu, 'GET', '/api/v1/auth/whoami');
      const elapsed = performance.now() - started;
      expect(res.status).toBe(200);
      expect(elapsed).toBeGreaterThanOrEqual(95);
      expect(elapsed).toBeLessThan(2000);
    } finally {
      await emu.close();
    }
  });

  it('credits: 402 with the balance fields once N documents were accepted', async () => {
    const emu = await startEmulator({ credits: 3 });
    try {
      for (let i = 0; i < 2; i++) {
        expect(
          (await api(emu, 'POST', '/api/v1/memories/create', { body: doc(`c${i}`) })).status,
        ).toBe(200);
      }
      const tooBig = await api(emu, 'POST', '/api/v1/memories/batch', {
        body: { documents: [doc('x'), doc('y')] },
      });
      expect(tooBig.status).toBe(402);
      expect(tooBig.body.detail).toMatchObject({
        balance_credits: 1,
        minimum_required_credits: 2,
        recovery_url: '/v1/credits/balance',
        redeem_url: '/v1/credits/redeem',
        // The credit gate's newer fields (the SDK reads them from 402s too).
        error: 'insufficient_credits',
        reason: 'overages_disabled',
        manage_url: '/dashboard/billing',
      });
      expect(tooBig.body.code).toBe('INSUFFICIENT_CREDITS');
      expect(tooBig.body.details.balance_credits).toBe(1);
      expect((await api(emu, 'POST', '/api/v1/memories/create', { body: doc('c2') })).status).toBe(
        200,
      );
      const refused = await api(emu, 'POST', '/api/v1/memories/create', { body: doc('c3') });
      expect(refused.status).toBe(402);
      expect(refused.body.detail.balance_credits).toBe(0);
      expect(typeof refused.body.detail.message).toBe('string');
      expect(emu.documents()).toHaveLength(3);
      expect(emu.stats().faults.credit_refusals).toBe(2);
      // Reads still work without credits.
      expect((await api(emu, 'GET', '/api/v1/memories')).status).toBe(200);
    } finally {
      await emu.close();
    }
  });

  it('a latency spike holds a request back by spikeMs', async () => {
    const emu = await startEmulator({ spikeRate: 1, spikeMs: 300 });
    try {
      const started = performance.now();
      const res = await api(emu, 'GET', '/api/v1/auth/whoami');
      expect(res.status).toBe(200);
      expect(performance.now() - started).toBeGreaterThanOrEqual(290);
      expect(emu.stats().faults.spikes).toBe(1);
      emu.setFaults({ spikeRate: 0 });
      await api(emu, 'GET', '/api/v1/auth/whoami');
      expect(emu.stats().faults.spikes).toBe(1);
    } finally {
      await emu.close();
    }
  });

  it("latency and spikes are waited on the emulator's clock: a fake one holds the answer until it moves", async () => {
    const clock = new FakeClock();
    const emu = await startEmulator({ clock, latencyMs: 1000, spikeRate: 1, spikeMs: 60_000 });
    try {
      let answered = false;
      const res = api(emu, 'GET', '/api/v1/auth/whoami').finally(() => (answered = true));
      // Latency is 500 to 1500 ms, then the spike's minute: nothing before 60.5 s on the clock.
      for (let i = 0; i < 20 && clock.pending() === 0; i++)
        await new Promise((r) => setTimeout(r, 5));
      await clock.advance(60_400);
      await new Promise((r) => setTimeout(r, 50));
      expect(answered).toBe(false);
      await clock.advance(1_200);
      expect((await res).status).toBe(200);
      expect(emu.stats().faults.spikes).toBe(1);
    } finally {
      await emu.close();
    }
  });

  it('a 429 storm refuses every API request until it ends, with a Retry-After that covers it', async () => {
    const clock = new FakeClock();
    const emu = await startEmulator({ clock, stormRate: 1, stormMs: 2500 });
    try {
      // The first request sets the storm off and is refused itself; nothing is stored.
      const first = await api(emu, 'POST', '/api/v1/memories/create', { body: doc('storm') });
      expect(first.status).toBe(429);
      expect(first.headers['retry-after']).toBe('3');
      expect(first.body.code).toBe('RATE_LIMITED');
      emu.setFaults({ stormRate: 0 });
      // Still raging 2 s later: Retry-After counts down, and the request was early.
      await clock.advance(2000);
      const during = await api(emu, 'GET', '/api/v1/auth/whoami');
      expect(during.status).toBe(429);
      expect(during.headers['retry-after']).toBe('1');
      expect(emu.stats().early_requests).toBe(1);
      // After the announced Retry-After the service answers again.
      await clock.advance(1000);
      const after = await api(emu, 'POST', '/api/v1/memories/create', { body: doc('calm') });
      expect(after.status).toBe(200);
      const s = emu.stats();
      expect(s.faults).toMatchObject({ storms: 1, storm_refusals: 2 });
      expect(s.rate_limited).toBe(2);
      expect(s.early_requests).toBe(1);
      expect(emu.documents().map((d) => d.document)).toEqual(['calm']);
    } finally {
      await emu.close();
    }
  });

  it('rejects impossible fault settings', async () => {
    await expect(startEmulator({ failRate: 1.5 })).rejects.toThrow(/failRate/);
    await expect(startEmulator({ stormRate: -0.1 })).rejects.toThrow(/stormRate/);
    await expect(startEmulator({ spikeMs: -1 })).rejects.toThrow(/spikeMs/);
  });
});

describe('emulator persistence across a restart (file database)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'synap-emu-persist-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps key, identity, documents, memories and pending ingestions', async () => {
    const db = join(dir, 'nested', 'emulator.db');
    const clock = new FakeClock();
    const first = await startEmulator({ db, clock, processingDelayMs: 1000 });
    const who1 = await api(first, 'GET', '/api/v1/auth/whoami');
    const created = await api(first, 'POST', '/api/v1/memories/batch', {
      body: {
        documents: [
          doc('kept one', { document_id: 'keep-1', user_id: 'u', customer_id: 'c' }),
          doc('kept two'),
        ],
      },
    });
    expect(created.body.succeeded).toBe(2);
    await first.close();

    await clock.advance(1000);
    const second = await startEmulator({ db, clock, processingDelayMs: 1000 });
    try {
      expect(second.apiKey).toBe(first.apiKey);
      expect(second.db).toBe(db);
      const who2 = await api(second, 'GET', '/api/v1/auth/whoami');
      expect(who2.body.client_id).toBe(who1.body.client_id);
      expect(who2.body.instance_id).toBe(who1.body.instance_id);
      expect(second.documents().map((d) => d.document_id)).toContain('keep-1');
      const status = await api(
        second,
        'GET',
        `/api/v1/memories/status/${created.body.results[0].ingestion_id}`,
      );
      expect(status.body.status).toBe('completed');
      const list = await api(second, 'GET', '/api/v1/memories');
      expect(list.body.total).toBe(2);
      expect(list.body.data.map((m: { content: string }) => m.content)).toEqual([
        'kept one',
        'kept two',
      ]);
      const dup = await api(second, 'POST', '/api/v1/memories/create', {
        body: doc('again', { document_id: 'keep-1' }),
      });
      expect(dup.status).toBe(409);
      expect(second.stats().documents_stored).toBe(2);
    } finally {
      await second.close();
    }
  });
});
