import { createHash } from 'node:crypto';
import { abortReason, systemClock, type Clock } from '../clock.js';
import { ServerMirror, type RateHeaders, type ServerModel } from './server-mirror.js';

/** Cut applied on a first 429 when no limit is known. */
const DECREASE = 0.85;
/** Share of a measured (header-less) server rate to pace at. */
const LEARNED_SHARE = 0.97;
/** Upward probe while the rate is assumed or learnt: about this share per second. */
const INCREASE_PER_S = 0.01;
/** Share of an advertised limit to pace at when the server gives no Remaining to mirror. */
const LIMIT_ONLY_SHARE = 0.98;
/**
 * Requests let through before the first answer says anything of the limit: fewer than the
 * smallest documented burst (10), and as many as the adaptive concurrency starts with.
 */
const FIRST_ASKING = 4;
/** How long a shard's answers must show tokens left in the server's bucket before it takes them. */
const IDLE_SPAN_MS = 1000;
/** The smallest documented tier (synap-api.md §6.6): what a share starts from when no limit is advertised. */
const SMALLEST_TIER_RPM = 60;

export interface RateLimiterOptions {
  /** Hard ceiling in requests per minute (`--rate 300`); the limiter never goes above it, burst included. */
  maxRpm?: number;
  /**
   * Share of the server's limit to use (`--rate 50%`), 0 < share ≤ 1: that share of its rate
   * and of its bucket, leaving the rest to whatever else uses the key.
   */
  rateShare?: number;
  clock?: Clock;
  /**
   * This process is one of `peers` shards of one run, all on this key (`--shard i/n`): each
   * takes 1/n of the server's rate, but unlike a share left to another application (`rateShare`)
   * what the peers leave unused is used. A shard starts with its share of the server's bucket,
   * takes tokens the bucket would otherwise overflow with, learns the rate from 429s with the
   * others when the server sends no headers, and takes a larger share as peers finish
   * (peersFinished).
   */
  peers?: number;
}

export interface RateLimiterStats {
  /** Requests per minute currently paced at; undefined while unlimited. */
  rpm: number | undefined;
  pauses: number;
  pausedMs: number;
  /**
   * What sets the pace: nothing yet, `--rate`, a share of the advertised limit, a rate assumed
   * or learnt from 429s, or the server's headers.
   */
  source: 'none' | 'cap' | 'share' | 'assumed' | 'headers' | 'learned';
  /** How the server's headers count (see ServerMirror), once it has sent them. */
  model: ServerModel | undefined;
}

/** A plain token bucket: `perMs` refill, `capacity` size. */
class Bucket {
  tokens: number;
  private at: number;

  constructor(
    public perMs: number,
    public capacity: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.at = now;
  }

  refill(now: number): void {
    if (now <= this.at) return;
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.at) * this.perMs);
    this.at = now;
  }

  /** Milliseconds until a whole token (0 = now). */
  waitMs(now: number): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - this.tokens) / this.perMs));
  }

  /** Holds at most one token at `until` (the end of a pause) and refills from there. */
  restart(now: number, until: number): void {
    this.refill(now);
    this.tokens = Math.min(1, this.tokens);
    this.at = Math.max(this.at, until);
  }
}

/**
 * One client-side limiter per API key, shared by every worker:
 * - when the server sends X-RateLimit-Limit/Remaining/Reset, a mirror of its counter
 *   (ServerMirror) lets each request go exactly when the server will have a token for it,
 *   whether the headers describe a token bucket or a fixed window;
 * - when it sends none, a token bucket paces at a rate found by additive increase /
 *   multiplicative decrease on 429s;
 * - `--rate` adds a bucket of its own on top: a rate in requests per minute with no burst, or
 *   a share of the server's rate and bucket;
 * - a 429's Retry-After pauses every waiting and future caller until it has passed.
 * Waiters are served first come, first served.
 */
