import { CliError, ExitCode, StoppedEarlyError } from '../errors.js';
import { redactSecrets } from '../redact.js';
import type { ErrorBody } from './error-body.js';

/**
 * What a failure says about sending the request again (RetryPolicy decides what to do with it):
 * 'no': as sent, it never succeeds; 'backoff': it may, after a backoff, within the policy's
 * attempts and retry budget; 'rate-limit': after the 429 wait, which pauses every worker of the
 * key; 'caller': the client does not send it again, its caller decides (an unreadable answer).
 */
export type Retry = 'no' | 'backoff' | 'rate-limit' | 'caller';

export interface SynapErrorInit {
  status?: number;
  code?: string;
  correlationId?: string;
  hints?: string[];
  cause?: unknown;
  /** The wait the answer's Retry-After asked for, where its row says it is honoured. */
  retryAfterMs?: number;
  /** That Retry-After as sent. */
  retryAfterHeader?: string;
}

/**
 * Any failure talking to Synap; the class names its kind (the SDK's error classes). Its code
 * (when the server names none), exit code and what it says about sending the request again
 * come from its row of STATUS_RULES.
 */
export class SynapError extends CliError {
  readonly status: number | undefined;
  readonly code: string;
  readonly retry: Retry;
  /** May succeed if sent again (the SDK's `transient`). */
  readonly transient: boolean;
  /** The server may have applied the request: only a call that cannot duplicate is repeated. */
  readonly mayHaveApplied: boolean;
  readonly retryAfterMs: number | undefined;
  readonly retryAfterHeader: string | undefined;
  /** How many attempts the call made before this error ended it, when the client says. */
  attempts: number | undefined;

  constructor(message: string, init: SynapErrorInit = {}) {
    const [, , , code, exitCode, retry, applied] = ruleOf(new.target, init.status);
    const { correlationId, hints, cause } = init;
    super(redactSecrets(message), { exitCode, correlationId, hints, cause });
    this.status = init.status;
    this.code = init.code ?? code.replace('{status}', String(init.status ?? 'ERROR'));
    this.retry = retry;
    this.transient = retry !== 'no';
    this.mayHaveApplied = applied === 'unless refused' ? !unreachedHost(cause) : applied;
    this.retryAfterMs = init.retryAfterMs;
    this.retryAfterHeader = init.retryAfterHeader;
  }
}

/** 400 / 422: the request itself is wrong. */
export class InvalidInputError extends SynapError {
  /** What the server refused, from a validation error: e.g. `path.memory_id`, `body.document`. */
  readonly locations: string[];

  constructor(message: string, init: SynapErrorInit & { locations?: string[] } = {}) {
    super(message, init);
    this.locations = init.locations ?? [];
  }
}

/** 401: missing, malformed, unknown or revoked key. */
export class AuthenticationError extends SynapError {}
/** 403: the key is valid but lacks a permission. */
export class PermissionDeniedError extends SynapError {}
/** 404: unknown id, or outside the key's scope. */
export class ContextNotFoundError extends SynapError {}
/** 409: for memory creation, the document_id was already ingested. */
export class ConflictError extends SynapError {}

/** 402: the account is out of credits. */
export class InsufficientCreditsError extends SynapError {
  readonly balanceCredits: number | undefined;
  readonly minimumRequiredCredits: number | undefined;

  constructor(message: string, init: SynapErrorInit & Partial<CreditFacts> = {}) {
    super(message, init);
    this.balanceCredits = init.balanceCredits;
    this.minimumRequiredCredits = init.minimumRequiredCredits;
  }
}

type CreditFacts = Pick<InsufficientCreditsError, 'balanceCredits' | 'minimumRequiredCredits'>;

/** A 429 that is a credit stop: waiting does not clear it within a run (exit 6, not retried). */
export class CreditStopError extends SynapError {}

/** 429: over the per-key rate limit. */
export class RateLimitError extends SynapError {}

/** 5xx: the service failed or is overloaded. */
export class ServiceUnavailableError extends SynapError {}
/** No usable response: timeout, refused or reset connection. The request may have landed. */
export class NetworkTimeoutError extends SynapError {}
/** Any other unexpected answer (1xx, a 2xx other than the one expected). */
export class SynapTransientError extends SynapError {}
/**
 * A success status whose body is not JSON (a proxy's HTML page, a body cut short): the server
 * may well have applied the request, but its answer does not say. The caller decides what that
 * means for its request (the ingest sender applies --on-ambiguous).
 */
