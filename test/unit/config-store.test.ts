import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigStore, configDir, parseSetting } from '../../src/config/store.js';
import { UsageError } from '../../src/errors.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'synap-store-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const mode = (p: string) => statSync(p).mode & 0o777;

describe('ConfigStore', () => {
  it('creates the directory 0700 and the file 0600, and keeps 0600 after writes', () => {
    const dir = join(root, 'nested', 'config');
    const store = new ConfigStore(dir);
    store.setApiKey('default', 'synap_canary_abcdefghijklmnop');
    expect(store.path).toBe(join(dir, 'config.json'));
    expect(mode(dir)).toBe(0o700);
    expect(mode(store.path)).toBe(0o600);
    store.set('default', 'batch_size', '50');
    expect(mode(store.path)).toBe(0o600);
  });

  it('tightens a file that was made world-readable by hand', () => {
    const dir = join(root, 'c');
    new ConfigStore(dir).setApiKey('default', 'synap_x1234567890');
    const file = join(dir, 'config.json');
    chmodSync(file, 0o644);
    new ConfigStore(dir);
    expect(mode(file)).toBe(0o600);
  });

  it('keeps profiles apart and round-trips typed values', () => {
    const store = new ConfigStore(join(root, 'c'));
    store.setApiKey('staging', 'synap_stagingkey123456');
    store.set('staging', 'page_size', '25');
    store.set('default', 'mode', 'fast');
    store.set('default', 'document_type', 'email');
    expect(store.profileNames()).toEqual(['default', 'staging']);
    expect(store.getProfile('staging')).toEqual({
      api_key: 'synap_stagingkey123456',
      page_size: 25,
    });
    expect(store.getDefaults('default')).toEqual({ mode: 'fast', document_type: 'email' });
    // A second instance reads what the first wrote.
    const again = new ConfigStore(join(root, 'c'));
    expect(again.getProfile('default').mode).toBe('fast');
    expect(JSON.parse(readFileSync(again.path, 'utf8')).profiles.staging.page_size).toBe(25);
  });

  it('unset and removeApiKey report whether something was there; empty profiles vanish', () => {
    const store = new ConfigStore(join(root, 'c'));
    store.setApiKey('p', 'synap_abcdefghijkl');
    expect(store.removeApiKey('p')).toBe(true);
    expect(store.removeApiKey('p')).toBe(false);
    expect(store.hasProfile('p')).toBe(false);
    store.set('p', 'concurrency', '8');
    expect(store.unset('p', 'concurrency')).toBe(true);
    expect(store.unset('p', 'concurrency')).toBe(false);
  });

  it('ignores hand-edited invalid values in defaults', () => {
    const dir = join(root, 'c');
    const store = new ConfigStore(dir);
    writeFileSync(
      store.path,
      JSON.stringify({ profiles: { default: { batch_size: 500, mode: 'fast' } } }),
    );
    expect(new ConfigStore(dir).getDefaults('default')).toEqual({ mode: 'fast' });
  });

  it('refuses bad profile names', () => {
    const store = new ConfigStore(join(root, 'c'));
    expect(() => store.setApiKey('../evil', 'synap_abcdefghijkl')).toThrow(UsageError);
    expect(() => store.set('a b', 'mode', 'fast')).toThrow(UsageError);
  });
});

describe('parseSetting', () => {
  it.each([
    ['batch_size', '1', 1],
    ['batch_size', '100', 100],
    ['page_size', '20', 20],
    ['concurrency', '64', 64],
    ['mode', 'long-range', 'long-range'],
    ['document_type', 'meeting-transcript', 'meeting-transcript'],
    ['base_url', 'https://api.example.com/', 'https://api.example.com'],
    ['base_url', 'http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
  ])('%s=%s is accepted', (key, raw, expected) => {
    expect(parseSetting(key, raw)).toEqual(expected);
  });

  it.each([
    ['batch_size', '0'],
    ['batch_size', '101'],
    ['batch_size', '1.5'],
    ['page_size', 'abc'],
    ['concurrency', '65'],
    ['concurrency', '-1'],
    ['mode', 'slow'],
    ['document_type', 'support-ticket'],
    ['base_url', 'not a url'],
    ['base_url', 'http://example.com'],
    ['api_key', 'synap_x'],
    ['colour', 'red'],
  ])('%s=%s is a usage error', (key, raw) => {
    expect(() => parseSetting(key, raw)).toThrow(UsageError);
  });
});

describe('configDir', () => {
  it('honours SYNAP_CONFIG_DIR, else XDG_CONFIG_HOME/synap', () => {
    expect(configDir({ SYNAP_CONFIG_DIR: '/x/y' })).toBe('/x/y');
    const saved = process.env.XDG_CONFIG_HOME;
    process.env.XDG_CONFIG_HOME = join(root, 'xdg');
    try {
      if (process.platform === 'linux') expect(configDir({})).toBe(join(root, 'xdg', 'synap'));
    } finally {
      if (saved === undefined) delete process.env.XDG_CONFIG_HOME;
      else process.env.XDG_CONFIG_HOME = saved;
    }
  });
});
