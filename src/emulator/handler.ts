import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import {
  MAX_BATCH_SIZE,
  MAX_PAGE_SIZE,
  type BatchCreateResponse,
  type BatchItemResult,
  type CreateMemoryResponse,
  type CreditLedgerPage,
  type CreditStopReason,
  type ListMemoriesResponse,
} from '../client/types.js';
import type { CreditWallet } from './credits.js';
import { FaultInjector } from './faults/inject.js';
import type { EmulatorFaults } from './faults/table.js';
import { HttpError, parseJson, readBody, type Reply } from './http-util.js';
import type { KeyRateLimiter, RateDecision } from './rate-limiter.js';
import { matchRoute, type RouteName } from './routes.js';
import { iso, type EmulatorStore } from './store.js';
import type { Clock } from '../clock.js';
import type { EmulatorStats, RunningEmulator } from './types.js';
import {
  dateParam,
  documentRefusal,
  intParam,
  Refusal,
  RequestValidationError,
  validateBatch,
  validateCreate,
  validateEstimate,
  validateUpdate,
  type InstanceRules,
  uuidParam,
  type ValidDocument,
} from './validate.js';

export interface HandlerDeps {
  store: EmulatorStore;
  limiter: KeyRateLimiter;
  clock: Clock;
  random: () => number;
  faults: EmulatorFaults;
  wallet: CreditWallet;
  rateHeaders: boolean;
  processingDelayMs: number;
  keys: Set<string>;
  identity: { client_id: string; instance_id: string };
  /** Shown by whoami: the tier and its limits. */
  plan: RunningEmulator['plan'];
  instance: InstanceRules;
  /** Whether a Host header may reach the server (DNS-rebinding guard, see host.ts). */
  hostAllowed: (header: string | undefined) => boolean;
}

const CORRELATION_RE = /^[\x21-\x7e]{1,200}$/;
/** Where a credit stop sends the user (the SDK's test bodies use the dashboard's billing page). */
const BILLING_URL = '/dashboard/billing';

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

  record(route: string, status: string): void {
    this.total++;
    this.byEndpoint[route] = (this.byEndpoint[route] ?? 0) + 1;
    this.byStatus[status] = (this.byStatus[status] ?? 0) + 1;
    const perRoute = (this.byEndpointStatus[route] ??= {});
    perRoute[status] = (perRoute[status] ?? 0) + 1;
  }
}

/**
 * The emulator's request handler: routing, the Host guard, auth, rate limits, validation, the
 * memory endpoints of the service and its credits routes, all answering with the SDK's shapes and
 * status 200 on success: the service's contract. Test faults are not written here: the handler
 * asks `this.injected` (faults/inject.ts) at the points a fault may change a request, and the
 * wallet's `--credits` and `--credit-stop` switch on the contract's credit refusals.
 */
export class EmulatorHandler {
  private readonly counters = new Counters();
  /** Per key: the instant the last announced Retry-After ends (for early_requests). */
  private readonly retryUntil = new Map<string, number>();
  private readonly injected: FaultInjector;

  constructor(private readonly deps: HandlerDeps) {
    this.injected = new FaultInjector(deps.faults, deps.random, deps.clock);
  }

  stats(): EmulatorStats {
    const { store, clock } = this.deps;
    store.completeDue(clock.now());
    const c = this.counters;
    return {
      requests_total: c.total,
      requests_by_endpoint: { ...c.byEndpoint },
      requests_by_status: { ...c.byStatus },
      requests_by_endpoint_status: structuredClone(c.byEndpointStatus),
      rate_limited: c.rateLimited,
      early_requests: c.early,
      documents_stored: store.count('documents'),
      documents_accepted: c.accepted,
      duplicates_refused: c.duplicates,
      memories_stored: store.count('memories'),
      credits_spent: this.deps.wallet.spent(),
      faults: { ...this.injected.counters },
    };
  }

