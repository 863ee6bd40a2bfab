import { CliError, ExitCode, StoppedEarlyError } from '../errors.js';
import { redactSecrets } from '../redact.js';
import { parseRetryAfter } from './retry-after.js';
import { CREDIT_STOP_REASONS, type CreditStopReason } from './types.js';

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
  details?: Record<string, unknown>;
  correlationId?: string;
  hints?: string[];
  cause?: unknown;
  /** The wait the answer's Retry-After asked for, where its row says it is honoured. */
  retryAfterMs?: number;
  /** That Retry-After as sent. */
  retryAfterHeader?: string;
  /** The row the answer matched (errorFromResponse); else the kind's row for its status. */
  rule?: StatusRule;
}

/**
 * Any failure talking to Synap; the class names its kind (the SDK's error classes). Its code
 * (when the server names none), exit code and what it says about sending the request again
 * come from its row of STATUS_RULES.
 */
export class SynapError extends CliError {
  readonly status: number | undefined;
  readonly code: string;
  readonly details: Record<string, unknown>;
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
    const [, , , code, exitCode, retry, applied] = init.rule ?? ruleOf(new.target, init.status);
    const { correlationId, hints, cause } = init;
    super(redactSecrets(message), { exitCode, correlationId, hints, cause });
    this.status = init.status;
    this.code = init.code ?? code.replace('{status}', String(init.status ?? 'ERROR'));
    this.details = init.details ?? {};
    this.retry = retry;
    this.transient = retry !== 'no';
    this.mayHaveApplied = applied === 'unless refused' ? !neverReached(cause) : applied;
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
  readonly recoveryUrl: string | undefined;
  readonly redeemUrl: string | undefined;

  constructor(message: string, init: SynapErrorInit & Partial<CreditFacts> = {}) {
    super(message, init);
    this.balanceCredits = init.balanceCredits;
    this.minimumRequiredCredits = init.minimumRequiredCredits;
    this.recoveryUrl = init.recoveryUrl;
    this.redeemUrl = init.redeemUrl;
  }
}

type CreditFacts = Pick<
  InsufficientCreditsError,
  'balanceCredits' | 'minimumRequiredCredits' | 'recoveryUrl' | 'redeemUrl'
>;

/** A 429 that is a credit stop: waiting does not clear it within a run (exit 6, not retried). */
export class CreditStopError extends SynapError {}

/** 429: over the per-key rate limit. */
export class RateLimitError extends SynapError {
  readonly limit: number | undefined;
  readonly remaining: number | undefined;

  constructor(message: string, init: SynapErrorInit & { limit?: number; remaining?: number } = {}) {
    super(message, init);
    this.limit = init.limit;
    this.remaining = init.remaining;
  }

