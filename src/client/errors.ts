import { CliError, ExitCode, StoppedEarlyError } from '../errors.js';
import { redactSecrets } from '../output/redact.js';
import { parseRetryAfter } from './retry-after.js';

export interface SynapErrorInit {
  status?: number;
  code: string;
  details?: Record<string, unknown>;
  correlationId?: string;
  transient: boolean;
  exitCode?: ExitCode;
  hints?: string[];
  cause?: unknown;
}

/**
 * Any failure talking to Synap. Mirrors the service's error classes (the SDK's): `transient`
 * errors may succeed if tried again, permanent ones never will.
 */
export class SynapError extends CliError {
  readonly status: number | undefined;
  readonly code: string;
  readonly details: Record<string, unknown>;
  readonly transient: boolean;
  /** How many attempts the call made before this error ended it, when the client says. */
  attempts: number | undefined;

  constructor(message: string, init: SynapErrorInit) {
    super(redactSecrets(message), {
      exitCode: init.exitCode ?? ExitCode.FAILURE,
      ...(init.correlationId !== undefined ? { correlationId: init.correlationId } : {}),
      ...(init.hints ? { hints: init.hints } : {}),
      ...(init.cause !== undefined ? { cause: init.cause } : {}),
    });
    this.status = init.status;
    this.code = init.code;
    this.details = init.details ?? {};
    this.transient = init.transient;
  }
}

type Init = Omit<SynapErrorInit, 'transient' | 'code'> & { code?: string };

/** 401: missing, malformed, unknown or revoked key. */
export class AuthenticationError extends SynapError {
  constructor(message: string, init: Init = {}) {
    super(message, {
      ...init,
      code: init.code ?? 'UNAUTHORIZED',
      transient: false,
      exitCode: ExitCode.AUTH,
    });
  }
}

/** 403: the key is valid but lacks a permission. */
export class PermissionDeniedError extends SynapError {
  constructor(message: string, init: Init = {}) {
    super(message, {
      ...init,
      code: init.code ?? 'FORBIDDEN',
      transient: false,
      exitCode: ExitCode.AUTH,
    });
  }
}

/** 400 / 422: the request itself is wrong. */
export class InvalidInputError extends SynapError {
  /** What the server refused, from a validation error: e.g. `path.memory_id`, `body.document`. */
  readonly locations: string[];

  constructor(message: string, init: Init & { locations?: string[] } = {}) {
    super(message, { ...init, code: init.code ?? 'INVALID_INPUT', transient: false });
    this.locations = init.locations ?? [];
  }
}

/** 404: unknown id, or outside the key's scope. */
export class ContextNotFoundError extends SynapError {
  constructor(message: string, init: Init = {}) {
    super(message, { ...init, code: init.code ?? 'NOT_FOUND', transient: false });
  }
}

/** 409: for memory creation, the document_id was already ingested. */
export class ConflictError extends SynapError {
  constructor(message: string, init: Init = {}) {
    super(message, { ...init, code: init.code ?? 'CONFLICT', transient: false });
  }
}

/** 402: the account is out of credits. */
export class InsufficientCreditsError extends SynapError {
  readonly balanceCredits: number | undefined;
  readonly minimumRequiredCredits: number | undefined;
  readonly recoveryUrl: string | undefined;
  readonly redeemUrl: string | undefined;
  /** Why, in the credit gate's words (e.g. `overages_disabled`), when it said. */
  readonly reason: string | undefined;
  /** Where the plan or billing is managed, when the server said. */
  readonly manageUrl: string | undefined;

  constructor(
    message: string,
    init: Init & {
      balanceCredits?: number;
      minimumRequiredCredits?: number;
      recoveryUrl?: string;
      redeemUrl?: string;
      reason?: string;
      manageUrl?: string;
    } = {},
  ) {
    super(message, {
      ...init,
      code: init.code ?? 'INSUFFICIENT_CREDITS',
      transient: false,
      exitCode: ExitCode.CREDITS,
    });
    this.balanceCredits = init.balanceCredits;
    this.minimumRequiredCredits = init.minimumRequiredCredits;
    this.recoveryUrl = init.recoveryUrl;
    this.redeemUrl = init.redeemUrl;
    this.reason = init.reason;
    this.manageUrl = init.manageUrl;
  }
}

/**
 * Reasons a 429 gives when it is a credit stop, not a rate limit (the SDK's credit gate:
 * `insufficient_credits` and `trial_limit_reached` in `error`, or a `reason`).
 */
export const CREDIT_STOP_REASONS = [
  'insufficient_credits',
  'trial_limit_reached',
  'subscription_inactive',
] as const;
export type CreditStopReason = (typeof CREDIT_STOP_REASONS)[number];

