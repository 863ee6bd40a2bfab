/** What one response said about the key's limit (X-RateLimit-Limit, -Remaining, -Reset). */
export interface RateHeaders {
  /** Requests per minute (per window). */
  limit: number;
  /** Requests the server will still accept now, this one already counted. */
  remaining?: number;
  /** Unix seconds: when the bucket is full again, or when the window ends. */
  resetEpochS?: number;
}

/**
 * How the server counts, as far as its answers show:
 * - 'unknown': not yet told apart; nothing is assumed to come back before Reset;
 * - 'bucket': a token bucket refilled continuously at Limit per minute, full at Reset;
 * - 'window': a fixed window that accepts Limit requests and starts afresh at Reset.
 */
export type ServerModel = 'unknown' | 'bucket' | 'window';

interface Sent {
  at: number;
  /** The mirror just after this request took its token, minus the corrections made by then. */
  after: number;
  /** Which rebase of the mirror the request was sent under. */
  epoch: number;
  /**
   * Earlier requests still in flight when it was sent: any of them may reach the server after
   * it (a new connection, a slower path), so its Remaining may not count them yet.
   */
  before: number;
}

/** Whole-token comparisons on values built from float refills. */
const EPS = 1e-9;

/**
 * A copy of the server's rate-limit counter for one key, kept from the X-RateLimit-* headers of
 * its answers, so requests go exactly when the server will have a token for them.
 *
 * Both readings of the headers are kept side by side, and a request goes when the one that
 * applies allows it (both, until it is known which applies):
 * - Bucket: the server's tokens now minus our requests it has not counted yet, refilled at
 *   Limit per minute up to the bucket's size. Each answer is checked against what the mirror
 *   predicted for it: the server's Remaining after that request, somewhere between the instant
 *   it was sent and the instant its answer came back (one round trip of skew, covering when
 *   the server counted it). Only an answer outside that range corrects the mirror: down to what
 *   the server said (another client on the key, a refused request) or up to it, less the
 *   earlier requests that were in flight with it (they may reach the server after it).
 *   Fractions of a token that the server's whole numbers hide are kept.
 * - Window: the server's count only goes down until the window ends, so the least Remaining
 *   heard in this window is its latest state, all answered requests counted; what may still
 *   take from it is our requests in flight. At Reset the window is whole again; one request
 *   goes first, in case the server's clock is behind ours.
 *
 * Which one applies is learnt from the answers: in a bucket, Remaining + rate × (Reset - now)
 * is the bucket size in every answer (to within a second of Reset rounding and the round
 * trip); in a fixed window it falls as the window is used up and jumps at each new window.
 */
export class ServerMirror {
  model: ServerModel = 'unknown';
  /** Limit per minute (per window); 0 until the server has said. */
  limit = 0;
  private perMs = 0;
  /** Whether the mirror follows the server (a Remaining has been heard). */
  active = false;
  /** Bucket reading: the server's tokens less our requests it has not counted, at `at`. */
  private tokens = 0;
  private at = 0;
  /** The server's bucket size as far as known. */
  bucketSize = Infinity;
  /** Bucket reading: corrections made so far (see Sent.after). */
  private shift = 0;
  private epoch = 0;
  /** Window reading: the least Remaining heard in the current window. */
  private left = 0;
  /** Window reading: Reset of the current window, epoch ms; Infinity after a roll until the new window answers. */
  private resetMs = Infinity;
  /** End of the window the mirror last rolled over. */
  private rolledFrom = -Infinity;
  /** How long after Reset (our clock) the server is taken to have started its new window. */
  private rollMarginMs = 0;
  /** Rolled over, and no answer from the new window yet: one request at a time. */
  private probing = false;
  /** Bounds of the bucket size implied by each answer (see learnModel). */
  private sizeLo = -Infinity;
  private sizeHi = Infinity;
  private firstResetMs: number | undefined;
  private maxRemaining = 0;
  private lastTicket = 0;
  /** The latest Remaining heard, and when (see leastTokens). */
  private heardRemaining = 0;
  private heardAt = 0;
  /** Requests sent and not answered yet, by ticket. */
  private readonly pending = new Map<number, Sent>();

