import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { errorFromResponse } from '../../src/client/answer-error.js';
import { parseErrorBody } from '../../src/client/error-body.js';
import type { KeySource } from '../../src/client/error-hints.js';
import {
  RedirectRefusedError,
  AuthenticationError,
  ConflictError,
  ContextNotFoundError,
  InsufficientCreditsError,
  InvalidInputError,
  ListNotSupportedError,
  PermissionDeniedError,
  RateLimitError,
  RequestRefusedError,
  ServiceUnavailableError,
  SynapError,
  SynapTransientError,
} from '../../src/client/errors.js';

const NOW = Date.UTC(2024, 2, 15, 10, 30, 0);

function respond(status: number, body: unknown, headers: Record<string, string> = {}) {
  return errorFromResponse({
    status,
    headers: new Headers(headers),
    bodyText: typeof body === 'string' ? body : JSON.stringify(body),
    correlationId: 'cid-123',
    method: 'POST',
    path: '/api/v1/memories?x=1',
    nowMs: NOW,
  });
}

describe('errorFromResponse: status → error class (synap-api.md §6.2)', () => {
  it.each([
    [400, InvalidInputError, 'INVALID_INPUT', false, ExitCode.FAILURE],
    [422, InvalidInputError, 'INVALID_INPUT', false, ExitCode.FAILURE],
    [401, AuthenticationError, 'UNAUTHORIZED', false, ExitCode.AUTH],
    [402, InsufficientCreditsError, 'INSUFFICIENT_CREDITS', false, ExitCode.CREDITS],
    [403, PermissionDeniedError, 'FORBIDDEN', false, ExitCode.AUTH],
    [404, ContextNotFoundError, 'NOT_FOUND', false, ExitCode.FAILURE],
    [409, ConflictError, 'CONFLICT', false, ExitCode.FAILURE],
    [429, RateLimitError, 'RATE_LIMITED', true, ExitCode.FAILURE],
    [500, ServiceUnavailableError, 'SERVICE_UNAVAILABLE', true, ExitCode.FAILURE],
    [502, ServiceUnavailableError, 'SERVICE_UNAVAILABLE', true, ExitCode.FAILURE],
    [503, ServiceUnavailableError, 'SERVICE_UNAVAILABLE', true, ExitCode.FAILURE],
    [201, SynapTransientError, 'UNEXPECTED_RESPONSE', true, ExitCode.FAILURE],
    [202, SynapTransientError, 'UNEXPECTED_RESPONSE', true, ExitCode.FAILURE],
    [302, RedirectRefusedError, 'REDIRECT_REFUSED', false, ExitCode.FAILURE],
    [307, RedirectRefusedError, 'REDIRECT_REFUSED', false, ExitCode.FAILURE],
    [405, RequestRefusedError, 'HTTP_405', false, ExitCode.FAILURE],
    [413, RequestRefusedError, 'HTTP_413', false, ExitCode.FAILURE],
    [418, RequestRefusedError, 'HTTP_418', false, ExitCode.FAILURE],
    [504, ServiceUnavailableError, 'SERVICE_UNAVAILABLE', true, ExitCode.FAILURE],
  ] as const)('%i → %o', (status, cls, code, transient, exitCode) => {
    const err = respond(status, 'plain text');
    expect(err).toBeInstanceOf(cls);
    expect(err).toBeInstanceOf(SynapError);
    expect(err.status).toBe(status);
    expect(err.code).toBe(code);
    expect(err.transient).toBe(transient);
    expect(err.exitCode).toBe(exitCode);
    expect(err.correlationId).toBe('cid-123');
  });

  it('names the method and the path without its query string', () => {
    const err = respond(404, { detail: 'Memory not found' });
    expect(err.message).toBe('Memory not found (POST /api/v1/memories)');
  });

  it('odd statuses say which status they got', () => {
    expect(respond(418, '').message).toMatch(/^HTTP 418: request refused/);
    expect(respond(302, '').message).toMatch(/^the server redirected \(HTTP 302\)/);
    expect(respond(201, { detail: 'Created?' }).message).toMatch(/^HTTP 201: Created\?/);
  });

  it('falls back to a meaningful message per status when the body says nothing', () => {
    expect(respond(401, '').message).toMatch(/authentication failed/);
    expect(respond(403, '').message).toMatch(/permission denied/);
    expect(respond(500, '').message).toMatch(/server error HTTP 500/);
    expect(respond(400, '').message).toBe('invalid input');
  });

  it('402 carries the balance fields from a detail object', () => {
    const err = respond(402, {
      detail: {
        message: 'Out of credits',
        balance_credits: 3,
        minimum_required_credits: '10',
        recovery_url: '/v1/credits/balance',
        redeem_url: 'https://example.test/redeem',
      },
    }) as InsufficientCreditsError;
    expect(err).toBeInstanceOf(InsufficientCreditsError);
    expect(err.message).toMatch(/^Out of credits/);
    expect(err.balanceCredits).toBe(3);
    expect(err.minimumRequiredCredits).toBe(10);
    expect(err.hints).toContain('Redeem a credit code: https://example.test/redeem');
    expect(err.exitCode).toBe(6);
  });

  it('402 reads top-level balance fields too, and leaves absent ones undefined', () => {
    const err = respond(402, {
      detail: 'no credits',
      balance_credits: 0,
    }) as InsufficientCreditsError;
    expect(err.balanceCredits).toBe(0);
    expect(err.minimumRequiredCredits).toBeUndefined();
    expect(err.message).toMatch(/^no credits/);
  });

  it('429 carries Retry-After (seconds)', () => {
    const err = respond(
      429,
      { error: 'slow down', code: 'RATE_LIMITED' },
      { 'Retry-After': '7', 'X-RateLimit-Limit': '60', 'X-RateLimit-Remaining': '0' },
    ) as RateLimitError;
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err.retryAfterMs).toBe(7000);
    expect(err.message).toMatch(/^slow down/);
  });

  it('429 with an HTTP-date Retry-After counts from the injected now', () => {
    const at = new Date(NOW + 12_000).toUTCString();
    const err = respond(429, '', { 'Retry-After': at }) as RateLimitError;
    expect(err.retryAfterMs).toBe(12_000);
  });

  it('429 without Retry-After leaves the wait undefined', () => {
    const err = respond(429, '') as RateLimitError;
    expect(err.retryAfterMs).toBeUndefined();
  });

  it('400 adds the field named in details when the message does not name it', () => {
    const err = respond(400, {
      error: 'bad value',
      code: 'INVALID_INPUT',
      details: { field: 'document_type' },
    });
    expect(err.message).toBe('bad value (field: document_type)');
    const named = respond(422, {
      error: 'document_type is wrong',
      details: { field: 'document_type' },
    });
    expect(named.message).toBe('document_type is wrong');
  });

  it('keeps the server code over the default one', () => {
    expect(respond(401, { error: 'revoked', code: 'CREDENTIAL_INVALID' }).code).toBe(
      'CREDENTIAL_INVALID',
    );
    expect(respond(409, { detail: { code: 'transcript_conflict', message: 'x' } }).code).toBe(
      'transcript_conflict',
    );
  });

  it('never leaks a key that the server echoed in its message', () => {
    const err = respond(401, {
      detail: 'Invalid key synap_sk_live_abcdefghijklmnopqrstuvwxyz012345',
    });
    expect(err.message).not.toContain('abcdefghijklmnopqrstuvwxyz012345');
  });
});

