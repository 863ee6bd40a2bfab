import { UsageError } from '../errors.js';

/** `--rate` as the limiter takes it: requests per minute, or a share of the server's limit. */
export type RateSpec = { maxRpm: number } | { rateShare: number };

/**
 * Parses `--rate`: `300` (requests per minute at most) or `50%` (that share of the key's limit
 * as the server advertises it, leaving the rest to whatever else uses the key).
 */
export function parseRateSpec(raw: string): RateSpec {
  const text = raw.trim();
  const percent = /^(\d+(?:\.\d+)?)\s*%$/.exec(text);
  if (percent) {
    const share = Number(percent[1]) / 100;
    if (!(share > 0 && share <= 1)) {
      throw new UsageError(
        `--rate as a share must be more than 0% and at most 100% (got "${raw}")`,
      );
    }
    return { rateShare: share };
  }
  const rpm = /^\d+(?:\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!(rpm > 0) || !Number.isFinite(rpm)) {
    throw new UsageError(
      `--rate must be requests per minute (e.g. 300) or a share of the server's limit (e.g. 50%) (got "${raw}")`,
    );
  }
  return { maxRpm: rpm };
}