export class UnreadableAnswerError extends SynapTransientError {}
/** A 4xx the service's taxonomy does not name (405, 408, 410, 413, 418…). */
export class RequestRefusedError extends SynapError {}
/** A 3xx: never followed, so the key and the documents go only where the base URL says. */
export class RedirectRefusedError extends SynapError {}

/**
 * 404/405 on a route a deployment may not have (the memory list, the credits routes): one line
 * about the deployment, with no correlation id, as no request went wrong.
 */
export class EndpointMissingError extends SynapError {}

/** 404/405 on the list path: this deployment has no memory listing. */
export class ListNotSupportedError extends EndpointMissingError {
  constructor(init: { status?: number } = {}) {
    super(
      'this deployment has no memory listing endpoint (GET /api/v1/memories): memories list and export need one',
      { ...init, code: 'LIST_NOT_SUPPORTED' },
    );
  }
}

/** 404/405 on /v1/credits/…: this deployment has no credits routes. */
export class CreditsNotSupportedError extends EndpointMissingError {
  constructor({ path, status }: { path: string; status?: number }) {
    super(`this deployment has no credits endpoint (${path.split('?')[0]})`, {
      status,
      code: 'CREDITS_NOT_SUPPORTED',
    });
  }
}

/** A 404 or a 405 on a route a deployment may lack: it has no such route. */
export function routeMissing(err: unknown): err is SynapError {
  return err instanceof SynapError && (err.status === 404 || err.status === 405);
}

type Statuses = number | readonly [from: number, to: number] | null;
type StatusRule = readonly [
  status: Statuses,
  body: ((body: ErrorBody) => boolean) | null,
  kind: typeof SynapError,
  code: string,
  exit: ExitCode,
  retry: Retry,
  mayHaveApplied: boolean | 'unless refused',
  retryAfter: boolean,
];

const { FAILURE, AUTH, CREDITS } = ExitCode;
const creditStop = (body: ErrorBody) => body.creditStop !== undefined;

/**
 * The one table of what an answer means: HTTP status (and body) → error kind, its code when the
 * server names none, exit code, whether and how it is retried, whether the server may have
 * applied the request, whether its Retry-After is waited out. The first row that matches wins
 * (ruleFor); rows without a status are for errors the client makes itself (no answer; a success
 * status with an unreadable body). An error made directly takes its kind's row for its status
 * (its last row when it has no status). A 503, a 429 and a refused connection say the request
 * was not processed; a 4xx was answered for what it is; a 5xx, a 408, a timeout or a reset may
 * come after the server applied it. The 408 and the 502's Retry-After go beyond the official SDK
 * (which never retries a 408 and reads Retry-After on a 429 only): a 408 is repeated only by
 * calls that cannot duplicate, and waiting longer before a retry cannot duplicate anything.
 */
// prettier-ignore
const STATUS_RULES: readonly StatusRule[] = [
  // status    body        kind                      code                    exit     retry         applied           Retry-After
  [400,        null,       InvalidInputError,        'INVALID_INPUT',        FAILURE, 'no',         false,            false],
  [422,        null,       InvalidInputError,        'INVALID_INPUT',        FAILURE, 'no',         false,            false],
  [401,        null,       AuthenticationError,      'UNAUTHORIZED',         AUTH,    'no',         false,            false],
  [402,        null,       InsufficientCreditsError, 'INSUFFICIENT_CREDITS', CREDITS, 'no',         false,            false],
  [403,        null,       PermissionDeniedError,    'FORBIDDEN',            AUTH,    'no',         false,            false],
  [404,        null,       ContextNotFoundError,     'NOT_FOUND',            FAILURE, 'no',         false,            false],
  [408,        null,       RequestRefusedError,      'HTTP_{status}',        FAILURE, 'backoff',    true,             false],
  [409,        null,       ConflictError,            'CONFLICT',             FAILURE, 'no',         false,            false],
  [429,        creditStop, CreditStopError,          'CREDIT_STOP',          CREDITS, 'no',         false,            false],
  [429,        null,       RateLimitError,           'RATE_LIMITED',         FAILURE, 'rate-limit', false,            true ],
  [502,        null,       ServiceUnavailableError,  'SERVICE_UNAVAILABLE',  FAILURE, 'backoff',    true,             true ],
  [503,        null,       ServiceUnavailableError,  'SERVICE_UNAVAILABLE',  FAILURE, 'backoff',    false,            true ],
  [[500, 999], null,       ServiceUnavailableError,  'SERVICE_UNAVAILABLE',  FAILURE, 'backoff',    true,             false],
  [[300, 399], null,       RedirectRefusedError,     'REDIRECT_REFUSED',     FAILURE, 'no',         false,            false],
  [[400, 499], null,       RequestRefusedError,      'HTTP_{status}',        FAILURE, 'no',         false,            false],
  [[0, 299],   null,       SynapTransientError,      'UNEXPECTED_RESPONSE',  FAILURE, 'backoff',    true,             false],
  [null,       null,       NetworkTimeoutError,      'NETWORK_ERROR',        FAILURE, 'backoff',    'unless refused', false],
  [null,       null,       UnreadableAnswerError,    'UNREADABLE_ANSWER',    FAILURE, 'caller',     true,             false],
];