  /** node:http request listener. Never throws; every path ends in a reply or a destroyed socket. */
  handle = (req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now();
    void this.process(req, res, started).catch((err: unknown) => {
      // Only reached on a bug; answer 500 rather than hang the client.
      if (!res.headersSent && !res.destroyed) {
        const e = new HttpError(500, 'INTERNAL_ERROR', `emulator error: ${(err as Error).message}`);
        const correlationId = `req_${randomUUID()}`;
        this.send(res, 'unknown', this.errorReply(e, correlationId), correlationId, started);
      }
    });
  };

  private async process(req: IncomingMessage, res: ServerResponse, started: number) {
    const header = req.headers['x-correlation-id'];
    const correlationId =
      typeof header === 'string' && CORRELATION_RE.test(header) ? header : `req_${randomUUID()}`;
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = req.method ?? 'GET';
    const match = matchRoute(method, url.pathname, this.injected.absentRoutes());
    const stat = !match.found
      ? 'unknown'
      : match.route.access === 'emulator'
        ? 'emulator'
        : match.route.name;
    let rateHeaders: Record<string, string> = {};
    let reply: Reply | undefined;
    try {
      // First, before anything else: a page on a rebound name must not reach even /health.
      if (!this.deps.hostAllowed(req.headers.host)) {
        throw new HttpError(
          403,
          'HOST_NOT_ALLOWED',
          `Host ${JSON.stringify(req.headers.host ?? '')} is not allowed: the emulator answers only requests addressed to a loopback name (localhost, 127.0.0.1, [::1])`,
        );
      }
      const raw = method === 'POST' || method === 'PATCH' ? await readBody(req) : undefined;
      if (!match.found) {
        throw new HttpError(
          match.status,
          match.status === 405 ? 'METHOD_NOT_ALLOWED' : 'NOT_FOUND',
          match.status === 405
            ? `${method} ${url.pathname} is not allowed`
            : `No route for ${method} ${url.pathname}`,
          { headers: match.status === 405 ? { Allow: match.allow.join(', ') } : {} },
        );
      }
      const { route, params } = match;
      if (route.access === 'public') {
        reply = { status: 200, body: { status: 'ok', emulator: true } };
        return;
      }
      if (route.access === 'emulator') {
        this.authenticate(req);
        const stats = route.name === 'emulator_stats';
        reply = { status: 200, body: stats ? this.stats() : this.deps.store.documents() };
        return;
      }

      await this.injected.delay();

      const key = this.authenticate(req);
      this.stormCheck(key);
      const decision = this.rateLimit(key);
      rateHeaders = this.rateHeaders(decision);
      if (decision.limited && !decision.allowed) {
        const { limit, retryAfterSeconds: seconds } = decision;
        const message = `Rate limit of ${limit} requests per minute exceeded; retry after ${seconds}s`;
        throw rateLimited(message, seconds, { limit });
      }
      if (this.injected.fails()) {
        throw new HttpError(
          503,
          'SERVICE_UNAVAILABLE',
          'Service temporarily unavailable (injected fault)',
        );
      }
      const body = raw === undefined ? undefined : parseJson(raw);
      const answer = this.dispatch(route.name, params, body, url.searchParams);
      if (this.injected.resets()) {
        // The write is committed; the client never learns it (--reset-rate).
        this.counters.record(stat, 'reset');
        req.socket.destroy();
        return;
      }
      reply = { status: 200, body: answer };
    } catch (err) {
      const e = toHttpError(err);
      if (e.status === 429 && e.code === 'RATE_LIMITED') this.counters.rateLimited++;
      reply = this.errorReply(e, correlationId);
    } finally {
      // Every answer but a reset connection (reply unset).
      if (reply) {
        const headers = { ...rateHeaders, ...reply.headers };
        this.send(res, stat, { ...reply, headers }, correlationId, started);
      }
    }
  }

