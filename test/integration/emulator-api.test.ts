import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { api, doc } from '../helpers/emulator.js';
import { FakeClock } from '../helpers/fake-clock.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('emulator endpoints', () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startEmulator();
  });
  afterAll(() => emu.close());

  it('answers /health without a key', async () => {
    const res = await api(emu, 'GET', '/health', { key: null });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
  });

  it('whoami returns client and instance ids in the service formats', async () => {
    const res = await api(emu, 'GET', '/api/v1/auth/whoami');
    expect(res.status).toBe(200);
    expect(res.body.client_id).toMatch(/^cli_[0-9a-f]{16}$/);
    expect(res.body.instance_id).toMatch(/^inst_[0-9a-f]{16}$/);
    expect(emu.apiKey).toMatch(/^synap_[A-Za-z0-9]{40,}$/);
  });

  it('401 on every memory endpoint without a valid key', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    const calls: [string, string][] = [
      ['GET', '/api/v1/auth/whoami'],
      ['POST', '/api/v1/memories/create'],
      ['POST', '/api/v1/memories/batch'],
      ['GET', `/api/v1/memories/status/${id}`],
      ['GET', `/api/v1/memories/${id}`],
      ['PATCH', `/api/v1/memories/${id}`],
      ['DELETE', `/api/v1/memories/${id}`],
      ['GET', '/api/v1/memories'],
    ];
    for (const [method, path] of calls) {
      for (const key of [null, 'synap_wrong', '']) {
        const res = await api(emu, method, path, { key, body: doc('x') });
        expect(res.status, `${method} ${path} key=${key}`).toBe(401);
        expect(res.body.code).toBe('UNAUTHORIZED');
        expect(typeof res.body.detail).toBe('string');
        expect(res.body.correlation_id).toMatch(/^req_/);
      }
    }
  });

  it('echoes X-Correlation-ID or mints req_<uuid>', async () => {
    const echoed = await api(emu, 'GET', '/api/v1/auth/whoami', {
      headers: { 'X-Correlation-ID': 'syn_inst_0_1795882095207_2b7804' },
    });
    expect(echoed.headers['x-correlation-id']).toBe('syn_inst_0_1795882095207_2b7804');
    const minted = await api(emu, 'GET', '/api/v1/memories/create');
    expect(minted.headers['x-correlation-id']).toMatch(
      /^req_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    expect(minted.body.correlation_id).toBe(minted.headers['x-correlation-id']);
  });

  it('create → status → get → update → delete round trip', async () => {
    const created = await api(emu, 'POST', '/api/v1/memories/create', {
      body: doc('User: my dog is called Rex\nAssistant: noted', {
        document_id: 'rt-1',
        user_id: 'u-rt',
        customer_id: 'c-rt',
        document_created_at: '2024-03-15T10:30:00Z',
        metadata: { source: 'test' },
      }),
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ document_id: 'rt-1', status: 'completed' });
    expect(created.body.ingestion_id).toMatch(UUID);
    expect(Number.isNaN(Date.parse(created.body.queued_at))).toBe(false);

    const status = await api(emu, 'GET', `/api/v1/memories/status/${created.body.ingestion_id}`);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      status: 'completed',
      memories_created: 1,
      error_message: null,
    });
    expect(status.body.memory_ids).toHaveLength(1);
    const memoryId = status.body.memory_ids[0] as string;

    const got = await api(emu, 'GET', `/api/v1/memories/${memoryId}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({
      memory_id: memoryId,
      content: 'User: my dog is called Rex\nAssistant: noted',
      source_document_id: 'rt-1',
      user_id: 'u-rt',
    });
    expect(typeof got.body.confidence).toBe('number');
    expect(typeof got.body.memory_type).toBe('string');

    const appended = await api(emu, 'PATCH', `/api/v1/memories/${memoryId}`, {
      body: { document: 'He is 3.', merge_strategy: 'append', metadata: { extra: 1 } },
    });
    expect(appended.status).toBe(200);
    expect(appended.body.content).toBe('User: my dog is called Rex\nAssistant: noted\nHe is 3.');
    expect(appended.body.metadata).toEqual({ source: 'test', extra: 1 });
    const replaced = await api(emu, 'PATCH', `/api/v1/memories/${memoryId}`, {
      body: { document: 'Rex', merge_strategy: 'replace' },
    });
    expect(replaced.body.content).toBe('Rex');

    const deleted = await api(emu, 'DELETE', `/api/v1/memories/${memoryId}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.memory_id).toBe(memoryId);
    expect(Number.isNaN(Date.parse(deleted.body.deleted_at))).toBe(false);
    expect((await api(emu, 'GET', `/api/v1/memories/${memoryId}`)).status).toBe(404);
    expect((await api(emu, 'DELETE', `/api/v1/memories/${memoryId}`)).status).toBe(404);
  });

  it('assigns a document_id when none is sent and stores the document', async () => {
    const res = await api(emu, 'POST', '/api/v1/memories/create', { body: { document: 'bare' } });
    expect(res.status).toBe(200);
    expect(res.body.document_id).toMatch(UUID);
    const stored = emu.documents().find((d) => d.document_id === res.body.document_id);
    expect(stored).toMatchObject({
      document: 'bare',
      document_type: 'ai-chat-conversation',
      mode: 'long-range',
      times_received: 1,
    });
  });

  it('409 on a repeated document_id, and the stats count it', async () => {
    const before = emu.stats().duplicates_refused;
    const first = await api(emu, 'POST', '/api/v1/memories/create', {
      body: doc('once', { document_id: 'dup-1' }),
    });
    expect(first.status).toBe(200);
    const again = await api(emu, 'POST', '/api/v1/memories/create', {
      body: doc('twice', { document_id: 'dup-1' }),
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('DUPLICATE_DOCUMENT');
    expect(again.body.detail.message).toContain('already ingested');
    expect(again.body.details.document_id).toBe('dup-1');
    expect(emu.stats().duplicates_refused).toBe(before + 1);
    const stored = emu.documents().find((d) => d.document_id === 'dup-1');
    expect(stored?.document).toBe('once');
    expect(stored?.times_received).toBe(2);
  });

  it('batch: per-item results, invalid and duplicate items fail, the rest are stored', async () => {
    const res = await api(emu, 'POST', '/api/v1/memories/batch', {
      body: {
        documents: [
          doc('a', { document_id: 'b-1' }),
          doc('', { document_id: 'b-2' }),
          doc('c', { document_id: 'dup-1' }),
          doc('d', { document_id: 'b-4', document_type: 'email' }),
          doc('e', { document_id: 'b-4' }),
        ],
        fail_fast: false,
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.batch_id).toMatch(UUID);
    expect(res.body).toMatchObject({ total: 5, succeeded: 2, failed: 3 });
    const r = res.body.results;
    expect(r[0]).toMatchObject({ document_id: 'b-1', status: 'completed', error_code: null });
    expect(r[1]).toMatchObject({
      document_id: 'b-2',
      status: 'failed',
      error_code: 'INVALID_INPUT',
    });
    expect(r[1].error_message).toContain('documents[1].document');
    expect(r[2]).toMatchObject({
      document_id: 'dup-1',
      status: 'failed',
      error_code: 'DUPLICATE_DOCUMENT',
    });
    expect(r[2].error_message).toContain('already ingested');
    expect(r[3]).toMatchObject({ document_id: 'b-4', status: 'completed' });
    expect(r[4]).toMatchObject({
      document_id: 'b-4',
      status: 'failed',
      error_code: 'DUPLICATE_DOCUMENT',
    });
    for (const item of r) expect(item.ingestion_id).toMatch(UUID);
    // A failed item's ingestion answers status with 'failed' and its reason.
    const failed = await api(emu, 'GET', `/api/v1/memories/status/${r[1].ingestion_id}`);
    expect(failed.body).toMatchObject({ status: 'failed', memories_created: 0 });
    expect(failed.body.error_message).toContain('document');
    const ids = emu.documents().map((d) => d.document_id);
    expect(ids).toContain('b-1');
    expect(ids).not.toContain('b-2');
  });

  it('batch with fail_fast rejects the whole batch with 422 naming the item', async () => {
    const before = emu.documents().length;
    const res = await api(emu, 'POST', '/api/v1/memories/batch', {
      body: {
        documents: [doc('ok', { document_id: 'ff-1' }), doc('bad', { mode: 'slow' })],
        fail_fast: true,
      },
    });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('INVALID_INPUT');
    expect(res.body.details).toMatchObject({ field: 'documents[1].mode', index: 1 });
    expect(emu.documents().length).toBe(before);
  });

  it('batch size limits: empty and more than 100 are refused', async () => {
    const empty = await api(emu, 'POST', '/api/v1/memories/batch', { body: { documents: [] } });
    expect(empty.status).toBe(422);
    expect(empty.body.details.field).toBe('documents');
    const big = await api(emu, 'POST', '/api/v1/memories/batch', {
      body: { documents: Array.from({ length: 101 }, (_, i) => doc(`x${i}`)) },
    });
    expect(big.status).toBe(422);
    expect(big.body.details.field).toBe('documents');
    const hundred = await api(emu, 'POST', '/api/v1/memories/batch', {
      body: { documents: Array.from({ length: 100 }, (_, i) => doc(`h${i}`)) },
    });
    expect(hundred.status).toBe(200);
    expect(hundred.body.succeeded).toBe(100);
  });

  // What the SDK's request model refuses: 422 with FastAPI's array detail, one issue per field.
  const modelRefusals: [string, unknown, (string | number)[], string][] = [
    ['missing document', { document_type: 'email' }, ['body', 'document'], 'missing'],
    ['null document', doc('x', { document: null }), ['body', 'document', 'str'], 'string_type'],
    ['numeric document', doc('x', { document: 42 }), ['body', 'document', 'str'], 'string_type'],
    ['null document_type', doc('x', { document_type: null }), ['body', 'document_type'], 'enum'],
    [
      'unknown document_type',
      doc('x', { document_type: 'support-ticket' }),
      ['body', 'document_type'],
      'enum',
    ],
    ['null mode', doc('x', { mode: null }), ['body', 'mode'], 'enum'],
    ['unknown mode', doc('x', { mode: 'turbo' }), ['body', 'mode'], 'enum'],
    ['null metadata', doc('x', { metadata: null }), ['body', 'metadata'], 'dict_type'],
    ['array metadata', doc('x', { metadata: [1] }), ['body', 'metadata'], 'dict_type'],
    [
      'bad date',
      doc('x', { document_created_at: 'yesterday' }),
      ['body', 'document_created_at'],
      'datetime_parsing',
    ],
    [
      'impossible date',
      doc('x', { document_created_at: '2024-13-40' }),
      ['body', 'document_created_at'],
      'datetime_parsing',
    ],
    ['numeric user_id', doc('x', { user_id: 7 }), ['body', 'user_id'], 'string_type'],
    ['scope not an object', doc('x', { scope: 'acme' }), ['body', 'scope'], 'dict_type'],
    [
      'scope with a non-string level',
      doc('x', { scope: { customer: 1 } }),
      ['body', 'scope', 'customer'],
      'string_type',
    ],
    ['non-object body', [1, 2], ['body'], 'model_attributes_type'],
  ];
  it.each(modelRefusals)('create 422 (request model): %s', async (_name, body, loc, type) => {
    const res = await api(emu, 'POST', '/api/v1/memories/create', { body });
    expect(res.status).toBe(422);
    expect(Array.isArray(res.body.detail)).toBe(true);
    expect(res.body.detail[0]).toMatchObject({ loc, type });
    expect(typeof res.body.detail[0].msg).toBe('string');
    expect(res.body.code).toBe('INVALID_INPUT');
    expect(res.body.correlation_id).toBe(res.headers['x-correlation-id']);
  });

  it('reports every refused field at once, as FastAPI does', async () => {
    const res = await api(emu, 'POST', '/api/v1/memories/create', {
      body: doc('x', { document_type: null, mode: null, metadata: null }),
    });
    expect(res.status).toBe(422);
    expect(res.body.detail.map((i: { loc: unknown[] }) => i.loc)).toEqual([
      ['body', 'document_type'],
      ['body', 'mode'],
      ['body', 'metadata'],
    ]);
    expect(res.body.detail[1].msg).toBe("Input should be 'fast' or 'long-range'");
  });

  it('keys with defaults may be left out; unknown keys are ignored (the model does both)', async () => {
    const res = await api(emu, 'POST', '/api/v1/memories/create', {
      body: { document: 'only the text', colour: 'blue', document_id: 'defaults-1' },
    });
    expect(res.status).toBe(200);
    expect(emu.documents().find((d) => d.document_id === 'defaults-1')).toMatchObject({
      document_type: 'ai-chat-conversation',
      mode: 'long-range',
      metadata: {},
      scope: null,
    });
    // The model's document is Union[str, dict]: an object document is kept as its JSON text.
    const object = await api(emu, 'POST', '/api/v1/memories/create', {
      body: doc('', { document: { subject: 'hi' }, document_id: 'defaults-2' }),
    });
    expect(object.status).toBe(200);
    expect(emu.documents().find((d) => d.document_id === 'defaults-2')?.document).toBe(
      '{"subject":"hi"}',
    );
  });

  // Rules of the service beyond the model: a 422 (or 400) with a string detail.
  const serviceRefusals: [string, unknown, number, string][] = [
    ['empty document', doc(''), 422, 'document'],
    ['whitespace document', doc('   \n'), 422, 'document'],
    ['empty document_id', doc('x', { document_id: '' }), 422, 'document_id'],
    ['{} as scope', doc('x', { scope: {} }), 422, 'scope'],
    [
      'a scope on an instance without nested scoping',
      doc('x', { scope: { customer: 'a' } }),
      400,
      'scope',
    ],
  ];
  it.each(serviceRefusals)('create refused: %s', async (_name, body, status, field) => {
    const res = await api(emu, 'POST', '/api/v1/memories/create', { body });
    expect(res.status).toBe(status);
    expect(typeof res.body.detail).toBe('string');
    expect(res.body.detail).toContain(field);
    expect(res.body.details.field).toBe(field);
  });

  it('accepts ISO-8601 variants', async () => {
    for (const date of ['2024-03-15', '2024-03-15T10:30:00', '2024-03-15T10:30:00.123456+02:00']) {
      const res = await api(emu, 'POST', '/api/v1/memories/create', {
        body: doc('dated', { document_created_at: date }),
      });
      expect(res.status, date).toBe(200);
    }
  });

  it('malformed JSON and an empty body are 422s naming the body, as FastAPI answers them', async () => {
    const res = await api(emu, 'POST', '/api/v1/memories/create', { rawBody: '{"document": ' });
    expect(res.status).toBe(422);
    expect(res.body.detail[0]).toMatchObject({ type: 'json_invalid', msg: 'JSON decode error' });
    expect(res.body.detail[0].loc[0]).toBe('body');
    const empty = await api(emu, 'POST', '/api/v1/memories/batch', { rawBody: '' });
    expect(empty.status).toBe(422);
    expect(empty.body.detail[0]).toMatchObject({ type: 'missing', loc: ['body'] });
  });

  it('ids: malformed UUID → 422, unknown → 404', async () => {
    for (const path of ['/api/v1/memories/not-a-uuid', '/api/v1/memories/status/ing_42']) {
      const res = await api(emu, 'GET', path);
      expect(res.status, path).toBe(422);
      expect(res.body.details.field).toMatch(/_id$/);
      expect(res.body.detail[0]).toMatchObject({ type: 'uuid_parsing' });
      expect(res.body.detail[0].loc[0]).toBe('path');
    }
    const unknown = '11111111-1111-4111-8111-111111111111';
    for (const path of [`/api/v1/memories/${unknown}`, `/api/v1/memories/status/${unknown}`]) {
      const res = await api(emu, 'GET', path);
      expect(res.status, path).toBe(404);
      expect(res.body.code).toBe('NOT_FOUND');
    }
  });

  it('update validation: document required, merge_strategy enum', async () => {
    const created = await api(emu, 'POST', '/api/v1/memories/create', { body: doc('to update') });
    const status = await api(emu, 'GET', `/api/v1/memories/status/${created.body.ingestion_id}`);
    const id = status.body.memory_ids[0] as string;
    const noDoc = await api(emu, 'PATCH', `/api/v1/memories/${id}`, {
      body: { merge_strategy: 'replace' },
    });
    expect(noDoc.status).toBe(422);
    expect(noDoc.body.details.field).toBe('document');
    const badStrategy = await api(emu, 'PATCH', `/api/v1/memories/${id}`, {
      body: { document: 'x', merge_strategy: 'overwrite' },
    });
    expect(badStrategy.status).toBe(422);
    expect(badStrategy.body.details.field).toBe('merge_strategy');
    // merge_strategy has a default, so null is refused; document_type and metadata are Optional.
    const nullStrategy = await api(emu, 'PATCH', `/api/v1/memories/${id}`, {
      body: { document: 'x', merge_strategy: null },
    });
    expect(nullStrategy.status).toBe(422);
    expect(nullStrategy.body.detail[0].loc).toEqual(['body', 'merge_strategy']);
    const nullOptionals = await api(emu, 'PATCH', `/api/v1/memories/${id}`, {
      body: { document: 'update', document_type: null, metadata: null },
    });
    expect(nullOptionals.status).toBe(200);
    const smart = await api(emu, 'PATCH', `/api/v1/memories/${id}`, {
      body: { document: 'update' },
    });
    expect(smart.status).toBe(200);
    expect(smart.body.content).toBe('to update');
  });

  it('unknown routes are 404, wrong methods 405 with Allow; routes match as in Starlette', async () => {
    expect((await api(emu, 'GET', '/api/v1/nothing')).status).toBe(404);
    const put = await api(emu, 'PUT', '/api/v1/memories');
    expect(put.status).toBe(405);
    expect(put.headers.allow).toBe('GET');
    const post = await api(emu, 'POST', '/api/v1/memories/status/x');
    expect(post.status).toBe(405);
    // GET …/create is the get route with memory_id "create": a UUID parsing error, not a 405.
    const get = await api(emu, 'GET', '/api/v1/memories/create');
    expect(get.status).toBe(422);
    expect(get.body.detail[0]).toMatchObject({ type: 'uuid_parsing', loc: ['path', 'memory_id'] });
  });

  it('/_emulator/stats and /_emulator/documents need a key', async () => {
    for (const path of ['/_emulator/stats', '/_emulator/documents']) {
      for (const key of [null, 'synap_wrong']) {
        const refused = await api(emu, 'GET', path, { key });
        expect(refused.status, `${path} key=${key}`).toBe(401);
        expect(JSON.stringify(refused.body)).not.toContain('documents_stored');
      }
    }
    const stats = await api(emu, 'GET', '/_emulator/stats');
    expect(stats.status).toBe(200);
    expect(stats.body.requests_by_endpoint.create).toBeGreaterThan(0);
    expect(stats.body.requests_by_status['401']).toBeGreaterThan(0);
    expect(stats.body.requests_by_endpoint_status.create['409']).toBe(1);
    expect(stats.body.documents_stored).toBe(emu.documents().length);
    const docs = await api(emu, 'GET', '/_emulator/documents');
    expect(docs.status).toBe(200);
    expect(docs.body).toEqual(emu.documents());
  });
});

describe('emulator list paging', () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startEmulator();
    const documents = Array.from({ length: 95 }, (_, i) =>
      doc(`memory number ${i}`, {
        document_id: `p-${i}`,
        user_id: `user-${i % 3}`,
        customer_id: i % 2 === 0 ? 'even' : 'odd',
      }),
    );
    for (let i = 0; i < documents.length; i += 40) {
      const res = await api(emu, 'POST', '/api/v1/memories/batch', {
        body: { documents: documents.slice(i, i + 40), fail_fast: true },
      });
      expect(res.status).toBe(200);
    }
  });
  afterAll(() => emu.close());

  it('every memory exactly once across pages, in a stable order', async () => {
    const seen: string[] = [];
    let page = 1;
    let totalPages = Infinity;
    while (page <= totalPages) {
      const res = await api(emu, 'GET', `/api/v1/memories?page=${page}&page_size=10`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ page, page_size: 10, total: 95, total_pages: 10 });
      seen.push(...res.body.data.map((m: { source_document_id: string }) => m.source_document_id));
      totalPages = res.body.total_pages;
      page++;
    }
    expect(seen).toEqual(Array.from({ length: 95 }, (_, i) => `p-${i}`));
    const again = await api(emu, 'GET', '/api/v1/memories?page=3&page_size=10');
    expect(
      again.body.data.map((m: { source_document_id: string }) => m.source_document_id),
    ).toEqual(seen.slice(20, 30));
  });

  it('defaults to page 1 of 20; a page past the end is empty', async () => {
    const first = await api(emu, 'GET', '/api/v1/memories');
    expect(first.body).toMatchObject({ page: 1, page_size: 20, total: 95, total_pages: 5 });
    expect(first.body.data).toHaveLength(20);
    const past = await api(emu, 'GET', '/api/v1/memories?page=99&page_size=100');
    expect(past.body).toMatchObject({ data: [], total: 95, total_pages: 1 });
  });

  it('filters by user_id and customer_id', async () => {
    const user = await api(emu, 'GET', '/api/v1/memories?user_id=user-1&page_size=100');
    expect(user.body.total).toBe(32);
    expect(user.body.data.every((m: { user_id: string }) => m.user_id === 'user-1')).toBe(true);
    const both = await api(
      emu,
      'GET',
      '/api/v1/memories?user_id=user-1&customer_id=even&page_size=100',
    );
    expect(both.body.total).toBe(16);
  });

  it('page_size above 100, zero or garbage is a 422 naming the parameter', async () => {
    for (const q of ['page_size=101', 'page_size=0', 'page=0', 'page=abc']) {
      const res = await api(emu, 'GET', `/api/v1/memories?${q}`);
      expect(res.status, q).toBe(422);
      expect(res.body.details.field).toBe(q.split('=')[0]);
      expect(res.body.detail[0].loc).toEqual(['query', q.split('=')[0]]);
    }
  });
});

