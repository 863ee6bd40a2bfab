import { randomBytes } from 'node:crypto';
import { awakeTimeout } from './awake-timeout.js';
import { checkBaseUrl } from './base-url.js';
import { buildCreateBody, type CreateMemoryInput } from './create-body.js';
import { versionInfo } from '../build-info.js';
import { systemClock, type Clock } from '../clock.js';
import { errorFromResponse } from './answer-error.js';
import type { KeyOwner } from './error-hints.js';
import {
  CreditsNotSupportedError,
  ListNotSupportedError,
  NetworkTimeoutError,
  routeMissing,
  SynapError,
  unreachedHost,
  UnreadableAnswerError,
} from './errors.js';
import { arrayElementSpans } from './json-spans.js';
import { limiterFor, type RateLimiter } from './limiter.js';
import type { RateHeaders } from './server-mirror.js';
import { createTransport, type HeaderReader, type HttpAnswer, type HttpCall } from './transport.js';
import {
  CallRetries,
  DEFAULT_RETRY_POLICY,
  RetryBudget,
  type RetryPolicy,
} from './retry-policy.js';
import {
  API_PATHS,
  type BatchCreateResponse,
  type CreateMemoryResponse,
  type DeleteMemoryResponse,
  type ListMemoriesResponse,
  type Memory,
  type MemoryStatusResponse,
  type CreditBalance,
  type CreditEstimate,
  type CreditEstimateRequest,
  type CreditLedgerPage,
  type CreditLedgerQuery,
  type UpdateMemoryRequest,
  type WhoamiResponse,
} from './types.js';

const { version } = versionInfo();

/** What one HTTP attempt looked like (for --verbose). Never contains the key. */
export interface RequestEvent {
  method: string;
  path: string;
  status?: number;
  ms: number;
  correlationId: string;
  attempt: number;
  error?: string;
  /** Set on a failure without a response: whether another attempt follows. */
  retrying?: boolean;
  /** The server's own processing time (X-Synap-Server-Ms), when it sent one. */
  serverMs?: number;
}

/**
 * Whose key this is, from whoami: sent as X-Client-ID / X-Instance-ID on every request
 * (empty until known, as the official SDK does), and the instance's user-context isolation
 * (`equals_customer`: a B2C instance, which refuses customer_id).
 */
export interface ClientIdentity {
  clientId: string;
  instanceId: string;
  /** Undefined when the server does not say (older deployments): then nothing is enforced. */
  userContextIsolation: string | undefined;
}

export interface ApiResult<T> {
  data: T;
  status: number;
  /** The server's X-Correlation-Id when it sent one, else the id we sent. */
  correlationId: string;
  /** The response's headers (rate limits, Date) for callers that report them (doctor). */
  headers?: HeaderReader;
  /** The body's bytes, when the call asked to keep them (RequestSpec.keepBody). */
  body?: Buffer;
}

/** Where items lie in a response body: `spans` holds a [start, end) pair of `body` per item. */
export interface ItemBytes {
  body: Buffer;
  spans: Uint32Array;
}

/** A page of the memory list. */
export interface ListResult extends ApiResult<ListMemoriesResponse> {
  /**
   * Where each listed memory (`data.data`) lies in the body, so it can be written out byte for
   * byte as the server sent it; absent when not located with certainty (see arrayElementSpans).
   */
  items?: ItemBytes;
}

export interface CallOptions {
  /** Aborts the call, even a request on the wire. */
  signal?: AbortSignal;
  /**
   * Once aborted, no new attempt starts: a wait for the rate limiter, a Retry-After or a
   * backoff ends at once with its reason (a stopping run owes no grace to requests not sent).
   */
  stop?: AbortSignal;
}

export interface ClientOptions {
  baseUrl: string;
  apiKey: string;
  /** Shared pace for the key; defaults to the process-wide limiter for this key. */
  limiter?: RateLimiter;
  clock?: Clock;
  random?: () => number;
  /** Attempts, backoff, retry budget, 429/503 waits, timeouts (default DEFAULT_RETRY_POLICY). */
  retry?: RetryPolicy;
  /** Whose key this is: a 401/403 names the profile and the key's source. */
  keyOwner?: KeyOwner;
  /**
   * Ask whoami before the first other request, as the official SDK does when it starts, so
   * every request carries X-Client-ID and X-Instance-ID (default false: they go empty).
   */
  identify?: boolean;
  onRequest?: (e: RequestEvent) => void;
}

