import { RETRY_AFTER_STATUSES } from '../client/errors.js';
import type { RetryPolicy } from '../client/retry-policy.js';

const s = (ms: number) => `${ms / 1000}s`;

/**
 * The retry policy in one line, as `--verbose` shows it at the start of a command:
 * `synap: retry policy: 5 attempts, backoff 0.5s…20s full jitter, budget 20 + 0.2 a request (max 200), …`
 */
export function writeRetryPolicyLine(
  p: RetryPolicy,
  stream: NodeJS.WritableStream = process.stderr,
): void {
  const parts = [
    `synap: retry policy: ${p.attempts} attempts per call`,
    `backoff ${s(p.backoff.baseMs)}…${s(p.backoff.capMs)} full jitter`,
    `budget ${p.budget.initial} + ${p.budget.ratio} per request (max ${p.budget.max})`,
    `429: wait Retry-After (else ${s(p.rateLimit.minMs)} + ${s(p.rateLimit.fallback.baseMs)}…${s(p.rateLimit.fallback.capMs)}), at most ${p.rateLimit.maxWaits} per call; a Retry-After over ${s(p.maxRetryAfterMs)} stops the run`,
    `${RETRY_AFTER_STATUSES.join('/')}: wait its Retry-After up to ${s(p.maxServiceUnavailableWaitMs)}`,
    p.ambiguous === 'never'
      ? 'uncertain writes never repeated'
      : 'uncertain writes repeated only when idempotent (creates with a document_id)',
    `${s(p.attemptTimeoutMs)} per attempt`,
  ];
  stream.write(`${parts.join(', ')}\n`);
}
