import { createHash } from 'node:crypto';
import { abortReason, systemClock, type Clock } from '../clock.js';

/** Cut applied on a first 429 when no limit is known. */
const DECREASE = 0.85;
/** Share of a measured (header-less) server rate to pace at. */
const LEARNED_SHARE = 0.97;
/** Upward probe while the rate is assumed or learnt: about this share per second. */
const INCREASE_PER_S = 0.01;

export interface RateLimiterOptions {
  /** Hard ceiling in requests per minute (`--rate`); the limiter never goes above it. */
  maxRpm?: number;
  /** Bucket size to assume before the server tells (default: 1 once a rate is known). */
  burst?: number;
  clock?: Clock;
  /** Share of an advertised limit to pace at; a little headroom absorbs clock skew. */
  headroom?: number;
  /**
   * Rate (requests per minute) to assume until the server advertises one or refuses a request
   * (e.g. a profile's known tier). Without it the limiter lets requests through unpaced until
   * the first 429 or X-RateLimit-* header teaches it the limit.
   */
  initialRpm?: number;
}

export interface RateLimiterStats {
  /** Requests per minute currently paced at; undefined while unlimited. */
  rpm: number | undefined;
  pauses: number;
  pausedMs: number;
  source: 'none' | 'cap' | 'assumed' | 'headers' | 'learned';
}

/**
 * One client-side limiter per API key, shared by every worker:
 * - a token bucket paces requests just under the server's limit, learnt from the
 *   X-RateLimit-* headers, capped by `--rate`, or, when the server says nothing, found by
 *   additive increase / multiplicative decrease on 429s;
 * - a 429's Retry-After pauses every waiting and future caller until it has passed, and the
 *   bucket restarts empty so the resume is not a burst.
 * Waiters are served first come, first served.
 */
export class RateLimiter {
  private readonly clock: Clock;
  private readonly headroom: number;
  private maxRpm: number | undefined;
  /** Tokens per ms; undefined = not limited (yet). */
  private perMs: number | undefined;
  private capacity: number;
  private tokens: number;
  private updatedAt: number;
  private pausedUntil = 0;
  private source: RateLimiterStats['source'] = 'none';
  private lastDecreaseAt = -Infinity;
  /** When the pause of the last cut ended: the start of the span the next cut measures. */
  private measureFrom = -Infinity;
  /** Successful answers so far, and at the last cut (to measure the server's rate). */
  private accepted = 0;
  private acceptedAtDecrease = 0;
  private queue: Promise<void> = Promise.resolve();
  private pauses = 0;
  private pausedMs = 0;
  /** Requests let through whose answer has not come back yet (see settle()). */
  private inFlight = 0;
  private heardHeaders = false;

  constructor(opts: RateLimiterOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.headroom = opts.headroom ?? 0.98;
    this.maxRpm = opts.maxRpm;
    this.capacity = Math.max(1, opts.burst ?? 1);
    this.tokens = this.capacity;
    this.updatedAt = this.clock.now();
    if (opts.initialRpm !== undefined && opts.initialRpm > 0) {
      const rpm = Math.min(opts.initialRpm, this.maxRpm ?? Infinity);
      this.perMs = rpm / 60_000;
      this.source = rpm === this.maxRpm ? 'cap' : 'assumed';
    } else if (this.maxRpm !== undefined) {
      this.perMs = this.maxRpm / 60_000;
      this.source = 'cap';
    }
  }