  /** Retry-After in seconds (the docs' `e.retry_after`), when the server said. */
  get retryAfter(): number | undefined {
    return this.retryAfterMs === undefined ? undefined : this.retryAfterMs / 1000;
  }
}

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
  constructor(path: string, init: { status?: number } = {}) {
    super(`this deployment has no credits endpoint (${path.split('?')[0]})`, {
      ...init,
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
 * applied the request, whether its Retry-After is waited out. The first row that matches wins;
 * rows without a status are for errors the client makes itself (no answer; a success status with
 * an unreadable body). An error made directly takes its
 * kind's row for its status (its last row when it has no status). A 503, a 429 and a refused
 * connection say the request was not processed; a 4xx was answered for what it is; a 5xx, a
 * 408, a timeout or a reset may come after the server applied it. The 408 and the 502's
 * Retry-After go beyond the official SDK (which never retries a 408 and reads Retry-After on a
 * 429 only): a 408 is repeated only by calls that cannot duplicate, and waiting longer before a
 * retry cannot duplicate anything.
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

/** The row of an error of kind `kind`: the one for its status, else the kind's last row. */
function ruleOf(kind: typeof SynapError, status: number | undefined): StatusRule {
  const rows = STATUS_RULES.filter((row) => row[2] === kind);
  const byStatus = status === undefined ? undefined : rows.find((row) => covers(row[0], status));
  return byStatus ?? rows.at(-1) ?? NO_RULE;
}

/** A connection that was refused, or a host that did not resolve: nothing was sent. */
function neverReached(cause: unknown): boolean {
  for (let depth = 0; depth < 4 && cause instanceof Error; depth++) {
    const e = cause as NodeJS.ErrnoException & { errors?: { code?: string }[] };
    const code = e.code ?? e.errors?.[0]?.code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') return true;
    cause = e.cause;
  }
  return false;
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

/** The host (and port) a Location header points at, without credentials or path. */
function locationHost(location: string | null, base: string | undefined): string | undefined {
  if (!location) return undefined;
  try {
    return new URL(location, base ?? 'http://invalid').host || undefined;
  } catch {
    return undefined;
  }
}

export interface ResponseFacts {
  status: number;
  headers: Pick<Headers, 'get'>;
  bodyText: string;
  correlationId: string;
  method?: string;
  path?: string;
  nowMs?: number;
  /** The URL that was asked (a relative Location is read against it). */
  url?: string;
  /** Whose key made the call: a refused key (401/403) is named in the error. */
  keyOwner?: KeyOwner;
}

/** Where a key came from; named when the server refuses it, so the user knows what to fix. */
export type KeySource = 'env' | 'profile' | 'local' | 'option' | 'none';

/** The profile and the source of the key a client sends. */
export interface KeyOwner {
  profile: string;
  source: KeySource;
}

const KEY_SOURCE_TEXT: Record<KeySource, string> = {
  env: 'key from SYNAP_API_KEY',
  profile: 'stored key',
  local: 'local emulator key',
  option: 'key being verified',
  none: 'no key',
};

/** 401/403: the message names the profile and key, and a hint says how to replace the key. */
function refusedKey(
  message: string,
  owner: KeyOwner | undefined,
): { message: string; hints: string[] } {
  if (!owner) return { message, hints: [] };
  const flag = owner.profile === 'default' ? '' : ` --profile ${owner.profile}`;
  return {
    message: `${message} (profile "${owner.profile}", ${KEY_SOURCE_TEXT[owner.source]})`,
    hints: [
      owner.source === 'env'
        ? 'Check SYNAP_API_KEY, or unset it to use the stored key.'
        : owner.source === 'option'
          ? // The key being verified by auth login: nothing was stored.
            'Nothing was stored; check the key and the base URL, then try again.'
          : `Store a valid key with 'synap auth login${flag}'.`,
    ],
  };
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** An error body, read once (parseErrorBody). */
export interface ErrorBody {
  message: string | undefined;
  code: string | undefined;
  details: Record<string, unknown>;
  /** The top level merged with the `detail` (or `error`) object, for the credit bodies' fields. */
  fields: Record<string, unknown>;
  /** The first validation issue's `type` of an array `detail` (e.g. "missing", "not_found"). */
  issueType: string | undefined;
  /** FastAPI validation errors: each issue's `loc` joined with dots. */
  locations: string[];
  /**
   * The credit-stop reason of a 429 body: the `reason` or `error` of its `detail` object or of
   * the body itself (the credit gate nests its payload; other paths do not).
   */
  creditStop: CreditStopReason | undefined;
}

/**
 * Reads an error body in every shape the service and its proxies use: FastAPI's `{"detail": …}`
 * (a string, an array of validation issues, or an object with `code`/`message`), the documented
 * `{"error": "…", "code", "details"}`, and `{"error": {"code", "message"}}`.
 */
export function parseErrorBody(bodyText: string): ErrorBody {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    body = undefined; // not JSON: its text (trimmed, capped) is the message
  }
  const obj = asRecord(body) ?? {};
  const detail = obj.detail;
  const detailObj = asRecord(detail);
  const errorObj = asRecord(obj.error);
  let message: string | undefined;
  let issueType: string | undefined;
  const locations: string[] = [];
  if (body === undefined) message = bodyText.trim().slice(0, 300) || undefined;
  else if (typeof detail === 'string') message = detail;
  else if (detailObj) message = str(detailObj.message) ?? str(detailObj.detail);
  else if (Array.isArray(detail)) {
    // FastAPI validation errors: [{loc: [...], msg: "...", type: "..."}]
    message = detail
      .map((d) => {
        const r = asRecord(d);
        if (!r) return String(d);
        const loc = Array.isArray(r.loc) ? r.loc.join('.') : '';
        if (loc) locations.push(loc);
        return loc ? `${loc}: ${String(r.msg ?? '')}` : String(r.msg ?? '');
      })
      .join('; ');
    issueType = str(asRecord(detail[0])?.type);
  }
  message ??= str(obj.message) ?? str(obj.error) ?? str(errorObj?.message);
  const creditStop = [detailObj?.reason, detailObj?.error, obj.reason, obj.error].find((v) =>
    (CREDIT_STOP_REASONS as readonly unknown[]).includes(v),
  ) as CreditStopReason | undefined;
  return {
    message,
    code: str(detailObj?.code) ?? str(obj.code) ?? str(errorObj?.code),
    details: asRecord(obj.details) ?? {},
    fields: { ...obj, ...(errorObj ?? {}), ...(detailObj ?? {}) },
    issueType,
    locations,
    creditStop,
  };
}

const BALANCE_HINT = "See the balance with 'synap credits'.";

/** A hint naming `url`, when the server sent one (and it is not `shown` already). */
function link(label: string, url: string | undefined, shown?: string): string[] {
  return url && url !== shown ? [`${label}: ${url}`] : [];
}
const CREDIT_STOP_TEXT: Record<CreditStopReason, string> = {
  insufficient_credits: 'the credits are spent',
  trial_limit_reached: 'the trial credits are spent',
  subscription_inactive: 'the subscription is not active',
};

/** Turns a non-success HTTP response into the error of its row of STATUS_RULES. */
export function errorFromResponse(r: ResponseFacts): SynapError {
  const { status } = r;
  const body = parseErrorBody(r.bodyText);
  const rule =
    STATUS_RULES.find(([s, when]) => covers(s, status) && (!when || when(body))) ?? NO_RULE;
  const [, , Kind, , , , , honoursRetryAfter] = rule;
  const where = r.method && r.path ? ` (${r.method} ${r.path.split('?')[0]})` : '';
  // An array `detail` names no code; outside validation (where each issue has its own type and
  // INVALID_INPUT says more) its first issue's type is the server's word for the error.
  const code =
    body.code ?? (status !== 400 && status !== 422 ? body.issueType?.toUpperCase() : undefined);
  const header = honoursRetryAfter ? (r.headers.get('retry-after') ?? undefined) : undefined;
  const init: SynapErrorInit = {
    rule,
    correlationId: r.correlationId,
    details: body.details,
    status,
    ...(code ? { code } : {}),
    ...(header !== undefined
      ? {
          retryAfterMs: parseRetryAfter(header, r.nowMs ?? Date.now()),
          retryAfterHeader: header.slice(0, 40),
        }
      : {}),
  };
  const says = (fallback: string) => `${body.message ?? fallback}${where}`;
  const f = body.fields;
  switch (Kind) {
    case InvalidInputError: {
      const field = str(body.details.field);
      const m = body.message ?? 'invalid input';
      return new InvalidInputError(field && !m.includes(field) ? `${m} (field: ${field})` : m, {
        ...init,
        locations: body.locations,
      });
    }
    case AuthenticationError:
    case PermissionDeniedError: {
      const refused = refusedKey(
        says(
          Kind === AuthenticationError
            ? 'authentication failed: the API key was not accepted'
            : 'permission denied for this API key',
        ),
        r.keyOwner,
      );
      return new Kind(refused.message, { ...init, hints: refused.hints });
    }
    case InsufficientCreditsError: {
      const reason = str(f.reason);
      const redeemUrl = str(f.redeem_url);
      const text = `${body.message ?? 'insufficient credits'}${reason ? ` (${reason})` : ''}`;
      return new InsufficientCreditsError(`${text}${where}`, {
        ...init,
        hints: [
          ...link('Manage the plan', str(f.manage_url)),
          ...link('Redeem a credit code', redeemUrl),
          BALANCE_HINT,
        ],
        balanceCredits: num(f.balance_credits),
        minimumRequiredCredits: num(f.minimum_required_credits),
        recoveryUrl: str(f.recovery_url),
        redeemUrl,
      });
    }
    case CreditStopError: {
      const reason = body.creditStop!;
      const [upgrade, manage] = [str(f.upgrade_url), str(f.manage_url)];
      // A spent trial is lifted by upgrading; a lapsed plan where it is managed.
      const hints =
        reason === 'trial_limit_reached'
          ? [...link('Upgrade', upgrade), ...link('Manage the plan', manage, upgrade)]
          : [
              ...link('Manage the plan', manage),
              ...link('Upgrade', upgrade, manage),
              ...(reason === 'insufficient_credits' ? [BALANCE_HINT] : []),
            ];
      const text = `${body.message ?? CREDIT_STOP_TEXT[reason]} (${reason})${where}`;
      return new CreditStopError(text, { ...init, code: reason.toUpperCase(), hints });
    }
    case RateLimitError:
      return new RateLimitError(says('rate limited'), {
        ...init,
        limit: num(r.headers.get('x-ratelimit-limit')),
        remaining: num(r.headers.get('x-ratelimit-remaining')),
      });
    case ContextNotFoundError:
      return new Kind(says('not found'), init);
    case ConflictError:
      return new Kind(says('conflict'), init);
    case ServiceUnavailableError:
      return new Kind(says(`server error HTTP ${status}`), init);
    case RedirectRefusedError: {
      const to = locationHost(r.headers.get('location'), r.url);
      return new RedirectRefusedError(
        `the server redirected (HTTP ${status}${to ? ` to ${to}` : ''})${where}; redirects are not followed`,
        {
          ...init,
          code: 'REDIRECT_REFUSED',
          hints: [
            'Set the base URL to the service address itself (synap config set base_url, or --base-url).',
          ],
        },
      );
    }
    case RequestRefusedError:
      return new Kind(`HTTP ${status}: ${body.message ?? 'request refused'}${where}`, init);
    default:
      return new Kind(`HTTP ${status}: ${body.message ?? 'unexpected response'}${where}`, init);
  }
}
