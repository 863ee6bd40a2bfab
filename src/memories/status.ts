import { systemClock } from '../clock.js';
import type { ApiResult } from '../client/client.js';
import { CliError } from '../errors.js';
import { INGEST_STATUSES, TERMINAL_STATUSES, type MemoryStatusResponse } from '../client/types.js';

const POLL_MIN_MS = 500;
const POLL_MAX_MS = 5_000;

export function isTerminal(s: MemoryStatusResponse): boolean {
  return (TERMINAL_STATUSES as readonly string[]).includes(s.status);
}

/** Whether a status answer names a status the service documents (`{}` does not). */
export function isKnownStatus(s: unknown): s is MemoryStatusResponse {
  const status = (s as { status?: unknown } | null)?.status;
  return typeof status === 'string' && (INGEST_STATUSES as readonly string[]).includes(status);
}

/** A status answer as shown in a message: its JSON, cut at 80 characters. */
export function answerText(answer: unknown): string {
  const text = JSON.stringify(answer) ?? String(answer);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/** What a status poll (`synap memories status`, `--wait`) needs of SynapClient. */
export interface StatusClient {
  status(
    ingestionId: string,
    o?: { signal?: AbortSignal },
  ): Promise<ApiResult<MemoryStatusResponse>>;
}

/**
 * Fetches each ingestion's status; with `wait`, polls (interval growing from 0.5 s to 5 s) until
 * all are terminal or `timeoutMs` has passed, on the run's clock (src/clock.ts).
 */
export async function ingestionStatuses(
  client: StatusClient,
  ids: string[],
  opts: {
    wait?: boolean;
    timeoutMs?: number;
    onPoll?: (pending: number) => void;
    /** Aborted by Ctrl-C: the poll ends with the abort's error. */
    signal?: AbortSignal;
  },
): Promise<{ statuses: MemoryStatusResponse[]; timedOut: boolean }> {
  const started = systemClock.now();
  const latest = new Map<string, MemoryStatusResponse>();
  let delay = POLL_MIN_MS;
  for (;;) {
    for (const id of ids) {
      const known = latest.get(id);
      if (known && isTerminal(known)) continue;
      const answer = (await client.status(id, opts.signal ? { signal: opts.signal } : {})).data;
      if (!isKnownStatus(answer)) {
        // Polling it again would only get the same: say so instead of waiting for the timeout.
        throw new CliError(
          `the server's status answer for ingestion ${id} has no status (${answerText(answer)})`,
        );
      }
      latest.set(id, answer);
    }
    const pending = ids.filter((id) => !isTerminal(latest.get(id)!)).length;
    const statuses = ids.map((id) => latest.get(id)!);
    if (!opts.wait || pending === 0) return { statuses, timedOut: false };
    if (opts.timeoutMs !== undefined && systemClock.now() - started >= opts.timeoutMs) {
      return { statuses, timedOut: true };
    }
    opts.onPoll?.(pending);
    await systemClock.sleep(delay, opts.signal);
    delay = Math.min(POLL_MAX_MS, delay * 2);
  }
}
