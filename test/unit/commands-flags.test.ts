import { describe, expect, it } from 'vitest';
import { duration, integer, keyValue, positive } from '../../src/commands/flags.js';
import { UsageError } from '../../src/errors.js';

/** The message a parser refuses `raw` with (every parser throws a UsageError, exit 2). */
function refusal(parse: (raw: string) => unknown, raw: string): string {
  try {
    parse(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as UsageError).message;
  }
  throw new Error(`"${raw}" was accepted`);
}

describe('shared option parsers', () => {
  it('integer: a whole number in range, one wording', () => {
    const page = integer('--page-size', 1, 100);
    expect(page('1')).toBe(1);
    expect(page(' 100 ')).toBe(100);
    for (const bad of ['0', '101', '1.5', '-3', 'ten', '', '1e2']) {
      expect(refusal(page, bad)).toBe(
        `--page-size must be a whole number from 1 to 100 (got "${bad}")`,
      );
    }
    expect(refusal(integer('--page', 1), '0')).toBe('--page must be a whole number >= 1 (got "0")');
    expect(integer('--seed', 0)('0')).toBe(0);
  });

  it('positive: a number above 0 of a unit', () => {
    const timeout = positive('--timeout', 'seconds');
    expect(timeout('2.5')).toBe(2.5);
    for (const bad of ['0', '-1', 'soon', '', 'Infinity']) {
      expect(refusal(timeout, bad)).toBe(
        `--timeout must be a number of seconds > 0 (got "${bad}")`,
      );
    }
  });

  it('duration: minutes, hours, seconds, milliseconds and combinations; a bare number is seconds', () => {
    const d = duration('--max-duration');
    expect(d('30m')).toBe(1_800_000);
    expect(d('1h30m')).toBe(5_400_000);
    expect(d('90s')).toBe(90_000);
    expect(d('45')).toBe(45_000);
    expect(d('500ms')).toBe(500);
    for (const bad of ['soon', '', '10x', 'm30', '0s', '0']) {
      expect(refusal(d, bad)).toBe(
        `--max-duration must be a duration like 30m, 2h, 90s or 1h30m (got "${bad}")`,
      );
    }
  });

  it('keyValue collects repeated options, a later key winning', () => {
    const meta = keyValue('--metadata', '--metadata source=migration');
    expect(meta('b=2', meta('a=1=x'))).toEqual({ a: '1=x', b: '2' });
    expect(meta('a=', { a: 'old' })).toEqual({ a: '' });
    for (const bad of ['novalue', '=x', ' =x']) {
      expect(refusal(meta, bad)).toBe(
        `--metadata must be key=value, e.g. --metadata source=migration (got "${bad}")`,
      );
    }
  });
});