  private errorReply(e: HttpError, correlationId: string): Reply {
    return {
      status: e.status,
      body: e.body(this.injected.errorFormat(), correlationId),
      headers: e.headers,
    };
  }

  /** The request's key, or a 401. */
  private authenticate(req: IncomingMessage): string {
    const key = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    if (key === undefined || !this.deps.keys.has(key)) {
      throw new HttpError(
        401,
        'UNAUTHORIZED',
        'Invalid or missing API key (Authorization: Bearer <key>)',
      );
    }
    return key;
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
    const now = this.deps.clock.now();
    const left = this.injected.stormLeft(now);
    if (left === undefined) return;
    this.noteEarly(key, now);
    const retryAfterSeconds = Math.max(1, Math.ceil(left / 1000));
    this.retryUntil.set(
      key,
      Math.max(this.retryUntil.get(key) ?? 0, now + retryAfterSeconds * 1000),
    );
    const message = `Too many requests (injected 429 storm); retry after ${retryAfterSeconds}s`;
    throw rateLimited(message, retryAfterSeconds);
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

  private send(
    res: ServerResponse,
    stat: string,
    reply: Reply,
    correlationId: string,
    started: number,
  ): void {
    const payload = JSON.stringify(reply.body);
    this.counters.record(stat, String(reply.status));
    if (res.destroyed) return;
    res.writeHead(reply.status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(payload),
      'X-Correlation-Id': correlationId,
      // Server processing time, as the service sends it: from request to answer, in ms.
      'X-Synap-Server-Ms': (performance.now() - started).toFixed(1),
      ...reply.headers,
    });
    res.end(payload);
  }

  /** The body of the route's answer: a success is a 200, as the service answers. */
  private dispatch(
    route: RouteName,
    params: Record<string, string>,
    body: unknown,
    query: URLSearchParams,
  ): unknown {
    const { store, clock } = this.deps;
    // Every answer sees the ingestions that are due as completed (their times come from due_at).
    store.completeDue(clock.now());
    switch (route) {
      case 'whoami':
        return {
          ...this.deps.identity,
          user_context_isolation: this.deps.instance.isolation,
          tier: this.deps.plan.tier,
          rate_limit: { requests_per_minute: this.deps.plan.rpm, burst: this.deps.plan.burst },
          emulator: true,
        };
      case 'create':
        return this.create(body);
      case 'batch':
        return this.batch(body);
      case 'status': {
        const id = uuidParam(params, 'ingestion_id');
        const status = store.status(id, clock.now());
        return found(status && this.injected.endStatus(status), 'ingestion', id);
      }
      case 'get': {
        const id = uuidParam(params, 'memory_id');
        return found(store.getMemory(id), 'memory', id);
      }
      case 'update': {
        const id = uuidParam(params, 'memory_id');
        const update = validateUpdate(body);
        return found(store.updateMemory(id, update, clock.now()), 'memory', id);
      }
      case 'delete': {
        const id = uuidParam(params, 'memory_id');
        const deleted = store.deleteMemory(id)
          ? { memory_id: id, deleted_at: iso(clock.now()) }
          : null;
        return found(deleted, 'memory', id);
      }
      case 'list':
        return this.list(query);
      case 'credits_balance':
        return this.deps.wallet.balanceBody();
      case 'credits_ledger':
        return this.ledger(query);
      case 'credits_estimate':
        return { credits_estimate: this.deps.wallet.estimate(validateEstimate(body).units) };
      default:
        throw new HttpError(404, 'NOT_FOUND', 'Not found');
    }
  }