export class RateLimiter {
  private readonly clock: Clock;
  private maxRpm: number | undefined;
  private rateShare: number | undefined;
  /** Shards of the run this process is one of (RateLimiterOptions.peers); undefined = not a shard. */
  private readonly peers: number | undefined;
  /** Whether a shard has been given its share of the server's bucket (once, at its first Remaining). */
  private bucketShareGiven = false;
  /** A shard's answers of the last IDLE_SPAN_MS (and the one before): when, and Remaining. */
  private readonly heardLog: { at: number; remaining: number }[] = [];
  /** Idle tokens of the server's bucket this shard may still take (see noteHeard). */
  private idleLeft = 0;
  /** The learnt (header-less) pace; undefined = not limited (yet). */
  private learning: Bucket | undefined;
  /** `--rate`: a cap of our own, whatever the server allows. */
  private cap: Bucket | undefined;
  private readonly mirror = new ServerMirror();
  private pausedUntil = 0;
  /** Whether the header-less pace was learnt from a 429 (else assumed). */
  private learnt = false;
  private lastDecreaseAt = -Infinity;
  /** When the pause of the last cut ended: the start of the span the next cut measures. */
  private measureFrom = -Infinity;
  /** Successful answers so far, and at the last cut (to measure the server's rate). */
  private accepted = 0;
  private acceptedAtDecrease = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private pauses = 0;
  private pausedMs = 0;
  private ticket = 0;
  /** Whether any answer has come back (until then one request at a time). */
  private answered = false;
  /** Wakes the waiter at the head of the queue early (something it waits for changed). */
  private wake: (() => void) | undefined;
  private readonly recent: number[] = [];

  constructor(opts: RateLimiterOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.maxRpm = opts.maxRpm !== undefined && opts.maxRpm > 0 ? opts.maxRpm : undefined;
    this.peers = opts.peers !== undefined && opts.peers > 1 ? Math.floor(opts.peers) : undefined;
    this.rateShare = validShare(opts.rateShare ?? (this.peers ? 1 / this.peers : undefined));
    this.applyCap(this.clock.now());
  }

  /**
   * Waits until a request may be sent; FIFO across callers. Resolves with the request's ticket,
   * to hand back to settle() with its answer.
   */
  acquire(signal?: AbortSignal): Promise<number> {
    const turn = this.queue.then(() => this.take(signal));
    // A caller that gave up (abort) must not block the ones behind it.
    this.queue = turn.catch(() => {});
    return turn;
  }

  private async take(signal?: AbortSignal): Promise<number> {
    for (;;) {
      if (signal?.aborted) throw abortReason(signal);
      const now = this.clock.now();
      const wait = this.waitMs(now);
      if (wait <= 0) {
        const ticket = ++this.ticket;
        // A token the bucket had spare (see spare()) is not taken from the share.
        if (this.cap && this.cap.tokens >= 1) this.cap.tokens -= 1;
        else if (this.cap && this.spare(now) < 1 && this.idleLeft >= 1) this.idleLeft -= 1;
        if (this.learning) this.learning.tokens -= 1;
        this.mirror.take(ticket, now);
        if (!this.mirror.active) this.noteSent(now);
        return ticket;
      }
      await this.sleep(wait, signal);
    }
  }

  /** Milliseconds until every gate lets one request through (0 = now). */
  private waitMs(now: number): number {
    if (now < this.pausedUntil) return this.pausedUntil - now;
    // Nothing known of the server and nothing to pace by: a few requests ask before the rest go
    // (a burst of unknown size could draw a 429 for each request over it); for a share, one.
    if (!this.answered && !this.learning) {
      const asking = this.rateShare !== undefined ? 1 : this.cap ? Infinity : FIRST_ASKING;
      if (this.mirror.inFlight >= asking) return Infinity;
    }
    let wait = this.cap ? this.cap.waitMs(now) : 0;
    if (wait > 0 && (this.spare(now) >= 1 || this.idleLeft >= 1)) wait = 0;
    if (this.mirror.active) wait = Math.max(wait, this.mirror.waitMs(now));
    else if (this.learning) wait = Math.max(wait, this.learning.waitMs(now));
    return wait;
  }