export interface ListParams {
  page: number;
  pageSize: number;
  userId?: string;
  customerId?: string;
}

/** A client's counts from its start: attempts sent, 429s, retries, transient failures. */
const NO_REQUESTS = { requests: 0, rateLimited: 0, retries: 0, transientErrors: 0 };
export type ClientStats = typeof NO_REQUESTS;

interface RequestSpec extends CallOptions {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  body?: unknown;
  /** May a transient failure be retried without risking a duplicate write? */
  idempotent: boolean;
  /** Skip the rate limiter (health checks are not metered). */
  unmetered?: boolean;
  /** Return the body's bytes too (ApiResult.body). */
  keepBody?: boolean;
  /** A route a deployment may lack: the error a 404 or 405 becomes (see routeMissing). */
  missing?: new (answer: { status?: number; path: string }) => SynapError;
}

/**
 * A call that ended, because its caller stopped (CallOptions.stop), before any attempt was
 * sent: nothing reached the server.
 */
export class NotSentError extends Error {
  constructor() {
    super('not sent: the run stopped before the request went out');
    this.name = 'NotSentError';
  }
}

/**
 * A fresh id per logical call, reused by its retries, so the server's logs tie them together.
 * Same shape as the official SDK's: `syn_<first 6 of the instance id>_<epoch
 * ms>_<6 lowercase hex>`, e.g. `syn_inst_0_1795882095207_2b7804`; with no instance id known
 * the middle part is `cli` (`syn_cli_1795882095207_2b7804`).
 */
function newCorrelationId(now: number, instanceId?: string): string {
  const prefix = instanceId ? instanceId.slice(0, 6) : 'cli';
  return `syn_${prefix}_${now}_${randomHex6()}`;
}

/** Random bytes drawn a few kilobytes at a time: one system call per thousand ids, not per id. */
const randomPool = { bytes: Buffer.alloc(0), at: 0 };

function randomHex6(): string {
  if (randomPool.at + 3 > randomPool.bytes.length) {
    randomPool.bytes = randomBytes(3 * 1024);
    randomPool.at = 0;
  }
  const { bytes, at } = randomPool;
  randomPool.at += 3;
  return bytes.toString('hex', at, at + 3);
}

/**
 * The one HTTP client for the Synap memory API (/api/v1/…). It paces every request
 * through the key's shared limiter, waits out 429s for their Retry-After, retries transient
 * failures with full-jitter backoff inside a retry budget, and turns every failure into a
 * typed SynapError carrying the correlation id.
 */
export class SynapClient {
  readonly baseUrl: string;
  readonly limiter: RateLimiter;
  readonly retryPolicy: RetryPolicy;
  private readonly apiKey: string;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly budget: RetryBudget;
  private readonly onRequest: ((e: RequestEvent) => void) | undefined;
  private known: ClientIdentity | undefined;
  private identifying: Promise<ClientIdentity | undefined> | undefined;
  private readonly autoIdentify: boolean;
  private readonly keyOwner: KeyOwner | undefined;
  private readonly transport: (call: HttpCall) => Promise<HttpAnswer>;
  /** The headers every request sends (the correlation id is added per call). */
  private readonly fixedHeaders: Record<string, string>;
  private readonly counters: ClientStats = { ...NO_REQUESTS };

  constructor(opts: ClientOptions) {
    this.baseUrl = checkBaseUrl(opts.baseUrl).toString().replace(/\/+$/, '');
    this.apiKey = opts.apiKey;
    this.clock = opts.clock ?? systemClock;
    this.limiter = opts.limiter ?? limiterFor(this.baseUrl, opts.apiKey, { clock: this.clock });
    this.random = opts.random ?? Math.random;
    this.retryPolicy = opts.retry ?? DEFAULT_RETRY_POLICY;
    this.budget = new RetryBudget(this.retryPolicy.budget);
    this.onRequest = opts.onRequest;
    this.keyOwner = opts.keyOwner;
    this.transport = createTransport(this.baseUrl);
    this.fixedHeaders = {
      Authorization: `Bearer ${this.apiKey}`,
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'User-Agent': `synap-cli/${version}`,
    };
    this.autoIdentify = opts.identify === true;
  }