describe('errorFromResponse: the retry facts each error carries (RetryPolicy decides)', () => {
  it.each([
    // status, retry, may have been applied, Retry-After honoured
    [400, 'no', false, false],
    [408, 'backoff', true, false],
    [429, 'rate-limit', false, true],
    [500, 'backoff', true, false],
    [502, 'backoff', true, true],
    [503, 'backoff', false, true],
    [504, 'backoff', true, false],
    [201, 'backoff', true, false],
  ] as const)(
    '%i → retry %s, may have been applied %s, Retry-After %s',
    (status, retry, applied, honoured) => {
      const err = respond(status, 'x', { 'Retry-After': '9' });
      expect(err.retry).toBe(retry);
      expect(err.transient).toBe(retry !== 'no');
      expect(err.mayHaveApplied).toBe(applied);
      expect(err.retryAfterMs).toBe(honoured ? 9000 : undefined);
    },
  );

  it('a 429 credit stop is never retried, whatever its Retry-After', () => {
    const err = respond(429, { detail: { error: 'trial_limit_reached' } }, { 'Retry-After': '9' });
    expect(err).toMatchObject({
      retry: 'no',
      code: 'TRIAL_LIMIT_REACHED',
      exitCode: ExitCode.CREDITS,
    });
  });
});

describe('errorFromResponse: any answer, one consistent decision', () => {
  const bodies = fc.oneof(
    fc.string(),
    fc.json(),
    fc.record({
      detail: fc.oneof(
        fc.string(),
        fc.record({
          error: fc.constantFrom('trial_limit_reached', 'rate', 'insufficient_credits'),
        }),
      ),
      code: fc.option(fc.string()),
    }),
  );

  it('an error made from an answer and one made directly with its status decide alike', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 599 }), bodies, fc.nat(100), (status, body, wait) => {
        const err = respond(status, body, { 'Retry-After': String(wait) });
        expect(err.transient).toBe(err.retry !== 'no');
        expect([ExitCode.FAILURE, ExitCode.AUTH, ExitCode.CREDITS]).toContain(err.exitCode);
        expect(err.code).not.toBe('');
        if (err.retryAfterMs !== undefined) expect(err.retryAfterMs).toBe(wait * 1000);
        const Kind = err.constructor as typeof SynapError;
        const direct = new Kind('x', { status });
        expect([direct.retry, direct.mayHaveApplied, direct.exitCode]).toEqual([
          err.retry,
          err.mayHaveApplied,
          err.exitCode,
        ]);
      }),
      { numRuns: 500 },
    );
  });

  it('a key in any body never reaches the message', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 599 }), fc.string(), (status, text) => {
        const key = 'synap_sk_live_abcdefghijklmnopqrstuvwxyz012345';
        const err = respond(status, { detail: `${text} ${key}`, error: key });
        expect(err.message).not.toContain('abcdefghijklmnopqrstuvwxyz012345');
      }),
    );
  });
});

