import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  MAX_BATCH_SIZE,
  MAX_PAGE_SIZE,
  type BatchCreateResponse,
  type BatchItemResult,
  type CreateMemoryResponse,
} from '../client/types.js';
import { HttpError, parseJson, readBody, type Reply } from './http-util.js';
import type { KeyRateLimiter, RateDecision } from './rate-limiter.js';
import type { EmulatorStore } from './store.js';
import type { EmulatorClock, EmulatorFaults, EmulatorStats } from './types.js';
import {
  FieldError,
  intParam,
  isUuid,
  validateBatchEnvelope,
  validateCreate,
  validateUpdate,
  type ValidDocument,
} from './validate.js';

export interface HandlerDeps {
  store: EmulatorStore;
  limiter: KeyRateLimiter;
  clock: EmulatorClock;
  random: () => number;
  faults: EmulatorFaults;
  rateHeaders: boolean;
  processingDelayMs: number;
  keys: Set<string>;
  identity: { client_id: string; instance_id: string };
  /** Shown by whoami: the tier and its limits. */
  plan: { tier: string; rpm: number | null; burst: number | null };
}

type Route =
  | 'health'
  | 'whoami'
  | 'create'
  | 'batch'
  | 'status'
  | 'get'
  | 'update'
  | 'delete'
  | 'list'
  | 'emulator'
  | 'unknown';

const MEMORIES = '/api/v1/memories';
const CORRELATION_RE = /^[\x21-\x7e]{1,200}$/;

const iso = (ms: number) => new Date(ms).toISOString();

/** Counters behind GET /_emulator/stats that live in memory (the rest comes from the database). */
class Counters {
  total = 0;
  byEndpoint: Record<string, number> = {};
  byStatus: Record<string, number> = {};
  byEndpointStatus: Record<string, Record<string, number>> = {};
  rateLimited = 0;
  early = 0;
  accepted = 0;
  duplicates = 0;
  failures = 0;
  resets = 0;
  creditRefusals = 0;
  spikes = 0;
  storms = 0;
  stormRefusals = 0;

  record(route: Route, status: string): void {
    this.total++;
    this.byEndpoint[route] = (this.byEndpoint[route] ?? 0) + 1;
    this.byStatus[status] = (this.byStatus[status] ?? 0) + 1;
    const perRoute = (this.byEndpointStatus[route] ??= {});
    perRoute[status] = (perRoute[status] ?? 0) + 1;
  }
}

/**
 * The emulator's request handler: routing, auth, rate limits, faults, validation and the memory
 * endpoints of synap-api.md §5, all answering with the SDK's shapes and status 200 on success.
 */
export class EmulatorHandler {
  private readonly counters = new Counters();
  /** Per key: the instant the last announced Retry-After ends (for early_requests). */
  private readonly retryUntil = new Map<string, number>();
  /** End of the current 429 storm (stormRate); 0 when none is raging. */
  private stormUntil = 0;

  constructor(private readonly deps: HandlerDeps) {}

  stats(): EmulatorStats {
    const { store, clock } = this.deps;
    store.completeDue(clock.now());
    const c = this.counters;
    return {
      requests_total: c.total,
      requests_by_endpoint: { ...c.byEndpoint },
      requests_by_status: { ...c.byStatus },
      requests_by_endpoint_status: Object.fromEntries(
        Object.entries(c.byEndpointStatus).map(([k, v]) => [k, { ...v }]),
      ),
      rate_limited: c.rateLimited,
      early_requests: c.early,
      documents_stored: store.documentCount(),
      documents_accepted: c.accepted,
      duplicates_refused: c.duplicates,
      memories_stored: store.memoryCount(),
      faults: {
        failures: c.failures,
        resets: c.resets,
        credit_refusals: c.creditRefusals,
        spikes: c.spikes,
        storms: c.storms,
        storm_refusals: c.stormRefusals,
      },
    };
  }

