import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  NetworkTimeoutError,
  RateLimitError,
  RetryBudgetExhaustedError,
  ServiceUnavailableError,
} from '../../src/client/errors.js';
import {
  CallRetries,
  DEFAULT_RETRY_POLICY,
  fullJitterDelay,
  RetryBudget,
  type RetryPolicy,
} from '../../src/client/retry-policy.js';
import { checkBaseUrl, isLoopbackHost } from '../../src/client/base-url.js';
import { parseRetryAfter } from '../../src/client/retry-after.js';
import { ExitCode, UsageError } from '../../src/errors.js';
import { writeRetryPolicyLine } from '../../src/output/retry-policy.js';
import { seededRandom } from '../helpers/random.js';

const NOW = Date.UTC(2024, 2, 15, 10, 30, 0);

describe('parseRetryAfter', () => {
  it('reads delta seconds', () => {
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter('7', NOW)).toBe(7000);
    expect(parseRetryAfter(' 12 ', NOW)).toBe(12_000);
    expect(parseRetryAfter('1.5', NOW)).toBe(1500);
  });

  it('reads an HTTP date in the future as the time left', () => {
    expect(parseRetryAfter(new Date(NOW + 30_000).toUTCString(), NOW)).toBe(30_000);
    expect(parseRetryAfter('Fri, 15 Mar 2024 10:31:00 GMT', NOW)).toBe(60_000);
  });

  it('an HTTP date in the past means no wait', () => {
    expect(parseRetryAfter('Fri, 15 Mar 2024 10:00:00 GMT', NOW)).toBe(0);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:00:00 GMT', NOW)).toBe(0);
  });

  it('garbage, negatives and empty values are undefined (caller falls back to backoff)', () => {
    for (const v of ['', '   ', 'soon', '12abc', '-5', '1e3', 'Mon, 99 Foo 2024 99:99:99 GMT']) {
      expect(parseRetryAfter(v, NOW), JSON.stringify(v)).toBeUndefined();
    }
    expect(parseRetryAfter(null, NOW)).toBeUndefined();
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
  });
});

describe('fullJitterDelay', () => {
  const policy = { baseMs: 100, capMs: 1000 };
  const max = 0.9999999999;

  it('is 0 with random() = 0, whatever the attempt', () => {
    for (let a = 1; a <= 10; a++) expect(fullJitterDelay(a, policy, () => 0)).toBe(0);
  });

  it('stays under base·2^(attempt-1) and under the cap with random() → 1', () => {
    expect(fullJitterDelay(1, policy, () => max)).toBe(99);
    expect(fullJitterDelay(2, policy, () => max)).toBe(199);
    expect(fullJitterDelay(3, policy, () => max)).toBe(399);
    expect(fullJitterDelay(4, policy, () => max)).toBe(799);
    expect(fullJitterDelay(5, policy, () => max)).toBe(999);
    expect(fullJitterDelay(50, policy, () => max)).toBe(999);
  });

  it('is uniform over the interval (midpoint)', () => {
    expect(fullJitterDelay(3, policy, () => 0.5)).toBe(200);
  });

  it('treats attempt 0 like the first retry; the default policy caps at its capMs', () => {
    expect(fullJitterDelay(0, policy, () => max)).toBe(99);
    expect(fullJitterDelay(100, DEFAULT_RETRY_POLICY.backoff, () => max)).toBe(
      DEFAULT_RETRY_POLICY.backoff.capMs - 1,
    );
  });

  it('is always within [0, cap) for random values across the range', () => {
    const rnd = seededRandom(42);
    for (let a = 1; a < 30; a++) {
      const d = fullJitterDelay(a, policy, rnd);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(Math.min(1000, 100 * 2 ** (a - 1)));
    }
  });
});

describe('RetryBudget', () => {
  it('spends its initial tokens, then refuses', () => {
    const b = new RetryBudget({ initial: 2, ratio: 0.5, max: 10 });
    expect(b.tryWithdraw()).toBe(true);
    expect(b.tryWithdraw()).toBe(true);
    expect(b.tryWithdraw()).toBe(false);
  });

  it('earns ratio per first attempt, capped at max', () => {
    const b = new RetryBudget({ initial: 0, ratio: 0.25, max: 2 });
    expect(b.tryWithdraw()).toBe(false);
    for (let i = 0; i < 3; i++) b.deposit();
    expect(b.tryWithdraw()).toBe(false); // 0.75 earned: not a whole retry yet
    b.deposit();
    expect(b.tryWithdraw()).toBe(true);
    expect(b.tryWithdraw()).toBe(false);
    for (let i = 0; i < 100; i++) b.deposit();
    expect([b.tryWithdraw(), b.tryWithdraw(), b.tryWithdraw()]).toEqual([true, true, false]);
  });

  it('exhaustion is a stopped-early error (exit 5)', () => {
    const e = new RetryBudgetExhaustedError();
    expect(e.exitCode).toBe(ExitCode.STOPPED);
    expect(e.message).toMatch(/retry budget/);
  });
});

