import type { Clock } from '../clock.js';
import type { EmulatorTier } from './types.js';

/** Per-key limits of the service's tiers: requests per minute and the burst a key may spend at once. */
export const TIER_LIMITS: Record<
  Exclude<EmulatorTier, 'unlimited'>,
  { rpm: number; burst: number }
> = {
  free: { rpm: 60, burst: 10 },
  pro: { rpm: 600, burst: 50 },
};

export interface RateLimitConfig {
  /** Requests per minute refilled into the bucket; undefined = unlimited. */
  rpm: number | undefined;
  /** Bucket capacity. */
  burst: number;
}

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
  tokens: number;
  updatedAt: number;
}

/**
 * Token bucket per API key: capacity `burst`, refilled continuously at rpm/60 per second. A
 * request takes one token or is refused with the time until one token is back.
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
}
