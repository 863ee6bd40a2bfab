import { notify } from './notices.js';
import { redactSecrets } from '../redact.js';

/**
 * Human messages that are not data: they go to stderr so stdout stays parseable. Everything is
 * passed through redactSecrets as a last guard against printing a key.
 */

/** A warning the user should see even with --quiet (e.g. a key without the synap_ prefix). */
export function warn(message: string): void {
  // On stderr through notify(): above a running spinner, timestamped in logs.
  notify(`synap: warning: ${message}`);
}

/** An informational line (what was done, where things went); silenced by --quiet. */
export function info(message: string, opts: { quiet?: boolean } = {}): void {
  if (!opts.quiet) process.stderr.write(`${redactSecrets(message)}\n`);
}

/** Human-readable data for stdout (tables, key/value listings) — not redacted: it is data. */
export function writeOut(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** One error line on stderr, for the entry point's last word when nothing else reported it. */
export function errorLine(message: string): void {
  process.stderr.write(`synap: error: ${redactSecrets(message)}\n`);
}