  stats(): ClientStats {
    return { ...this.counters };
  }

  health(o: CallOptions = {}): Promise<ApiResult<Record<string, unknown>>> {
    return this.read(API_PATHS.health, o, { unmetered: true });
  }

  /** GET /api/v1/auth/whoami; what it says is kept and sent on every later request. */
  async whoami(o: CallOptions = {}): Promise<ApiResult<WhoamiResponse>> {
    const result = await this.read<WhoamiResponse>(API_PATHS.whoami, o);
    const d = (result.data ?? {}) as Partial<WhoamiResponse>;
    const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
    this.known = {
      clientId: text(d.client_id) ?? '',
      instanceId: text(d.instance_id) ?? '',
      userContextIsolation: text(d.user_context_isolation),
    };
    return result;
  }

  /** What whoami said, if it was asked. */
  get identity(): ClientIdentity | undefined {
    return this.known;
  }

  /**
   * Asks whoami once per client (later calls share the answer). A deployment without the route
   * (404/405) leaves the identity unknown; any other failure (a refused key, a server that does
   * not answer) is thrown, so a run stops before it sends anything.
   */
  identify(o: CallOptions = {}): Promise<ClientIdentity | undefined> {
    this.identifying ??= this.whoami(o).then(
      () => this.known,
      (err: unknown) => {
        if (routeMissing(err)) return undefined;
        this.identifying = undefined;
        throw err;
      },
    );
    return this.identifying;
  }

  /** Async so that a body buildCreateBody refuses rejects the call instead of throwing. */
  async create(
    req: CreateMemoryInput,
    o: CallOptions = {},
  ): Promise<ApiResult<CreateMemoryResponse>> {
    return this.request({
      method: 'POST',
      path: API_PATHS.create,
      body: buildCreateBody(req),
      idempotent: hasDocumentId(req),
      ...o,
    });
  }

  /**
   * Sends up to 100 documents (an invalid one fails alone, in its result). Retried on transient
   * failures only when every document has a document_id: a repeat then comes back as "already
   * ingested" instead of a duplicate.
   */
  async batch(
    documents: CreateMemoryInput[],
    o: CallOptions = {},
  ): Promise<ApiResult<BatchCreateResponse>> {
    return this.request({
      method: 'POST',
      path: API_PATHS.batch,
      body: { documents: documents.map(buildCreateBody), fail_fast: false },
      idempotent: documents.every(hasDocumentId),
      ...o,
    });
  }

  status(ingestionId: string, o: CallOptions = {}): Promise<ApiResult<MemoryStatusResponse>> {
    return this.read(API_PATHS.status(ingestionId), o);
  }

  get(memoryId: string, o: CallOptions = {}): Promise<ApiResult<Memory>> {
    return this.read(API_PATHS.memory(memoryId), o);
  }

  update(
    memoryId: string,
    body: UpdateMemoryRequest,
    o: CallOptions = {},
  ): Promise<ApiResult<Memory>> {
    // Only the request's own keys; JSON.stringify leaves out those that are undefined.
    const { document, merge_strategy, document_type, metadata } = body;
    // 'append' and 'smart-merge' are not idempotent: an uncertain update is not repeated.
    return this.request({
      method: 'PATCH',
      path: API_PATHS.memory(memoryId),
      body: { document, merge_strategy, document_type, metadata },
      idempotent: body.merge_strategy === 'replace',
      ...o,
    });
  }

  delete(memoryId: string, o: CallOptions = {}): Promise<ApiResult<DeleteMemoryResponse>> {
    return this.request({
      method: 'DELETE',
      path: API_PATHS.memory(memoryId),
      idempotent: true,
      ...o,
    });
  }

  async list(params: ListParams, o: CallOptions = {}): Promise<ListResult> {
    const q = new URLSearchParams({
      page: String(params.page),
      page_size: String(params.pageSize),
    });
    if (params.userId !== undefined) q.set('user_id', params.userId);
    if (params.customerId !== undefined) q.set('customer_id', params.customerId);
    const result = await this.read<unknown>(`${API_PATHS.list}?${q}`, o, {
      keepBody: true,
      missing: ListNotSupportedError,
    });
    const { body, ...rest } = result;
    const key = listKey(result.data);
    const data = readListEnvelope(result.data, key, params);
    const spans = body && key !== undefined ? arrayElementSpans(body, key) : undefined;
    return {
      ...rest,
      data,
      ...(body && spans && spans.length === data.data.length * 2 ? { items: { body, spans } } : {}),
    };
  }

