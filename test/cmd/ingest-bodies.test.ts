import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SynapClient } from '../../src/client/client.js';
import { makeSandbox } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';

// What the CLI puts on the wire for create/batch, captured by a small server that answers the
// way the official SDK's contract says (synap-api.md §5.1, §5.2, §10) and refuses what that
// contract refuses. Everything it checks is written out here from the contract, not imported
// from the code under test.

const SDK_KEYS = [
  'document',
  'document_type',
  'document_id',
  'document_created_at',
  'user_id',
  'customer_id',
  'scope',
  'mode',
  'metadata',
];
const DOCUMENT_TYPES = [
  'ai-chat-conversation',
  'document',
  'email',
  'pdf',
  'image',
  'audio',
  'meeting-transcript',
];
const MODES = ['fast', 'long-range'];

type Doc = Record<string, unknown>;

/** Why the contract refuses a document, or undefined (a FastAPI-style 422 item). */
function contractProblem(d: Doc, i: number): { loc: unknown[]; msg: string } | undefined {
  const loc = (f: string) => ['body', 'documents', i, f];
  if (typeof d.document !== 'string' || d.document === '')
    return { loc: loc('document'), msg: 'field required' };
  for (const f of ['document_type', 'mode', 'metadata'])
    if (d[f] === null || d[f] === undefined)
      return { loc: loc(f), msg: 'none is not an allowed value' };
  if (!DOCUMENT_TYPES.includes(d.document_type as string))
    return { loc: loc('document_type'), msg: 'value is not a valid enumeration member' };
  if (!MODES.includes(d.mode as string))
    return { loc: loc('mode'), msg: 'value is not a valid enumeration member' };
  if (typeof d.metadata !== 'object' || Array.isArray(d.metadata))
    return { loc: loc('metadata'), msg: 'value is not a valid dict' };
  if (d.scope !== null && d.scope !== undefined) {
    const s = d.scope as Record<string, unknown>;
    if (typeof s !== 'object' || Array.isArray(s) || Object.keys(s).length === 0)
      return { loc: loc('scope'), msg: 'an empty scope path is an error' };
  }
  return undefined;
}

interface Capture {
  url: string;
  bodies: { path: string; text: string }[];
  close(): Promise<void>;
}