  /**
   * The credit gate of a write. `--credit-stop` alone refuses every write up front; with
   * `--credits` it is what a write meets once the wallet cannot pay (instead of the 402).
   */
  private creditGate(wanted: number | undefined): void {
    const { creditStop, credits } = this.deps.faults;
    if (wanted === undefined) {
      if (creditStop && credits === undefined) throw this.creditStop(creditStop, 1);
      return;
    }
    const balance = this.deps.wallet.balance();
    if (wanted <= balance) return;
    if (creditStop) throw this.creditStop(creditStop, wanted);
    this.injected.count('credit_refusals');
    const message =
      'Your credit balance is spent and this account does not allow usage past zero. ' +
      `Allow overages or add credits to continue (balance ${balance}, ${wanted} required).`;
    throw new HttpError(402, 'INSUFFICIENT_CREDITS', message, {
      credit: true,
      details: { balance_credits: balance, minimum_required_credits: wanted },
      payload: {
        error: 'insufficient_credits',
        reason: 'overages_disabled',
        message,
        balance_credits: balance,
        minimum_required_credits: wanted,
        recovery_url: '/v1/credits/balance',
        redeem_url: '/v1/credits/redeem',
        manage_url: BILLING_URL,
      },
    });
  }

  /**
   * A credit stop: a 429 that is not a rate limit. The bodies follow the SDK's fixtures of the
   * credit gate: spent credits name `insufficient_credits` in `error`, a spent trial
   * `trial_limit_reached`; a lapsed plan keeps the trial's `error` and names
   * `subscription_inactive` in `reason`.
   */
  private creditStop(reason: CreditStopReason, wanted: number): HttpError {
    this.injected.count('credit_stops');
    const balance = this.deps.wallet.balance();
    const trial = reason === 'trial_limit_reached';
    const spent = reason === 'insufficient_credits';
    const message = trial
      ? 'Your trial credits are spent.'
      : spent
        ? 'Your credits are spent.'
        : 'Your subscription is not active.';
    return new HttpError(429, reason.toUpperCase(), message, {
      credit: true,
      details: { reason },
      payload: {
        error: spent ? 'insufficient_credits' : 'trial_limit_reached',
        ...(trial || spent ? {} : { reason }),
        message,
        balance_credits: balance,
        minimum_required_credits: wanted,
        upgrade_url: BILLING_URL,
        ...(trial ? {} : { manage_url: BILLING_URL }),
      },
      // A spent trial clears with the next cycle; a lapsed plan only when it is paid.
      headers: trial ? { 'Retry-After': '3600' } : {},
    });
  }

  private create(body: unknown): CreateMemoryResponse {
    this.creditGate(undefined);
    const doc = validateCreate(body);
    const refusal = documentRefusal(doc, this.deps.instance);
    if (refusal) throw refusal;
    this.creditGate(1);
    const now = this.deps.clock.now();
    const [outcome] = this.deps.store.insertDocuments([doc], now, this.deps.processingDelayMs);
    if (!outcome || !outcome.ok) {
      this.counters.duplicates++;
      const message = `document_id ${JSON.stringify(doc.document_id)} was already ingested`;
      throw new HttpError(409, 'DUPLICATE_DOCUMENT', message, {
        details: { field: 'document_id', document_id: doc.document_id },
        payload: { code: 'DUPLICATE_DOCUMENT', message },
      });
    }
    this.accept(1);
    const { ok: _ok, ...answer } = outcome;
    return answer;
  }

  private accept(documents: number): void {
    this.counters.accepted += documents;
    this.deps.wallet.spendDocuments(documents);
  }

