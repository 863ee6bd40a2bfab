/**
 * Last line of defence for the rule that an API key never reaches a terminal or a file:
 * anything that looks like a Synap key (or a Bearer credential) is masked before printing.
 */
const KEY_PATTERN = /synap_[A-Za-z0-9_-]{8,}/g;
// The credential itself: RFC 6750's token68 characters, so text after it (a closing
// parenthesis, a quote) is kept.
const BEARER_PATTERN = /Bearer\s+[A-Za-z0-9\-._~+/]+=*/gi;

export function maskKey(key: string): string {
  if (key.length <= 10) return 'synap_…';
  return `${key.startsWith('synap_') ? 'synap_' : ''}…${key.slice(-4)}`;
}

export function redactSecrets(text: string): string {
  return text.replace(BEARER_PATTERN, 'Bearer ***').replace(KEY_PATTERN, (k) => maskKey(k));
}
