import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreateMemoryRequest } from '../../src/client/types.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { hashDocumentId } from '../../src/ingest/document-id.js';
import { makeSandbox, runCli, spawnCli } from '../helpers/cli.js';
import { writeChatFile } from '../helpers/ingest.js';

const N = 1_200;

/**
 * kill -9 at any moment of an ingest: whatever the ledger holds afterwards, the service holds
 * that document with that very body. The emulator's store is the judge; the ledger is read
 * straight from its SQLite file, as the next run would read it.
 */
describe('the ledger survives kill -9', () => {
  const box = makeSandbox();
  let emu: RunningEmulator;
  let env: Record<string, string>;

  beforeAll(async () => {
    // Latency keeps batches in flight when the kill lands; resets store a batch and drop the
    // answer (accepted by the service, never seen by the client).
    emu = await startEmulator({
      processingDelayMs: 0,
      latencyMs: 20,
      resetRate: 0.05,
      seed: 7,
      tier: 'unlimited',
    });
    env = { ...box.env, SYNAP_API_KEY: emu.apiKey, SYNAP_BASE_URL: emu.url };
  });
  afterAll(async () => {
    await emu.close();
    box.cleanup();
  });

  /** Every (document_id, body hash) the ledger of `stateHome` claims. */
  function claims(stateHome: string): Map<string, string | null> {
    const path = join(stateHome, 'synap', 'ledger.sqlite');
    const out = new Map<string, string | null>();
    if (!existsSync(path)) return out;
    // Opened as the CLI opens it: a process killed while creating the ledger can leave a hot
    // rollback journal, which only a writable connection rolls back (as the next run does).
    const db = new Database(path, { fileMustExist: true });
    try {
      // Killed after creating the file and before its tables: a ledger that claims nothing.
      const tables = db
        .prepare(
          "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'documents'",
        )
        .get() as { n: number };
      if (tables.n === 0) return out;
      const rows = db.prepare('SELECT document_id, body_hash FROM documents').all() as {
        document_id: string;
        body_hash: Buffer | null;
      }[];
      for (const r of rows) out.set(r.document_id, r.body_hash?.toString('hex') ?? null);
    } finally {
      db.close();
    }
    return out;
  }

  /** What the service holds: document_id → hash of the body it stored. */
  function held(): Map<string, string> {
    const out = new Map<string, string>();
    for (const d of emu.documents()) {
      // Scope only when the document has one, as the mapper's request has it.
      const request = {
        document: d.document,
        document_type: d.document_type as CreateMemoryRequest['document_type'],
        document_id: d.document_id,
        document_created_at: d.document_created_at,
        user_id: d.user_id,
        customer_id: d.customer_id,
        mode: d.mode as CreateMemoryRequest['mode'],
        metadata: d.metadata,
        ...(d.scope ? { scope: d.scope } : {}),
      };
      // The file's records bring no id: theirs are made from the body, which they name.
      out.set(
        d.document_id,
        hashDocumentId(request as CreateMemoryRequest).slice('sha256-'.length),
      );
    }
    return out;
  }

  let run = 0;
  it('never claims a document the service did not accept, killed at any moment; the resume completes it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 150, max: 2000 }), async (killAfterMs) => {
        const tag = `lk${++run}`;
        const input = writeChatFile(join(box.dir, `${tag}.jsonl`), N, tag);
        const stateHome = join(box.dir, `state-${tag}`);
        const runEnv = { ...env, XDG_STATE_HOME: stateHome };
        const args = ['ingest', input, '--batch-size', '20', '--concurrency', '4'];
        const child = spawnCli(args, { env: runEnv, cwd: box.dir });
        await new Promise((res) => setTimeout(res, killAfterMs));
        child.child.kill('SIGKILL');
        await child.done;
        const service = held();
        const ledger = claims(stateHome);
        for (const [id, hash] of ledger) {
          expect(service.get(id), `ledger claims ${id}, the service does not hold it`).toBe(hash);
        }
        // The resume finishes; then the ledger holds every record of the input, and a third run
        // sends nothing.
        const resumed = await runCli(['--json', ...args], {
          env: runEnv,
          cwd: box.dir,
          timeoutMs: 60_000,
        });
        expect(resumed.code, resumed.stderr).toBe(0);
        const after = claims(stateHome);
        const mine = [...held()].filter(([id]) => after.has(id));
        expect(after.size).toBe(N);
        for (const [id, hash] of mine) expect(after.get(id)).toBe(hash);
        const third = await runCli(['--json', ...args], { env: runEnv, cwd: box.dir });
        expect(JSON.parse(third.stdout).result).toMatchObject({ sent: 0, unchanged: N });
      }),
      { numRuns: 5, seed: 20 },
    );
  }, 300_000);
});
