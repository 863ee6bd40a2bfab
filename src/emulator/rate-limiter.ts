import type { Clock } from '../clock.js';
import type { EmulatorTier } from './types.js';

/** Per-key limits of the service's tiers: requests per minute and the burst a key may spend at once. */
const TIER_LIMITS: Record<Exclude<EmulatorTier, 'unlimited'>, { rpm: number; burst: number }> = {
  free: { rpm: 60, burst: 10 },
  pro: { rpm: 600, burst: 50 },
};

/**
 * How a key's limit is counted. The service does not say what X-RateLimit-Remaining and -Reset
 * describe, so the emulator can play either:
 * - 'bucket': a token bucket of `burst` refilled continuously at `rpm` per minute; Remaining is
 *   the whole tokens left, Reset when the bucket is full again;
 * - 'window': a fixed window of one minute (aligned to the minute since the epoch) that accepts
 *   `rpm` requests; Remaining is what is left of this window, Reset when the next one starts.
 */
type RateLimitKind = 'bucket' | 'window';

export interface RateLimitConfig {
  /** Requests per minute refilled into the bucket (or accepted per window); undefined = unlimited. */
  rpm: number | undefined;
  /** Bucket capacity (unused by a fixed window). */
  burst: number;
  /** Default 'bucket'. */
  kind?: RateLimitKind;
}

const WINDOW_MS = 60_000;

/** Resolves tier + overrides into one config. `--rpm`/`--burst` on 'unlimited' make it limited. */
export function resolveRateLimit(
  tier: EmulatorTier,
  rpm?: number,
  burst?: number,
): RateLimitConfig {
  const base = tier === 'unlimited' ? undefined : TIER_LIMITS[tier];
  const effectiveRpm = rpm ?? base?.rpm;
  if (effectiveRpm === undefined) return { rpm: undefined, burst: 0 };
  // Without an explicit burst a custom rpm gets a sixth of a minute's worth, like the tiers.
  const effectiveBurst = burst ?? base?.burst ?? Math.max(1, Math.round(effectiveRpm / 6));
  return { rpm: effectiveRpm, burst: Math.max(1, effectiveBurst) };
}

export type RateDecision =
  | { limited: false; allowed: true }
  | {
      limited: true;
      allowed: boolean;
      limit: number;
      remaining: number;
      /** Unix seconds at which the bucket is full again. */
      resetAt: number;
      /** Whole seconds to wait (only when not allowed). */
      retryAfterSeconds: number;
    };

interface Bucket {
  /** Tokens left (bucket), or requests counted in the window that started at `updatedAt` (window). */
  tokens: number;
  updatedAt: number;
}

/**
 * The limit per API key, counted as RateLimitKind says. A request takes one token or is refused
 * with the time until one is back.
 */
export class KeyRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(
    private readonly config: RateLimitConfig,
    private readonly clock: Clock,
  ) {
    this.perMs = config.rpm === undefined ? 0 : config.rpm / 60_000;
  }

  take(key: string): RateDecision {
    const { rpm, burst } = this.config;
    if (rpm === undefined) return { limited: false, allowed: true };
    const now = this.clock.now();
    if (this.config.kind === 'window') return this.takeFromWindow(key, rpm, now);
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: burst, updatedAt: now };
      this.buckets.set(key, bucket);
    } else if (now > bucket.updatedAt) {
      bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.updatedAt) * this.perMs);
      bucket.updatedAt = now;
    }
    // Floating-point refill can land a hair under 1 after exactly the right wait.
    const allowed = bucket.tokens >= 1 - 1e-9;
    if (allowed) bucket.tokens = Math.max(0, bucket.tokens - 1);
    const missing = burst - bucket.tokens;
    const resetAt = Math.ceil((now + missing / this.perMs) / 1000);
    const retryAfterSeconds = allowed
      ? 0
      : Math.max(1, Math.ceil((1 - bucket.tokens) / this.perMs / 1000 - 1e-9));
    return {
      limited: true,
      allowed,
      limit: rpm,
      remaining: Math.max(0, Math.floor(bucket.tokens + 1e-9)),
      resetAt,
      retryAfterSeconds,
    };
  }

  private takeFromWindow(key: string, limit: number, now: number): RateDecision {
    const start = Math.floor(now / WINDOW_MS) * WINDOW_MS;
    let window = this.buckets.get(key);
    if (!window || window.updatedAt !== start) {
      window = { tokens: 0, updatedAt: start };
      this.buckets.set(key, window);
    }
    const allowed = window.tokens < limit;
    if (allowed) window.tokens += 1;
    const end = start + WINDOW_MS;
    return {
      limited: true,
      allowed,
      limit,
      remaining: limit - window.tokens,
      resetAt: end / 1000,
      retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((end - now) / 1000)),
    };
  }
}