  /** Requests sent whose answer has not come back. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * The least the server's bucket can hold now, when others share the key and take most of
   * its refill: the last Remaining heard, refilled since at `ownShare` of the rate, less our
   * requests in flight. (The mirror itself refills at the whole rate, which is right for one
   * client, between answers; a peer's requests show only in the next answer.) Undefined before
   * a Remaining is heard, and once the answers show a fixed window.
   */
  leastTokens(now: number, ownShare: number): number | undefined {
    if (!this.active || this.model === 'window') return undefined;
    const refilled = this.heardRemaining + ownShare * this.perMs * Math.max(0, now - this.heardAt);
    return Math.min(this.bucketSize, refilled) - this.pending.size;
  }

  /** Milliseconds until the mirror lets a request go (0 = now). */
  waitMs(now: number): number {
    if (!this.active) return 0;
    this.advance(now);
    const bucket =
      this.tokens >= 1 - EPS ? 0 : Math.max(1, Math.ceil((1 - this.tokens) / this.perMs));
    if (this.model === 'bucket') return bucket;
    const window = this.windowWaitMs(now);
    if (this.model === 'window') return window;
    // Not knowing which: both must allow it, except that with nothing in flight one request may
    // go when a bucket would have its token again (its answer tells bucket from window).
    return this.pending.size === 0 ? Math.min(bucket, window) : Math.max(bucket, window);
  }

  private windowWaitMs(now: number): number {
    const left = (this.probing ? Math.min(1, this.left) : this.left) - this.pending.size;
    if (left >= 1) return 0;
    // Nothing comes back before the roll (or, once rolled, before an answer tells more).
    const roll = this.resetMs + this.rollMarginMs;
    if (Number.isFinite(roll)) return Math.max(1, Math.ceil(roll - now));
    // Rolled, and no answer in flight to say more (they were lost): one request asks.
    if (this.pending.size === 0) {
      this.left = Math.max(this.left, 1);
      return 0;
    }
    return Infinity;
  }

  /** A request is let through: it takes a token. Tickets increase with every request. */
  take(ticket: number, now: number): void {
    if (this.active) {
      this.advance(now);
      this.tokens -= 1;
    }
    this.lastTicket = ticket;
    this.pending.set(ticket, {
      at: now,
      after: this.tokens - this.shift,
      epoch: this.epoch,
      before: this.pending.size,
    });
  }

  /**
   * The answer to `ticket` arrived (`refused`: a 429, which the server did not count). Headers
   * correct the mirror; without them the request is only no longer in flight.
   */
  observe(ticket: number, now: number, h: RateHeaders | undefined, refused: boolean): void {
    const sent = this.pending.get(ticket);
    // Refill up to now while the request still counted as in flight (it bounds the refill).
    this.advance(now);
    this.pending.delete(ticket);
    if (!h || !(h.limit > 0)) return;
    this.limit = h.limit;
    this.perMs = h.limit / 60_000;
    const rem = h.remaining;
    if (rem === undefined || !(rem >= 0)) return;
    const resetMs = h.resetEpochS !== undefined && h.resetEpochS > 0 ? h.resetEpochS * 1000 : NaN;
    this.heardRemaining = rem;
    this.heardAt = now;
    this.maxRemaining = Math.max(this.maxRemaining, rem);
    if (Number.isFinite(resetMs)) this.learnModel(rem, resetMs, sent?.at ?? now, now);
    // Without a Reset there is nothing to tell a window by: take the rate as a refill.
    else if (this.model === 'unknown') this.model = 'bucket';
    this.bucketSize = Math.max(
      this.maxRemaining + 1,
      Number.isFinite(this.sizeLo) ? Math.floor(this.sizeLo) : 0,
    );
    if (!this.active) {
      // First heard: start from what is known for sure. Requests sent after this one were not
      // counted yet; nor, perhaps, the earlier ones that were in flight with it.
      this.tokens = rem - (this.lastTicket - ticket + (sent?.before ?? this.pending.size));
      this.left = rem;
      this.resetMs = Number.isFinite(resetMs) ? resetMs : Infinity;
      this.active = true;
      this.at = now;
      this.epoch += 1;
      return;
    }
    if (this.model !== 'bucket') this.observeWindow(rem, resetMs, sent, refused, now);
    if (this.model !== 'window') this.observeBucket(rem, sent, refused, now);
  }