describe('CallRetries: the decisions of one call under a RetryPolicy', () => {
  const policy: RetryPolicy = {
    ...DEFAULT_RETRY_POLICY,
    attempts: 3,
    backoff: { baseMs: 100, capMs: 1000 },
    rateLimit: { maxWaits: 2, minMs: 1000, fallback: { baseMs: 1000, capMs: 10_000 } },
  };
  const busy = new ServiceUnavailableError('busy', { status: 503 });
  const half = () => 0.5;

  it('retries a transient failure of an idempotent call up to `attempts`, with backoff', () => {
    const r = new CallRetries(policy, new RetryBudget(policy.budget), true, half);
    expect(r.afterTransient(busy)).toBe(50);
    expect(r.afterTransient(busy)).toBe(100);
    expect(() => r.afterTransient(busy)).toThrow(busy);
  });

  it('waits at least a 503 Retry-After, but no longer than the policy allows', () => {
    const r = new CallRetries(policy, new RetryBudget(policy.budget), true, half);
    expect(r.afterTransient(busy, 7000)).toBe(7000);
    const capped = new CallRetries(
      { ...policy, maxServiceUnavailableWaitMs: 2000 },
      new RetryBudget(policy.budget),
      true,
      half,
    );
    expect(capped.afterTransient(busy, 7000)).toBe(2000);
  });

  it('the ambiguous-failure rule: a call that could duplicate is not repeated after a failure that may have applied it; "never" repeats none', () => {
    const timeout = new NetworkTimeoutError('no answer within 30s');
    const gateway = new ServiceUnavailableError('HTTP 502', { status: 502 });
    const create = new CallRetries(policy, new RetryBudget(policy.budget), false, half);
    expect(() => create.afterTransient(timeout)).toThrow(timeout);
    expect(() => create.afterTransient(gateway)).toThrow(gateway);
    const never = { ...policy, ambiguous: 'never' as const };
    const read = new CallRetries(never, new RetryBudget(policy.budget), true, half);
    expect(() => read.afterTransient(timeout)).toThrow(timeout);
  });

  it('a failure that says the request was not processed is retried even for a create', () => {
    const refused = new NetworkTimeoutError('connection refused', {
      cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    });
    for (const ambiguous of ['retry-idempotent', 'never'] as const) {
      const create = new CallRetries(
        { ...policy, ambiguous },
        new RetryBudget(policy.budget),
        false,
        half,
      );
      expect(create.afterTransient(busy)).toBeGreaterThanOrEqual(0);
      expect(create.afterTransient(refused)).toBeGreaterThanOrEqual(0);
    }
  });

  it('a run dry of retry budget stops with RetryBudgetExhaustedError', () => {
    const budget = new RetryBudget({ initial: 0, ratio: 0, max: 0 });
    const r = new CallRetries(policy, budget, true, half);
    expect(() => r.afterTransient(busy)).toThrow(RetryBudgetExhaustedError);
  });

  it('429: Retry-After when given, else minMs + fallback backoff; gives up after maxWaits', () => {
    const r = new CallRetries(policy, new RetryBudget(policy.budget), false, half);
    expect(r.afterRateLimit(new RateLimitError('slow down', { retryAfterMs: 3000 }))).toBe(3000);
    const bare = new RateLimitError('slow down');
    expect(r.afterRateLimit(bare)).toBe(1000 + 1000);
    expect(() => r.afterRateLimit(bare)).toThrow(bare);
  });
});

describe('checkBaseUrl', () => {
  it('accepts https anywhere', () => {
    expect(checkBaseUrl('https://synap.example.com').hostname).toBe('synap.example.com');
    expect(checkBaseUrl('https://10.0.0.1:8443/x').port).toBe('8443');
  });

  it.each([
    'http://127.0.0.1:8080',
    'http://127.1.2.3',
    'http://localhost:3000',
    'http://LOCALHOST',
    'http://localhost.:8080',
    'http://[::1]:9000',
  ])('accepts plain http to loopback: %s', (url) => {
    expect(checkBaseUrl(url).protocol).toBe('http:');
  });

  it.each([
    'http://synap.example.com',
    'http://10.0.0.1',
    'http://128.0.0.1',
    'http://127.0.0.1.evil.com',
    'http://localhost.evil.com',
    'http://api.localhost',
    'http://[::2]',
  ])('refuses plain http to a remote host: %s', (url) => {
    expect(() => checkBaseUrl(url)).toThrow(UsageError);
    expect(() => checkBaseUrl(url)).toThrow(/plain http/);
  });

  it.each(['not a url', '', 'synap.example.com', 'ftp://example.com', 'file:///etc/passwd'])(
    'refuses garbage: %j',
    (url) => {
      expect(() => checkBaseUrl(url)).toThrow(UsageError);
    },
  );

  it('refuses credentials in the URL', () => {
    expect(() => checkBaseUrl('https://user:pw@example.com')).toThrow(/credentials/);
  });

  it('exit code of a refusal is 2', () => {
    try {
      checkBaseUrl('http://example.com');
      expect.unreachable();
    } catch (err) {
      expect((err as UsageError).exitCode).toBe(ExitCode.USAGE);
    }
  });

  it('isLoopbackHost', () => {
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('0:0:0:0:0:0:0:1')).toBe(true);
    expect(isLoopbackHost('example.com')).toBe(false);
  });
});

describe('the --verbose retry policy line', () => {
  it('names the statuses whose Retry-After a retry waits out, as the status table says', () => {
    const out = new PassThrough();
    writeRetryPolicyLine(DEFAULT_RETRY_POLICY, out);
    const line = String(out.read());
    expect(line).toContain('502/503: wait its Retry-After up to 60s');
  });
});
