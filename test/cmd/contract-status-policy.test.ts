import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startEmulator,
  type EmulatorOptions,
  type RunningEmulator,
} from '../../src/emulator/index.js';
import { makeSandbox } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import {
  startScriptedServer,
  WHOAMI,
  type Reply,
  type ScriptedServer,
  type SeenRequest,
} from '../helpers/scripted-server.js';

const UNKNOWN_MEMORY = '00000000-0000-4000-8000-000000000000';
const FORMATS = ['fastapi', 'detail', 'detail-array', 'detail-object', 'error', 'error-object'];
/** Formats whose bodies carry a code (the others only a message or validation issues). */
const CARRIES_CODE = new Set(['fastapi', 'detail-object', 'error', 'error-object']);

/** A batch answer accepting every document of `req`. */
function accepted(req: SeenRequest): Reply {
  const docs = (JSON.parse(req.body) as { documents: { document_id: string | null }[] }).documents;
  return {
    status: 200,
    body: {
      batch_id: '6c1b4f0e-8f7a-4a53-9a0e-1c2d3e4f5a6b',
      total: docs.length,
      succeeded: docs.length,
      failed: 0,
      results: docs.map((d, i) => ({
        ingestion_id: `7d2c5a1f-9e8b-4b64-8b1f-${String(i).padStart(12, '0')}`,
        document_id: d.document_id ?? `doc-${i}`,
        status: 'queued',
        queued_at: '2026-01-01T00:00:00Z',
      })),
    },
  };
}

/** Answers whoami, says there are no credits routes, and leaves batches to `batch`. */
function deployment(batch: (req: SeenRequest, n: number) => Reply) {
  let batches = 0;
  return (req: SeenRequest): Reply => {
    if (req.url === '/api/v1/auth/whoami') return WHOAMI;
    if (req.url.startsWith('/v1/credits/')) return { status: 404, body: { detail: 'Not Found' } };
    if (req.url === '/api/v1/memories/batch') return batch(req, batches++);
    return { status: 404, body: { detail: 'Not Found' } };
  };
}