  /** GET /v1/credits/balance: the wallet's balance and buckets. */
  creditsBalance(o: CallOptions = {}): Promise<ApiResult<CreditBalance>> {
    return this.read(API_PATHS.creditsBalance, o, { missing: CreditsNotSupportedError });
  }

  /** GET /v1/credits/ledger: one page of the wallet's entries, newest first. */
  creditsLedger(q: CreditLedgerQuery, o: CallOptions = {}): Promise<ApiResult<CreditLedgerPage>> {
    const query = new URLSearchParams({ limit: String(q.limit), offset: String(q.offset) });
    if (q.entryType !== undefined) query.set('entry_type', q.entryType);
    if (q.from !== undefined) query.set('from', q.from);
    if (q.to !== undefined) query.set('to', q.to);
    return this.read(`${API_PATHS.creditsLedger}?${query}`, o, {
      missing: CreditsNotSupportedError,
    });
  }

  /** POST /v1/credits/estimate: what an operation would cost, spending nothing. */
  creditsEstimate(
    body: CreditEstimateRequest,
    o: CallOptions = {},
  ): Promise<ApiResult<CreditEstimate>> {
    return this.request({
      method: 'POST',
      path: API_PATHS.creditsEstimate,
      missing: CreditsNotSupportedError,
      body,
      // A quote changes nothing: the official SDK's contract marks it idempotent.
      idempotent: true,
      ...o,
    });
  }

  /** A GET: idempotent, so a transient failure is retried. */
  private read<T>(
    path: string,
    o: CallOptions,
    spec: Pick<RequestSpec, 'unmetered' | 'keepBody' | 'missing'> = {},
  ): Promise<ApiResult<T>> {
    return this.request({ method: 'GET', path, idempotent: true, ...spec, ...o });
  }

  private async request<T>(spec: RequestSpec): Promise<ApiResult<T>> {
    if (this.autoIdentify && !this.known && !spec.unmetered && spec.path !== API_PATHS.whoami) {
      await this.identify(spec.signal ? { signal: spec.signal } : {});
    }
    // One signal alone is used as it is: every listener on the caller's signal counts towards
    // Node's leak warning at eleven, and the attempt adds one of its own.
    const waits =
      spec.signal && spec.stop
        ? linkedSignal(spec.signal, spec.stop)
        : { signal: spec.signal ?? spec.stop, dispose: () => {} };
    const progress = { sent: false };
    try {
      return await this.attempts<T>(spec, waits.signal, progress);
    } catch (err) {
      // Stopped before anything went out: the caller knows for sure nothing was applied.
      if (!progress.sent && spec.stop?.aborted && !spec.signal?.aborted) throw new NotSentError();
      if (spec.missing && routeMissing(err)) {
        throw new spec.missing({ status: err.status, path: spec.path });
      }
      throw err;
    } finally {
      waits.dispose();
    }
  }