  /** The bucket reading's check of one answer against its prediction. */
  private observeBucket(rem: number, sent: Sent | undefined, refused: boolean, now: number): void {
    if (!sent || sent.epoch !== this.epoch) {
      // Sent before the mirror started, which counted it as taking a token: a refusal took none.
      if (sent && refused) this.tokens += 1;
      return;
    }
    const lo = sent.after + this.shift + (refused ? 1 : 0);
    const hi = lo + this.perMs * (now - sent.at);
    let delta = 0;
    if (lo >= rem + 1 - EPS) delta = rem - lo;
    else if (hi < rem - sent.before - EPS) delta = rem - sent.before - hi;
    // A refused request took nothing: give its token back.
    if (refused) delta += 1;
    this.tokens = Math.min(this.tokens + delta, this.bucketSize - this.pending.size);
    this.shift += delta;
  }

  /** The window reading of one answer. */
  private observeWindow(
    rem: number,
    resetMs: number,
    sent: Sent | undefined,
    refused: boolean,
    now: number,
  ): void {
    if (!Number.isFinite(resetMs)) {
      this.left = Math.min(this.left, rem);
      return;
    }
    if (resetMs <= this.rolledFrom) {
      // From the window we rolled over: nothing about this one, unless it says it has not ended.
      if (refused && sent && sent.at >= this.rolledFrom + this.rollMarginMs)
        this.rolledTooSoon(now);
      return;
    }
    if (!Number.isFinite(this.resetMs) || resetMs > this.resetMs) {
      // The first answer from a new window: what it says is all that is known of it.
      this.left = rem;
      this.resetMs = resetMs;
      this.probing = false;
      return;
    }
    if (resetMs === this.resetMs) this.left = Math.min(this.left, rem);
  }

  /** Refill the bucket reading, roll the window reading, up to `now`. */
  private advance(now: number): void {
    if (now <= this.at) return;
    // The server's bucket never holds more than its size, our uncounted requests included.
    const cap = this.bucketSize - this.pending.size;
    if (this.tokens < cap) {
      this.tokens = Math.min(cap, this.tokens + (now - this.at) * this.perMs);
    }
    if (this.model !== 'bucket' && this.active && now >= this.resetMs + this.rollMarginMs) {
      // The window has ended: a fixed window takes Limit again (not knowing the model, the
      // bucket would be full). One request goes first, in case the server's clock is behind.
      this.left = this.model === 'window' ? this.limit : Math.max(this.left, 1);
      this.probing = true;
      this.rolledFrom = this.resetMs;
      this.resetMs = Infinity;
    }
    this.at = now;
  }

  /**
   * The request sent first after the roll came back refused by the old window: the server's
   * clock is behind ours. Roll later from now on (growing fourfold until it is enough), and
   * wait for the old window again.
   */
  private rolledTooSoon(now: number): void {
    this.rollMarginMs = Math.min(
      10_000,
      Math.max(25, 4 * this.rollMarginMs, now - this.rolledFrom),
    );
    this.resetMs = this.rolledFrom;
    this.rolledFrom = -Infinity;
    this.left = 0;
  }

  /**
   * Tells bucket from window. Each answer bounds the bucket size it implies: at least
   * Remaining + rate × (Reset - 1 s - answer time), at most Remaining + 1 + rate × (Reset -
   * send time). A bucket keeps every bound overlapping; a window's don't. The first answer whose
   * Reset moved with the bounds still overlapping shows a bucket (a window's Reset only moves
   * when it starts afresh, which breaks the overlap).
   */
  private learnModel(rem: number, resetMs: number, sentAt: number, now: number): void {
    this.sizeLo = Math.max(this.sizeLo, rem + this.perMs * (resetMs - 1000 - now));
    this.sizeHi = Math.min(this.sizeHi, rem + 1 + this.perMs * (resetMs - sentAt));
    if (this.model === 'window') return;
    if (this.sizeLo > this.sizeHi + 1) {
      this.model = 'window';
      return;
    }
    this.firstResetMs ??= resetMs;
    if (this.model === 'unknown' && resetMs !== this.firstResetMs) this.model = 'bucket';
  }
}
