import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { isLoopbackHost } from '../client/base-url.js';

/**
 * Host-header checks against DNS rebinding: a web page on evil.example can have its name resolve
 * to 127.0.0.1 and then talk to a local server from the browser, but the request still says
 * `Host: evil.example`. The emulator answers only requests addressed to a loopback name, or (when
 * it was bound to a wider interface on purpose) to one of this machine's own IP addresses; an IP
 * literal cannot be rebound.
 */

/** The host part of a Host header, lower-cased, without port or IPv6 brackets. */
function hostOf(header: string): string {
  const value = header.trim().toLowerCase();
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    return end < 0 ? value : value.slice(1, end);
  }
  const colon = value.lastIndexOf(':');
  // One colon: name:port; more than one without brackets is a bare IPv6 address.
  return colon >= 0 && value.indexOf(':') === colon ? value.slice(0, colon) : value;
}

/** Whether the emulator, bound to `bindHost`, listens beyond loopback. */
export function isExposed(bindHost: string): boolean {
  return bindHost !== 'localhost' && (isIP(bindHost) === 0 || !isLoopbackHost(bindHost));
}

/** This machine's non-loopback IP addresses (the ones another machine could reach). */
export function networkAddresses(family: 'IPv4' | 'IPv6' | 'any' = 'any'): string[] {
  return Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((info) => !info.internal && (family === 'any' || info.family === family))
    .map((info) => info.address);
}

/**
 * Builds the Host check for a server bound to `bindHost`. Loopback names always pass; when the
 * server is exposed, IP literals of this machine's interfaces (and the bound address) pass too.
 */
export function hostAllowed(bindHost: string): (header: string | undefined) => boolean {
  const ownAddresses = new Set<string>();
  if (isExposed(bindHost)) {
    for (const address of networkAddresses()) ownAddresses.add(address.toLowerCase());
    if (isIP(bindHost)) ownAddresses.add(bindHost.toLowerCase());
  }
  return (header) => {
    if (header === undefined || header.trim() === '') return false;
    const host = hostOf(header);
    return isLoopbackHost(host) || ownAddresses.has(host);
  };
}