describe('errorFromResponse: credit-stop hints', () => {
  const stop = (detail: Record<string, string>) => respond(429, { detail }).hints;

  it('a spent trial names the upgrade first, a lapsed plan where it is managed; a URL once', () => {
    const urls = { upgrade_url: '/up', manage_url: '/manage' };
    expect(stop({ error: 'trial_limit_reached', ...urls })).toEqual([
      'Upgrade: /up',
      'Manage the plan: /manage',
    ]);
    expect(stop({ reason: 'subscription_inactive', ...urls })).toEqual([
      'Manage the plan: /manage',
      'Upgrade: /up',
    ]);
    const same = { upgrade_url: '/b', manage_url: '/b' };
    expect(stop({ error: 'trial_limit_reached', ...same })).toEqual(['Upgrade: /b']);
    expect(stop({ error: 'insufficient_credits', ...same })).toEqual([
      'Manage the plan: /b',
      "See the balance with 'synap credits'.",
    ]);
    expect(stop({ error: 'subscription_inactive' })).toEqual([]);
  });
});

describe('errorFromResponse: the words it adds (refused key, out of credits, redirect)', () => {
  const refused = (status: number, profile: string, source: KeySource) =>
    errorFromResponse({
      status,
      headers: new Headers(),
      bodyText: '',
      correlationId: 'c',
      keyOwner: { profile, source },
    });

  it('a refused key names its profile and source, and how to replace it', () => {
    expect(refused(401, 'default', 'profile')).toMatchObject({
      message:
        'authentication failed: the API key was not accepted (profile "default", stored key)',
      hints: ["Store a valid key with 'synap auth login'."],
    });
    expect(refused(403, 'work', 'local')).toMatchObject({
      message: 'permission denied for this API key (profile "work", local emulator key)',
      hints: ["Store a valid key with 'synap auth login --profile work'."],
    });
    expect(refused(401, 'work', 'env')).toMatchObject({
      message: expect.stringMatching(/\(profile "work", key from SYNAP_API_KEY\)$/),
      hints: ['Check SYNAP_API_KEY, or unset it to use the stored key.'],
    });
    expect(refused(401, 'default', 'option')).toMatchObject({
      message: expect.stringMatching(/\(profile "default", key being verified\)$/),
      hints: ['Nothing was stored; check the key and the base URL, then try again.'],
    });
    expect(refused(401, 'default', 'none').message).toMatch(/\(profile "default", no key\)$/);
  });

  it('402 names where the plan is managed and a code redeemed, then the balance command', () => {
    const detail = { manage_url: '/m', redeem_url: '/r', reason: 'trial' };
    const err = respond(402, { detail });
    expect(err.message).toBe('insufficient credits (trial) (POST /api/v1/memories)');
    expect(err.hints).toEqual([
      'Manage the plan: /m',
      'Redeem a credit code: /r',
      "See the balance with 'synap credits'.",
    ]);
    expect(respond(402, {}).hints).toEqual(["See the balance with 'synap credits'."]);
  });

  it('a redirect names the host it points at and how to set the base URL', () => {
    const err = errorFromResponse({
      status: 301,
      headers: new Headers({ location: 'https://user:pw@elsewhere.test:8443/x?y' }),
      bodyText: '',
      correlationId: 'c',
      method: 'GET',
      path: '/health',
    });
    expect(err.message).toBe(
      'the server redirected (HTTP 301 to elsewhere.test:8443) (GET /health); redirects are not followed',
    );
    expect(err.hints).toEqual([
      'Set the base URL to the service address itself (synap config set base_url, or --base-url).',
    ]);
  });
});

