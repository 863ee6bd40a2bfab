import { num, parseErrorBody, str } from './error-body.js';
import {
  creditStopHints,
  CREDIT_STOP_TEXT,
  outOfCreditsHints,
  REDIRECT_HINT,
  refusedKey,
  type KeyOwner,
} from './error-hints.js';
import {
  AuthenticationError,
  ConflictError,
  ContextNotFoundError,
  CreditStopError,
  InsufficientCreditsError,
  InvalidInputError,
  PermissionDeniedError,
  RateLimitError,
  RedirectRefusedError,
  RequestRefusedError,
  ruleFor,
  ServiceUnavailableError,
  type SynapError,
  type SynapErrorInit,
} from './errors.js';
import { parseRetryAfter } from './retry-after.js';

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

/**
 * Turns a non-success HTTP response into the error of its row of STATUS_RULES (errors.ts): the
 * body is read once; the message is the server's (else a word for the kind) and names the call.
 */
export function errorFromResponse(r: ResponseFacts): SynapError {
  const { status } = r;
  const body = parseErrorBody(r.bodyText);
  const [, , Kind, , , , , honoursRetryAfter] = ruleFor(status, body);
  const where = r.method && r.path ? ` (${r.method} ${r.path.split('?')[0]})` : '';
  // An array `detail` names no code; outside validation (where each issue has its own type and
  // INVALID_INPUT says more) its first issue's type is the server's word for the error.
  const code =
    body.code ?? (status !== 400 && status !== 422 ? body.issueType?.toUpperCase() : undefined);
  const header = honoursRetryAfter ? (r.headers.get('retry-after') ?? undefined) : undefined;
  const init: SynapErrorInit = {
    correlationId: r.correlationId,
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
      const text = `${body.message ?? 'insufficient credits'}${reason ? ` (${reason})` : ''}`;
      return new InsufficientCreditsError(`${text}${where}`, {
        ...init,
        hints: outOfCreditsHints({ manage: str(f.manage_url), redeem: str(f.redeem_url) }),
        balanceCredits: num(f.balance_credits),
        minimumRequiredCredits: num(f.minimum_required_credits),
      });
    }
    case CreditStopError: {
      const reason = body.creditStop!;
      const text = `${body.message ?? CREDIT_STOP_TEXT[reason]} (${reason})${where}`;
      return new CreditStopError(text, {
        ...init,
        code: reason.toUpperCase(),
        hints: creditStopHints(reason, { upgrade: str(f.upgrade_url), manage: str(f.manage_url) }),
      });
    }
    case RateLimitError:
      return new Kind(says('rate limited'), init);
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
        { ...init, code: 'REDIRECT_REFUSED', hints: [REDIRECT_HINT] },
      );
    }
    case RequestRefusedError:
      return new Kind(`HTTP ${status}: ${body.message ?? 'request refused'}${where}`, init);
    default:
      return new Kind(`HTTP ${status}: ${body.message ?? 'unexpected response'}${where}`, init);
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