  /** Waits until a request may be sent. FIFO across callers. */
  acquire(signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => this.take(signal));
    // A caller that gave up (abort) must not block the ones behind it.
    this.queue = turn.catch(() => {});
    return turn;
  }

  private async take(signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (signal?.aborted) throw abortReason(signal);
      const now = this.clock.now();
      if (now < this.pausedUntil) {
        await this.clock.sleep(this.pausedUntil - now, signal);
        continue;
      }
      if (this.perMs === undefined) {
        this.inFlight += 1;
        this.noteSent(now);
        return;
      }
      this.refill(now);
      if (this.tokens >= 1) {
        this.tokens -= 1;
        this.inFlight += 1;
        if (!this.heardHeaders) this.noteSent(now);
        return;
      }
      await this.clock.sleep(Math.ceil((1 - this.tokens) / this.perMs), signal);
    }
  }

  private refill(now: number): void {
    if (this.perMs === undefined || now <= this.updatedAt) return;
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.updatedAt) * this.perMs);
    this.updatedAt = now;
  }

  /**
   * Lowers the `--rate` ceiling (never raises it): a command with its own cap shares the key's
   * limiter and still gets its cap.
   */
  capRate(rpm: number): void {
    if (!(rpm > 0) || (this.maxRpm !== undefined && this.maxRpm <= rpm)) return;
    this.maxRpm = rpm;
    const cap = rpm / 60_000;
    if (this.perMs === undefined || this.perMs > cap) {
      this.refill(this.clock.now());
      this.perMs = cap;
      this.source = 'cap';
    }
  }

  /**
   * Holds every waiting and future acquirer until clock time `until` (a 429's Retry-After).
   * The bucket restarts with at most one token at that instant, so the resume is paced rather
   * than a burst: the server's bucket is nearly empty too. A shorter pause never shortens a longer one.
   */
  pauseUntil(until: number): void {
    const now = this.clock.now();
    if (until > this.pausedUntil) {
      if (this.pausedUntil <= now && until > now) this.pauses += 1;
      this.pausedMs += Math.max(0, until - Math.max(now, this.pausedUntil));
      this.pausedUntil = until;
    }
    this.refill(now);
    // One request may go the moment the pause ends (the server told us it will take one
    // then); the rest are paced from there.
    this.tokens = Math.min(1, this.tokens);
    this.updatedAt = Math.max(now, this.pausedUntil);
  }

  /** pauseUntil(now + ms). */
  pauseFor(ms: number): void {
    this.pauseUntil(this.clock.now() + Math.max(0, ms));
  }

  /**
   * A 429 arrived for a request sent at `sentAt`: pause everyone for `retryAfterMs`. When the
   * server advertises no limit, the pace is also re-learnt, once per overload episode however
   * many requests were in flight when it began:
   * - from the end of one episode's pause to the next episode the server's bucket went from
   *   empty (Retry-After is when it has a token again) to empty, so what it accepted in between
   *   is its rate × that time: pace just under that. Counting from the end of the pause, not
   *   from the 429, keeps a long outage (a 429 storm) from passing for a low rate;
   * - on the first episode there is nothing to measure yet: cut below what was sent recently.
   */
  onRateLimited(retryAfterMs: number, sentAt: number = this.clock.now()): void {
    const now = this.clock.now();
    this.pauseFor(retryAfterMs);
    if (this.heardHeaders || sentAt <= this.lastDecreaseAt) return;
    let next: number;
    const span = now - this.measureFrom;
    const accepted = this.accepted - this.acceptedAtDecrease;
    if (Number.isFinite(span) && span >= 1000 && accepted >= 2) {
      next = (accepted / span) * LEARNED_SHARE;
    } else {
      const observed = this.observedPerMs(now);
      next = (this.perMs === undefined ? observed : Math.min(this.perMs, observed)) * DECREASE;
    }
    if (this.maxRpm !== undefined) next = Math.min(next, this.maxRpm / 60_000);
    this.perMs = Math.max(1 / 60_000, next);
    this.capacity = 1;
    this.source = 'learned';
    this.lastDecreaseAt = now;
    this.measureFrom = Math.max(now, this.pausedUntil);
    this.acceptedAtDecrease = this.accepted;
  }

  /**
   * A request succeeded. While the rate is assumed or learnt, probe higher by about 1% per
   * second of traffic, so the pace finds a limit that went up and climbs back after a cut.
   */
  onSuccess(): void {
    this.accepted += 1;
    if ((this.source !== 'learned' && this.source !== 'assumed') || this.perMs === undefined) {
      return;
    }
    const perSecond = Math.max(1, this.perMs * 1000);
    let next = this.perMs * (1 + INCREASE_PER_S / perSecond);
    if (this.maxRpm !== undefined) next = Math.min(next, this.maxRpm / 60_000);
    this.perMs = next;
  }

  /**
   * Every response's rate headers: X-RateLimit-Limit (per minute), -Remaining and -Reset
   * (Unix seconds when the bucket is full again) give the rate and the bucket size.
   */
  observeHeaders(h: { limit?: number; remaining?: number; resetEpochS?: number }): void {
    if (h.limit === undefined || !(h.limit > 0)) return;
    const now = this.clock.now();
    this.refill(now);
    const firstLearnt = !this.heardHeaders;
    this.heardHeaders = true;
    let rpm = h.limit * this.headroom;
    if (this.maxRpm !== undefined) rpm = Math.min(rpm, this.maxRpm);
    this.perMs = rpm / 60_000;
    this.source = this.maxRpm !== undefined && this.maxRpm < h.limit ? 'cap' : 'headers';
    if (h.remaining !== undefined && h.remaining >= 0) {
      // The server's count already includes this request; the others still in flight will
      // take from it too.
      const available = Math.max(0, h.remaining - Math.max(0, this.inFlight - 1));
      if (h.resetEpochS !== undefined) {
        const untilFullMs = Math.max(0, h.resetEpochS * 1000 - now);
        // Whole-second Reset rounds up, so this may overshoot the real burst by up to a second's worth.
        const estimate = Math.floor(h.remaining + (untilFullMs * h.limit) / 60_000);
        this.capacity = Math.max(1, Math.min(estimate, h.remaining + Math.ceil(h.limit / 60)));
      }
      // On first contact adopt the server's bucket (the burst is ours to use); after that only
      // ever lower ours, since answers arrive out of order and an old one may report more.
      if (firstLearnt || this.tokens > available) this.tokens = available;
    }
  }

  private readonly recent: number[] = [];

  /** Tracks sends so a rate can be estimated when a 429 arrives without headers. */
  private noteSent(at: number): void {
    this.recent.push(at);
    if (this.recent.length > 4096) this.recent.splice(0, this.recent.length - 2048);
  }

  private observedPerMs(now: number): number {
    const windowMs = 10_000;
    const inWindow = this.recent.filter((t) => t > now - windowMs);
    if (inWindow.length < 2) return 1 / 1000; // one a second: a safe floor to climb from
    const span = Math.max(1000, now - inWindow[0]!);
    return inWindow.length / span;
  }

  /** The answer to a request let through by acquire() has arrived (or it failed). */
  settle(): void {
    if (this.inFlight > 0) this.inFlight -= 1;
  }

  get isPaused(): boolean {
    return this.clock.now() < this.pausedUntil;
  }

  /** Milliseconds left in the current Retry-After pause (0 when not paused). */
  get pauseRemainingMs(): number {
    return Math.max(0, this.pausedUntil - this.clock.now());
  }

  stats(): RateLimiterStats {
    return {
      rpm: this.perMs === undefined ? undefined : Math.round(this.perMs * 60_000 * 10) / 10,
      pauses: this.pauses,
      pausedMs: this.pausedMs,
      source: this.source,
    };
  }
}

const registry = new Map<string, RateLimiter>();

/**
 * The one limiter for a key at a base URL in this process, so every command, worker and
 * client sharing a key shares its pace. The map is keyed by a hash, never by the key itself.
 * `opts` configure the limiter when it is first made; later calls can only lower its cap.
 */
export function limiterFor(
  baseUrl: string,
  apiKey: string,
  opts: RateLimiterOptions = {},
): RateLimiter {
  const id = createHash('sha256').update(`${baseUrl}\n${apiKey}`).digest('hex');
  let limiter = registry.get(id);
  if (!limiter) {
    limiter = new RateLimiter(opts);
    registry.set(id, limiter);
  } else if (opts.maxRpm !== undefined) {
    limiter.capRate(opts.maxRpm);
  }
  return limiter;
}
