import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { creditsSandbox, walletAfterForty } from '../helpers/fixtures/credits.js';
import { runCli, spawnCli } from '../helpers/cli.js';
import { WHOAMI } from '../helpers/scripted-server.js';
import { writeChatFile } from '../helpers/ingest.js';

/**
 * `synap credits` and `synap credits ledger` against the emulator's wallet (--credits), and the
 * credit check before an ingest: the service's estimate for the whole run against the balance,
 * asked before anything is sent.
 */
describe('synap credits, and the credit estimate before an ingest', () => {
  const { sandbox, dir, emulator, run, close } = creditsSandbox(runCli);

  beforeAll(async () => {
    await walletAfterForty({ dir, emulator, run });
  });
  afterAll(close);

  it('Ctrl-C while the estimate is asked: exit 130, nothing sent, no state file', async () => {
    // The estimate is never answered, so the signal lands while the CLI waits for it.
    const seen: string[] = [];
    let asked: () => void = () => undefined;
    const estimateAsked = new Promise<void>((resolve) => (asked = resolve));
    const held = http.createServer((req, res) => {
      seen.push(req.url ?? '');
      if (req.url === '/api/v1/auth/whoami') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(WHOAMI.body));
      } else if (req.url === '/v1/credits/estimate') asked();
      else res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
    try {
      writeChatFile(join(dir, 'held.jsonl'), 5, 'held');
      const child = spawnCli(['ingest', 'held.jsonl'], {
        env: {
          ...sandbox.env,
          SYNAP_API_KEY: 'synap_held000000000000000000000',
          SYNAP_BASE_URL: `http://127.0.0.1:${(held.address() as AddressInfo).port}`,
        },
        cwd: dir,
        timeoutMs: 60_000,
      });
      await estimateAsked;
      child.child.kill('SIGINT');
      const r = await child.done;
      expect(r.code, r.stderr).toBe(130);
      expect(r.stderr).toContain('interrupted before anything was sent');
      expect(seen).toEqual(['/api/v1/auth/whoami', '/v1/credits/estimate']);
      expect(existsSync(join(dir, 'held.jsonl.synap-state.json'))).toBe(false);
    } finally {
      held.closeAllConnections();
      await new Promise<void>((resolve) => held.close(() => resolve()));
    }
  });
});