describe('parseErrorBody: both body shapes (§6.1)', () => {
  it('FastAPI string detail', () => {
    expect(parseErrorBody('{"detail":"Not found"}')).toMatchObject({
      message: 'Not found',
      code: undefined,
      details: {},
    });
  });

  it('structured detail {code, message}', () => {
    expect(
      parseErrorBody('{"detail":{"code":"transcript_conflict","message":"already there"}}'),
    ).toMatchObject({ message: 'already there', code: 'transcript_conflict' });
  });

  it('documented {error, code, details}', () => {
    expect(
      parseErrorBody(
        '{"error":"Missing field","code":"INVALID_INPUT","details":{"field":"document"}}',
      ),
    ).toMatchObject({
      message: 'Missing field',
      code: 'INVALID_INPUT',
      details: { field: 'document' },
    });
  });

  it('FastAPI validation list detail', () => {
    const parsed = parseErrorBody(
      JSON.stringify({
        detail: [
          { loc: ['body', 'document'], msg: 'field required', type: 'missing' },
          { msg: 'bad mode' },
        ],
      }),
    );
    expect(parsed.message).toBe('body.document: field required; bad mode');
  });

  it('a top-level message field', () => {
    expect(parseErrorBody('{"message":"boom"}').message).toBe('boom');
  });

  it('non-JSON text is the message (trimmed, capped)', () => {
    expect(parseErrorBody('  <html>Bad Gateway</html>\n').message).toBe('<html>Bad Gateway</html>');
    expect(parseErrorBody('x'.repeat(1000)).message).toHaveLength(300);
    expect(parseErrorBody('').message).toBeUndefined();
  });

  it('JSON that is not an object gives no message and no crash', () => {
    expect(parseErrorBody('[1,2]').message).toBeUndefined();
    expect(parseErrorBody('null').message).toBeUndefined();
    expect(parseErrorBody('"just a string"').message).toBeUndefined();
  });

  it('detail wins over error; detail.code over code', () => {
    const p = parseErrorBody('{"detail":{"code":"A","message":"m"},"code":"B","error":"e"}');
    expect(p.message).toBe('m');
    expect(p.code).toBe('A');
  });
});

describe('ListNotSupportedError', () => {
  it('says listing is unsupported, exits 1, is permanent', () => {
    const err = new ListNotSupportedError({ status: 405 });
    expect(err.message).toMatch(/^this deployment has no memory listing endpoint/);
    expect(err.exitCode).toBe(ExitCode.FAILURE);
    expect(err.transient).toBe(false);
    expect(err.code).toBe('LIST_NOT_SUPPORTED');
    expect(err.correlationId).toBeUndefined();
  });
});