/** The statuses whose Retry-After a backoff retry waits out (the --verbose policy line names them). */
export const RETRY_AFTER_STATUSES: readonly number[] = STATUS_RULES.flatMap(
  ([status, , , , , retry, , retryAfter]) =>
    retry === 'backoff' && retryAfter && typeof status === 'number' ? [status] : [],
);

/** A kind without a row of its own (EndpointMissingError): permanent, nothing applied. */
const NO_RULE: StatusRule = [null, null, SynapError, 'SYNAP_ERROR', FAILURE, 'no', false, false];

function covers(statuses: Statuses, status: number): boolean {
  if (statuses === null) return false;
  return typeof statuses === 'number'
    ? status === statuses
    : status >= statuses[0] && status <= statuses[1];
}

/** The row an answer matches: the first that covers its status (and its body, where it asks). */
export function ruleFor(status: number, body: ErrorBody): StatusRule {
  return STATUS_RULES.find(([s, when]) => covers(s, status) && (!when || when(body))) ?? NO_RULE;
}

/** The row of an error of kind `kind`: the one for its status, else the kind's last row. */
function ruleOf(kind: typeof SynapError, status: number | undefined): StatusRule {
  const rows = STATUS_RULES.filter((row) => row[2] === kind);
  const byStatus = status === undefined ? undefined : rows.find((row) => covers(row[0], status));
  return byStatus ?? rows.at(-1) ?? NO_RULE;
}

/**
 * The host a request could not reach (connection refused, unknown host: nothing was sent), from
 * the network error `cause` or one under it; undefined when a server may have seen the request.
 */
export function unreachedHost(cause: unknown): string | undefined {
  // A connection tried on several addresses fails with an AggregateError: its first names the code.
  for (let depth = 0; depth < 4 && cause instanceof Error; depth++) {
    const e = cause as NodeJS.ErrnoException & {
      address?: string;
      port?: number;
      hostname?: string;
      errors?: unknown[];
    };
    const first = (e.errors?.[0] ?? e) as typeof e;
    const code = e.code ?? first.code;
    if (code === 'ECONNREFUSED') {
      const address = e.address ?? first.address;
      const port = e.port ?? first.port;
      return address ? `${address}${port ? `:${port}` : ''}` : 'the server';
    }
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return e.hostname ?? 'the server';
    cause = e.cause;
  }
  return undefined;
}

/** The retry budget ran out (RetryPolicy.budget): the server looks unhealthy; stop, resumably. */
export class RetryBudgetExhaustedError extends StoppedEarlyError {
  constructor() {
    super('too many failed requests: the retry budget is exhausted; the server looks unhealthy', {
      hints: ['Progress is saved; run the same command again later to continue.'],
    });
  }
}

/**
 * A Retry-After longer than the caller will wait (RetryPolicy.maxRetryAfterMs, the
 * --max-retry-after option): stop now, resumably, instead of sleeping for hours.
 */
export class RetryAfterTooLongError extends StoppedEarlyError {
  constructor(
    readonly retryAfterMs: number,
    readonly maxMs: number,
    readonly header: string | undefined,
  ) {
    super(
      `the server asked to wait ${formatWait(retryAfterMs)} before the next request ` +
        `(Retry-After: ${header ?? '?'}), longer than --max-retry-after ${formatWait(maxMs)}`,
      {
        hints: [
          'Progress is saved; run the same command again later to continue, or raise --max-retry-after.',
        ],
      },
    );
  }
}

/** A wait in the largest unit that keeps it readable: 90s, 15m, 277h 46m. */
function formatWait(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  return m % 60 === 0 ? `${h}h` : `${h}h ${m % 60}m`;
}
