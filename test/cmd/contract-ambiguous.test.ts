import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import { storedOnce, writeChatFile } from '../helpers/ingest.js';

const N = 300;
const BATCH = 10;

/**
 * Batch creates are not idempotent: after a reset that lost the answer (the emulator's
 * --reset-rate stores the batch, then drops the connection) a resend can store and bill twice.
 * Default (--on-ambiguous retry): resent only when every document has a document_id, and the
 * repeat comes back "already ingested". --on-ambiguous fail, or documents without ids: never
 * resent; those records go to the failures file as OUTCOME_UNKNOWN.
 */
describe('ambiguous failures (--reset-rate): nothing stored twice, nothing lost', () => {
  const sandbox = makeSandbox();
  const dir = sandbox.dir;
  const running: RunningEmulator[] = [];
  afterAll(async () => {
    await Promise.all(running.map((e) => e.close()));
    sandbox.cleanup();
  });

  async function ingestWithResets(tag: string, extra: string[]) {
    const emu = await startEmulator({ processingDelayMs: 0, resetRate: 0.2, seed: 5 });
    running.push(emu);
    const input = writeChatFile(join(dir, `${tag}.jsonl`), N, tag);
    const r = await runInProcess(
      ['--json', 'ingest', `${tag}.jsonl`, '--batch-size', String(BATCH), ...extra],
      {
        env: { ...sandbox.env, SYNAP_API_KEY: emu.apiKey, SYNAP_BASE_URL: emu.url },
        cwd: dir,
        timeoutMs: 90_000,
      },
    );
    const failuresPath = `${input}.failures.jsonl`;
    const failures = existsSync(failuresPath)
      ? readFileSync(failuresPath, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { error: { code: string; message: string } })
      : [];
    const stats = emu.stats();
    return {
      r,
      emu,
      failures,
      // Resets of whoami or the credit estimate are retried (they are reads): only batches count.
      resets: stats.requests_by_endpoint_status.batch?.reset ?? 0,
      batches: stats.requests_by_endpoint.batch ?? 0,
    };
  }

  it('retry (default), documents with ids: every reset batch is resent and comes back skipped', async () => {
    const { r, emu, failures, resets } = await ingestWithResets('retry', []);
    expect(resets).toBeGreaterThan(0);
    expect(r.code, r.stderr).toBe(0);
    expect(failures).toEqual([]);
    const s = JSON.parse(r.stdout).result;
    expect(s.accepted + s.skipped).toBe(N);
    expect(s.skipped).toBeGreaterThan(0);
    expect(storedOnce(emu.documents())).toEqual({ distinct: N, duplicates: 0 });
  });

  it('fail: a reset batch is never resent; its records are OUTCOME_UNKNOWN (and were stored once)', async () => {
    const { r, emu, failures, resets, batches } = await ingestWithResets('fail', [
      '--on-ambiguous',
      'fail',
    ]);
    expect(resets).toBeGreaterThan(0);
    expect(r.code, r.stderr).toBe(3);
    // One request per batch: nothing was sent twice.
    expect(batches).toBe(N / BATCH);
    expect(failures).toHaveLength(resets * BATCH);
    for (const f of failures) {
      expect(f.error.code).toBe('OUTCOME_UNKNOWN');
      expect(f.error.message).toMatch(/not sent again \(--on-ambiguous fail\)/);
    }
    expect(JSON.parse(r.stdout).result.outcome_unknown).toEqual({
      records: resets * BATCH,
      without_document_id: 0,
    });
    // The reset batches were stored before the connection dropped: all there, once each.
    expect(storedOnce(emu.documents())).toEqual({ distinct: N, duplicates: 0 });
    // Sending the failures file again is safe: the same ids come back as already ingested.
    const again = await runInProcess(['--json', 'ingest', 'fail.jsonl.failures.jsonl'], {
      env: { ...sandbox.env, SYNAP_API_KEY: emu.apiKey, SYNAP_BASE_URL: emu.url },
      cwd: dir,
      timeoutMs: 60_000,
    });
    expect([0, 3]).toContain(again.code);
    expect(storedOnce(emu.documents())).toEqual({ distinct: N, duplicates: 0 });
  });

  it('retry, documents without ids (--id-from none): not resent either, OUTCOME_UNKNOWN', async () => {
    const { r, emu, failures, resets, batches } = await ingestWithResets('noids', [
      '--id-from',
      'none',
    ]);
    expect(resets).toBeGreaterThan(0);
    expect(r.code, r.stderr).toBe(3);
    expect(batches).toBe(N / BATCH);
    expect(failures).toHaveLength(resets * BATCH);
    for (const f of failures) {
      expect(f.error.code).toBe('OUTCOME_UNKNOWN');
      expect(f.error.message).toMatch(/has no document_id, so the batch was not sent again/);
    }
    // The summary counts them apart, as maybe stored, none of them with an id to resend safely.
    expect(JSON.parse(r.stdout).result.outcome_unknown).toEqual({
      records: resets * BATCH,
      without_document_id: resets * BATCH,
    });
    expect(storedOnce(emu.documents())).toEqual({ distinct: N, duplicates: 0 });
  });
});
