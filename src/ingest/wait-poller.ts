import type { Clock } from '../clock.js';
import type { ApiResult } from '../client/client.js';
import type { MemoryStatusResponse } from '../client/types.js';
import { isKnownStatus, isTerminal } from '../memories/status.js';
import type { IngestSummary } from './summary.js';

/** Time between two status polls of one ingestion. */
const POLL_MS = 2000;

export interface StatusClient {
  status(
    ingestionId: string,
    o?: { signal?: AbortSignal },
  ): Promise<ApiResult<MemoryStatusResponse>>;
}

/**
 * `--wait`: polls each accepted document's ingestion until it is terminal, `workers` at a time,
 * and counts how they ended. Once `stopped()` (Ctrl-C, --max-duration) or `signal` aborts, the
 * rest count as unfinished: a poll in the air or a sleep between polls ends at once. An answer
 * that names no known status (`{}`) is not polled again: it counts as unfinished and is told
 * once through `onUnreadable`.
 */
export async function pollIngestions(
  client: StatusClient,
  ids: string[],
  o: {
    workers: number;
    clock: Clock;
    stopped: () => boolean;
    signal?: AbortSignal;
    onProgress?: (e: { done: number; total: number }) => void;
    onUnreadable?: (message: string) => void;
  },
): Promise<NonNullable<IngestSummary['wait']>> {
  const result = { completed: 0, failed: 0, partial_success: 0, unfinished: 0 };
  let nextIndex = 0;
  let done = 0;
  let unreadable = 0;
  const halted = () => o.stopped() || o.signal?.aborted === true;
  const worker = async () => {
    while (nextIndex < ids.length) {
      const id = ids[nextIndex++]!;
      for (;;) {
        if (halted()) {
          result.unfinished += 1;
          break;
        }
        let status: MemoryStatusResponse;
        try {
          status = (await client.status(id, o.signal ? { signal: o.signal } : {})).data;
        } catch (err) {
          if (halted()) continue;
          throw err;
        }
        if (!isKnownStatus(status)) {
          result.unfinished += 1;
          if (unreadable++ === 0) {
            o.onUnreadable?.(
              `the status answer for ingestion ${id} has no status the CLI knows (${describe(status)}); not waiting for it (or others like it)`,
            );
          }
          break;
        }
        if (isTerminal(status)) {
          if (status.status === 'completed') result.completed += 1;
          else if (status.status === 'failed') result.failed += 1;
          else result.partial_success += 1;
          break;
        }
        // An interrupted sleep just ends the wait: the loop then counts the rest unfinished.
        await o.clock.sleep(POLL_MS, o.signal).catch(() => {});
      }
      done += 1;
      o.onProgress?.({ done, total: ids.length });
    }
  };
  const workers = Math.max(1, Math.min(o.workers, ids.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return result;
}

function describe(status: unknown): string {
  const text = JSON.stringify(status) ?? String(status);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