describe('status policy: what each answer means, and error bodies in every shape', () => {
  const sandbox = makeSandbox();
  const dir = sandbox.dir;
  const closers: (() => Promise<void>)[] = [];
  const run = (baseUrl: string, key: string, args: string[]) =>
    runInProcess(args, {
      env: { ...sandbox.env, SYNAP_API_KEY: key, SYNAP_BASE_URL: baseUrl },
      cwd: dir,
      timeoutMs: 60_000,
    });
  const emulator = async (o: EmulatorOptions) => {
    const emu = await startEmulator({ processingDelayMs: 0, ...o });
    closers.push(() => emu.close());
    return emu;
  };
  const scripted = async (script: Parameters<typeof startScriptedServer>[0]) => {
    const s = await startScriptedServer(script);
    closers.push(() => s.close());
    return s;
  };
  const batchBodies = (s: ScriptedServer) =>
    s.seen.filter((r) => r.url === '/api/v1/memories/batch').map((r) => r.body);

  beforeAll(() => {
    const lines = Array.from({ length: 8 }, (_, i) =>
      JSON.stringify({ document: `User: note ${i}`, document_id: `n${i}` }),
    );
    writeFileSync(join(dir, 'eight.jsonl'), `${lines.join('\n')}\n`);
  });
  afterAll(async () => {
    await Promise.all(closers.map((c) => c()));
    sandbox.cleanup();
  });

  describe.each(FORMATS)('--error-format %s', (format) => {
    let emu: RunningEmulator;
    beforeAll(async () => {
      emu = await emulator({
        errorFormat: format as EmulatorOptions['errorFormat'],
        isolation: 'equals_customer',
      });
    });

    it("a 404 shows the server's message, status and code", async () => {
      const r = await run(emu.url, emu.apiKey, ['memories', 'get', UNKNOWN_MEMORY]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`synap: error: memory ${UNKNOWN_MEMORY} not found (GET `);
      expect(r.stderr).toMatch(/HTTP 404 NOT_FOUND, correlation id: \S+/);
    });

    it("a 400 with the server's own code shows it (or INVALID_INPUT when the body has none)", async () => {
      const r = await run(emu.url, emu.apiKey, [
        '--json',
        'memories',
        'list',
        '--customer-id',
        'acme',
      ]);
      expect(r.code, r.stderr).toBe(1);
      const code = CARRIES_CODE.has(format) ? 'CUSTOMER_ID_NOT_ACCEPTED' : 'INVALID_INPUT';
      expect(r.stderr).toContain('customer_id is not accepted on this instance, which is B2C');
      expect(r.stderr).toContain(`HTTP 400 ${code}`);
      expect(JSON.parse(r.stdout).error).toMatchObject({ code, exit_code: 1 });
    });
  });

  it('401 (emulator, wrong key) and 403 (a deployment refusing the key) exit 4', async () => {
    const emu = await emulator({});
    const wrong = await run(emu.url, 'synap_wrongWRONGwrong0000000000', ['memories', 'list']);
    expect(wrong.code, wrong.stderr).toBe(4);
    expect(wrong.stderr).toContain('HTTP 401 UNAUTHORIZED');

    const forbidding = await scripted(() => ({
      status: 403,
      body: { error: { code: 'FORBIDDEN', message: 'this key lacks memories:read' } },
    }));
    const r = await run(forbidding.url, 'synap_forbidden00000000000000', ['memories', 'list']);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain('this key lacks memories:read');
    expect(r.stderr).toContain('HTTP 403 FORBIDDEN');
    // Refused once: an auth answer is never retried.
    expect(forbidding.seen).toHaveLength(1);
  });

  it('an unknown 4xx is permanent: sent once, never split or resent; the run stops with its message and code', async () => {
    const teapot = await scripted(
      deployment(() => ({
        status: 418,
        body: { error: { code: 'TEAPOT', message: 'I am a teapot' } },
      })),
    );
    const r = await run(teapot.url, 'synap_teapot0000000000000000000', [
      'ingest',
      'eight.jsonl',
      '--restart',
      // Every scripted deployment reports the same instance_id: the ledger must not make a
      // run that is about the retry policy skip records another deployment accepted.
      '--resend',
    ]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('HTTP 418: I am a teapot');
    expect(r.stderr).toContain('HTTP 418 TEAPOT');
    expect(batchBodies(teapot)).toHaveLength(1);
    // Nothing was settled, so there is nothing to resume from: no state is left behind.
    expect(existsSync(join(dir, 'eight.jsonl.synap-state.json'))).toBe(false);
  });

  it('a 413 splits the batch; the same body is never sent twice', async () => {
    const small = await scripted(
      deployment((req) =>
        (JSON.parse(req.body) as { documents: unknown[] }).documents.length > 2
          ? { status: 413, body: { detail: 'Request Entity Too Large' } }
          : accepted(req),
      ),
    );
    const r = await run(small.url, 'synap_small00000000000000000000', [
      '--json',
      'ingest',
      'eight.jsonl',
      '--restart',
      '--resend',
      '--concurrency',
      '1',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).result).toMatchObject({ accepted: 8, failed: 0 });
    const bodies = batchBodies(small);
    // 8 → 4 + 4 → 2 + 2 + 2 + 2: seven requests, each body different.
    expect(bodies).toHaveLength(7);
    expect(new Set(bodies).size).toBe(bodies.length);
  });

  it('a 504 is transient: a batch whose documents all have ids is sent again and lands', async () => {
    const gateway = await scripted(
      deployment((req, n) =>
        n === 0 ? { status: 504, body: { detail: 'Gateway Timeout' } } : accepted(req),
      ),
    );
    const r = await run(gateway.url, 'synap_gateway000000000000000000', [
      '--json',
      'ingest',
      'eight.jsonl',
      '--restart',
      '--resend',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).result).toMatchObject({ accepted: 8, retries: 1 });
    const bodies = batchBodies(gateway);
    expect(bodies).toHaveLength(2);
    expect(bodies[1]).toBe(bodies[0]);
  });

  it('a 503 said nothing was processed: retried even for documents without ids', async () => {
    const busy = await scripted(
      deployment((req, n) =>
        n === 0 ? { status: 503, body: { detail: 'Service Unavailable' } } : accepted(req),
      ),
    );
    writeFileSync(join(dir, 'anonymous.jsonl'), '{"document":"User: a"}\n{"document":"User: b"}\n');
    const r = await run(busy.url, 'synap_busy000000000000000000000', [
      '--json',
      'ingest',
      'anonymous.jsonl',
      '--id-from',
      'none',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).result).toMatchObject({ accepted: 2, failed: 0 });
    expect(batchBodies(busy)).toHaveLength(2);
  });

  it('a 504 on documents without ids is OUTCOME_UNKNOWN: not resent, in the failures file', async () => {
    const gateway = await scripted(
      deployment(() => ({ status: 504, body: { detail: 'Gateway Timeout' } })),
    );
    writeFileSync(join(dir, 'anon504.jsonl'), '{"document":"User: a"}\n{"document":"User: b"}\n');
    const r = await run(gateway.url, 'synap_gateway000000000000000000', [
      'ingest',
      'anon504.jsonl',
      '--id-from',
      'none',
    ]);
    expect(r.code, r.stderr).toBe(3);
    expect(batchBodies(gateway)).toHaveLength(1);
    const failures = readFileSync(join(dir, 'anon504.jsonl.failures.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { error: { code: string; status: number; message: string } });
    expect(failures.map((f) => f.error.code)).toEqual(['OUTCOME_UNKNOWN', 'OUTCOME_UNKNOWN']);
    expect(failures[0]!.error.status).toBe(504);
    expect(failures[0]!.error.message).toMatch(/^outcome unknown: Gateway Timeout/);
  });

  it('a 409 about something else (a compaction running) fails its records with the message: not "already ingested"', async () => {
    const busy = await scripted(
      deployment(() => ({
        status: 409,
        body: {
          detail: {
            code: 'compaction_in_progress',
            message: 'a compaction is already running for this instance',
          },
        },
      })),
    );
    const r = await run(busy.url, 'synap_conflict0000000000000000', [
      '--json',
      'ingest',
      'eight.jsonl',
      '--restart',
    ]);
    expect(r.code, r.stderr).toBe(3);
    expect(JSON.parse(r.stdout).result).toMatchObject({ accepted: 0, skipped: 0, failed: 8 });
    // Not split into halves as a duplicate would be: the conflict is not about a document.
    expect(batchBodies(busy)).toHaveLength(1);
    const failures = readFileSync(join(dir, 'eight.jsonl.failures.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { error: { code: string; status: number; message: string } });
    expect(failures).toHaveLength(8);
    expect(failures[0]!.error).toMatchObject({
      code: 'compaction_in_progress',
      status: 409,
      message: expect.stringContaining('a compaction is already running for this instance'),
    });
  });

  it('a 409 without a code whose message is about a duplicate request, not a document, is not "skipped"', async () => {
    const busy = await scripted(
      deployment(() => ({
        status: 409,
        body: { detail: 'duplicate request: a compaction is already in progress' },
      })),
    );
    const r = await run(busy.url, 'synap_conflict0000000000000000', [
      '--json',
      'ingest',
      'eight.jsonl',
      '--restart',
    ]);
    expect(r.code, r.stderr).toBe(3);
    expect(JSON.parse(r.stdout).result).toMatchObject({ accepted: 0, skipped: 0, failed: 8 });
  });

  it('a failed batch item is "already ingested" only by a duplicate code, or a message saying the document exists', async () => {
    // n1: a duplicate by its code; n2: by its message alone; n3 and n4 fail over something
    // else whose words merely mention a duplicate (a metadata key, a request): not stored.
    const failedItem = (id: string, code: string | null, message: string) => ({
      ingestion_id: null,
      document_id: id,
      status: 'failed',
      queued_at: '2026-01-01T00:00:00Z',
      error_code: code,
      error_message: message,
    });
    const mixed = await scripted(
      deployment((req) => {
        const answer = accepted(req);
        const body = answer.body as { results: Record<string, unknown>[]; failed: number };
        body.results = body.results.map((r) => {
          switch (r.document_id) {
            case 'n1':
              return failedItem('n1', 'DUPLICATE_DOCUMENT', 'refused');
            case 'n2':
              return failedItem('n2', null, 'document_id "n2" was already ingested');
            case 'n3':
              return failedItem('n3', 'INVALID_INPUT', 'metadata has a duplicate key "lang"');
            case 'n4':
              return failedItem('n4', null, 'duplicate request: a compaction is in progress');
            default:
              return r;
          }
        });
        return answer;
      }),
    );
    const r = await run(mixed.url, 'synap_itemdupes0000000000000000', [
      '--json',
      'ingest',
      'eight.jsonl',
      '--restart',
      '--resend',
    ]);
    expect(r.code, r.stderr).toBe(3);
    expect(JSON.parse(r.stdout).result).toMatchObject({ accepted: 4, skipped: 2, failed: 2 });
    const failures = readFileSync(join(dir, 'eight.jsonl.failures.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { record: { document_id: string }; error: { message: string } });
    expect(failures.map((f) => f.record.document_id)).toEqual(['n3', 'n4']);
    expect(failures[0]!.error.message).toContain('metadata has a duplicate key "lang"');
  });

  it('a 409 saying the document exists is "skipped (already ingested)", found by halving the batch', async () => {
    const dup = await scripted(
      deployment((req) => {
        const docs = (JSON.parse(req.body) as { documents: { document_id: string }[] }).documents;
        const seen = docs.find((d) => d.document_id === 'n3');
        return seen
          ? {
              status: 409,
              body: {
                detail: {
                  code: 'DUPLICATE_DOCUMENT',
                  message: 'document_id "n3" was already ingested',
                },
              },
            }
          : accepted(req);
      }),
    );
    const r = await run(dup.url, 'synap_duplicate000000000000000', [
      '--json',
      'ingest',
      'eight.jsonl',
      '--restart',
      '--concurrency',
      '1',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).result).toMatchObject({ accepted: 7, skipped: 1, failed: 0 });
  });
});
