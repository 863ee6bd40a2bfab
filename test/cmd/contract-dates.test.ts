import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { makeSandbox } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import {
  startScriptedServer,
  WHOAMI,
  type Reply,
  type ScriptedServer,
} from '../helpers/scripted-server.js';

/**
 * document_created_at against a server written from the SDK's contract: the service's model is
 * the Python SDK's `Optional[datetime]` (pydantic 2), which refuses second 60, hour 24, offsets
 * of a day or more and year 0, and refuses the whole batch when one document is refused. The
 * CLI checks dates the same way first, so one bad date fails its record alone and the batch
 * goes out once, never bisected; what it sends is ISO 8601 with an offset.
 */

/** The model's datetime check, as its documentation states it (written here from the contract). */
function modelAccepts(v: unknown): boolean {
  if (v === null) return true;
  if (typeof v !== 'string') return typeof v === 'number';
  const m =
    /^(\d{4})-(\d{2})-(\d{2})(?:[Tt _](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|z|[+-](\d{2}):?(\d{2}))?)?$/.exec(
      v,
    );
  if (!m) return /^\d+(\.\d+)?$/.test(v);
  const [, y, , , h, , s, , oh] = m;
  return Number(y) > 0 && Number(h ?? 0) < 24 && Number(s ?? 0) < 60 && Number(oh ?? 0) < 24;
}

function contractServer(): (req: { url: string; body: string }) => Reply {
  return (req) => {
    if (req.url === '/api/v1/auth/whoami') return WHOAMI;
    if (req.url.startsWith('/v1/credits/')) return { status: 404, body: { detail: 'Not Found' } };
    const docs = (
      JSON.parse(req.body) as {
        documents: { document_id: string; document_created_at: unknown }[];
      }
    ).documents;
    const bad = docs.findIndex((d) => !modelAccepts(d.document_created_at));
    if (bad >= 0) {
      return {
        status: 422,
        body: {
          detail: [
            {
              type: 'datetime_from_date_parsing',
              loc: ['body', 'documents', bad, 'document_created_at'],
              msg: 'Input should be a valid datetime',
            },
          ],
        },
      };
    }
    return {
      status: 200,
      body: {
        batch_id: '6c1b4f0e-8f7a-4a53-9a0e-1c2d3e4f5a6b',
        total: docs.length,
        succeeded: docs.length,
        failed: 0,
        results: docs.map((d, i) => ({
          ingestion_id: `7d2c5a1f-9e8b-4b64-8b1f-${String(i).padStart(12, '0')}`,
          document_id: d.document_id,
          status: 'queued',
          queued_at: '2026-01-01T00:00:00Z',
        })),
      },
    };
  };
}