/**
 * A 429 that is a credit stop: the credits are spent (`insufficient_credits`), the trial's
 * credits are spent (`trial_limit_reached`) or the plan's subscription lapsed
 * (`subscription_inactive`). Waiting does not clear it within a
 * run, so it is not retried: the run stops (exit 6) and says where to upgrade or pay.
 */
export class CreditStopError extends SynapError {
  readonly reason: CreditStopReason;
  readonly upgradeUrl: string | undefined;
  readonly manageUrl: string | undefined;

  constructor(
    message: string,
    init: Init & { reason: CreditStopReason; upgradeUrl?: string; manageUrl?: string },
  ) {
    super(message, {
      ...init,
      code: init.code ?? init.reason.toUpperCase(),
      transient: false,
      exitCode: ExitCode.CREDITS,
    });
    this.reason = init.reason;
    this.upgradeUrl = init.upgradeUrl;
    this.manageUrl = init.manageUrl;
  }
}

/** 429: over the per-key rate limit. */
export class RateLimitError extends SynapError {
  readonly limit: number | undefined;
  readonly remaining: number | undefined;
  /** Milliseconds the server asked us to wait, when it said. */
  readonly retryAfterMs: number | undefined;
  /** The Retry-After header as sent. */
  readonly retryAfterHeader: string | undefined;

  constructor(
    message: string,
    init: Init & {
      limit?: number;
      remaining?: number;
      retryAfterMs?: number;
      retryAfterHeader?: string;
    } = {},
  ) {
    super(message, { ...init, code: init.code ?? 'RATE_LIMITED', transient: true });
    this.limit = init.limit;
    this.remaining = init.remaining;
    this.retryAfterMs = init.retryAfterMs;
    this.retryAfterHeader = init.retryAfterHeader;
  }

  /** Retry-After in seconds (the docs' `e.retry_after`), when the server said. */
  get retryAfter(): number | undefined {
    return this.retryAfterMs === undefined ? undefined : this.retryAfterMs / 1000;
  }
}

/** 5xx: the service failed or is overloaded. */
export class ServiceUnavailableError extends SynapError {
  constructor(message: string, init: Init = {}) {
    super(message, { ...init, code: init.code ?? 'SERVICE_UNAVAILABLE', transient: true });
  }
}

/** No usable response: timeout, refused or reset connection. The request may have landed. */
export class NetworkTimeoutError extends SynapError {
  constructor(message: string, init: Init = {}) {
    super(message, { ...init, code: init.code ?? 'NETWORK_ERROR', transient: true });
  }
}

/** Any other unexpected answer (3xx, 201/202, unparsable body). */
export class SynapTransientError extends SynapError {
  constructor(message: string, init: Init = {}) {
    super(message, { ...init, code: init.code ?? 'UNEXPECTED_RESPONSE', transient: true });
  }
}

/**
 * A success status whose body could not be read as JSON (a proxy's HTML page, a body cut short
 * when the connection closed): the server may well have applied the request, but its answer
 * says nothing about what it did. Not retried by the client; the caller decides what an
 * unreadable answer means for its request (the ingest sender applies --on-ambiguous).
 */
export class UnreadableAnswerError extends SynapTransientError {
  constructor(message: string, init: Init = {}) {
    super(message, { ...init, code: init.code ?? 'UNREADABLE_ANSWER' });
  }
}

/**
 * A 4xx the service's taxonomy does not name (405, 410, 413, 418…): the request as sent will
 * never succeed, so it is not sent again as it is.
 */
export class RequestRefusedError extends SynapError {
  constructor(message: string, init: Init = {}) {
    super(message, {
      ...init,
      code: init.code ?? `HTTP_${init.status ?? 'ERROR'}`,
      transient: false,
    });
  }
}

/**
 * 404/405 on a route a deployment may not have (the memory list, the credits routes): one line
 * about the deployment, with no correlation id, as no request went wrong.
 */
export class EndpointMissingError extends SynapError {
  constructor(message: string, code: string, init: Omit<Init, 'correlationId' | 'code'> = {}) {
    super(message, { ...init, code, transient: false });
  }
}

/** 404/405 on the list path: this deployment has no memory listing. */
export class ListNotSupportedError extends EndpointMissingError {
  constructor(init: Omit<Init, 'correlationId' | 'code'> = {}) {
    super(
      'this deployment has no memory listing endpoint (GET /api/v1/memories): memories list and export need one',
      'LIST_NOT_SUPPORTED',
      init,
    );
  }
}

/** 404/405 on /v1/credits/…: this deployment has no credits routes. */
export class CreditsNotSupportedError extends EndpointMissingError {
  constructor(path: string, init: Omit<Init, 'correlationId' | 'code'> = {}) {
    super(
      `this deployment has no credits endpoint (${path.split('?')[0]})`,
      'CREDITS_NOT_SUPPORTED',
      init,
    );
  }
}