describe('emulator ingestion lifecycle', () => {
  it('queued → processing → completed after the processing delay', async () => {
    const clock = new FakeClock();
    const emu = await startEmulator({ clock, processingDelayMs: 1000 });
    try {
      const created = await api(emu, 'POST', '/api/v1/memories/create', {
        body: doc('Alice prefers tea', { document_id: 'life-1' }),
      });
      expect(created.body.status).toBe('queued');
      const path = `/api/v1/memories/status/${created.body.ingestion_id}`;
      let status = await api(emu, 'GET', path);
      expect(status.body).toMatchObject({
        status: 'queued',
        started_at: null,
        completed_at: null,
        memories_created: 0,
        memory_ids: [],
      });
      expect((await api(emu, 'GET', '/api/v1/memories')).body.total).toBe(0);

      await clock.advance(500);
      status = await api(emu, 'GET', path);
      expect(status.body.status).toBe('processing');
      expect(status.body.started_at).not.toBeNull();

      await clock.advance(499);
      expect((await api(emu, 'GET', path)).body.status).toBe('processing');

      await clock.advance(1);
      status = await api(emu, 'GET', path);
      expect(status.body).toMatchObject({ status: 'completed', memories_created: 1 });
      expect(status.body.completed_at).toBe(new Date(clock.now()).toISOString());
      const list = await api(emu, 'GET', '/api/v1/memories');
      expect(list.body.total).toBe(1);
      expect(list.body.data[0]).toMatchObject({
        memory_id: status.body.memory_ids[0],
        content: 'Alice prefers tea',
        source_document_id: 'life-1',
      });
    } finally {
      await emu.close();
    }
  });
});