  /** node:http request listener. Never throws; every path ends in a reply or a destroyed socket. */
  handle = (req: IncomingMessage, res: ServerResponse): void => {
    void this.process(req, res).catch((err: unknown) => {
      // Only reached on a bug; answer 500 rather than hang the client.
      if (!res.headersSent && !res.destroyed) {
        const e = new HttpError(500, 'INTERNAL_ERROR', `emulator error: ${(err as Error).message}`);
        this.send(res, 'unknown', { status: 500, body: e.body(`req_${randomUUID()}`) }, '');
      }
    });
  };

  private async process(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const header = req.headers['x-correlation-id'];
    const correlationId =
      typeof header === 'string' && CORRELATION_RE.test(header) ? header : `req_${randomUUID()}`;
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = req.method ?? 'GET';
    const { route, id } = matchRoute(method, url.pathname);
    let rateHeaders: Record<string, string> = {};
    try {
      const raw = method === 'POST' || method === 'PATCH' ? await readBody(req) : undefined;
      if (route === 'health') {
        this.send(
          res,
          route,
          { status: 200, body: { status: 'ok', emulator: true } },
          correlationId,
        );
        return;
      }
      if (route === 'emulator') {
        this.send(res, route, this.emulatorEndpoint(method, url.pathname), correlationId);
        return;
      }
      if (route === 'unknown') throw unknownRoute(method, url.pathname);

      const { latencyMs, failRate, resetRate, spikeRate } = this.deps.faults;
      if (latencyMs && latencyMs > 0) await sleep(latencyMs * (0.5 + this.deps.random()));
      if (spikeRate && spikeRate > 0 && this.deps.random() < spikeRate) {
        this.counters.spikes++;
        await sleep(this.deps.faults.spikeMs ?? 1000);
      }

      const key = bearerKey(req.headers.authorization);
      if (key === undefined || !this.deps.keys.has(key)) {
        throw new HttpError(
          401,
          'UNAUTHORIZED',
          'Invalid or missing API key (Authorization: Bearer <key>)',
        );
      }
      this.stormCheck(key);
      const decision = this.rateLimit(key);
      rateHeaders = this.rateHeaders(decision);
      if (decision.limited && !decision.allowed) {
        throw new HttpError(
          429,
          'RATE_LIMITED',
          `Rate limit of ${decision.limit} requests per minute exceeded; retry after ${decision.retryAfterSeconds}s`,
          { limit: decision.limit, retry_after_seconds: decision.retryAfterSeconds },
          undefined,
          { 'Retry-After': String(decision.retryAfterSeconds) },
        );
      }
      if (failRate && failRate > 0 && this.deps.random() < failRate) {
        this.counters.failures++;
        throw new HttpError(
          503,
          'SERVICE_UNAVAILABLE',
          'Service temporarily unavailable (injected fault)',
        );
      }
      const body = raw === undefined ? undefined : parseJson(raw);
      const reply = this.dispatch(route, id, body, url.searchParams);
      if (resetRate && resetRate > 0 && this.deps.random() < resetRate) {
        // The write is committed; the client never learns it (--reset-rate).
        this.counters.resets++;
        this.counters.record(route, 'reset');
        req.socket.destroy();
        return;
      }
      this.send(
        res,
        route,
        { ...reply, headers: { ...rateHeaders, ...reply.headers } },
        correlationId,
      );
    } catch (err) {
      const e = err instanceof HttpError ? err : toHttpError(err);
      if (e.status === 429) this.counters.rateLimited++;
      this.send(
        res,
        route,
        {
          status: e.status,
          body: e.body(correlationId),
          headers: { ...rateHeaders, ...e.headers },
        },
        correlationId,
      );
    }
  }

  /** Counts a request that arrives before the Retry-After last announced to its key has passed. */
  private noteEarly(key: string, now: number): void {
    const until = this.retryUntil.get(key);
    if (until !== undefined) {
      if (now < until) this.counters.early++;
      else this.retryUntil.delete(key);
    }
  }

