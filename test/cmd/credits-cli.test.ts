import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { creditsSandbox, walletAfterForty } from '../helpers/fixtures/credits.js';
import { runInProcess } from '../helpers/in-process.js';
import { startScriptedServer } from '../helpers/scripted-server.js';
import { writeChatFile } from '../helpers/ingest.js';

/**
 * `synap credits` and `synap credits ledger` against the emulator's wallet (--credits), and the
 * credit check before an ingest: the service's estimate for the whole run against the balance,
 * asked before anything is sent.
 */
describe('synap credits, and the credit estimate before an ingest', () => {
  const { dir, emulator, run, close } = creditsSandbox(runInProcess);
  const writes = (emu: RunningEmulator) => emu.stats().requests_by_endpoint.batch ?? 0;
  let wallet: RunningEmulator;

  beforeAll(async () => {
    wallet = await walletAfterForty({ dir, emulator, run });
  });
  afterAll(close);

  it('synap credits: the balance, in a table and as a --json envelope', async () => {
    const r = await run(wallet, ['credits']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/balance:?\s+460 credits/);
    const j = await run(wallet, ['--json', 'credits']);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({
      status: 'ok',
      result: {
        balance_credits: 460,
        warning_low: false,
        client_id: expect.stringMatching(/^cli_/),
      },
    });
    // `credits balance` is the same command.
    expect((await run(wallet, ['--json', 'credits', 'balance'])).stdout).toBe(j.stdout);
  });

  it('synap credits ledger: newest first, paging and filters', async () => {
    const all = JSON.parse((await run(wallet, ['--json', 'credits', 'ledger'])).stdout).result;
    expect(all.total).toBeGreaterThanOrEqual(2);
    expect(all.entries[all.entries.length - 1]).toMatchObject({ entry_type: 'grant', delta: 500 });
    const spent = all.entries
      .filter((e: { entry_type: string }) => e.entry_type === 'usage')
      .reduce((n: number, e: { delta: number }) => n + e.delta, 0);
    expect(spent).toBe(-40);

    const usage = await run(wallet, ['--json', 'credits', 'ledger', '--entry-type', 'usage']);
    expect(
      JSON.parse(usage.stdout).result.entries.every(
        (e: { entry_type: string }) => e.entry_type === 'usage',
      ),
    ).toBe(true);
    const second = await run(wallet, [
      '--json',
      'credits',
      'ledger',
      '--limit',
      '1',
      '--offset',
      '1',
    ]);
    expect(JSON.parse(second.stdout).result).toMatchObject({
      limit: 1,
      offset: 1,
      entries: [all.entries[1]],
    });
    const future = await run(wallet, ['--json', 'credits', 'ledger', '--from', '2999-01-01']);
    expect(JSON.parse(future.stdout).result).toMatchObject({ total: 0, entries: [] });
    const everything = await run(wallet, ['--json', 'credits', 'ledger', '--all', '--limit', '1']);
    expect(JSON.parse(everything.stdout).result.entries).toEqual(all.entries);

    const human = await run(wallet, ['credits', 'ledger', '--limit', '1']);
    expect(human.code).toBe(0);
    expect(human.stderr).toMatch(/entries 1-1 of \d+; next: --offset 1/);

    const bad = await run(wallet, ['credits', 'ledger', '--from', 'yesterday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--from must be an ISO-8601 date');
  });

  it('an estimate above the balance stops the ingest before anything is sent: exit 6', async () => {
    const poor = await emulator({ credits: 50 });
    writeChatFile(join(dir, 'big.jsonl'), 200, 'big');
    const r = await run(poor, ['ingest', 'big.jsonl']);
    expect(r.code, r.stderr).toBe(6);
    // The estimate (at most 200: the ledger might hold some) exceeds the balance, so the
    // records that would be sent are counted before the run is refused.
    expect(r.stderr).toContain('synap: estimate 200 credits for 200 documents; balance 50');
    expect(r.stderr).toMatch(
      /this run would spend 200 credits \(200 documents\) and the balance is 50: nothing was sent/,
    );
    expect(r.stderr).toContain('--yes');
    expect(writes(poor)).toBe(0);
    expect(existsSync(join(dir, 'big.jsonl.synap-state.json'))).toBe(false);
    const stats = poor.stats().requests_by_endpoint;
    expect(stats.credits_estimate).toBe(1);
    expect(stats.credits_balance).toBe(1);

    const j = await run(poor, ['--json', 'ingest', 'big.jsonl']);
    expect(j.code).toBe(6);
    expect(JSON.parse(j.stdout).error).toMatchObject({
      code: 'ESTIMATE_EXCEEDS_BALANCE',
      exit_code: 6,
    });

    // --yes goes anyway, and stops (exit 6, resumable) where the wallet runs dry.
    const anyway = await run(poor, ['ingest', 'big.jsonl', '--yes', '--batch-size', '10']);
    expect(anyway.code, anyway.stderr).toBe(6);
    expect(poor.documents()).toHaveLength(50);
    expect(existsSync(join(dir, 'big.jsonl.synap-state.json'))).toBe(true);
  });

  it('a resumed run asks only for what is left', async () => {
    const emu = await emulator({ credits: 30 });
    writeChatFile(join(dir, 'rest.jsonl'), 100, 'rest');
    const args = ['ingest', 'rest.jsonl', '--batch-size', '10', '--concurrency', '1'];
    const stopped = await run(emu, [...args, '--yes']);
    expect(stopped.code, stopped.stderr).toBe(6);
    emu.setFaults({ credits: 1000 });
    const resumed = await run(emu, ['--json', ...args]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const s = JSON.parse(resumed.stdout).result;
    expect(s.resumed_past).toBe(30);
    expect(s.credits).toEqual({
      documents: 70,
      exact: false,
      at_most: true,
      estimate: 70,
      balance: 970,
      note: null,
    });
  });

  it('--dry-run prints the estimate for exactly the records it would send', async () => {
    const emu = await emulator({ credits: 1000 });
    writeChatFile(join(dir, 'dry.jsonl'), 25, 'dry');
    const r = await run(emu, ['ingest', 'dry.jsonl', '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/credits:?\s+estimate 25 credits for 25 documents; balance 1,?000/);
    const j = await run(emu, ['--json', 'ingest', 'dry.jsonl', '--dry-run']);
    expect(JSON.parse(j.stdout).result.credits).toEqual({
      documents: 25,
      exact: true,
      estimate: 25,
      balance: 1000,
      note: null,
    });
    expect(writes(emu)).toBe(0);
  });

  it('where the credits routes answer 404 it says so once and goes on', async () => {
    const emu = await emulator({ absentRoutes: ['credits'] });
    writeChatFile(join(dir, 'nocredits.jsonl'), 30, 'nocredits');
    const r = await run(emu, ['ingest', 'nocredits.jsonl']);
    expect(r.code, r.stderr).toBe(0);
    const notes = r.stderr.split('\n').filter((l) => l.includes('no credits endpoint'));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(
      /warning: this deployment has no credits endpoint \(\/v1\/credits\/estimate\): no credit estimate/,
    );
    expect(emu.documents()).toHaveLength(30);
    const c = await run(emu, ['credits']);
    expect(c.code).toBe(1);
    expect(c.stderr).toBe(
      'synap: error: this deployment has no credits endpoint (/v1/credits/balance)\n',
    );
  });

  it('a key refused by the credits routes alone (403) is a note, not a stop', async () => {
    const emu = await emulator({});
    const gate = await startScriptedServer(
      (req) =>
        req.url.startsWith('/v1/credits/')
          ? { status: 403, body: { detail: 'missing credits:read' } }
          : undefined,
      emu.url,
    );
    writeChatFile(join(dir, 'gated.jsonl'), 5, 'gated');
    const r = await run({ url: gate.url, apiKey: emu.apiKey }, ['ingest', 'gated.jsonl']);
    await gate.close();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: no credit estimate: missing credits:read/);
    expect(emu.documents()).toHaveLength(5);
  });
});
