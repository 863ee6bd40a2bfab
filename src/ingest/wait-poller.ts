import type { Clock } from '../clock.js';
import type { MemoryStatusResponse } from '../client/types.js';
import { answerText, isKnownStatus, isTerminal, type StatusClient } from '../memories/status.js';
import type { WaitCounts } from './summary.js';

/** Time between two status polls of one ingestion (the SDK's wait_for_completion: 2 s). */
const POLL_MS = 2000;

/** How long --wait waits in all, unless --wait-timeout says (the SDK's wait_for_completion: 300 s). */
export const DEFAULT_WAIT_TIMEOUT_MS = 300_000;

/**
 * `--wait`: polls each accepted document's ingestion until it is terminal (completed, failed,
 * partial_success, error, cancelled), `workers` at a time, and counts how they ended. Once
 * `signal` aborts (Ctrl-C, --max-duration: the run's stop), or `timeoutMs` of the clock have
 * passed since the wait began (default DEFAULT_WAIT_TIMEOUT_MS), the rest count as unfinished:
 * a poll in the air or a sleep between polls ends at once. An answer that names no known status
 * (`{}`) is not polled again: it counts as unfinished and is told once through `onUnreadable`.
 */
export async function pollIngestions(
  client: StatusClient,
  ids: string[],
  o: {
    workers: number;
    clock: Clock;
    signal?: AbortSignal;
    onProgress?: (e: { done: number; total: number }) => void;
    onUnreadable?: (message: string) => void;
    /** The longest the whole wait lasts, on `clock` (default DEFAULT_WAIT_TIMEOUT_MS). */
    timeoutMs?: number;
  },
): Promise<WaitCounts> {
  const result: WaitCounts = {
    completed: 0,
    failed: 0,
    partial_success: 0,
    error: 0,
    cancelled: 0,
    unfinished: 0,
    timed_out: false,
  };
  let nextIndex = 0;
  let done = 0;
  let unreadable = 0;
  const deadline = o.clock.now() + (o.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS);
  // The limit ends the sleeps between polls and a poll in the air, as a stop does.
  const limit = new AbortController();
  const onStop = () => limit.abort(o.signal?.reason);
  if (o.signal?.aborted) onStop();
  else o.signal?.addEventListener('abort', onStop, { once: true, signal: limit.signal });
  const timer = o.clock.sleep(Math.max(0, deadline - o.clock.now()), limit.signal).then(
    () => {
      result.timed_out = true;
      limit.abort(new Error('--wait-timeout reached'));
    },
    () => {},
  );
  const worker = async () => {
    while (nextIndex < ids.length) {
      const id = ids[nextIndex++]!;
      for (;;) {
        if (limit.signal.aborted) {
          result.unfinished += 1;
          break;
        }
        let status: MemoryStatusResponse;
        try {
          status = (await client.status(id, { signal: limit.signal })).data;
        } catch (err) {
          if (limit.signal.aborted) continue;
          throw err;
        }
        if (!isKnownStatus(status)) {
          result.unfinished += 1;
          if (unreadable++ === 0) {
            o.onUnreadable?.(
              `the status answer for ingestion ${id} has no status the CLI knows (${answerText(status)}); not waiting for it (or others like it)`,
            );
          }
          break;
        }
        if (isTerminal(status)) {
          result[status.status as Exclude<keyof WaitCounts, 'unfinished' | 'timed_out'>] += 1;
          break;
        }
        // An interrupted sleep just ends the wait: the loop then counts the rest unfinished.
        await o.clock.sleep(POLL_MS, limit.signal).catch(() => {});
      }
      done += 1;
      o.onProgress?.({ done, total: ids.length });
    }
  };
  const workers = Math.max(1, Math.min(o.workers, ids.length));
  try {
    await Promise.all(Array.from({ length: workers }, worker));
  } finally {
    // Also removes the listener on `signal`.
    if (!limit.signal.aborted) limit.abort();
    await timer;
  }
  // Timed out only if that left something unfinished.
  if (result.unfinished === 0) result.timed_out = false;
  return result;
}