  /**
   * 429 storms (stormRate): a request may set one off; while it rages every API request is
   * refused with a Retry-After covering the rest of it, and no rate-limit token is taken.
   */
  private stormCheck(key: string): void {
    const { stormRate, stormMs } = this.deps.faults;
    const now = this.deps.clock.now();
    if (now >= this.stormUntil && stormRate && stormRate > 0 && this.deps.random() < stormRate) {
      this.counters.storms++;
      this.stormUntil = now + (stormMs ?? 2000);
    }
    if (now >= this.stormUntil) return;
    this.noteEarly(key, now);
    this.counters.stormRefusals++;
    const retryAfterSeconds = Math.max(1, Math.ceil((this.stormUntil - now) / 1000));
    this.retryUntil.set(
      key,
      Math.max(this.retryUntil.get(key) ?? 0, now + retryAfterSeconds * 1000),
    );
    throw new HttpError(
      429,
      'RATE_LIMITED',
      `Too many requests (injected 429 storm); retry after ${retryAfterSeconds}s`,
      { retry_after_seconds: retryAfterSeconds },
      undefined,
      { 'Retry-After': String(retryAfterSeconds) },
    );
  }

  private rateLimit(key: string): RateDecision {
    const now = this.deps.clock.now();
    this.noteEarly(key, now);
    const decision = this.deps.limiter.take(key);
    if (decision.limited && !decision.allowed) {
      this.retryUntil.set(key, now + decision.retryAfterSeconds * 1000);
    }
    return decision;
  }

  private rateHeaders(decision: RateDecision): Record<string, string> {
    if (!this.deps.rateHeaders || !decision.limited) return {};
    return {
      'X-RateLimit-Limit': String(decision.limit),
      'X-RateLimit-Remaining': String(decision.remaining),
      'X-RateLimit-Reset': String(decision.resetAt),
    };
  }

