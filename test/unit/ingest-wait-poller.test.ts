import { describe, expect, it } from 'vitest';
import type { ApiResult } from '../../src/client/client.js';
import type { MemoryStatusResponse } from '../../src/client/types.js';
import { DEFAULT_WAIT_TIMEOUT_MS, pollIngestions } from '../../src/ingest/wait-poller.js';
import { ingestionStatuses } from '../../src/memories/status.js';
import { FakeClock } from '../helpers/fake-clock.js';

/**
 * `--wait` is bounded like the SDK's wait_for_completion (a default overall limit, 300 s;
 * `--wait-timeout` changes it), and `cancelled` and `error` are final statuses, counted apart.
 * Time is the injected clock's: nothing sleeps.
 */

function statusClient(statusOf: (id: string, polls: number) => string) {
  const polls = new Map<string, number>();
  return {
    polls,
    status(id: string): Promise<ApiResult<MemoryStatusResponse>> {
      const n = (polls.get(id) ?? 0) + 1;
      polls.set(id, n);
      return Promise.resolve({
        data: {
          ingestion_id: id,
          document_id: id,
          status: statusOf(id, n),
          queued_at: '2026-01-01T00:00:00Z',
          started_at: null,
          completed_at: null,
          memories_created: 0,
          memory_ids: [],
          error_message: null,
        } as MemoryStatusResponse,
        status: 200,
        correlationId: 'c',
      });
    },
  };
}

describe('pollIngestions (--wait)', () => {
  it('the default limit is the SDK wait_for_completion limit, 300 s', () => {
    expect(DEFAULT_WAIT_TIMEOUT_MS).toBe(300_000);
  });

  it('stops at the overall limit: what is still processing counts as unfinished, and says it timed out', async () => {
    const clock = new FakeClock();
    const client = statusClient(() => 'processing');
    const ids = ['a', 'b', 'c'];
    const done = pollIngestions(client, ids, {
      workers: 2,
      clock,
      timeoutMs: 60_000,
    });
    await clock.runUntilIdle();
    const result = await done;
    expect(result).toMatchObject({ completed: 0, unfinished: 3, timed_out: true });
    expect(clock.now() - 1_700_000_000_000).toBeLessThanOrEqual(62_000);
  });

  it('cancelled and error are final, counted on their own; nothing is polled again after them', async () => {
    const clock = new FakeClock();
    const final: Record<string, string> = {
      a: 'completed',
      b: 'cancelled',
      c: 'error',
      d: 'failed',
    };
    const client = statusClient((id, n) => (n < 2 ? 'queued' : final[id]!));
    const done = pollIngestions(client, Object.keys(final), {
      workers: 4,
      clock,
      timeoutMs: 60_000,
    });
    await clock.runUntilIdle();
    expect(await done).toMatchObject({
      completed: 1,
      cancelled: 1,
      error: 1,
      failed: 1,
      unfinished: 0,
      timed_out: false,
    });
    expect([...client.polls.values()]).toEqual([2, 2, 2, 2]);
  });
});

describe('a status answer that names no known status', () => {
  // Long enough to be cut: the messages show its first 80 characters of JSON.
  const answer = { note: 'x'.repeat(100) };
  const shown = `${JSON.stringify(answer).slice(0, 80)}…`;
  const client = {
    status: () =>
      Promise.resolve({
        data: answer as unknown as MemoryStatusResponse,
        status: 200,
        correlationId: 'cid-1',
      }),
  };

  it('--wait counts it unfinished and says so once, showing the answer cut at 80 characters', async () => {
    const told: string[] = [];
    const counts = await pollIngestions(client, ['i1', 'i2'], {
      workers: 1,
      clock: new FakeClock(),
      onUnreadable: (m) => told.push(m),
    });
    expect(counts.unfinished).toBe(2);
    expect(told).toEqual([
      `the status answer for ingestion i1 has no status the CLI knows (${shown}); not waiting for it (or others like it)`,
    ]);
  });

  it('memories status refuses it at once, showing the answer cut at 80 characters', async () => {
    await expect(ingestionStatuses(client, ['i1'], { wait: true })).rejects.toThrow(
      `the server's status answer for ingestion i1 has no status (${shown})`,
    );
  });
});
