import { describe, expect, it } from 'vitest';
import { checkBaseUrl, isLoopbackHost } from '../../src/client/base-url.js';
import { hostAllowed } from '../../src/emulator/host.js';
import { UsageError } from '../../src/errors.js';

describe('base URL checks', () => {
  it('loopback is localhost, localhost., 127.0.0.0/8 and ::1 (IPv4-mapped too), nothing else', () => {
    for (const h of [
      'localhost',
      'LOCALHOST',
      'localhost.',
      '127.0.0.1',
      '127.1.2.3',
      '[::1]',
      '::1',
      '0:0:0:0:0:0:0:1',
      // An IPv4-mapped 127/8 address reaches the IPv4 loopback: it is this machine.
      '::ffff:7f00:1',
      '::ffff:127.0.0.1',
      '[::FFFF:127.9.9.9]',
    ])
      expect(isLoopbackHost(h), h).toBe(true);
    for (const h of [
      'evil.localhost',
      'localhost.evil.com',
      'localhost..',
      '128.0.0.1',
      '127.0.0.1.evil.com',
      '0.0.0.0',
      '::ffff:a00:1',
      '::ffff:128.0.0.1',
      '::2',
      '127.0.0.256',
      '10.0.0.1',
      'example.com',
    ])
      expect(isLoopbackHost(h), h).toBe(false);
    expect(checkBaseUrl('http://localhost.:8080').hostname).toBe('localhost.');
    expect(() => checkBaseUrl('http://evil.localhost:8080')).toThrow(UsageError);
    // The URL parser writes a mapped address in hex; plain http may still go there.
    expect(checkBaseUrl('http://[::ffff:127.0.0.1]:8080').hostname).toBe('[::ffff:7f00:1]');
  });

  it('the emulator answers a Host header that names loopback, an IPv4-mapped one too', () => {
    const allowed = hostAllowed('127.0.0.1');
    for (const h of [
      'localhost:3000',
      '127.0.0.1:3000',
      '[::1]:3000',
      '[::ffff:127.0.0.1]:3000',
      '[::ffff:7f00:1]:3000',
    ])
      expect(allowed(h), h).toBe(true);
    for (const h of ['evil.example:3000', '[::ffff:10.0.0.1]:3000', '10.0.0.1', ''])
      expect(allowed(h), h).toBe(false);
  });

  it('refuses userinfo and never repeats a password, even in a URL that does not parse', () => {
    for (const raw of [
      'https://user:s3cret@example.com',
      'https://user:s3cret@host:99999',
      'http://user:s3cret@127.0.0.1:8080',
      'https://:s3cret@example.com',
      'https://s3cret@example.com',
      'htps://user:s3cret@example.com',
      'https://user:s3cret@exa mple.com',
    ]) {
      let message = '';
      try {
        checkBaseUrl(raw);
      } catch (err) {
        expect(err).toBeInstanceOf(UsageError);
        message = `${(err as UsageError).message} ${(err as UsageError).hints.join(' ')}`;
      }
      expect(message, raw).not.toBe('');
      expect(message, raw).not.toContain('s3cret');
    }
  });
});