  /**
   * A shard's tokens beyond its share: its part of what the server's bucket surely holds (the
   * last Remaining heard, refilled since at this shard's share) above what the other shards'
   * shares of it could take. Left there, those tokens would overflow (a peer not started yet,
   * slow, or finished); taking them leaves every peer its share. 0 when not a shard, with a
   * `--rate` cap, before the server has said what it holds, or when it counts in fixed windows.
   */
  private spare(now: number): number {
    if (this.peers === undefined || this.maxRpm !== undefined || this.rateShare === undefined)
      return 0;
    const tokens = this.mirror.leastTokens(now, this.rateShare);
    const size = this.mirror.bucketSize;
    if (tokens === undefined || !Number.isFinite(size)) return 0;
    // The other shards may see the same spare tokens at the same moment: each takes its share.
    return (tokens - (1 - this.rateShare) * size) * this.rateShare;
  }

  /**
   * A shard's answers tell what its peers leave in the server's bucket: when every answer of
   * the last IDLE_SPAN_MS said the bucket held at least m tokens, those m are idle (the
   * shards' shares take the refill, not them) and would be left unused at the end. The shard
   * may take its share of them, less its requests in flight and the tokens of its share it
   * holds; the n shards, each taking its share of the same tokens, take no more than there are.
   * The least over a span, not one answer: answers to requests the server counted together
   * say different things, the first ones more than is left.
   */
  private noteHeard(now: number, remaining: number): void {
    const log = this.heardLog;
    log.push({ at: now, remaining });
    while (log.length > 1 && log[1]!.at <= now - IDLE_SPAN_MS) log.shift();
    if (log[0]!.at > now - IDLE_SPAN_MS || this.rateShare === undefined) {
      this.idleLeft = 0;
      return;
    }
    const least = Math.min(...log.map((h) => h.remaining));
    const held = Math.max(0, this.cap?.tokens ?? 0);
    this.idleLeft = Math.floor(this.rateShare * (least - this.mirror.inFlight) - held);
  }

