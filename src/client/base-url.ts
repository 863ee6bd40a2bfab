import { UsageError } from '../errors.js';

export const DEFAULT_BASE_URL = 'https://synap-cloud-prod.maximem.ai';

/** True for 127.0.0.0/8, ::1 and localhost: the only places plain http may go. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (host === '::1' || host === '0:0:0:0:0:0:0:1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Validates a base URL. An API key sent over plain http can be read by anyone on the path,
 * so http is refused unless the server is on this machine.
 */
export function checkBaseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`invalid base URL "${raw}": expected something like ${DEFAULT_BASE_URL}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`invalid base URL "${raw}": only https:// (or http:// to loopback) works`);
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new UsageError(
      `refusing plain http to ${url.host}: the API key would travel unencrypted; use https://`,
      { hints: ['Plain http is allowed only to loopback (127.0.0.1, localhost, ::1).'] },
    );
  }
  if (url.username || url.password) {
    throw new UsageError('the base URL must not contain credentials');
  }
  return url;
}