  private send(res: ServerResponse, route: Route, reply: Reply, correlationId: string): void {
    const payload = JSON.stringify(reply.body);
    this.counters.record(route, String(reply.status));
    if (res.destroyed) return;
    res.writeHead(reply.status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(payload),
      'X-Correlation-Id': correlationId,
      ...reply.headers,
    });
    res.end(payload);
  }

  private emulatorEndpoint(method: string, path: string): Reply {
    if (method !== 'GET')
      throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} ${path} is not allowed`);
    if (path === '/_emulator/stats') return { status: 200, body: this.stats() };
    if (path === '/_emulator/documents') return { status: 200, body: this.deps.store.documents() };
    throw unknownRoute(method, path);
  }

  private dispatch(route: Route, id: string, body: unknown, query: URLSearchParams): Reply {
    const { store, clock } = this.deps;
    switch (route) {
      case 'whoami':
        return {
          status: 200,
          body: {
            ...this.deps.identity,
            tier: this.deps.plan.tier,
            rate_limit: { requests_per_minute: this.deps.plan.rpm, burst: this.deps.plan.burst },
            emulator: true,
          },
        };
      case 'create':
        return this.create(body);
      case 'batch':
        return this.batch(body);
      case 'status': {
        checkUuid(id, 'ingestion_id');
        store.completeDue(clock.now());
        const status = store.status(id, clock.now());
        if (!status) throw notFound('ingestion', id);
        return { status: 200, body: status };
      }
      case 'get': {
        checkUuid(id, 'memory_id');
        store.completeDue(clock.now());
        const memory = store.getMemory(id);
        if (!memory) throw notFound('memory', id);
        return { status: 200, body: memory };
      }
      case 'update': {
        checkUuid(id, 'memory_id');
        const update = validateUpdate(body);
        store.completeDue(clock.now());
        const memory = store.updateMemory(id, update, clock.now());
        if (!memory) throw notFound('memory', id);
        return { status: 200, body: memory };
      }
      case 'delete': {
        checkUuid(id, 'memory_id');
        store.completeDue(clock.now());
        if (!store.deleteMemory(id)) throw notFound('memory', id);
        return { status: 200, body: { memory_id: id, deleted_at: iso(clock.now()) } };
      }
      case 'list':
        return this.list(query);
      default:
        throw new HttpError(404, 'NOT_FOUND', 'Not found');
    }
  }

  private checkCredits(wanted: number): void {
    const { credits } = this.deps.faults;
    if (credits === undefined || this.counters.accepted + wanted <= credits) return;
    this.counters.creditRefusals++;
    const balance = Math.max(0, credits - this.counters.accepted);
    const fields = {
      balance_credits: balance,
      minimum_required_credits: wanted,
      recovery_url: '/v1/credits/balance',
      redeem_url: '/v1/credits/redeem',
    };
    throw new HttpError(
      402,
      'INSUFFICIENT_CREDITS',
      `Insufficient credits: balance ${balance}, ${wanted} required`,
      fields,
      { message: `Insufficient credits: balance ${balance}, ${wanted} required`, ...fields },
    );
  }

  private create(body: unknown): Reply {
    const doc = validateCreate(body);
    this.checkCredits(1);
    const now = this.deps.clock.now();
    const [outcome] = this.deps.store.insertDocuments([doc], now, this.deps.processingDelayMs);
    if (!outcome || !outcome.ok) {
      this.counters.duplicates++;
      const message = `document_id ${JSON.stringify(doc.document_id)} was already ingested`;
      throw new HttpError(
        409,
        'DUPLICATE_DOCUMENT',
        message,
        { field: 'document_id', document_id: doc.document_id },
        { code: 'DUPLICATE_DOCUMENT', message },
      );
    }
    this.counters.accepted++;
    const response: CreateMemoryResponse = {
      ingestion_id: outcome.ingestion_id,
      document_id: outcome.document_id,
      status: this.deps.processingDelayMs <= 0 ? 'completed' : 'queued',
      queued_at: iso(outcome.queued_at),
    };
    return { status: 200, body: response };
  }

  private batch(body: unknown): Reply {
    const { documents, failFast } = validateBatchEnvelope(body, MAX_BATCH_SIZE);
    const now = this.deps.clock.now();
    const checked = documents.map((item, index): ValidDocument | FieldError => {
      try {
        return validateCreate(item, `documents[${index}].`);
      } catch (err) {
        if (err instanceof FieldError) return err;
        throw err;
      }
    });
    const firstInvalid = checked.findIndex((c) => c instanceof FieldError);
    if (failFast && firstInvalid >= 0) {
      const err = checked[firstInvalid] as FieldError;
      throw new HttpError(
        422,
        'INVALID_INPUT',
        `${err.field}: ${err.message} (fail_fast: batch rejected)`,
        {
          field: err.field,
          index: firstInvalid,
        },
      );
    }
    const valid = checked.filter((c): c is ValidDocument => !(c instanceof FieldError));
    this.checkCredits(valid.length);
    const outcomes = this.deps.store.insertDocuments(valid, now, this.deps.processingDelayMs);
    const initial = this.deps.processingDelayMs <= 0 ? 'completed' : 'queued';
    let next = 0;
    const results: BatchItemResult[] = checked.map((c, index) => {
      if (c instanceof FieldError) {
        return this.failedItem(
          documentIdOf(documents[index]),
          now,
          'INVALID_INPUT',
          `${c.field}: ${c.message}`,
        );
      }
      const outcome = outcomes[next++]!;
      if (!outcome.ok) {
        this.counters.duplicates++;
        return this.failedItem(
          outcome.document_id,
          now,
          'DUPLICATE_DOCUMENT',
          `document_id ${JSON.stringify(outcome.document_id)} was already ingested (duplicate refused)`,
        );
      }
      this.counters.accepted++;
      return {
        ingestion_id: outcome.ingestion_id,
        document_id: outcome.document_id,
        status: initial,
        queued_at: iso(outcome.queued_at),
        error_message: null,
        error_code: null,
      };
    });
    const failed = results.filter((r) => r.status === 'failed').length;
    const response: BatchCreateResponse = {
      batch_id: randomUUID(),
      total: results.length,
      succeeded: results.length - failed,
      failed,
      results,
    };
    return { status: 200, body: response };
  }

  /** A refused batch item still gets a UUID ingestion_id (the SDK parses one) whose status is failed. */
  private failedItem(
    documentId: string | null,
    now: number,
    code: string,
    message: string,
  ): BatchItemResult {
    const ingestionId = randomUUID();
    this.deps.store.recordFailed(ingestionId, documentId, now, code, message);
    return {
      ingestion_id: ingestionId,
      document_id: documentId,
      status: 'failed',
      queued_at: iso(now),
      error_message: message,
      error_code: code,
    };
  }

  private list(query: URLSearchParams): Reply {
    const page = intParam(query.get('page'), 'page', 1, 1, Number.MAX_SAFE_INTEGER);
    const pageSize = intParam(query.get('page_size'), 'page_size', 20, 1, MAX_PAGE_SIZE);
    const userId = query.get('user_id') || undefined;
    const customerId = query.get('customer_id') || undefined;
    this.deps.store.completeDue(this.deps.clock.now());
    const { data, total } = this.deps.store.listMemories({ userId, customerId }, page, pageSize);
    return {
      status: 200,
      body: { data, page, page_size: pageSize, total, total_pages: Math.ceil(total / pageSize) },
    };
  }
}

function matchRoute(method: string, path: string): { route: Route; id: string } {
  if (path === '/health') return { route: 'health', id: '' };
  if (path.startsWith('/_emulator/')) return { route: 'emulator', id: '' };
  if (path === '/api/v1/auth/whoami' && method === 'GET') return { route: 'whoami', id: '' };
  if (path === `${MEMORIES}/create` && method === 'POST') return { route: 'create', id: '' };
  if (path === `${MEMORIES}/batch` && method === 'POST') return { route: 'batch', id: '' };
  if (path === MEMORIES && method === 'GET') return { route: 'list', id: '' };
  if (path.startsWith(`${MEMORIES}/status/`) && method === 'GET') {
    const id = decodeSegment(path.slice(`${MEMORIES}/status/`.length));
    if (id !== undefined) return { route: 'status', id };
  }
  if (path.startsWith(`${MEMORIES}/`)) {
    const id = decodeSegment(path.slice(MEMORIES.length + 1));
    if (id !== undefined && id !== 'create' && id !== 'batch' && id !== 'status') {
      if (method === 'GET') return { route: 'get', id };
      if (method === 'PATCH') return { route: 'update', id };
      if (method === 'DELETE') return { route: 'delete', id };
    }
  }
  return { route: 'unknown', id: '' };
}

function decodeSegment(segment: string): string | undefined {
  if (segment === '' || segment.includes('/')) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** 405 when the path exists with other methods, else 404. */
function unknownRoute(method: string, path: string): HttpError {
  const known =
    path === '/api/v1/auth/whoami' ||
    path === `${MEMORIES}/create` ||
    path === `${MEMORIES}/batch` ||
    path === MEMORIES ||
    path.startsWith(`${MEMORIES}/`) ||
    path.startsWith('/_emulator/');
  if (known && !path.startsWith('/_emulator/')) {
    return new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} ${path} is not allowed`);
  }
  return new HttpError(404, 'NOT_FOUND', `No route for ${method} ${path}`);
}

function bearerKey(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

function checkUuid(id: string, field: string): void {
  if (!isUuid(id)) {
    throw new HttpError(
      422,
      'INVALID_INPUT',
      `${field} must be a UUID (got ${JSON.stringify(id)})`,
      {
        field,
      },
    );
  }
}

function notFound(what: string, id: string): HttpError {
  return new HttpError(404, 'NOT_FOUND', `${what} ${id} not found`, {
    [what === 'memory' ? 'memory_id' : 'ingestion_id']: id,
  });
}

function documentIdOf(item: unknown): string | null {
  if (typeof item === 'object' && item !== null && 'document_id' in item) {
    const id = (item as { document_id: unknown }).document_id;
    return typeof id === 'string' ? id : null;
  }
  return null;
}

function toHttpError(err: unknown): HttpError {
  if (err instanceof FieldError) {
    return new HttpError(422, 'INVALID_INPUT', `${err.field}: ${err.message}`, {
      field: err.field,
    });
  }
  return new HttpError(500, 'INTERNAL_ERROR', `emulator error: ${(err as Error).message}`);
}