/**
 * Whether a failed request may have been applied by the server: no answer although the server
 * may have received it (a timeout, a reset, an unreadable answer), or an answer from a server
 * or gateway that failed part-way (5xx other than 503). A 429, a 503 and a refused or unresolved
 * connection say the request was not processed; a 4xx was answered for what it is.
 */
export function outcomeUnknown(err: SynapError): boolean {
  if (err instanceof NetworkTimeoutError) return !neverReached(err.cause);
  if (err instanceof SynapTransientError) return true;
  if (err.status === undefined) return false;
  return err.status >= 500 && err.status !== 503;
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
export function formatWait(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  return m % 60 === 0 ? `${h}h` : `${h}h ${m % 60}m`;
}

/**
 * A 3xx answer. Redirects are never followed: the request (with the key and the documents)
 * goes only where the base URL says; the error names where the server pointed.
 */
export class RedirectRefusedError extends SynapError {
  constructor(message: string, init: Init = {}) {
    super(message, {
      ...init,
      code: init.code ?? 'REDIRECT_REFUSED',
      transient: false,
      hints: [
        'Set the base URL to the service address itself (synap config set base_url, or --base-url).',
      ],
    });
  }
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

/**
 * Reads an error body in every shape the service and its proxies use: FastAPI's `{"detail": …}`
 * (a string, an array of validation issues, or an object with `code`/`message`), the documented
 * `{"error": "…", "code", "details"}`, and `{"error": {"code", "message"}}`. `fields` merges the
 * top level with the `detail` (or `error`) object, for the credit bodies' fields.
 */
export function parseErrorBody(bodyText: string): {
  message: string | undefined;
  code: string | undefined;
  details: Record<string, unknown>;
  fields: Record<string, unknown>;
  /** The first validation issue's `type` of an array `detail` (e.g. "missing", "not_found"). */
  issueType: string | undefined;
  /** FastAPI validation errors: each issue's `loc` joined with dots. */
  locations: string[];
} {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    const text = bodyText.trim().slice(0, 300);
    return {
      message: text || undefined,
      code: undefined,
      details: {},
      fields: {},
      issueType: undefined,
      locations: [],
    };
  }
  const obj = asRecord(body) ?? {};
  const detail = obj.detail;
  const detailObj = asRecord(detail);
  const errorObj = asRecord(obj.error);
  let message: string | undefined;
  let issueType: string | undefined;
  const locations: string[] = [];
  if (typeof detail === 'string') message = detail;
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
  const code = str(detailObj?.code) ?? str(obj.code) ?? str(errorObj?.code);
  const details = asRecord(obj.details) ?? {};
  return {
    message,
    code,
    details,
    fields: { ...obj, ...(errorObj ?? {}), ...(detailObj ?? {}) },
    issueType,
    locations,
  };
}

/**
 * The credit-stop reason of a 429 body, from the `reason` or `error` field of its `detail`
 * object or of the body itself (the credit gate nests its payload; other paths do not).
 */
function creditStopOf(bodyText: string): CreditStopReason | undefined {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return undefined;
  }
  const top = asRecord(body);
  if (!top) return undefined;
  for (const payload of [asRecord(top.detail), top]) {
    if (!payload) continue;
    for (const field of ['reason', 'error']) {
      const v = payload[field];
      if ((CREDIT_STOP_REASONS as readonly unknown[]).includes(v)) return v as CreditStopReason;
    }
  }
  return undefined;
}

