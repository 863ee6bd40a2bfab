import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { creditsSandbox } from '../helpers/fixtures/credits.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { runInProcess, runOnClock } from '../helpers/in-process.js';
import { storedOnce, writeChatFile } from '../helpers/ingest.js';
import { startScriptedServer, WHOAMI } from '../helpers/scripted-server.js';

/**
 * Credit stops arrive as 429s that are not rate limits (trial_limit_reached,
 * subscription_inactive): the run stops at once (exit 6), says why and where to go, keeps its
 * state, and a re-run once the account has credits resumes without storing anything twice. A
 * 402 is the same kind of stop, with its own fields.
 */
describe('credit stops and 402: stop at once, exit 6, resumable', () => {
  const { sandbox, dir, emulator, run, close } = creditsSandbox(runInProcess);
  const batches = (emu: RunningEmulator) => emu.stats().requests_by_endpoint_status.batch ?? {};
  afterAll(close);

  it('trial_limit_reached (in detail): one refused batch, no waiting, exit 6 with the upgrade URL; a re-run resumes', async () => {
    const emu = await emulator({ credits: 30, creditStop: 'trial_limit_reached' });
    writeChatFile(join(dir, 'trial.jsonl'), 100, 'trial');
    const args = ['ingest', 'trial.jsonl', '--batch-size', '10', '--concurrency', '1', '--yes'];
    const started = Date.now();
    const r = await run(emu, args);
    expect(r.code, r.stderr).toBe(6);
    // Its Retry-After (an hour) is not waited out: it is not a rate limit.
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(batches(emu)).toEqual({ '200': 3, '429': 1 });
    expect(r.stderr).toMatch(/error: Your trial credits are spent\. \(trial_limit_reached\)/);
    expect(r.stderr).toContain('HTTP 429 TRIAL_LIMIT_REACHED');
    expect(r.stderr).toContain('Upgrade: /dashboard/billing');
    expect(r.stderr).toMatch(/progress is saved in trial\.jsonl\.synap-state\.json/);
    expect(existsSync(join(dir, 'trial.jsonl.synap-state.json'))).toBe(true);
    expect(existsSync(join(dir, 'trial.jsonl.failures.jsonl'))).toBe(false);

    emu.setFaults({ credits: 1000, creditStop: undefined });
    const again = await run(emu, ['--json', ...args]);
    expect(again.code, again.stderr).toBe(0);
    // The summary covers the whole input: the 30 accepted before the stop count too.
    expect(JSON.parse(again.stdout).result).toMatchObject({
      resumed_past: 30,
      accepted: 100,
      earlier_runs: { accepted: 30 },
    });
    expect(storedOnce(emu.documents())).toEqual({ distinct: 100, duplicates: 0 });
  });

  it('subscription_inactive at the top level (--error-format error): exit 6, the manage URL, --json code', async () => {
    const emu = await emulator({ creditStop: 'subscription_inactive', errorFormat: 'error' });
    writeChatFile(join(dir, 'lapsed.jsonl'), 20, 'lapsed');
    const r = await run(emu, ['--json', 'ingest', 'lapsed.jsonl', '--concurrency', '1']);
    expect(r.code, r.stderr).toBe(6);
    expect(batches(emu)).toEqual({ '429': 1 });
    expect(r.stderr).toMatch(/Your subscription is not active\. \(subscription_inactive\)/);
    expect(r.stderr).toContain('Manage the plan: /dashboard/billing');
    expect(JSON.parse(r.stdout).error).toMatchObject({
      code: 'SUBSCRIPTION_INACTIVE',
      exit_code: 6,
    });
    // Nothing was settled, so there is nothing to resume from: no state is left behind.
    expect(existsSync(join(dir, 'lapsed.jsonl.synap-state.json'))).toBe(false);
  });

  it('a 402 mid-run: exit 6 with its reason and URLs, state kept, nothing stored twice on resume', async () => {
    const emu = await emulator({ credits: 25 });
    writeChatFile(join(dir, 'spent.jsonl'), 60, 'spent');
    const args = ['ingest', 'spent.jsonl', '--batch-size', '10', '--concurrency', '1', '--yes'];
    const r = await run(emu, args);
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr).toMatch(/\(overages_disabled\) \(POST \/api\/v1\/memories\/batch\)/);
    expect(r.stderr).toContain('HTTP 402 INSUFFICIENT_CREDITS');
    expect(r.stderr).toContain('Manage the plan: /dashboard/billing');
    expect(r.stderr).toContain('Redeem a credit code: /v1/credits/redeem');
    // 402 is never retried: the refused batch went once.
    expect(batches(emu)['402']).toBe(1);
    emu.setFaults({ credits: 1000 });
    const again = await run(emu, args);
    expect(again.code, again.stderr).toBe(0);
    expect(storedOnce(emu.documents())).toEqual({ distinct: 60, duplicates: 0 });
  });

  it('insufficient_credits in a 429 (the SDK credit gate): a credit stop, exit 6, not waited out', async () => {
    const emu = await emulator({ creditStop: 'insufficient_credits' });
    writeChatFile(join(dir, 'broke.jsonl'), 20, 'broke');
    const started = Date.now();
    const r = await run(emu, ['--json', 'ingest', 'broke.jsonl', '--concurrency', '1']);
    expect(r.code, r.stderr).toBe(6);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(batches(emu)).toEqual({ '429': 1 });
    expect(r.stderr).toMatch(/\(insufficient_credits\)/);
    expect(JSON.parse(r.stdout).error).toMatchObject({
      code: 'INSUFFICIENT_CREDITS',
      exit_code: 6,
    });
  });

  it('insufficient_credits at the top level of a 429 from a server written from the contract: exit 6, one request', async () => {
    const server = await startScriptedServer((req) => {
      if (req.url === '/api/v1/auth/whoami') return WHOAMI;
      if (req.url.startsWith('/v1/credits/')) return { status: 404, body: { detail: 'Not Found' } };
      return {
        status: 429,
        headers: { 'Retry-After': '120' },
        body: { error: 'insufficient_credits', message: 'Out of credits.', balance_credits: 0 },
      };
    });
    try {
      writeChatFile(join(dir, 'broke2.jsonl'), 5, 'broke2');
      const r = await runInProcess(['ingest', 'broke2.jsonl'], {
        env: {
          ...sandbox.env,
          SYNAP_API_KEY: 'synap_brokeKey0000000000000000',
          SYNAP_BASE_URL: server.url,
        },
        cwd: dir,
        timeoutMs: 60_000,
      });
      expect(r.code, r.stderr).toBe(6);
      expect(r.stderr).toContain('Out of credits. (insufficient_credits)');
      expect(server.seen.filter((s) => s.url === '/api/v1/memories/batch')).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('an ordinary 429 is still waited out (no credit fields, a rate limit)', async () => {
    // No rate headers, so the client cannot pace ahead of the limit and meets its 429s; the
    // limit and the run's waits on one fake clock, so the second-long pauses pass at once.
    const clock = new FakeClock(Date.now());
    const emu = await emulator({ rpm: 60, burst: 2, rateHeaders: false, clock });
    writeChatFile(join(dir, 'paced.jsonl'), 4, 'paced');
    const r = await runOnClock(
      ['ingest', 'paced.jsonl', '--batch-size', '1', '--concurrency', '4'],
      {
        env: { ...sandbox.env, SYNAP_API_KEY: emu.apiKey, SYNAP_BASE_URL: emu.url },
        cwd: dir,
        clock,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(emu.stats().rate_limited).toBeGreaterThan(0);
    expect(emu.documents()).toHaveLength(4);
  });
});
