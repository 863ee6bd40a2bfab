/**
 * Parses a Retry-After header (RFC 9110 §10.2.3): either delta seconds or an HTTP date.
 * Returns the wait in milliseconds (0 for a date already past), or undefined when the value
 * is missing or unreadable, so the caller falls back to its own backoff.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  nowMs: number,
): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // An HTTP date always names a weekday or month; refuse bare numbers-with-junk like "12abc".
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