  private batch(body: unknown): BatchCreateResponse {
    this.creditGate(undefined);
    const { documents, failFast } = validateBatch(body, MAX_BATCH_SIZE);
    const now = this.deps.clock.now();
    const checked = documents.map(
      (doc): ValidDocument | Refusal => documentRefusal(doc, this.deps.instance) ?? doc,
    );
    const firstRefused = checked.findIndex((c) => c instanceof Refusal);
    if (failFast && firstRefused >= 0) {
      const refusal = checked[firstRefused] as Refusal;
      const field = `documents[${firstRefused}].${refusal.field}`;
      throw new HttpError(
        refusal.status,
        refusal.code,
        `${field}: ${refusal.message} (fail_fast: batch rejected)`,
        { details: { field, index: firstRefused } },
      );
    }
    const valid = checked.filter((c): c is ValidDocument => !(c instanceof Refusal));
    this.creditGate(valid.length);
    const outcomes = this.deps.store.insertDocuments(valid, now, this.deps.processingDelayMs);
    let next = 0;
    const results: BatchItemResult[] = checked.map((c, index) => {
      if (c instanceof Refusal) {
        return this.failedItem(
          documents[index]!.document_id,
          now,
          c.code,
          `documents[${index}].${c.field}: ${c.message}`,
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
      const { ok: _ok, ...answer } = outcome;
      return { ...answer, error_message: null, error_code: null };
    });
    const accepted = results.filter((r) => r.status !== 'failed').length;
    this.accept(accepted);
    return {
      batch_id: randomUUID(),
      total: results.length,
      succeeded: accepted,
      failed: results.length - accepted,
      results,
    };
  }

  /**
   * A refused batch item still gets a UUID ingestion_id and a document_id (the SDK's response
   * model requires both: one is minted when none was sent), and its status answers failed.
   */
  private failedItem(
    sentDocumentId: string | null,
    now: number,
    code: string,
    message: string,
  ): BatchItemResult {
    const ingestionId = randomUUID();
    const documentId = sentDocumentId || randomUUID();
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

  private list(query: URLSearchParams): ListMemoriesResponse {
    const page = intParam(query.get('page'), 'page', 1, 1, Number.MAX_SAFE_INTEGER);
    const pageSize = intParam(query.get('page_size'), 'page_size', 20, 1, MAX_PAGE_SIZE);
    const userId = query.get('user_id') || undefined;
    const customerId = query.get('customer_id') || undefined;
    if (customerId !== undefined && this.deps.instance.isolation === 'equals_customer') {
      // B2C refuses customer_id on reads as on writes.
      throw new Refusal(
        400,
        'CUSTOMER_ID_NOT_ACCEPTED',
        'customer_id',
        "customer_id is not accepted on this instance, which is B2C (user_context_isolation='equals_customer'); filter by user_id only",
      );
    }
    const { data, total } = this.deps.store.listMemories({ userId, customerId }, page, pageSize);
    return { data, page, page_size: pageSize, total, total_pages: Math.ceil(total / pageSize) };
  }

  private ledger(query: URLSearchParams): CreditLedgerPage {
    const limit = intParam(query.get('limit'), 'limit', 100, 1, 1000);
    const offset = intParam(query.get('offset'), 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
    const entryType = query.get('entry_type') || undefined;
    const from = dateParam(query.get('from'), 'from');
    const to = dateParam(query.get('to'), 'to');
    return this.deps.wallet.ledger({ limit, offset, entryType, from, to });
  }
}

/** A 429 RATE_LIMITED with its Retry-After, in the header and in `details`. */
function rateLimited(message: string, seconds: number, details: Record<string, unknown> = {}) {
  return new HttpError(429, 'RATE_LIMITED', message, {
    details: { ...details, retry_after_seconds: seconds },
    headers: { 'Retry-After': String(seconds) },
  });
}

/** What was found, else the 404 naming the id. */
function found<T>(body: T | null | undefined, what: 'memory' | 'ingestion', id: string): T {
  if (body === null || body === undefined) {
    throw new HttpError(404, 'NOT_FOUND', `${what} ${id} not found`, {
      details: { [what === 'memory' ? 'memory_id' : 'ingestion_id']: id },
    });
  }
  return body;
}

function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof RequestValidationError) return HttpError.validation(err);
  if (err instanceof Refusal) {
    return new HttpError(err.status, err.code, `${err.field}: ${err.message}`, {
      details: { field: err.field },
    });
  }
  return new HttpError(500, 'INTERNAL_ERROR', `emulator error: ${(err as Error).message}`);
}