describe('emulator list paging while the set changes', () => {
  it('each page is what OFFSET gives over the memories as they are, with inserts and deletes between pages', async () => {
    const emu = await startEmulator();
    try {
      const ids = async (page: number, size: number) =>
        (await api(emu, 'GET', `/api/v1/memories?page=${page}&page_size=${size}`)).body.data.map(
          (m: { memory_id: string }) => m.memory_id,
        ) as string[];
      const all = async () => {
        const out: string[] = [];
        for (let page = 1; ; page++) {
          const got = await ids(page, 100);
          out.push(...got);
          if (got.length < 100) return out;
        }
      };
      await api(emu, 'POST', '/api/v1/memories/batch', {
        body: { documents: Array.from({ length: 60 }, (_, i) => doc(`m${i}`)) },
      });
      let current = await all();
      expect(await ids(1, 10)).toEqual(current.slice(0, 10));
      expect(await ids(2, 10)).toEqual(current.slice(10, 20));
      // Delete one memory on page 1 and one on page 4, add two at the end.
      for (const victim of [current[3]!, current[35]!]) {
        expect((await api(emu, 'DELETE', `/api/v1/memories/${victim}`)).status).toBe(200);
      }
      await api(emu, 'POST', '/api/v1/memories/batch', {
        body: { documents: [doc('late 1'), doc('late 2')] },
      });
      const after = await all();
      expect(after).toHaveLength(60);
      expect(after).toEqual([...current.filter((_, i) => i !== 3 && i !== 35), ...after.slice(58)]);
      current = after;
      for (const page of [3, 4, 5, 6, 7, 2]) {
        expect(await ids(page, 10), `page ${page}`).toEqual(
          current.slice((page - 1) * 10, page * 10),
        );
      }
    } finally {
      await emu.close();
    }
  });
});
