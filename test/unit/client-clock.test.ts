import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { errorFromResponse } from '../../src/client/answer-error.js';

describe('systemClock', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sleep resolves after the time has passed, not before', async () => {
    let done = false;
    const p = systemClock.sleep(1000).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await p;
    expect(done).toBe(true);
  });

  it('an abort rejects at once with the reason and clears the timer', async () => {
    const ac = new AbortController();
    const p = systemClock.sleep(60_000, ac.signal);
    ac.abort(new Error('stopped by user'));
    await expect(p).rejects.toThrow('stopped by user');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an already aborted signal rejects without sleeping; a reason-less abort is an AbortError', async () => {
    const ac = new AbortController();
    ac.abort('no error object');
    await expect(systemClock.sleep(10, ac.signal)).rejects.toMatchObject({ name: 'AbortError' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('now() follows the wall clock', () => {
    vi.setSystemTime(1_234_567_890_000);
    expect(systemClock.now()).toBe(1_234_567_890_000);
  });
});

describe("a 429's Retry-After", () => {
  it('is carried in milliseconds (fractions of a second too), undefined when unknown', () => {
    const answer = (headers: Record<string, string>) =>
      errorFromResponse({
        status: 429,
        headers: new Headers(headers),
        bodyText: '',
        correlationId: 'c',
      });
    expect(answer({ 'Retry-After': '2.5' }).retryAfterMs).toBe(2500);
    expect(answer({}).retryAfterMs).toBeUndefined();
  });
});