/** Turns a non-success HTTP response into the matching SynapError. */
export function errorFromResponse(r: ResponseFacts): SynapError {
  const { status, correlationId } = r;
  const parsed = parseErrorBody(r.bodyText);
  const where = r.method && r.path ? ` (${r.method} ${r.path.split('?')[0]})` : '';
  // An array `detail` names no code; outside validation (where each issue has its own type and
  // INVALID_INPUT says more) its first issue's type is the server's word for the error.
  const code =
    parsed.code ?? (status !== 400 && status !== 422 ? parsed.issueType?.toUpperCase() : undefined);
  const base = {
    correlationId,
    details: parsed.details,
    status,
    ...(code ? { code } : {}),
  };
  const msg = (fallback: string) => `${parsed.message ?? fallback}${where}`;
  switch (true) {
    case status === 400 || status === 422: {
      const field = str(parsed.details.field);
      const m = parsed.message ?? 'invalid input';
      return new InvalidInputError(field && !m.includes(field) ? `${m} (field: ${field})` : m, {
        ...base,
        locations: parsed.locations,
      });
    }
    case status === 401: {
      const refused = refusedKey(
        msg('authentication failed: the API key was not accepted'),
        r.keyOwner,
      );
      return new AuthenticationError(refused.message, { ...base, hints: refused.hints });
    }
    case status === 402: {
      const f = parsed.fields;
      const reason = str(f.reason);
      const manageUrl = str(f.manage_url);
      const redeemUrl = str(f.redeem_url);
      const text = `${parsed.message ?? 'insufficient credits'}${reason ? ` (${reason})` : ''}`;
      return new InsufficientCreditsError(`${text}${where}`, {
        ...base,
        hints: [
          ...(manageUrl ? [`Manage the plan: ${manageUrl}`] : []),
          ...(redeemUrl ? [`Redeem a credit code: ${redeemUrl}`] : []),
          "See the balance with 'synap credits'.",
        ],
        ...(num(f.balance_credits) !== undefined
          ? { balanceCredits: num(f.balance_credits)! }
          : {}),
        ...(num(f.minimum_required_credits) !== undefined
          ? { minimumRequiredCredits: num(f.minimum_required_credits)! }
          : {}),
        ...(str(f.recovery_url) ? { recoveryUrl: str(f.recovery_url)! } : {}),
        ...(str(f.redeem_url) ? { redeemUrl: str(f.redeem_url)! } : {}),
        ...(str(f.reason) ? { reason: str(f.reason)! } : {}),
        ...(str(f.manage_url) ? { manageUrl: str(f.manage_url)! } : {}),
      });
    }
    case status === 403: {
      const refused = refusedKey(msg('permission denied for this API key'), r.keyOwner);
      return new PermissionDeniedError(refused.message, { ...base, hints: refused.hints });
    }
    case status === 404:
      return new ContextNotFoundError(msg('not found'), base);
    case status === 409:
      return new ConflictError(msg('conflict'), base);
    case status === 429 && creditStopOf(r.bodyText) !== undefined: {
      const reason = creditStopOf(r.bodyText)!;
      const f = parsed.fields;
      const upgradeUrl = str(f.upgrade_url);
      const manageUrl = str(f.manage_url);
      const what =
        reason === 'trial_limit_reached'
          ? 'the trial credits are spent'
          : reason === 'insufficient_credits'
            ? 'the credits are spent'
            : 'the subscription is not active';
      return new CreditStopError(`${parsed.message ?? what} (${reason})${where}`, {
        ...base,
        code: reason.toUpperCase(),
        reason,
        ...(upgradeUrl ? { upgradeUrl } : {}),
        ...(manageUrl ? { manageUrl } : {}),
        // A spent trial is lifted by upgrading; a lapsed plan where it is managed.
        hints:
          reason === 'trial_limit_reached'
            ? [
                ...(upgradeUrl ? [`Upgrade: ${upgradeUrl}`] : []),
                ...(manageUrl && manageUrl !== upgradeUrl ? [`Manage the plan: ${manageUrl}`] : []),
              ]
            : [
                ...(manageUrl ? [`Manage the plan: ${manageUrl}`] : []),
                ...(upgradeUrl && upgradeUrl !== manageUrl ? [`Upgrade: ${upgradeUrl}`] : []),
                ...(reason === 'insufficient_credits'
                  ? ["See the balance with 'synap credits'."]
                  : []),
              ],
      });
    }
    case status === 429: {
      const header = r.headers.get('retry-after') ?? undefined;
      const retryAfterMs = parseRetryAfter(header, r.nowMs ?? Date.now());
      const limit = num(r.headers.get('x-ratelimit-limit'));
      const remaining = num(r.headers.get('x-ratelimit-remaining'));
      return new RateLimitError(msg('rate limited'), {
        ...base,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        ...(header !== undefined ? { retryAfterHeader: header.slice(0, 40) } : {}),
        ...(limit !== undefined ? { limit } : {}),
        ...(remaining !== undefined ? { remaining } : {}),
      });
    }
    case status >= 500:
      return new ServiceUnavailableError(msg(`server error HTTP ${status}`), base);
    case status >= 300 && status < 400: {
      const to = locationHost(r.headers.get('location'), r.url);
      return new RedirectRefusedError(
        `the server redirected (HTTP ${status}${to ? ` to ${to}` : ''})${where}; redirects are not followed`,
        { ...base, code: 'REDIRECT_REFUSED' },
      );
    }
    case status >= 400:
      return new RequestRefusedError(
        `HTTP ${status}: ${parsed.message ?? 'request refused'}${where}`,
        base,
      );
    default:
      return new SynapTransientError(
        `HTTP ${status}: ${parsed.message ?? 'unexpected response'}${where}`,
        base,
      );
  }
}