describe('document_created_at against a server written from the contract', () => {
  const sandbox = makeSandbox();
  const dir = sandbox.dir;
  const servers: ScriptedServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    sandbox.cleanup();
  });
  const run = (s: ScriptedServer, args: string[]) =>
    runInProcess(args, {
      env: {
        ...sandbox.env,
        SYNAP_API_KEY: 'synap_dates0000000000000000000',
        SYNAP_BASE_URL: s.url,
      },
      cwd: dir,
      timeoutMs: 60_000,
    });

  it('bad dates fail alone before sending; the batch goes once; dates go as ISO 8601 with an offset', async () => {
    const s = await startScriptedServer(contractServer());
    servers.push(s);
    const records = [
      { document: 'User: a', document_id: 'a', document_created_at: '2024-03-15 10:30' },
      { document: 'User: b', document_id: 'b', document_created_at: '2024-03-15T10:30:60Z' },
      { document: 'User: c', document_id: 'c', document_created_at: 1710498600 },
      { document: 'User: d', document_id: 'd', document_created_at: '20240102' },
      { document: 'User: e', document_id: 'e', document_created_at: '2024-07-15' },
      { document: 'User: f', document_id: 'f', document_created_at: '0000-01-01' },
      { document: 'User: g', document_id: 'g', document_created_at: '2024-03-15T10:30:00+24:00' },
      { document: 'User: h', document_id: 'h', document_created_at: 1710498600123 },
      { document: 'User: i', document_id: 'i', document_created_at: '1710498600' },
      { document: 'User: j', document_id: 'j', document_created_at: '1710498600123' },
      { document: 'User: k', document_id: 'k', document_created_at: '2024-03-15T10:30:00-23:59' },
    ];
    writeFileSync(
      join(dir, 'dates.jsonl'),
      records.map((r) => JSON.stringify(r)).join('\n') + '\n',
    );
    const r = await run(s, ['--json', 'ingest', 'dates.jsonl', '--timezone', 'Europe/Berlin']);
    expect(r.code, r.stderr).toBe(3);
    expect(JSON.parse(r.stdout).result).toMatchObject({ accepted: 7, failed: 4 });
    const batches = s.seen.filter((q) => q.url === '/api/v1/memories/batch');
    expect(batches).toHaveLength(1);
    const sent = (
      JSON.parse(batches[0]!.body) as {
        documents: { document_id: string; document_created_at: string }[];
      }
    ).documents.map((d) => [d.document_id, d.document_created_at]);
    expect(sent).toEqual([
      ['a', '2024-03-15T10:30:00+01:00'],
      ['c', '2024-03-15T10:30:00Z'],
      ['e', '2024-07-15T00:00:00+02:00'],
      ['h', '2024-03-15T10:30:00.123Z'],
      ['i', '2024-03-15T10:30:00Z'],
      ['j', '2024-03-15T10:30:00.123Z'],
      ['k', '2024-03-15T10:30:00-23:59'],
    ]);
    const failures = readFileSync(join(dir, 'dates.jsonl.failures.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; error: { code: string; message: string } });
    expect(failures.map((f) => f.line)).toEqual([2, 4, 6, 7]);
    for (const f of failures) expect(f.error.message).toMatch(/^document_created_at /);
    expect(failures[1]!.error.message).toMatch(/bare number of 8 digits/);
  });

  it('the emulator agrees: the same file stores the same dates; it refuses what the model refuses', async () => {
    const emu = await startEmulator({ processingDelayMs: 0 });
    try {
      const r = await runInProcess(
        ['--json', 'ingest', 'dates.jsonl', '--timezone', 'Europe/Berlin', '--resend'],
        {
          env: { ...sandbox.env, SYNAP_API_KEY: emu.apiKey, SYNAP_BASE_URL: emu.url },
          cwd: dir,
          timeoutMs: 60_000,
        },
      );
      expect(r.code, r.stderr).toBe(3);
      expect(JSON.parse(r.stdout).result).toMatchObject({ accepted: 7, failed: 4 });
      expect(
        emu
          .documents()
          .map((d) => [d.document_id, d.document_created_at])
          .sort(),
      ).toEqual([
        ['a', '2024-03-15T10:30:00+01:00'],
        ['c', '2024-03-15T10:30:00Z'],
        ['e', '2024-07-15T00:00:00+02:00'],
        ['h', '2024-03-15T10:30:00.123Z'],
        ['i', '2024-03-15T10:30:00Z'],
        ['j', '2024-03-15T10:30:00.123Z'],
        ['k', '2024-03-15T10:30:00-23:59'],
      ]);
      // Sent as they are, the dates the CLI refuses: the emulator's model refuses the same ones,
      // and reads a bare 8-digit number as seconds since 1970 (why the CLI calls it ambiguous).
      const create = async (value: unknown) => {
        const res = await fetch(`${emu.url}/api/v1/memories/create`, {
          method: 'POST',
          headers: { authorization: `Bearer ${emu.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ document: 'User: raw', document_created_at: value }),
        });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
      for (const refused of [
        '2024-03-15T10:30:60Z',
        '0000-01-01',
        '2024-03-15T10:30:00+24:00',
        '2024-03-15T24:00:00Z',
      ]) {
        expect((await create(refused)).status, refused).toBe(422);
      }
      const bare = await create('20240102');
      expect(bare.status).toBe(200);
      const stored = emu.documents().find((d) => d.document === 'User: raw');
      expect(stored?.document_created_at).toMatch(/^1970-08-23T/);
    } finally {
      await emu.close();
    }
  });

  it('an unknown --timezone is a usage error (exit 2), nothing sent', async () => {
    const s = await startScriptedServer(contractServer());
    servers.push(s);
    const r = await run(s, ['ingest', 'dates.jsonl', '--timezone', 'Mars/Olympus']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('--timezone must be an IANA time zone');
    expect(s.seen).toHaveLength(0);
  });
});