  /** Sleeps `ms` (at most a minute), or until woken by news from an answer. */
  private async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    const woken = new AbortController();
    const onAbort = () => woken.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    this.wake = () => woken.abort();
    try {
      await this.clock.sleep(Math.min(ms, 60_000), woken.signal);
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      if (!woken.signal.aborted) throw err;
    } finally {
      this.wake = undefined;
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * The answer to the request of `ticket` came back (or it failed without one): its rate
   * headers, if any, and whether it was refused (429, not counted by the server).
   */
  settle(ticket: number, headers?: RateHeaders, refused = false): void {
    const now = this.clock.now();
    this.answered = true;
    const hadLimit = this.mirror.limit > 0;
    this.mirror.observe(ticket, now, headers, refused);
    if (
      this.peers !== undefined &&
      this.maxRpm === undefined &&
      this.mirror.active &&
      this.mirror.model !== 'window' &&
      headers?.remaining !== undefined
    ) {
      this.noteHeard(now, refused ? 0 : headers.remaining);
    }
    if (this.mirror.limit > 0) {
      if (!hadLimit) this.learning = undefined;
      if (!this.mirror.active) {
        // A Limit with no Remaining to mirror: pace just under it.
        const perMs = (this.mirror.limit * LIMIT_ONLY_SHARE) / 60_000;
        if (this.learning) this.learning.perMs = perMs;
        else this.learning = new Bucket(perMs, 1, now);
      }
    }
    this.applyCap(now, headers?.remaining);
    this.wake?.();
  }

  /** The `--rate` bucket for what is known now: a fixed rate, or a share of the server's. */
  private applyCap(now: number, heardRemaining?: number): void {
    let perMs: number | undefined;
    let capacity = 1;
    if (this.rateShare !== undefined) {
      if (this.mirror.limit > 0) {
        perMs = (this.rateShare * this.mirror.limit) / 60_000;
        // A shard takes its share of what the server holds from its first answer on: whether
        // the server counts as a bucket or a window, what it has left can be spent now.
        const model = this.mirror.model;
        const known = model === 'bucket' || (this.peers !== undefined && model === 'unknown');
        const size = known ? this.mirror.bucketSize : 1;
        if (Number.isFinite(size)) {
          const part = this.rateShare * size;
          // n shards share the whole bucket between them (the mirror keeps them within it).
          capacity = Math.max(1, this.peers ? Math.ceil(part) : Math.floor(part));
        }
      } else if (this.answered && (this.peers === undefined || this.learnt)) {
        // No advertised limit: a share of the smallest tier, probing up with the learnt pace.
        // A shard paces only once a 429 has taught the key's rate: until then the shards
        // together send as one process would (their first 429s measure the rate).
        const learnt = this.learning?.perMs ?? SMALLEST_TIER_RPM / 60_000;
        this.learning ??= new Bucket(learnt, 1, now);
        perMs = this.rateShare * learnt;
      }
    }
    if (this.maxRpm !== undefined) {
      const cap = this.maxRpm / 60_000;
      if (perMs === undefined || cap < perMs) {
        perMs = cap;
        capacity = 1;
      }
    }
    if (perMs === undefined) return;
    if (!this.cap) {
      // A rate starts with one token; a share left to another
      // application with one request; a shard with its share of the server's bucket, at once.
      this.cap = new Bucket(perMs, capacity, now);
      if (this.rateShare !== undefined && this.peers === undefined) this.cap.tokens = 1;
    } else {
      this.cap.refill(now);
      this.cap.perMs = perMs;
      this.cap.capacity = capacity;
      this.cap.tokens = Math.min(this.cap.tokens, capacity);
    }
    if (this.peers !== undefined && !this.bucketShareGiven && this.mirror.active) {
      // The server has said what it holds: a shard may spend its share of that at once (the
      // n shards together drain the bucket), then keeps to its share of the rate.
      // A shard that starts late, its peers already sending, gets its share of what is left.
      this.bucketShareGiven = true;
      const left =
        heardRemaining !== undefined && this.rateShare !== undefined
          ? Math.ceil(this.rateShare * heardRemaining)
          : capacity;
      this.cap.tokens = Math.max(1, Math.min(capacity, left));
    }
  }

  /**
   * Lowers the `--rate` ceiling (never raises it): a command with its own cap shares the key's
   * limiter and still gets its cap.
   */
  capRate(rpm: number): void {
    if (!(rpm > 0) || (this.maxRpm !== undefined && this.maxRpm <= rpm)) return;
    this.maxRpm = rpm;
    this.applyCap(this.clock.now());
  }

  /**
   * `finished` of the run's other shards have finished (their done files): the shards still
   * sending share the key among themselves, 1/(peers - finished) each. Never lowers the share.
   */
  peersFinished(finished: number): void {
    if (this.peers === undefined || !(finished > 0)) return;
    const share = 1 / Math.max(1, this.peers - Math.min(Math.floor(finished), this.peers - 1));
    if (this.rateShare !== undefined && share <= this.rateShare) return;
    this.rateShare = share;
    if (this.mirror.limit === 0 && this.learnt) {
      // No headers: what this shard learnt is its old part of the key, measured beside peers
      // that are gone. It sends as one process would until the next 429 measures again.
      this.learnt = false;
      this.learning = undefined;
      this.cap = undefined;
      this.measureFrom = -Infinity;
      this.recent.length = 0;
    }
    this.applyCap(this.clock.now());
    this.wake?.();
  }

  /** Lowers the share of the server's limit used (never raises it). */
  capShare(share: number): void {
    const s = validShare(share);
    if (s === undefined || (this.rateShare !== undefined && this.rateShare <= s)) return;
    this.rateShare = s;
    this.applyCap(this.clock.now());
  }

  /**
   * Holds every waiting and future acquirer for `ms` (a 429's Retry-After). The paces restart
   * with at most one token when it ends, so the resume is paced rather than a burst. A shorter
   * pause never shortens a longer one.
   */
  pauseFor(ms: number): void {
    const now = this.clock.now();
    const until = now + Math.max(0, ms);
    if (until > this.pausedUntil) {
      if (this.pausedUntil <= now && until > now) this.pauses += 1;
      this.pausedMs += Math.max(0, until - Math.max(now, this.pausedUntil));
      this.pausedUntil = until;
    }
    const end = Math.max(now, this.pausedUntil);
    this.learning?.restart(now, end);
    this.cap?.restart(now, end);
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
    if (this.mirror.limit > 0 || sentAt <= this.lastDecreaseAt) return;
    let next: number;
    const span = now - this.measureFrom;
    const accepted = this.accepted - this.acceptedAtDecrease;
    // What we measure of a share is our share of the server's rate.
    const share = this.rateShare ?? 1;
    const current = this.learning?.perMs;
    if (Number.isFinite(span) && span >= 1000 && accepted >= 2) {
      next = (accepted / span / share) * LEARNED_SHARE;
      if (this.peers !== undefined && current !== undefined) {
        // A shard measures its own part of what the server accepted, which is its share only
        // when the shards were served alike: one measure cuts its pace by at most a cut.
        next = Math.max(current * DECREASE, next);
      }
    } else {
      const observed = this.observedPerMs(now) / share;
      next = (current === undefined ? observed : Math.min(current, observed)) * DECREASE;
    }
    if (this.maxRpm !== undefined && this.rateShare === undefined) {
      next = Math.min(next, this.maxRpm / 60_000);
    }
    next = Math.max(1 / 60_000, next);
    if (this.learning) this.learning.perMs = next;
    else {
      // One request when the pause ends (the server said it would take one then), then paced.
      this.learning = new Bucket(next, 1, now);
      this.learning.restart(now, Math.max(now, this.pausedUntil));
    }
    this.learnt = true;
    this.lastDecreaseAt = now;
    this.measureFrom = Math.max(now, this.pausedUntil);
    this.acceptedAtDecrease = this.accepted;
    this.applyCap(now);
  }

  /**
   * A request succeeded. While the rate is assumed or learnt, probe higher by about 1% per
   * second of traffic, so the pace finds a limit that went up and climbs back after a cut.
   * A shard sees only its part of the traffic, and probes by as much more per request, so that
   * n shards together probe as one process would.
   */
  onSuccess(): void {
    this.accepted += 1;
    const l = this.learning;
    if (!l || this.mirror.limit > 0) return;
    const perSecond = Math.max(1, l.perMs * 1000 * (this.peers ? (this.rateShare ?? 1) : 1));
    let next = l.perMs * (1 + INCREASE_PER_S / perSecond);
    if (this.maxRpm !== undefined && this.rateShare === undefined) {
      next = Math.min(next, this.maxRpm / 60_000);
    }
    l.perMs = next;
    if (this.rateShare !== undefined) this.applyCap(this.clock.now());
  }

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

  /** Milliseconds left in the current Retry-After pause (0 when not paused). */
  get pauseRemainingMs(): number {
    return Math.max(0, this.pausedUntil - this.clock.now());
  }

  stats(): RateLimiterStats {
    const headers = this.mirror.limit > 0;
    let perMs: number | undefined;
    let source: RateLimiterStats['source'] = 'none';
    if (this.mirror.active) {
      perMs = this.mirror.limit / 60_000;
      source = 'headers';
    } else if (this.learning) {
      perMs = this.learning.perMs;
      source = headers ? 'headers' : this.learnt ? 'learned' : 'assumed';
    }
    if (this.cap && (perMs === undefined || this.cap.perMs < perMs)) {
      perMs = this.cap.perMs;
      source = this.rateShare !== undefined ? 'share' : 'cap';
    }
    return {
      rpm: perMs === undefined ? undefined : Math.round(perMs * 60_000 * 10) / 10,
      pauses: this.pauses,
      pausedMs: this.pausedMs,
      source,
      model: headers ? this.mirror.model : undefined,
    };
  }
}

function validShare(share: number | undefined): number | undefined {
  return share !== undefined && share > 0 && share <= 1 ? share : undefined;
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
  } else {
    if (opts.maxRpm !== undefined) limiter.capRate(opts.maxRpm);
    if (opts.rateShare !== undefined) limiter.capShare(opts.rateShare);
  }
  return limiter;
}
