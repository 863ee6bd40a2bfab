import { UsageError } from './errors.js';

/**
 * Rules for values a user types, shared by command-line flags (src/commands/flags.ts) and
 * profile settings (src/config/settings.ts). A refusal is a UsageError (exit 2) worded one way:
 * `<name> must be <what> (got "<value>")`.
 */

export function refuse(flag: string, what: string, raw: string): never {
  throw new UsageError(`${flag} must be ${what} (got "${raw}")`);
}

/** A whole number from `min` to `max`. */
export function integer(
  flag: string,
  min: number,
  max: number = Number.MAX_SAFE_INTEGER,
): (raw: string) => number {
  const what =
    max === Number.MAX_SAFE_INTEGER
      ? `a whole number >= ${min}`
      : `a whole number from ${min} to ${max}`;
  return (raw) => {
    const n = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || n < min || n > max) refuse(flag, what, raw);
    return n;
  };
}