  /** The attempts of one call; `waits` ends the waits between them (see CallOptions.stop). */
  private async attempts<T>(
    spec: RequestSpec,
    waits: AbortSignal | undefined,
    progress: { sent: boolean },
  ): Promise<ApiResult<T>> {
    const correlationId = newCorrelationId(this.clock.now(), this.known?.instanceId);
    const url = this.baseUrl + spec.path;
    const headers = {
      ...this.fixedHeaders,
      'X-Correlation-ID': correlationId,
      'X-Client-ID': this.known?.clientId ?? '',
      'X-Instance-ID': this.known?.instanceId ?? '',
    };
    const body = spec.body === undefined ? undefined : JSON.stringify(spec.body);
    const retries = new CallRetries(this.retryPolicy, this.budget, spec.idempotent, this.random);
    for (let attempt = 1; ; attempt++) {
      const ticket = spec.unmetered ? 0 : await this.limiter.acquire(waits);
      const sentAt = this.clock.now();
      let response: HttpAnswer;
      this.counters.requests += 1;
      const limit = this.attemptSignal(spec.signal);
      progress.sent = true;
      try {
        response = await this.transport({
          method: spec.method,
          path: spec.path,
          headers,
          ...(body !== undefined ? { body } : {}),
          signal: limit.signal,
        });
      } catch (err) {
        limit.dispose();
        if (!spec.unmetered) this.limiter.settle(ticket);
        if (spec.signal?.aborted) throw err;
        const reason = describeNetworkError(err, this.retryPolicy.attemptTimeoutMs);
        const where = `${reason} (${spec.method} ${url.split('?')[0]})`;
        const doubt = !spec.idempotent && !unreachedHost(err);
        const error = new NetworkTimeoutError(
          doubt ? `${where}; the request may have been applied` : where,
          { correlationId, cause: err },
        );
        this.emit(spec, {
          ms: this.clock.now() - sentAt,
          correlationId,
          attempt,
          error: reason,
          retrying: retries.retriesNextFailure(error),
        });
        await this.afterFailure(error, attempt, retries, sentAt, waits);
        continue;
      }
      limit.dispose();
      const answer = this.answerOf<T>(spec, response, ticket, sentAt, attempt, correlationId);
      if (!(answer instanceof SynapError)) return answer;
      await this.afterFailure(answer, attempt, retries, sentAt, waits);
    }
  }

  /**
   * Counts a failed attempt and waits what the retry policy says before the next one (a 429's
   * wait pauses every worker of the key, through the limiter); throws the error that ends the call.
   */
  private async afterFailure(
    error: SynapError,
    attempt: number,
    retries: CallRetries,
    sentAt: number,
    waits: AbortSignal | undefined,
  ): Promise<void> {
    if (error.retry === 'rate-limit') this.counters.rateLimited += 1;
    else error.attempts = attempt;
    if (error.retry === 'backoff') this.counters.transientErrors += 1;
    const next = retries.next(error);
    if (next.pausesAll) this.limiter.onRateLimited(next.waitMs, sentAt);
    else {
      this.counters.retries += 1;
      await this.clock.sleep(next.waitMs, waits);
    }
  }

  /** What an answer is: the call's result, or the error it says (errors.ts's status table). */
  private answerOf<T>(
    spec: RequestSpec,
    response: HttpAnswer,
    ticket: number,
    sentAt: number,
    attempt: number,
    correlationId: string,
  ): ApiResult<T> | SynapError {
    if (!spec.unmetered) {
      this.limiter.settle(ticket, readRateHeaders(response.headers), response.status === 429);
    }
    const cid = response.headers.get('x-correlation-id') ?? correlationId;
    const serverMs = Number.parseFloat(response.headers.get('x-synap-server-ms') ?? '');
    this.emit(spec, {
      status: response.status,
      ms: this.clock.now() - sentAt,
      correlationId: cid,
      attempt,
      ...(Number.isFinite(serverMs) && serverMs >= 0 ? { serverMs } : {}),
    });
    if (response.status < 200 || response.status >= 300) {
      return errorFromResponse({
        status: response.status,
        headers: response.headers,
        // A server echoing the key back (e.g. "unknown key synap_…") must not put it in a message.
        bodyText: this.scrub(response.text),
        correlationId: cid,
        method: spec.method,
        path: spec.path,
        nowMs: this.clock.now(),
        url: this.baseUrl + spec.path,
        ...(this.keyOwner ? { keyOwner: this.keyOwner } : {}),
      });
    }
    this.limiter.onSuccess();
    let data: unknown = {};
    if (response.text.trim() !== '') {
      try {
        data = JSON.parse(response.text);
      } catch {
        return new UnreadableAnswerError(
          `the server answered HTTP ${response.status} with a body that is not JSON (${spec.method} ${spec.path.split('?')[0]})`,
          { correlationId: cid, status: response.status },
        );
      }
    }
    return {
      data: data as T,
      status: response.status,
      correlationId: cid,
      headers: response.headers,
      ...(spec.keepBody ? { body: response.body } : {}),
    };
  }

  /** `text` (from the server) without this client's key in it, for messages and files. */
  scrub(text: string): string {
    return this.apiKey.length >= 8 ? text.split(this.apiKey).join('[redacted]') : text;
  }

