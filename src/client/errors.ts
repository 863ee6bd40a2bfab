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
  constructor(message: string, init: Init = {}) {
    super(message, { ...init, code: init.code ?? 'INVALID_INPUT', transient: false });
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

  constructor(
    message: string,
    init: Init & {
      balanceCredits?: number;
      minimumRequiredCredits?: number;
      recoveryUrl?: string;
      redeemUrl?: string;
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
  }
}

/** 429: over the per-key rate limit. */
export class RateLimitError extends SynapError {
  readonly limit: number | undefined;
  readonly remaining: number | undefined;
  /** Milliseconds the server asked us to wait, when it said. */
  readonly retryAfterMs: number | undefined;

  constructor(
    message: string,
    init: Init & { limit?: number; remaining?: number; retryAfterMs?: number } = {},
  ) {
    super(message, { ...init, code: init.code ?? 'RATE_LIMITED', transient: true });
    this.limit = init.limit;
    this.remaining = init.remaining;
    this.retryAfterMs = init.retryAfterMs;
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

/** 404/405 on the list path: the server has no memory listing. */
export class ListNotSupportedError extends SynapError {
  constructor(init: Init = {}) {
    super('this server does not support listing memories (GET /api/v1/memories)', {
      ...init,
      code: init.code ?? 'LIST_NOT_SUPPORTED',
      transient: false,
      hints: ['Export and migrate need a memory list endpoint; check the base URL.'],
    });
  }
}

/** The retry budget ran out (RetryPolicy.budget): the server looks unhealthy; stop, resumably. */
export class RetryBudgetExhaustedError extends StoppedEarlyError {
  constructor() {
    super('too many failed requests: the retry budget is exhausted; the server looks unhealthy', {
      hints: ['Progress is saved; run the same command again later to continue.'],
    });
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
 * Reads an error body in either shape the service may use: FastAPI's
 * `{"detail": …}` or the documented `{"error", "code", "details"}`.
 */
export function parseErrorBody(bodyText: string): {
  message: string | undefined;
  code: string | undefined;
  details: Record<string, unknown>;
  fields: Record<string, unknown>;
} {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    const text = bodyText.trim().slice(0, 300);
    return { message: text || undefined, code: undefined, details: {}, fields: {} };
  }
  const obj = asRecord(body) ?? {};
  const detail = obj.detail;
  const detailObj = asRecord(detail);
  let message: string | undefined;
  if (typeof detail === 'string') message = detail;
  else if (detailObj) message = str(detailObj.message);
  else if (Array.isArray(detail)) {
    // FastAPI validation errors: [{loc: [...], msg: "..."}]
    message = detail
      .map((d) => {
        const r = asRecord(d);
        if (!r) return String(d);
        const loc = Array.isArray(r.loc) ? r.loc.join('.') : '';
        return loc ? `${loc}: ${String(r.msg ?? '')}` : String(r.msg ?? '');
      })
      .join('; ');
  }
  message ??= str(obj.message) ?? str(obj.error);
  const code = str(detailObj?.code) ?? str(obj.code);
  const details = asRecord(obj.details) ?? {};
  return { message, code, details, fields: { ...obj, ...(detailObj ?? {}) } };
}

/** Turns a non-success HTTP response into the matching SynapError. */
export function errorFromResponse(r: ResponseFacts): SynapError {
  const { status, correlationId } = r;
  const parsed = parseErrorBody(r.bodyText);
  const where = r.method && r.path ? ` (${r.method} ${r.path.split('?')[0]})` : '';
  const base = {
    correlationId,
    details: parsed.details,
    status,
    ...(parsed.code ? { code: parsed.code } : {}),
  };
  const msg = (fallback: string) => `${parsed.message ?? fallback}${where}`;
  switch (true) {
    case status === 400 || status === 422: {
      const field = str(parsed.details.field);
      const m = parsed.message ?? 'invalid input';
      return new InvalidInputError(
        field && !m.includes(field) ? `${m} (field: ${field})` : m,
        base,
      );
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
      return new InsufficientCreditsError(msg('insufficient credits'), {
        ...base,
        ...(num(f.balance_credits) !== undefined
          ? { balanceCredits: num(f.balance_credits)! }
          : {}),
        ...(num(f.minimum_required_credits) !== undefined
          ? { minimumRequiredCredits: num(f.minimum_required_credits)! }
          : {}),
        ...(str(f.recovery_url) ? { recoveryUrl: str(f.recovery_url)! } : {}),
        ...(str(f.redeem_url) ? { redeemUrl: str(f.redeem_url)! } : {}),
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
    case status === 429: {
      const retryAfterMs = parseRetryAfter(r.headers.get('retry-after'), r.nowMs ?? Date.now());
      const limit = num(r.headers.get('x-ratelimit-limit'));
      const remaining = num(r.headers.get('x-ratelimit-remaining'));
      return new RateLimitError(msg('rate limited'), {
        ...base,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        ...(limit !== undefined ? { limit } : {}),
        ...(remaining !== undefined ? { remaining } : {}),
      });
    }
    case status >= 500:
      return new ServiceUnavailableError(msg(`server error HTTP ${status}`), base);
    case status >= 300 && status < 400: {
      // Not followed: the key and the records go only where the base URL says.
      const location = r.headers.get('location');
      return new SynapError(
        `the server redirected (HTTP ${status}${location ? ` to ${location}` : ''})${where}; redirects are not followed, so set the base URL to the service's address`,
        { ...base, code: parsed.code ?? 'REDIRECT', transient: false },
      );
    }
    default:
      return new SynapTransientError(
        `HTTP ${status}: ${parsed.message ?? 'unexpected response'}${where}`,
        base,
      );
  }
}
