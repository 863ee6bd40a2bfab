import { BlockList, isIP } from 'node:net';
import { UsageError } from '../errors.js';

export const DEFAULT_BASE_URL = 'https://synap-cloud-prod.maximem.ai';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * True for the hosts that are this machine by definition: `localhost` (and its fully qualified
 * `localhost.`), 127.0.0.0/8 and ::1, an IPv4-mapped 127/8 address (`::ffff:127.0.0.1`, which
 * the URL parser writes `::ffff:7f00:1`) too; brackets around an IPv6 address are allowed. Names
 * under `.localhost` are not included: a resolver is free to send them anywhere.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host === 'localhost.') return true;
  const family = isIP(host);
  // BlockList matches an IPv4-mapped IPv6 address against the IPv4 subnet.
  return family !== 0 && LOOPBACK.check(host, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The URL as it may be shown: any `user:password@` part replaced by `***@`, also in text that
 * does not parse as a URL (so a refusal never repeats a password).
 */
export function withoutCredentials(raw: string): string {
  return raw.replace(/^([a-z][a-z0-9+.-]*:\/*)[^/?#]*@/i, '$1***@');
}

/**
 * Validates a base URL. An API key sent over plain http can be read by anyone on the path,
 * so http is refused unless the server is on this machine. Credentials in the URL are refused
 * (they would be sent to the server and could be printed); no message repeats them.
 */
export function checkBaseUrl(raw: string): URL {
  const shown = withoutCredentials(raw);
  if (shown !== raw) {
    throw new UsageError(`the base URL must not contain credentials: ${shown}`, {
      hints: ['Give the API key with SYNAP_API_KEY or synap auth login, never in the URL.'],
    });
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`invalid base URL "${raw}": expected something like ${DEFAULT_BASE_URL}`);
  }
  if (url.username || url.password) {
    throw new UsageError(
      `the base URL must not contain credentials: ${withoutCredentials(url.toString())}`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`invalid base URL "${raw}": only https:// (or http:// to loopback) works`);
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new UsageError(
      `refusing plain http to ${url.host}: the API key would travel unencrypted; use https://`,
      { hints: ['Plain http is allowed only to loopback (localhost, 127.0.0.0/8, ::1).'] },
    );
  }
  return url;
}