  /**
   * The signal of one attempt: aborted by the caller's signal or after timeoutMs (reason: a
   * TimeoutError). dispose() clears the timer and the listener as soon as the attempt is over;
   * AbortSignal.timeout/any would keep each attempt's signal, and what fetch hangs on it,
   * alive for the whole timeout, which grows the heap on long runs.
   */
  private attemptSignal(user: AbortSignal | undefined): LinkedSignal {
    const linked = linkedSignal(user);
    // Running time, not wall time: a suspended process reads the answer that came meanwhile.
    const timer = awakeTimeout(this.retryPolicy.attemptTimeoutMs, () => {
      linked.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    });
    return {
      ...linked,
      dispose: () => {
        timer.clear();
        linked.dispose();
      },
    };
  }

  private emit(spec: RequestSpec, e: Omit<RequestEvent, 'method' | 'path'>): void {
    this.onRequest?.({ method: spec.method, path: spec.path, ...e });
  }
}

/** X-RateLimit-Limit/Remaining/Reset of an answer, when it has a limit. */
function readRateHeaders(h: HeaderReader): RateHeaders | undefined {
  const limit = Number(h.get('x-ratelimit-limit') ?? NaN);
  if (!Number.isFinite(limit)) return undefined;
  const remaining = Number(h.get('x-ratelimit-remaining') ?? NaN);
  const reset = Number(h.get('x-ratelimit-reset') ?? NaN);
  return {
    limit,
    ...(Number.isFinite(remaining) ? { remaining } : {}),
    ...(Number.isFinite(reset) ? { resetEpochS: reset } : {}),
  };
}

interface LinkedSignal {
  signal: AbortSignal;
  abort: (reason: unknown) => void;
  /** Drops the listeners on the sources. */
  dispose: () => void;
}

/** A signal aborted by abort() or when any of `sources` is, with its reason. */
function linkedSignal(...sources: (AbortSignal | undefined)[]): LinkedSignal {
  const controller = new AbortController();
  const drops = sources.flatMap((source) => {
    if (!source) return [];
    const onAbort = () => controller.abort(source.reason);
    if (source.aborted) onAbort();
    else source.addEventListener('abort', onAbort, { once: true });
    return [() => source.removeEventListener('abort', onAbort)];
  });
  return {
    signal: controller.signal,
    abort: (reason) => controller.abort(reason),
    dispose: () => drops.forEach((drop) => drop()),
  };
}

/** The request names its document: a repeat comes back "already ingested", not stored twice. */
export function hasDocumentId(req: { document_id?: string | null }): boolean {
  return typeof req.document_id === 'string' && req.document_id !== '';
}

/**
 * Reads the list envelope defensively: its shape is known from the service's documentation only
 * (no SDK method lists memories), so `data`, `memories`, `items` or a bare array are accepted.
 */
function readListEnvelope(
  raw: unknown,
  key: ListKey | undefined,
  params: ListParams,
): ListMemoriesResponse {
  const obj = (raw !== null && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const data = key === undefined ? [] : key === null ? (raw as unknown[]) : (obj[key] as unknown[]);
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const pageSize = num(obj.page_size) ?? params.pageSize;
  // Totals are taken only as the server states them: one made up from this page's length would
  // read as "this is the last page" and end an export after its first page.
  const total = num(obj.total);
  return {
    data: data as Memory[],
    page: num(obj.page) ?? params.page,
    page_size: pageSize,
    total,
    total_pages:
      num(obj.total_pages) ??
      (total === undefined ? undefined : Math.ceil(total / Math.max(1, pageSize))),
  };
}

type ListKey = 'data' | 'memories' | 'items' | null;

/** Which key of the list envelope holds the memories (null: the body is the array itself). */
function listKey(raw: unknown): ListKey | undefined {
  if (Array.isArray(raw)) return null;
  const obj = (raw ?? {}) as Record<string, unknown>;
  return (['data', 'memories', 'items'] as const).find((key) => Array.isArray(obj[key]));
}

function describeNetworkError(err: unknown, timeoutMs: number): string {
  if (!(err instanceof Error)) return 'network error';
  if (err.name === 'TimeoutError') return `no answer within ${Math.round(timeoutMs / 1000)}s`;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET') return 'connection reset before the answer arrived';
  if (code === 'ENOTFOUND') return 'host not found';
  return `network error: ${err.message}`;
}