async function startCaptureServer(): Promise<Capture> {
  const bodies: { path: string; text: string }[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (text += d));
    req.on('end', () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method === 'POST' && req.url === '/api/v1/memories/create') {
        bodies.push({ path: req.url, text });
        const d = JSON.parse(text) as Doc;
        const problem = contractProblem(d, 0);
        if (problem) {
          send(422, { detail: [{ ...problem, loc: ['body', problem.loc[3]] }] });
          return;
        }
        send(200, {
          ingestion_id: randomUUID(),
          document_id: d.document_id ?? randomUUID(),
          status: 'queued',
          queued_at: new Date().toISOString(),
        });
        return;
      }
      if (req.method !== 'POST' || req.url !== '/api/v1/memories/batch') {
        send(404, { detail: 'Not Found' });
        return;
      }
      bodies.push({ path: req.url, text });
      const body = JSON.parse(text) as { documents: Doc[]; fail_fast: boolean };
      const problems = body.documents
        .map((d, i) => contractProblem(d, i))
        .filter((p) => p !== undefined);
      if (problems.length > 0) {
        send(422, { detail: problems });
        return;
      }
      const now = new Date().toISOString();
      send(200, {
        batch_id: randomUUID(),
        total: body.documents.length,
        succeeded: body.documents.length,
        failed: 0,
        results: body.documents.map((d) => ({
          ingestion_id: randomUUID(),
          document_id: d.document_id ?? randomUUID(),
          status: 'queued',
          queued_at: now,
        })),
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bodies,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Every document the CLI sent, in order, parsed; also checks the batch envelope. */
function sentDocuments(cap: Capture, from: number): Doc[] {
  const docs: Doc[] = [];
  for (const b of cap.bodies.slice(from).filter((x) => x.path === '/api/v1/memories/batch')) {
    const body = JSON.parse(b.text) as { documents: Doc[]; fail_fast: unknown };
    expect(Object.keys(body)).toEqual(['documents', 'fail_fast']);
    expect(body.fail_fast).toBe(false);
    docs.push(...body.documents);
  }
  return docs;
}

/** Key by key against §10: names, order, JSON types, allowed values. */
function expectContractShape(d: Doc): void {
  expect(Object.keys(d)).toEqual(SDK_KEYS);
  expect(typeof d.document).toBe('string');
  expect(DOCUMENT_TYPES).toContain(d.document_type);
  expect(MODES).toContain(d.mode);
  for (const f of ['document_id', 'document_created_at', 'user_id', 'customer_id'])
    expect(d[f] === null || typeof d[f] === 'string', f).toBe(true);
  expect(d.metadata !== null && typeof d.metadata === 'object' && !Array.isArray(d.metadata)).toBe(
    true,
  );
  if (d.scope !== null) {
    expect(typeof d.scope).toBe('object');
    const entries = Object.entries(d.scope as object);
    expect(entries.length).toBeGreaterThan(0);
    for (const [, v] of entries) expect(typeof v).toBe('string');
  }
}

describe('request bodies: what the CLI sends is the SDK contract, key by key', () => {
  const sandbox = makeSandbox();
  let cap: Capture;
  let env: Record<string, string>;
  const dir = sandbox.dir;
  const run = (args: string[]) => runInProcess(args, { env, cwd: dir, timeoutMs: 60_000 });

  beforeAll(async () => {
    cap = await startCaptureServer();
    env = { ...sandbox.env, SYNAP_API_KEY: 'synap_capture_test_key_0000', SYNAP_BASE_URL: cap.url };
  });
  afterAll(async () => {
    await cap.close();
    sandbox.cleanup();
  });

  it('a JSONL record: defaults for type and mode, nulls for the rest, a hash id', async () => {
    writeFileSync(
      join(dir, 'chat.jsonl'),
      `${JSON.stringify({ document: 'User: hi', user_id: 'u1', document_created_at: '2024-03-15T10:30:00Z' })}\n`,
    );
    const from = cap.bodies.length;
    const r = await run(['ingest', 'chat.jsonl']);
    expect(r.code, r.stderr).toBe(0);
    const [d, ...rest] = sentDocuments(cap, from);
    expect(rest).toEqual([]);
    expectContractShape(d!);
    expect(d).toEqual({
      document: 'User: hi',
      document_type: 'ai-chat-conversation',
      document_id: expect.stringMatching(/^sha256-[0-9a-f]{40}$/),
      document_created_at: '2024-03-15T10:30:00Z',
      user_id: 'u1',
      customer_id: null,
      scope: null,
      mode: 'long-range',
      metadata: {},
    });
    // The id the earlier releases gave this request when type and mode were named in it.
    expect(d!.document_id).toBe('sha256-7fe78d4131e18fe98682a48e706d6aed7d1c1c87');
  });

  it('a CSV row: flag defaults win over the SDK defaults, other columns go to metadata', async () => {
    writeFileSync(
      join(dir, 'tickets.csv'),
      'id,document,customer_id,priority\nT-1,"Printer on fire, again",acme,high\n',
    );
    const from = cap.bodies.length;
    const r = await run([
      'ingest',
      'tickets.csv',
      '--map',
      'document_id=id',
      '--document-type',
      'email',
      '--mode',
      'fast',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const [d] = sentDocuments(cap, from);
    expectContractShape(d!);
    expect(d).toEqual({
      document: 'Printer on fire, again',
      document_type: 'email',
      document_id: 'T-1',
      document_created_at: null,
      user_id: null,
      customer_id: 'acme',
      scope: null,
      mode: 'fast',
      metadata: { priority: 'high' },
    });
  });

  it('an export line: content back to document, ids and time kept, the rest under metadata', async () => {
    const memory = {
      memory_id: 'mem-0001',
      memory_type: 'fact',
      content: 'Dana prefers email',
      confidence: 0.92,
      created_at: '2024-02-02T08:45:30Z',
      user_id: 'dana',
    };
    writeFileSync(join(dir, 'backup.jsonl'), `${JSON.stringify(memory)}\n`);
    const from = cap.bodies.length;
    const r = await run(['ingest', 'backup.jsonl']);
    expect(r.code, r.stderr).toBe(0);
    const [d] = sentDocuments(cap, from);
    expectContractShape(d!);
    expect(d).toEqual({
      document: 'Dana prefers email',
      document_type: 'ai-chat-conversation',
      document_id: 'mem-0001',
      document_created_at: '2024-02-02T08:45:30Z',
      user_id: 'dana',
      customer_id: null,
      scope: null,
      mode: 'long-range',
      metadata: {
        synap_export: {
          memory_id: 'mem-0001',
          memory_type: 'fact',
          confidence: 0.92,
          created_at: '2024-02-02T08:45:30Z',
        },
      },
    });
  });

  it('--scope for the run, a scope field per record; never {}', async () => {
    writeFileSync(
      join(dir, 'scoped.jsonl'),
      [
        { document: 'run scope', document_id: 's1' },
        { document: 'own scope', document_id: 's2', scope: { customer: 'zeta', user: 'ann' } },
        { document: 'empty scope', document_id: 's3', scope: {} },
      ]
        .map((x) => JSON.stringify(x))
        .join('\n'),
    );
    const from = cap.bodies.length;
    const r = await run([
      'ingest',
      'scoped.jsonl',
      '--scope',
      'customer=acme,team=payments,user=dana',
    ]);
    // The record with {} fails alone, before anything is sent.
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/scoped\.jsonl:3 INVALID_INPUT/);
    const docs = sentDocuments(cap, from);
    for (const d of docs) expectContractShape(d);
    expect(docs.map((d) => [d.document_id, d.scope])).toEqual([
      ['s1', { customer: 'acme', team: 'payments', user: 'dana' }],
      ['s2', { customer: 'zeta', user: 'ann' }],
    ]);
    expect(Object.keys(docs[0]!.scope as object)).toEqual(['customer', 'team', 'user']);

    const badFlag = await run(['ingest', 'scoped.jsonl', '--scope', 'customer', '--restart']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/--scope/);
  });

  it('a single create (the client the CLI ships): the same body, key by key', async () => {
    const client = new SynapClient({ baseUrl: cap.url, apiKey: 'synap_capture_test_key_0000' });
    const from = cap.bodies.length;
    await client.create({
      document: 'User: one alone',
      user_id: 'u9',
      scope: { customer: 'acme', user: 'u9' },
    });
    await client.create({ document: 'User: typed', document_type: 'email', mode: 'fast' });
    const sent = cap.bodies.slice(from);
    expect(sent.map((b) => b.path)).toEqual(['/api/v1/memories/create', '/api/v1/memories/create']);
    const [first, second] = sent.map((b) => JSON.parse(b.text) as Doc);
    expectContractShape(first!);
    expectContractShape(second!);
    expect(first).toEqual({
      document: 'User: one alone',
      document_type: 'ai-chat-conversation',
      document_id: null,
      document_created_at: null,
      user_id: 'u9',
      customer_id: null,
      scope: { customer: 'acme', user: 'u9' },
      mode: 'long-range',
      metadata: {},
    });
    expect(second).toMatchObject({ document_type: 'email', mode: 'fast', scope: null });
    // A bad enum never reaches the wire.
    const bad = await client
      .create({ document: 'x', mode: 'slow' as never })
      .catch((e: unknown) => e as Error);
    expect((bad as Error).message).toMatch(/mode "slow" is not one of fast, long-range/);
    expect(cap.bodies.length).toBe(from + 2);
  });
});
