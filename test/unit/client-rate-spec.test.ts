import { describe, expect, it } from 'vitest';
import { parseRateSpec } from '../../src/client/rate-spec.js';
import { UsageError } from '../../src/errors.js';

describe('parseRateSpec (--rate)', () => {
  it('reads requests per minute and shares of the server limit', () => {
    expect(parseRateSpec('300')).toEqual({ maxRpm: 300 });
    expect(parseRateSpec(' 12.5 ')).toEqual({ maxRpm: 12.5 });
    expect(parseRateSpec('50%')).toEqual({ rateShare: 0.5 });
    expect(parseRateSpec('100%')).toEqual({ rateShare: 1 });
    expect(parseRateSpec('2.5 %')).toEqual({ rateShare: 0.025 });
  });

  it.each(['0', '0%', '101%', '-5', '1e3', 'fast', '', '%', '50%%', 'Infinity'])(
    '"%s" is a usage error naming the flag',
    (raw) => {
      expect(() => parseRateSpec(raw)).toThrow(UsageError);
      expect(() => parseRateSpec(raw)).toThrow(/--rate/);
    },
  );
});
